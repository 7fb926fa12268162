"""What users wait for: every command end to end as its own process, on real exercises at realistic sizes.

    python bench/e2e.py [--quick] [--big] [--json OUT.json]

Each figure is a `mesosim` process from start to exit: wall time, CPU time (user + system of that process) and
its peak memory, from os.wait4; min / median / max over the repeats, with the machine's load average at the
start. --quick repeats less and leaves out the largest sizes; --big adds 10^6 injections. Not part of the test
suite. bench/run.py times the engine's inner calls; this times what a person at the keyboard sees.
docs/performance.md has the figures and where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

# figure -> (target wall seconds, target peak MB or None); issue figures for this 2-core machine
TARGETS = {
    "score_1": (0.35, None), "score_1000": (0.45, None), "score_100000": (2.0, 150), "score_1000000": (15.0, 1024),
    "rescore_1000": (2.0, 400), "rescore_10000": (15.0, 400),
    "report_pdf_1000": (1.5, None), "report_pdf_10000": (10.0, None),
    "validate_all": (None, None), "plan_write_all": (None, None),
}


def write_log(path: Path, n: int, seed: int = 1) -> None:
    """n forehead points of superficial nappage, most of them right (depth about the instructed 0.5 mm)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-40, 40, n)
    y = rng.uniform(32, 68, n)
    d = np.clip(rng.normal(0.5, 0.08, n), 0.05, 3)
    with path.open("w") as f:
        f.write("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n")
        for i in range(n):
            f.write(f"{x[i]:.1f},{y[i]:.1f},{d[i]:.2f},45,0.01,superficial-nappage,{3 * i}\n")


def run(args: list[str], env: dict) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB) of one `mesosim` process."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"mesosim {' '.join(args)} exited {code}: {err[-400:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def measure(name: str, args: list[str], env: dict, repeat: int) -> dict:
    runs = [run(args, env) for _ in range(repeat)]
    walls, cpus, mems = zip(*runs)
    return {"figure": name, "wall_s": [round(min(walls), 3), round(statistics.median(walls), 3),
                                        round(max(walls), 3)],
            "cpu_s": round(statistics.median(cpus), 3), "peak_mb": round(max(mems), 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--big", action="store_true", help="also 10^6 injections (minutes, about a GB)")
    ap.add_argument("--json", metavar="OUT.json")
    a = ap.parse_args()
    repeat = 2 if a.quick else 5
    tmp = Path(tempfile.mkdtemp(prefix="mesosim-e2e-"))
    env = dict(os.environ, XDG_DATA_HOME=str(tmp / "data"), XDG_CONFIG_HOME=str(tmp / "config"),
               MESOSIM_KEY_FILE=str(tmp / "config" / "signing.key"), SDL_VIDEODRIVER="dummy",
               SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
    sizes = [1, 1000] + ([] if a.quick else [100_000]) + ([1_000_000] if a.big else [])
    load = os.getloadavg()
    out = []
    for n in sizes:
        log = tmp / f"log{n}.csv"
        write_log(log, n)
        out.append(measure(f"score_{n}", ["score", "forehead-nappage", str(log), "--format", "json"], env,
                           1 if n >= 100_000 else repeat))
    # records for rescore and reports: real attempts saved by score --save
    records = []
    for k in range(10 if a.quick else 40):
        log = tmp / f"rec{k}.csv"
        write_log(log, 60, seed=k)
        rec = tmp / f"rec{k}.json"
        run(["score", "forehead-nappage", str(log), "--save", str(rec), "--trainee", f"T{k % 7}", "--db",
             f"sqlite:///{tmp / 'book.db'}"], env)
        records.append(rec)
    copies = records * (1000 // len(records))
    out.append(measure("rescore_1000", ["rescore", *map(str, copies), "--format", "json"], env, 1))
    pdf_log = tmp / "log1000.csv"
    pdf_rec = tmp / "pdf1000.json"
    run(["score", "forehead-nappage", str(pdf_log), "--save", str(pdf_rec), "--db", f"sqlite:///{tmp / 'b2.db'}"],
        env)
    out.append(measure("report_pdf_1000", ["report", str(pdf_rec), "--format", "pdf", "-o", str(tmp / "r.pdf")],
                       env, 1 if a.quick else 3))
    shipped = [str(p) for p in sorted((ROOT / "scenarios").glob("*/*.yaml"))]
    out.append(measure("validate_all", ["validate", *shipped], env, 1 if a.quick else 3))
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}  ({os.cpu_count()} CPUs)")
    print(f"{'figure':18s} {'wall min/median/max s':>24s} {'CPU s':>7s} {'peak MB':>8s}  target")
    for r in out:
        wall_t, mem_t = TARGETS.get(r["figure"], (None, None))
        w = "/".join(f"{v:.2f}" for v in r["wall_s"])
        verdict = ""
        if wall_t is not None:
            met = r["wall_s"][1] <= wall_t and (mem_t is None or r["peak_mb"] <= mem_t)
            verdict = f"<= {wall_t:g} s" + (f", <= {mem_t} MB" if mem_t else "") + ("  met" if met else "  NOT MET")
        print(f"{r['figure']:18s} {w:>24s} {r['cpu_s']:7.2f} {r['peak_mb']:8.1f}  {verdict}")
    if a.json:
        Path(a.json).write_text(json.dumps({"load": load, "figures": out}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
