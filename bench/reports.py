"""The reports benchmark: what an assessor waits for, each command end to end as a process.

    python bench/reports.py [--quick] [--json OUT.json] [--keep DIR]

- `mesosim report REC --format pdf` and `--format html` of one attempt of 184, 1,000 and 10,000 injections;
- `mesosim cohort --format csv|json|pdf` of a gradebook of 10,000 attempts (1,000 with --quick): records of the
  shipped exercises' solutions (14 to 155 injections each, as real records are), 40 trainees over 60 days.

Each figure is the median of three runs, wall and CPU time (user + system of the child), beside its target
(issue 20). The gradebook and the records are made once in DIR (default: a cache folder) and kept for the next
run. Not part of the test suite: the tests check what the reports say, this checks how long they take.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"pdf_1000_s": 1.5, "pdf_10000_s": 10.0, "cohort_csv_s": 1.5, "cohort_json_s": 1.5, "cohort_pdf_s": 5.0}
"""Wall-time targets [s] of issue 20; the others are reported for context."""


def env(home: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), MESOSIM_KEY_FILE=str(home / "signing.key"),
                MESOSIM_DB=f"sqlite:///{home / 'gradebook.sqlite'}", SDL_VIDEODRIVER="dummy",
                SDL_AUDIODRIVER="dummy")


def timed(args: list[str], home: Path, repeat: int = 3) -> tuple[float, float]:
    """(median wall [s], median CPU [s]) of `python -m sim ARGS` as a process."""
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "sim", *args], env=env(home), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"mesosim {' '.join(args)} failed: {done.stderr}")
    return statistics.median(walls), statistics.median(cpus)


def big_record(n: int, home: Path) -> Path:
    """A saved attempt of n injections on the whole face (bench/run.py's mix: most sensible, some not)."""
    from sim.core.scoring.injections import LOG_COLUMNS

    sys.path.insert(0, str(ROOT / "bench"))
    from run import attempt

    path = home / f"record-{n}.json"
    if path.exists():
        return path
    log = home / f"log-{n}.csv"
    rows = attempt(n, seed=n)
    with log.open("w") as f:
        f.write(",".join(LOG_COLUMNS) + "\n")
        for r in rows:
            f.write(",".join(str(r[c]) for c in LOG_COLUMNS) + "\n")
    subprocess.run([sys.executable, "-m", "sim", "score", "face-free", str(log), "--save", str(path), "--trainee",
                    "Bench Trainee"], env=env(home), cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return path


def gradebook(count: int, home: Path) -> None:
    """A gradebook of `count` attempts: each a shipped solution's record, signed again as another attempt of one
    of 40 trainees on one of 60 days."""
    os.environ.update(env(home))
    from sim.cli import parse_screening
    from sim.core.exercise.scenario import load_scenario_file, scenario_files
    from sim.core.exercise.techniques import load_library
    from sim.core.records.attempt import Attempt
    from sim.core.records.signing import sign
    from sim.core.scoring.config import load_config
    from sim.core.scoring.injections import read_log
    from sim.gradebook import Gradebook
    from sim.paths import builtin_scenarios_dir

    done = home / f"gradebook-{count}.done"
    if done.exists():
        return
    (home / "gradebook.sqlite").unlink(missing_ok=True)
    library, config = load_library(), load_config()
    bases = []
    for path in scenario_files():
        if builtin_scenarios_dir() in path.parents:
            continue
        scn = load_scenario_file(path)
        for entry in [scn.spec.solutions.reference, *scn.spec.solutions.flawed]:
            inj = read_log(path.parent / entry.log, library.ids, scn.technique_ids)
            a = Attempt(scn, library, config, scn.spec.mode, "", parse_screening(entry.screening), inj.records())
            bases.append(a.record())
    rng = random.Random(0)
    trainees = [f"Trainee {k:02d}" for k in range(40)]
    with Gradebook() as book:
        for k in range(count):
            rec = dict(rng.choice(bases))
            rec.pop("signature", None)
            rec["attempt_id"] = str(uuid.UUID(int=rng.getrandbits(128)))
            rec["trainee"] = trainees[k % len(trainees)]
            day, minute = rng.randrange(60), rng.randrange(8 * 60)
            rec["saved"] = f"2026-03-{1 + day // 2:02d}T{8 + minute // 60:02d}:{minute % 60:02d}:00+01:00"
            book.add(sign(rec))
    done.write_text("")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 attempts in the gradebook, no 10,000-injection PDF")
    ap.add_argument("--json", metavar="OUT.json")
    ap.add_argument("--keep", metavar="DIR", help="where the records and the gradebook are made and kept")
    args = ap.parse_args()
    home = Path(args.keep or Path(tempfile.gettempdir()) / "mesosim-bench-reports")
    home.mkdir(parents=True, exist_ok=True)
    results: dict[str, float] = {}
    sizes = (184, 1000) if args.quick else (184, 1000, 10000)
    for n in sizes:
        rec = big_record(n, home)
        for fmt in ("pdf", "html"):
            wall, cpu = timed(["report", str(rec), "--format", fmt, "-o", str(home / f"out-{n}.{fmt}")], home)
            results[f"{fmt}_{n}_s"], results[f"{fmt}_{n}_cpu_s"] = wall, cpu
    count = 1000 if args.quick else 10000
    t = time.perf_counter()
    gradebook(count, home)
    made = time.perf_counter() - t
    for fmt in ("csv", "json", "pdf"):
        out = ["-o", str(home / f"cohort.{fmt}")]
        wall, cpu = timed(["cohort", "--format", fmt, *out], home)
        results[f"cohort_{fmt}_s"], results[f"cohort_{fmt}_cpu_s"] = wall, cpu
    size_mb = (home / "gradebook.sqlite").stat().st_size / 1e6
    print(f"reports benchmark ({count} attempts in the gradebook, {size_mb:.0f} MB"
          + (f", made in {made:.0f} s" if made > 1 else "") + f"; load {os.getloadavg()[0]:.2f})")
    for key, value in results.items():
        if key.endswith("_cpu_s"):
            continue
        target = TARGETS.get(key)
        verdict = "" if target is None else ("  ok" if value <= target else "  OVER")
        print(f"  {key:<18} {value:7.2f} s wall  {results[key[:-2] + '_cpu_s']:7.2f} s CPU"
              + (f"   target <= {target:g} s{verdict}" if target is not None else ""))
    if args.json:
        Path(args.json).write_text(json.dumps({"attempts": count, "gradebook_mb": round(size_mb, 1), **results},
                                              indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
