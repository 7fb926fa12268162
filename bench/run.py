"""The benchmark: how fast the scoring engine and the trainer are on this machine.

    python bench/run.py [--quick] [--json OUT.json]

Prints a table and writes JSON with every key below, each the median over repeated runs. --quick runs the same
measurements smaller (under 50 s) and still writes every key. Not part of the test suite: tests check results,
this checks time. docs/performance.md has the figures, the machine and what dominates each.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np  # noqa: E402

from sim.core.scoring.injections import Injections, write_log  # noqa: E402
from sim.core.exercise.scenario import load_scenario  # noqa: E402
from sim.core.scoring.config import load_config  # noqa: E402
from sim.core.scoring import evaluate, evaluate_many
from sim.core.scoring.batch import default_workers  # noqa: E402
from sim.core.exercise.techniques import load_library  # noqa: E402

TARGETS = {"score_1000_ms": ("<=", 5), "injections_per_s": (">=", 1_000_000), "click_feedback_ms": ("<=", 1),
           "frame_ms_p50": ("<=", 4), "frame_ms_p99": ("<=", 8), "startup_s": ("<=", 1.0),
           "peak_rss_mb": ("<=", 200), "speedup_vs_reference": (">=", 100), "scaling_exponent": ("<=", 1.15),
           "injections_per_s_1_thread": (">=", None)}
"""Each key's target; None: reported for context, no target (the batch in one thread)."""
SCENARIO = "forehead-nappage"  # a real exercise: targets, count, coverage and every per-injection rule
LIB, CFG = load_library(), load_config()


def attempt(n: int, seed: int = 0) -> list[dict]:
    """n injections spread over the whole face, mostly sensible, some not: every rule has work to do."""
    rng = np.random.default_rng(seed)
    techs = ["superficial-nappage", "median-nappage", "micro-papule", "medium-papule"]
    x = rng.uniform(-65, 65, n)
    y = rng.uniform(-125, 65, n)
    return [{"x_mm": round(float(x[i]), 2), "y_mm": round(float(y[i]), 2),
             "depth_mm": round(float(rng.choice([0.5, 1.5, 2.5, 4.2])), 2), "angle_deg": float(rng.choice([10, 45])),
             "volume_ml": float(rng.choice([0.003, 0.01, 0.02])), "technique": str(rng.choice(techs)),
             "t_s": float(i), "bevel": "down" if rng.random() < 0.05 else "up",
             "device": "gun" if rng.random() < 0.1 else "hand"} for i in range(n)]


def random_attempt(n: int, seed: int) -> Injections:
    """attempt() built straight into arrays (a million dicts would only time Python's allocator)."""
    rng = np.random.default_rng(seed)
    ids = LIB.ids
    techs = np.asarray([ids.index(t) for t in ("superficial-nappage", "median-nappage", "micro-papule",
                                               "medium-papule")])
    xy = np.round(np.column_stack([rng.uniform(-65, 65, n), rng.uniform(-125, 65, n)]), 2)
    return Injections(xy, rng.choice([0.5, 1.5, 2.5, 4.2], n), rng.choice([10.0, 45.0], n),
                      rng.choice([0.003, 0.01, 0.02], n), rng.choice(techs, n), tuple(ids), np.arange(n, dtype=float),
                      rng.random(n) < 0.05, rng.random(n) < 0.1)


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def score_1000(scn, repeat):
    inj = Injections.from_records(attempt(1000), LIB.ids)
    evaluate(scn, inj, LIB, CFG)  # warm
    return median_time(lambda: evaluate(scn, inj, LIB, CFG).score(), repeat) * 1000


def batch(scn, total, repeat, per_attempt=1000, workers=None):
    """Re-score a cohort's history: `total` injections in attempts of `per_attempt`, all different, at once,
    with evaluate_many's threads (default_workers()) or the number given."""
    n = total // per_attempt
    attempts = [random_attempt(per_attempt, seed) for seed in range(n)]
    evaluate_many(scn, attempts[:8], LIB, CFG)  # warm

    def run():
        scores = [ev.score() for ev in evaluate_many(scn, attempts, LIB, CFG, workers=workers)]
        assert len(scores) == n

    return total / median_time(run, repeat)


def click_feedback(scn, repeat):
    from sim.core.records.attempt import Attempt

    recs = attempt(1001)
    a = Attempt(scn, LIB, CFG, "practice", records=recs[:1000])  # the attempt so far, scored

    def one():
        a.add(**{k: v for k, v in recs[1000].items()})
        a.evaluation.findings(1000)
        a.undo()

    def timed():  # a click: the injection added (and scored) and its findings read
        t0 = time.perf_counter()
        a.add(**{k: v for k, v in recs[1000].items()})
        a.evaluation.findings(1000)
        dt = time.perf_counter() - t0
        a.undo()
        return dt

    one()
    return statistics.median(timed() for _ in range(repeat)) * 1000


def frames(n_frames):
    import pygame

    from sim.ui.app import App, Options
    from sim.ui.screens import WorkspaceScreen

    tmp = tempfile.mkdtemp()
    os.environ["XDG_DATA_HOME"] = tmp
    app = App(Options(scenario=SCENARIO))
    app.step(1 / 60)
    app.screen.proceed() if hasattr(app.screen, "proceed") else None
    ws = app.screen
    assert isinstance(ws, WorkspaceScreen)
    for r in attempt(1000):  # placed as clicks place them (scored as each is added)
        ws.attempt.add(r["x_mm"], r["y_mm"], r["depth_mm"], r["angle_deg"], r["volume_ml"], r["technique"],
                       r.get("t_s"), r.get("bevel", "up"), r.get("device", "hand"))
    ws.toggle("danger")
    pos = tuple(int(v) for v in ws.view.to_px((10, 40)))
    pygame.mouse.set_pos(pos)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0)))
    for _ in range(5):
        app.step(1 / 60)
    times = []
    for k in range(n_frames):
        p = (pos[0] + (k % 40), pos[1])
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=p, rel=(1, 0), buttons=(0, 0, 0)))
        t0 = time.perf_counter()
        app.step(1 / 60)
        times.append((time.perf_counter() - t0) * 1000)
    app.close()
    return float(np.percentile(times, 50)), float(np.percentile(times, 99))


def startup(repeat):
    """Seconds from starting `mesosim run face-free` to its first frame drawn. The first run is not timed: it also
    writes what an installed mesosim has at hand, the bytecode (pip compiles it at install; PYTHONDONTWRITEBYTECODE
    would stop it here) and the cache of parsed YAML files."""
    env = dict(os.environ, MESOSIM_EXIT_AFTER_FIRST_FRAME="1", XDG_DATA_HOME=tempfile.mkdtemp())
    cmd = [sys.executable, "-m", "sim", "run", "face-free"]
    first = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run(cmd, env=first, cwd=ROOT, check=True, capture_output=True)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


PEAK_PROBE = """
import runpy, sys
sys.argv = ["mesosim"] + sys.argv[2:]
try:
    runpy.run_module("sim", run_name="__main__", alter_sys=True)
finally:
    with open("/proc/self/status") as status, open(sys.argv_peak, "w") as out:
        out.write(next(line for line in status if line.startswith("VmHWM:")))
"""


def peak_rss():
    """Peak resident memory [MB] of the trainer process replaying 1,000 injections, submitting and saving: the
    process's own high-water mark (VmHWM of /proc/self/status, read as it ends). Not getrusage: a child's
    ru_maxrss counts the pages it shared with the benchmark between fork and exec, so a large benchmark process
    would show up in the figure."""
    log = Path(tempfile.mkdtemp()) / "a.csv"
    write_log(Injections.from_records(attempt(1000), LIB.ids), log)
    peak = log.with_suffix(".peak")
    env = dict(os.environ, XDG_DATA_HOME=tempfile.mkdtemp())
    probe = PEAK_PROBE.replace("sys.argv_peak", repr(str(peak)))
    run = subprocess.run([sys.executable, "-c", probe, "-", "run", "face-free", "--replay", str(log), "--save",
                          str(log.with_suffix(".json"))], env=env, cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0 or not peak.exists():
        raise RuntimeError(f"the replay failed ({run.returncode}): {run.stderr}")
    return int(peak.read_text().split()[1]) / 1024  # kB -> MB


def speedup(scn, n):
    from tests.reference import RULES, Reference

    recs = attempt(n, 7)
    inj = Injections.from_records(recs, LIB.ids)
    ev = evaluate(scn, inj, LIB, CFG)
    engine = np.stack([ev.rules[r].verdict for r in RULES], axis=1).tolist()
    ref = Reference(scn, LIB, CFG)
    expected = ref.verdicts(recs)
    assert engine == expected, "the engine and the reference disagree"
    t_ref = median_time(lambda: ref.verdicts(recs), 5)
    t_eng = median_time(lambda: evaluate(scn, inj, LIB, CFG), 50)
    return t_ref / t_eng


def scaling(scn, sizes):
    times = []
    for n in sizes:
        inj = random_attempt(n, 3)
        times.append(median_time(lambda: evaluate(scn, inj, LIB, CFG).score(), 5 if n <= 10**5 else 3))
    slope = np.polyfit(np.log(sizes), np.log(times), 1)[0]
    return float(slope), times


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="OUT.json")
    args = ap.parse_args()
    q = args.quick
    scn = load_scenario(SCENARIO, LIB)
    res: dict[str, float] = {}
    t_all = time.perf_counter()
    res["score_1000_ms"] = score_1000(scn, 20 if q else 100)
    res["injections_per_s"] = batch(scn, 100_000 if q else 1_000_000, 3)
    res["injections_per_s_1_thread"] = batch(scn, 100_000 if q else 1_000_000, 3, workers=1)
    res["click_feedback_ms"] = click_feedback(scn, 10 if q else 50)
    res["frame_ms_p50"], res["frame_ms_p99"] = frames(600)
    res["startup_s"] = startup(2 if q else 5)
    res["peak_rss_mb"] = statistics.median(peak_rss() for _ in range(1 if q else 5))
    res["speedup_vs_reference"] = speedup(scn, 1000)
    sizes = [10**3, 10**4, 10**5] if q else [10**3, 10**4, 10**5, 10**6]
    res["scaling_exponent"], _ = scaling(scn, sizes)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               "scoring_threads": default_workers(),
               "system": platform.platform(), "quick": q, "seconds": round(time.perf_counter() - t_all, 1)}
    print(f"{'key':26s}{'value':>14s}  target")
    for k, v in res.items():
        op, target = TARGETS[k]
        if target is None:
            print(f"{k:26s}{v:14.3f}  (no target)")
            continue
        met = v <= target if op == "<=" else v >= target
        print(f"{k:26s}{v:14.3f}  {op} {target}  {'met' if met else 'NOT MET'}")
    if args.json:
        Path(args.json).write_text(json.dumps({**{k: round(v, 4) for k, v in res.items()}, "machine": machine},
                                              indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
