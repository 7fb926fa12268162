"""Make the pictures of the reports in docs/img/ from real records, through the `mesosim` command.

    .venv/bin/python scripts/report_pictures.py

Scores shipped solutions as four trainees' attempts over four weeks (each starting with flawed solutions and
working towards the reference), keeps them in a throw-away gradebook, and renders: one attempt's PDF (pages 1
and 2), the PDF of several attempts (its summary page), the cohort PDF (pages 1 and 2) with pdftoppm, and the
HTML report with headless Chromium when it is installed (apt-get install chromium).
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
DPI = 100

# (exercise, solution log under scenarios/<map>/solutions/<exercise>/, screening)
PLAN = {
    "Ann Lee": [("forehead-nappage", "too-deep"), ("forehead-nappage", "too-sparse"), ("forehead-nappage", "reference"),
                ("glabella-frown-lines", "danger-supratrochlear"), ("glabella-frown-lines", "reference"),
                ("periorbital-micro-papules", "too-deep-inside-the-rim"), ("periorbital-micro-papules", "reference")],
    "Bob Ray": [("glabella-frown-lines", "danger-supratrochlear"), ("glabella-frown-lines", "danger-supratrochlear"),
                ("glabella-frown-lines", "reference"), ("scalp-crown", "too-far-apart"), ("scalp-crown", "too-deep"),
                ("scalp-crown", "beside-the-partings"), ("scalp-crown", "reference")],
    "Cleo Dupont": [("periorbital-micro-papules", "mesoinjector-near-the-eye"),
                    ("periorbital-micro-papules", "too-deep-inside-the-rim"), ("periorbital-micro-papules", "reference"),
                    ("forehead-nappage", "too-sparse"), ("forehead-nappage", "reference"),
                    ("scalp-crown", "too-deep"), ("scalp-crown", "reference")],
    "Dev Patel": [("scalp-crown", "beside-the-partings"), ("scalp-crown", "too-far-apart"), ("scalp-crown", "reference"),
                  ("forehead-nappage", "too-deep"), ("forehead-nappage", "too-deep"), ("forehead-nappage", "reference"),
                  ("glabella-frown-lines", "reference")],
}


def run(args: list[str], env: dict, cwd: Path = ROOT, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], env=env, cwd=cwd, check=True, **kw)


def log_of(exercise: str, name: str) -> Path:
    for map_dir in ("face", "scalp"):
        p = ROOT / "scenarios" / map_dir / "solutions" / exercise / f"{name}.csv"
        if p.exists():
            return p
    raise SystemExit(f"no solution {exercise}/{name}")


def pages(pdf: Path, first: int, last: int, name: str) -> None:
    prefix = OUT / name
    subprocess.run(["pdftoppm", "-png", "-r", str(DPI), "-f", str(first), "-l", str(last), str(pdf), str(prefix)],
                   check=True)
    for made in OUT.glob(f"{name}-*.png"):  # pdftoppm pads the page number to the document's page count
        made.rename(OUT / f"{name}-{int(made.stem.rsplit('-', 1)[1])}.png")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from sim.core.records.signing import read_record, write_record

    home = Path(tempfile.mkdtemp(prefix="mesosim-pictures-"))
    env = dict(os.environ, PYTHONPATH=str(ROOT), MESOSIM_KEY_FILE=str(home / "signing.key"),
               MESOSIM_DB=f"sqlite:///{home / 'gradebook.sqlite'}", XDG_CONFIG_HOME=str(home / "config"))
    os.environ.update({k: env[k] for k in ("MESOSIM_KEY_FILE",)})
    start = _dt.datetime(2026, 3, 2, 9, 0, tzinfo=_dt.timezone(_dt.timedelta(hours=1)))
    records: dict[str, list[Path]] = {}
    for t, (trainee, plan) in enumerate(PLAN.items()):
        for k, (exercise, solution) in enumerate(plan):
            raw = home / f"{t}-{k}-raw.json"
            run(["score", exercise, str(log_of(exercise, solution)), "--save", str(raw), "--trainee", trainee,
                 "--db", f"sqlite:///{home / 'scratch.sqlite'}"], env, stdout=subprocess.DEVNULL)
            rec = read_record(raw)
            when = start + _dt.timedelta(days=3 * k + t, hours=t + (k % 3))
            rec["saved"] = when.isoformat(timespec="seconds")
            path = home / f"{trainee.split()[0].lower()}-{k + 1}-{exercise}.json"
            write_record({key: v for key, v in rec.items() if key != "signature"}, path)
            records.setdefault(trainee, []).append(path)
    every = [p for ps in records.values() for p in ps]
    run(["gradebook", "import", *map(str, every)], env, stdout=subprocess.DEVNULL)
    OUT.mkdir(parents=True, exist_ok=True)
    single = records["Bob Ray"][0].name  # the glabella attempt with the critical finding
    run(["report", single, "--format", "pdf", "-o", str(home / "single.pdf")], env, home)  # as named in home
    pages(home / "single.pdf", 1, 2, "report-single")
    run(["report", *(p.name for p in every[:12]), "--format", "pdf", "-o", str(home / "multi.pdf")], env, home)
    pages(home / "multi.pdf", 1, 1, "report-multi")
    run(["cohort", "--format", "pdf", "-o", str(home / "cohort.pdf")], env)
    pages(home / "cohort.pdf", 1, 2, "report-cohort")
    html = home / "single.html"
    run(["report", single, "--format", "html", "-o", str(html)], env, home)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium:
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1000,2300", f"--screenshot={OUT / 'report-html.png'}", html.as_uri()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    else:
        print("headless Chromium is not installed: the HTML picture is left as it was", file=sys.stderr)
    shutil.rmtree(home)
    print("written:", ", ".join(sorted(p.name for p in OUT.glob("report-*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
