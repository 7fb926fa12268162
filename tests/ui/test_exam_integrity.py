"""Exam integrity in the trainer: only a live session yields an exam result, every injection carries the station's
clock, and an exam cannot be changed through its journal (docs/records.md, "Exam integrity")."""

import json
import time

import pygame
import pytest

from sim.cli import main
from sim.core.records.journal import unfinished
from sim.errors import InputError
from sim.session import load_record
from tests.ui.test_trainer import to_workspace

EXAM = "forehead-nappage-exam"


class Clock:
    """A station clock the test moves: a hand's pace, or a program that was not running."""

    def __init__(self, start=None):
        self.t = time.time() if start is None else start

    def __call__(self):
        return self.t


def _click_paced(d, points, clock, step_s):
    for xy in points:
        clock.t += step_s
        d.click_mm(xy)


def test_a_live_exam_at_a_hands_pace_is_an_exam_result(make_app, tmp_path):
    d = to_workspace(make_app, scenario=EXAM, trainee="Ann")
    ws = d.screen
    clock = Clock()
    ws.attempt.clock = clock
    _click_paced(d, [(x, 40) for x in (-20, -15, -10, -5, 0, 5)], clock, 2.0)
    ws.elapsed = 10.0  # the trainer's timer kept pace with the clock (frames are a test's fixed time)
    walls = [r["wall_s"] for r in ws.attempt.records]
    assert walls == [round(clock.t - 2.0 * k, 3) for k in range(5, -1, -1)]  # the program's clock, not a log's
    d.submit()
    item = load_record(tmp_path / "attempt.json")
    assert item.raw["provenance"] == {"kind": "live"} and item.verified
    assert item.exam is True and item.standing.startswith("exam result: a live session")


def test_clicks_faster_than_a_hand_are_a_timing_finding_and_no_exam_result(make_app, tmp_path):
    d = to_workspace(make_app, scenario=EXAM)
    ws = d.screen
    clock = Clock()
    ws.attempt.clock = clock
    _click_paced(d, [(x, 40) for x in range(-30, 31, 5)], clock, 0.02)  # 13 clicks in a quarter of a second
    d.submit()
    item = load_record(tmp_path / "attempt.json")
    assert item.verified and item.exam is False
    assert "faster than a hand" in item.standing
    assert [f["verdict"] for f in item.timing] == ["fail"]


def test_a_replayed_reference_is_never_an_exam_pass(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("MESOSIM_XAPI_HOME_PAGE", "https://training.example.org")
    log = f"scenarios/face/solutions/{EXAM}/reference.csv"
    out = tmp_path / "bob.json"
    assert main(["run", EXAM, "--replay", log, "--trainee", "Bob", "--save", str(out)]) == 0
    capsys.readouterr()
    item = load_record(out)
    assert item.record["report"]["passed"] and item.verified  # the score is what the log earns...
    assert item.raw["provenance"]["kind"] == "replay"
    assert item.exam is False and item.standing == "NOT an exam result: a replay of an injection log through the window"
    assert any("timer says" in f["message"] for f in item.timing)  # 549 s of log time in a second of clock
    assert main(["verify", str(out)]) == 0
    assert "NOT an exam result: a replay" in capsys.readouterr().out
    assert main(["report", str(out), "--format", "xapi"]) == 0
    verbs = [s["verb"]["display"]["en-US"] for s in json.loads(capsys.readouterr().out)]
    assert verbs == ["attempted", "completed"]  # never "passed"


def _exam_journal_with_injections(make_app, n=5):
    d = to_workspace(make_app, scenario=EXAM)
    for k in range(n):
        d.click_mm((-20 + 5 * k, 40))
    d.app.close()  # killed: the journal stays
    (pending,) = unfinished()
    return pending.path


def test_undo_lines_in_an_exam_journal_are_refused_on_resume(make_app, tmp_path, capsys):
    path = _exam_journal_with_injections(make_app)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + ['{"undo":true}'] * 4) + "\n")
    log = tmp_path / "rest.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml\n0,40,0.5,45,0.01\n")
    assert main(["run", EXAM, "--replay", str(log), "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:7:1: undo: an undo in an exam (line 7): an exam has no undo" in err


def test_a_journal_switched_to_practice_is_refused_on_resume(make_app, tmp_path, capsys):
    path = _exam_journal_with_injections(make_app)
    lines = path.read_text().splitlines()
    header = json.loads(lines[0])
    header["mode"] = "practice"  # for findings and undo
    path.write_text("\n".join([json.dumps(header)] + lines[1:]) + "\n")
    before = path.read_bytes()
    log = tmp_path / "rest.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml\n0,40,0.5,45,0.01\n")
    assert main(["run", EXAM, "--replay", str(log), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "the journal's first line says practice but line 2 was written in exam" in err
    assert path.read_bytes() == before
    with pytest.raises(InputError, match="cannot change mode"):
        make_app()  # the window's start refuses it the same way (mesosim prints it and exits 2)


def test_a_resumed_exam_counts_the_time_the_program_was_dead(make_app, tmp_path, monkeypatch):
    d = to_workspace(make_app, scenario=EXAM)
    clock = Clock()
    d.screen.attempt.clock = clock
    _click_paced(d, [(-20, 40), (-15, 40)], clock, 2.0)
    d.app.close()
    from sim.core.records import attempt as attempt_module

    later = clock.t + 600  # ten minutes with no program running
    monkeypatch.setattr(attempt_module, "station_clock", lambda: later)  # the next start's clock
    d2 = make_app()
    d2.press(d2.screen.b_resume)
    ws = d2.screen
    assert ws.attempt.resumptions[0]["gap_s"] == 600.0 and ws.attempt.resumptions[0]["after"] == 2
    d2.submit()
    item = load_record(tmp_path / "attempt.json")
    (gap,) = [f for f in item.timing if "not running" in f["message"]]
    assert gap["verdict"] == "warn" and "600 s" in gap["message"]
    assert ws.elapsed >= 600  # the exam's timer went on meanwhile: the time limit counts it


def test_replay_resume_takes_only_its_own_exercises_journal(make_app, tmp_path, capsys):
    d = to_workspace(make_app, scenario="face-free")
    d.click_mm((0, 40))
    d.app.close()
    assert len(unfinished()) == 1
    out = tmp_path / "scalp.json"
    log = "scenarios/scalp/solutions/scalp-crown/reference.csv"
    assert main(["run", "scalp-crown", "--replay", log, "--resume", "--save", str(out)]) == 0
    rec = json.loads(out.read_text())
    assert rec["scenario"]["id"] == "scalp-crown"
    assert [j.scenario_id for j in unfinished()] == ["face-free"]  # the face attempt waits for its own resume
