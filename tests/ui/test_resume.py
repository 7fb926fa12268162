"""Crash safety: every injection is journalled before its feedback is shown; the next start resumes."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pygame

from sim.cli import EXIT_OK, main
from sim.core.records.journal import read_journal, unfinished
from sim.ui import screens
from tests.profile import amount

ROOT = Path(__file__).resolve().parents[2]
# At least 20 kills at random moments in the long profile (CI), 3 in the quick one; MESOSIM_KILLS sets the count.
KILLS = int(os.environ.get("MESOSIM_KILLS", amount(quick=3, long=20)))
ROWS = amount(quick=300, long=1200)  # injections in the replayed log
DT_S = 1 / 60  # one frame of the trainer: a replay adds one injection per frame


def test_torn_last_line_is_dropped_with_a_message(tmp_path):
    path = tmp_path / "j.jsonl"
    rec = {"x_mm": 0, "y_mm": 40, "depth_mm": 0.5, "angle_deg": 45, "volume_ml": 0.01,
           "technique": "superficial-nappage"}
    lines = [json.dumps({"journal": 1, "scenario": {"id": "face-free"}}), json.dumps({"add": rec}),
             json.dumps({"add": rec}), json.dumps({"undo": True}), json.dumps({"add": rec}), '{"add": {"x_mm": 1']
    path.write_text("\n".join(lines))
    j = read_journal(path)
    assert len(j.records) == 2
    assert j.warnings == [f"{path}:6: a torn last line was dropped; the attempt resumes with the 2 injections "
                          "before it"]


def test_an_abandoned_session_resumes(make_app):
    d = make_app(scenario="face-free")
    d.key(pygame.K_RETURN)
    for y in (40, 45, 50):
        d.click_mm((0, y))
    d.key(pygame.K_z, pygame.KMOD_CTRL)
    kept = [dict(r) for r in d.screen.attempt.records]
    d.app.close()  # the window goes away without a submit
    (pending,) = unfinished()
    assert pending.records == kept and len(kept) == 2
    d2 = make_app()
    assert isinstance(d2.screen, screens.ResumeScreen)
    d2.press(d2.screen.b_resume)
    ws = d2.screen
    assert isinstance(ws, screens.WorkspaceScreen) and ws.attempt.records == kept
    d2.click_mm((0, 55))
    d2.submit()
    assert isinstance(d2.screen, screens.SummaryScreen) and len(d2.screen.report["injections"]) == 3
    assert unfinished() == []


def test_discard_opens_the_picker(make_app):
    d = make_app(scenario="face-free")
    d.key(pygame.K_RETURN)
    d.click_mm((0, 40))
    d.app.close()
    d2 = make_app()
    d2.press(d2.screen.b_discard)
    assert isinstance(d2.screen, screens.PickerScreen) and unfinished() == []


def _wait_for(journal: Path, at_least: int, proc: subprocess.Popen, timeout_s: float = 120.0) -> int:
    """Polls the journal until it holds `at_least` injections; the number it holds then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        files = list(journal.glob("*.jsonl"))
        j = read_journal(files[0]) if len(files) == 1 else None
        if j is not None and len(j.records) >= at_least:
            return len(j.records)
        assert proc.poll() is None, f"the session ended (exit {proc.returncode}) before it was killed"
        time.sleep(0.002)
    raise AssertionError(f"the journal did not reach {at_least} injections within {timeout_s} s")


def test_killed_replay_resumes_and_scores_as_uninterrupted(tmp_path, capsys):
    """SIGKILL at random moments of a replayed session, KILLS times; each start resumes from the journal.

    A kill is sent only while the session is known to be running: either during a resumed start-up, or once
    the journal has grown by a random number of injections (then at a random moment within the next frame, so
    that some kills land mid-write). The replay is long enough that no start can reach its end before the kill,
    whatever the machine's load, so every kill lands mid-session and is seen to (the process dies by SIGKILL and
    its journal stays behind)."""
    rows = ["x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s"]
    for i in range(ROWS):
        rows.append(f"{-30 + (i % 24) * 2.5},{-100 + (i // 24) * 3},0.5,45,0.01,superficial-nappage,{i}")
    log = tmp_path / "long.csv"
    log.write_text("\n".join(rows) + "\n")
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", XDG_DATA_HOME=str(tmp_path / "data"))
    out = tmp_path / "attempt.json"
    cmd = [sys.executable, "-m", "sim", "run", "face-free", "--replay", str(log), "--save", str(out), "--resume"]
    rng = random.Random(4)
    journal = tmp_path / "data" / "mesosim" / "journal"
    step = ROWS // 2 // KILLS  # the most injections a start may add: half the log is left for the last run
    kills, seen = 0, []
    while kills < KILLS:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if seen and rng.random() < 0.25:  # during the start-up of a resumed session
            time.sleep(rng.uniform(0.05, 0.5))
        else:
            _wait_for(journal, (seen[-1] if seen else 0) + rng.randint(1, step), proc)
            time.sleep(rng.uniform(0, DT_S))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL, "the session had ended before the kill"
        kills += 1
        files = list(journal.glob("*.jsonl"))
        assert len(files) == 1, files  # the session was cut short: its journal stays
        j = read_journal(files[0])
        n = len(j.records)
        expected = [line.split(",") for line in rows[1:n + 1]]
        assert [(r["x_mm"], r["y_mm"]) for r in j.records] == [(float(e[0]), float(e[1])) for e in expected]
        seen.append(n)
    assert seen == sorted(seen) and seen[-1] > seen[0]  # every start went on from where the last one stopped
    assert seen[-1] < ROWS  # and none reached the end
    assert subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, timeout=300).returncode == EXIT_OK
    record = json.loads(out.read_text())
    assert len(record["report"]["injections"]) == ROWS  # nothing lost, nothing twice
    assert main(["score", "face-free", str(log)]) == EXIT_OK
    assert record["report"] == json.loads(capsys.readouterr().out)
    assert not list(journal.glob("*.jsonl"))
