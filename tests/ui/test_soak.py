"""A long seeded soak of the trainer in a real X window (Xvfb): random clicks, holds, drags, wheel notches, keys and
window resizes through xdotool, as a restless trainee would make them, with the C allocator's own checks on.

The window once vanished with `malloc(): unsorted double linked list corrupted` about fourteen minutes into a
session (nasolabial folds, zoomed in over the mouth). Whatever corrupts memory is caught here sooner: glibc's
malloc checks (libc_malloc_debug) abort at the first corrupted block, PYTHONMALLOC=debug guards Python's own
buffers, and faulthandler prints where it happened. The soak starts on that exercise, zooms over the mouth and
moves onto the fold, then wanders through every screen. The quick profile makes 200 moves, the long one 20,000
(MESOSIM_SOAK sets the count)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.profile import amount
from tests.ui.test_xvfb import ROOT, needs_x, start_xvfb

MOVES = int(os.environ.get("MESOSIM_SOAK", amount(quick=200, long=20_000)))
MALLOC_DEBUG = Path("/usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0")
# Esc is left out: in the picker and the summary it ends the session, and the soak is to go on
KEYS = ["Up", "Down", "Left", "Right", "shift+Up", "bracketleft", "bracketright", "b", "m", "g", "v", "r", "f",
        "F1", "ctrl+z", "1", "2", "3", "Tab", "Return", "ctrl+Return", "Next", "Prior", "Home", "End", "p", "n"]


def soak_script(seed: int, moves: int, size: tuple[int, int], wid: str) -> str:
    """xdotool commands, one a line: the moves of a seeded random session in the window `wid`."""
    rng = random.Random(seed)
    w, h = size
    out = []

    def at(x, y):
        out.append(f"mousemove --window {wid} {int(x)} {int(y)}")

    # first what the crash report describes: over the mouth, five notches in, onto the fold
    at(w * 0.3, h * 0.75)
    out += ["click 4"] * 5
    for k in range(20):
        at(w * 0.3 + 3 * k, h * 0.75 - 4 * k)
        out.append("sleep 0.02")
    for _ in range(moves):
        r = rng.random()
        # the map's side of the window: no Quit button there, so the soak goes on whichever screen is open
        x, y = rng.uniform(10, w * 0.6), rng.uniform(60, h - 10)
        if r < 0.25:
            at(x, y)
        elif r < 0.40:
            at(x, y)
            out.append(f"click {rng.choice([4, 4, 5, 5, 4])}")
        elif r < 0.55:
            at(x, y)
            out.append("click 1")
        elif r < 0.65:  # a hold (hold mode), or a drag (the mesoinjector, a right-drag pan)
            button = rng.choice([1, 1, 3])
            at(x, y)
            out.append(f"mousedown {button}")
            for _ in range(rng.randint(1, 6)):
                out.append(f"sleep {rng.uniform(0.02, 0.2):.2f}")
                at(x + rng.uniform(-60, 60), y + rng.uniform(-60, 60))
            out.append(f"mouseup {button}")
        elif r < 0.97:
            out.append(f"key --window {wid} {rng.choice(KEYS)}")
        else:
            out.append(f"windowsize {wid} {rng.randint(1024, 1600)} {rng.randint(700, 1000)}")
        out.append(f"sleep {rng.uniform(0.005, 0.03):.3f}")
    return "\n".join(out) + "\n"


@pytest.fixture
def big_display():
    proc, display = start_xvfb("1700x1100x24")
    yield display
    proc.terminate()
    proc.wait(10)


@needs_x
@pytest.mark.parametrize("seed", [15])
def test_a_long_random_session_never_corrupts_memory(big_display, tmp_path, seed):
    env = dict(os.environ, DISPLAY=big_display, XDG_DATA_HOME=str(tmp_path / "data"), SDL_AUDIODRIVER="dummy",
               PYTHONFAULTHANDLER="1", PYTHONMALLOC="debug")
    env.pop("SDL_VIDEODRIVER", None)
    if MALLOC_DEBUG.exists():  # glibc's heap checks: abort at the first corrupted block, not minutes later
        env.update(LD_PRELOAD=str(MALLOC_DEBUG), GLIBC_TUNABLES="glibc.malloc.check=3")
    log = open(tmp_path / "trainer.log", "wb")
    app = subprocess.Popen([sys.executable, "-m", "sim", "run", "nasolabial-folds", "--save",
                            str(tmp_path / "attempt.json")], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    xenv = {k: v for k, v in env.items() if k not in ("LD_PRELOAD", "GLIBC_TUNABLES", "PYTHONMALLOC")}
    try:
        found = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(app.pid)], env=xenv,
                               capture_output=True, text=True, timeout=60)
        assert found.returncode == 0, found.stderr
        wid = found.stdout.split()[0]
        time.sleep(1.0)
        subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=xenv, timeout=20)
        subprocess.run(["xdotool", "key", "--window", wid, "Return"], env=xenv, timeout=20)  # to the workspace
        time.sleep(0.5)
        script = soak_script(seed, MOVES, (1280, 800), wid)
        done = subprocess.run(["xdotool", "-"], input=script, env=xenv, capture_output=True, text=True,
                              timeout=60 + MOVES * 0.5)
        time.sleep(1.0)
        text = (tmp_path / "trainer.log").read_text(errors="replace")
        # the session may have ended by itself (a click on Quit is not made, but Enter and Esc are keys too)
        assert app.poll() in (None, 0), f"the trainer died (status {app.poll()}):\n{text[-3000:]}"
        for sign in ("malloc", "corrupted", "Fatal Python error", "Traceback", "double free"):
            assert sign not in text, text[-3000:]
        assert done.returncode == 0 or app.poll() == 0, done.stderr[-2000:]
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
            app.wait(20)
        # it was a session: injections were made, kept in the journal of the attempt in progress or in records
        made = sum(line.startswith('{"add"') for p in (tmp_path / "data").rglob("*.jsonl")
                   for line in p.read_text().splitlines())
        made += sum(1 for _p in (tmp_path / "data").rglob("*.json")) + (tmp_path / "attempt.json").exists()
        assert made > 0, text[-2000:]
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGTERM)
            try:
                app.wait(20)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait(10)
        log.close()
