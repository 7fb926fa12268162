"""Whole trainer sessions, headless: picker -> briefing -> workspace (set, hand and gun mode) -> summary."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pygame
import pytest

from sim.cli import main
from sim.ui import screens, style

ROOT = Path(__file__).resolve().parents[2]


def to_workspace(make_app, scenario="face-free", **kw):
    d = make_app(scenario=scenario, **kw)
    assert isinstance(d.screen, screens.BriefingScreen)
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, screens.WorkspaceScreen)
    return d


def test_picker_briefing_workspace_summary(make_app, tmp_path):
    d = make_app()
    assert isinstance(d.screen, screens.PickerScreen)
    assert d.screen.current.id == "face-free"  # the default scenario is ready
    titles = [it.text for it in d.screen.items if it.kind == "header"]
    assert titles[0].startswith("Face") and any(t.startswith("Scalp") for t in titles)
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, screens.BriefingScreen) and d.screen.scenario.id == "face-free"
    d.key(pygame.K_RETURN)
    ws = d.screen
    assert isinstance(ws, screens.WorkspaceScreen)
    d.click_mm((0, 45))
    (rec,) = ws.attempt.records
    assert abs(rec["x_mm"]) < 0.5 and abs(rec["y_mm"] - 45) < 0.5
    assert rec["depth_mm"] == 0.5 and rec["technique"] == "superficial-nappage" and rec["device"] == "hand"
    # practice: the mark is drawn at once in the colour of its verdict (ok: green)
    d.move((5, 300))
    assert d.pixel(d.px((rec["x_mm"], rec["y_mm"]))) == style.VERDICT["ok"]
    d.key(pygame.K_RETURN, pygame.KMOD_CTRL)  # asks first; Enter confirms
    assert d.screen.dialog.title == "Submit the attempt?"
    d.key(pygame.K_RETURN)
    summary = d.screen
    assert isinstance(summary, screens.SummaryScreen)
    saved = json.loads((tmp_path / "attempt.json").read_text())
    assert saved["report"]["score"] == summary.report["score"] and len(saved["injections"]) == 1


def test_set_mode_settings_from_keys(make_app):
    d = to_workspace(make_app)
    ws = d.screen
    d.key(pygame.K_2)  # median nappage
    assert ws.needle.technique == "median-nappage" and ws.needle.depth_mm == 1.5
    d.key(pygame.K_UP)
    d.key(pygame.K_UP, pygame.KMOD_SHIFT)
    d.key(pygame.K_LEFT)
    d.key(pygame.K_RIGHTBRACKET)
    d.key(pygame.K_b)
    assert ws.needle.depth_mm == pytest.approx(2.6) and ws.needle.angle_deg == 40
    assert ws.needle.volume_ml == pytest.approx(0.021) and ws.needle.bevel == "down"
    d.click_mm((0, 50))
    rec = ws.attempt.records[0]
    assert (rec["depth_mm"], rec["angle_deg"], rec["volume_ml"], rec["bevel"]) == (2.6, 40, 0.021, "down")
    findings = {f.rule for f in ws.attempt.evaluation.findings(0)}
    assert {"depth", "bevel"} <= findings


def test_hand_mode_depth_comes_from_holding(make_app):
    d = to_workspace(make_app)
    ws = d.screen
    d.key(pygame.K_m)
    assert ws.needle.control == "hand"
    pos = d.px((0, 45))
    d.down(pos)
    d.frames(44)  # the press frame + 44 more: 45 frames of 1/60 s at 2 mm/s
    assert ws.pressing and ws.press_depth == pytest.approx(1.5, abs=0.05)
    d.up(pos)
    (rec,) = ws.attempt.records
    assert rec["depth_mm"] == pytest.approx(1.5, abs=0.05)


def drag(d, points_mm, frames_each: int):
    """Press at the first point, move through the others (frames_each frames at each), release at the last."""
    d.down(d.px(points_mm[0]))
    for p in points_mm:
        d.move(d.px(p))
        d.frames(frames_each - 1)
    d.up(d.px(points_mm[-1]))


def test_gun_mode_fires_at_its_rate_as_it_moves(make_app):
    d = to_workspace(make_app, scenario="forehead-nappage")
    ws = d.screen
    d.key(pygame.K_g)
    assert ws.needle.device == "gun"
    # one second along the forehead, 3 mm further every 6 frames: 350 per minute fire at t = 0, 0.171, ... 0.857 s
    drag(d, [(-30 + 3 * k, 45) for k in range(10)], 6)
    assert len(ws.attempt) == 6
    assert all(r["device"] == "gun" and r["depth_mm"] == 0.5 for r in ws.attempt.records)
    xs = [r["x_mm"] for r in ws.attempt.records]
    assert xs == sorted(xs) and len(set(xs)) == 6


def test_the_gun_held_still_fires_once(make_app):
    d = to_workspace(make_app, scenario="forehead-nappage")
    ws = d.screen
    d.key(pygame.K_g)
    drag(d, [(0, 45)], 60)  # a second without moving
    assert len(ws.attempt) == 1 and ws.toast[0].startswith("Move to fire")


@pytest.mark.parametrize("where", [(32, 9), (31, -9), (-31, -9)])
def test_the_gun_is_refused_around_the_eyes(make_app, where):
    """On the lids by the region's tag; 9 mm below the pupil, inside the orbital septum's zone, although that
    region carries no tag (it fired six shots there without a word)."""
    d = to_workspace(make_app, scenario="forehead-nappage")
    ws = d.screen
    d.key(pygame.K_g)
    drag(d, [where, (where[0] + 2, where[1])], 30)
    assert len(ws.attempt) == 0 and "mesoinjector" in ws.toast[0] and "eye" in ws.toast[0]


def test_undo_and_danger_overlay_in_practice(make_app):
    d = to_workspace(make_app)
    ws = d.screen
    d.click_mm((0, 45))
    d.click_mm((5, 45))
    d.key(pygame.K_z, pygame.KMOD_CTRL)
    assert len(ws.attempt) == 1
    probe = d.px((17, 40))  # on the left supratrochlear artery
    d.move((5, 300))
    before = d.pixel(probe)
    d.key(pygame.K_v)
    assert ws.view.show_danger and d.pixel(probe) != before


def test_exam_mode_is_neutral_and_has_no_undo(make_app):
    d = to_workspace(make_app, mode="exam")
    ws = d.screen
    assert ws.exam and ws.b_undo is None and ws.b_danger is None
    d.click_mm((17, 30))
    d.key(pygame.K_UP, pygame.KMOD_SHIFT)
    d.key(pygame.K_UP, pygame.KMOD_SHIFT)
    d.key(pygame.K_UP, pygame.KMOD_SHIFT)
    d.key(pygame.K_UP, pygame.KMOD_SHIFT)
    d.click_mm((17, 30.5))  # 4.5 mm deep over the artery: critical, but not shown
    d.key(pygame.K_z, pygame.KMOD_CTRL)
    assert "No undo in an exam" in ws.toast[0]
    d.key(pygame.K_v)
    assert "no danger structures" in ws.toast[0]
    assert len(ws.attempt) == 2 and not ws.view.show_danger
    d.move((5, 300))
    assert d.pixel(d.px((ws.attempt.records[1]["x_mm"], ws.attempt.records[1]["y_mm"]))) == style.NEUTRAL_MARK
    d.submit()
    assert isinstance(d.screen, screens.SummaryScreen)
    assert d.screen.report["critical_findings"] >= 1 and not d.screen.report["passed"]


def test_screening_decision_is_scored(make_app, tmp_path):
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent("""\
        id: pregnant-case
        title: Screening
        objective: Decide.
        map: face
        techniques: [superficial-nappage]
        product: {name: cocktail, form: liquid}
        devices: [hand]
        mode: practice
        pass_mark: 80
        patient:
          name: A. Patient
          age_years: 31
          complaint: fine lines
          history: [pregnant, 20 weeks]
          screening: {expected: no-go, reasons: [pregnancy], explanation: Pregnancy., source: seed 000}
        """))
    d = make_app(scenario=str(path))
    b = d.screen
    assert not b.b_start.is_enabled
    d.press(b.decision_buttons["no-go"])
    assert not d.screen.b_start.is_enabled and d.screen.missing() == "Choose the reason for your decision."
    # the reason chosen as a trainee chooses it: a click on its row in the list
    reasons = d.screen.reasons
    k = [i for i, _label in reasons.items].index("pregnancy")
    pos = reasons.row_rect(k).center
    assert reasons.visible(k)
    d.down(pos)
    d.up(pos)
    assert d.screen.answer().reason == "pregnancy" and d.screen.b_start.is_enabled
    d.press(d.screen.b_start)
    s = d.screen
    assert isinstance(s, screens.SummaryScreen)
    assert s.attempt.evaluation.attempt_verdicts["screening"] == 0 and s.report["passed"]


@pytest.mark.parametrize("size", [(1024, 700), (1600, 1000)])
def test_every_screening_reason_can_be_chosen_by_keys_and_by_mouse(make_app, size):
    """The list of reasons stays inside the window: each is reached by Down, and the last by the wheel and a
    click, at the smallest window and a large one."""
    from sim.core.exercise.screening import load_reasons

    ids = load_reasons().ids
    d = make_app(scenario="screening-menstruation", size=size)
    window = d.app.window.get_rect()
    assert window.size == size
    d.key(pygame.K_p)  # postpone
    b = d.screen
    assert b.decision == "postpone" and window.contains(b.reasons.rect)
    for k, rid in enumerate(ids):
        d.key(pygame.K_DOWN)
        assert b.reason == rid and b.reasons.visible(k)
    d.key(pygame.K_HOME)
    assert b.reason == ids[0]
    d.key(pygame.K_END)
    assert b.reason == ids[-1]
    # by mouse: back to the top, the wheel over the list down to its end, a click on the last row
    d.key(pygame.K_HOME)
    assert b.reasons.offset == 0 and not b.reasons.visible(len(ids) - 1)
    pygame.mouse.set_pos(b.reasons.rect.center)
    for _ in range(10):
        pygame.event.post(pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False))
        d.frames(1)
    last = b.reasons.row_rect(len(ids) - 1)
    assert b.reasons.visible(len(ids) - 1) and window.contains(last)
    d.down(last.center)
    d.up(last.center)
    assert b.answer().reason == "no-contraindication"
    # a decision made after the reason keeps the reason and the list where it was
    offset = b.reasons.offset
    d.key(pygame.K_g)
    assert d.screen.reason == "no-contraindication" and d.screen.reasons.offset == offset
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, screens.WorkspaceScreen)  # go: on to the needle


def test_the_screening_scroll_bar_pages_and_drags(make_app):
    d = make_app(scenario="screening-menstruation", size=(1024, 700))
    bar = d.screen.reasons.bar
    assert bar.max_offset > 0
    below = (bar.rect.centerx, bar.rect.bottom - 3)
    d.down(below)
    d.up(below)
    assert bar.offset > 0  # a page down
    thumb = bar.thumb()
    d.down(thumb.center)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(thumb.centerx, bar.rect.bottom + 50),
                                         rel=(0, 50), buttons=(1, 0, 0)))
    d.frames(1)
    d.up((thumb.centerx, bar.rect.bottom + 50))
    assert bar.offset == bar.max_offset


def test_a_screening_exercise_does_not_give_its_answer_away(make_app):
    d = make_app(scenario="screening-anticoagulants")
    objective = d.screen.objective()
    assert objective != d.screen.scenario.spec.objective and "decline" not in objective.lower()


def test_window_resize_relayouts(make_app):
    d = to_workspace(make_app)
    pygame.display.set_mode((1600, 900), pygame.RESIZABLE)
    pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, size=(1600, 900), w=1600, h=900))
    d.frames(2)
    ws = d.screen
    assert ws.view.rect.width == 1600 - screens.SIDE and ws.side.right == 1600


def test_replay_scores_as_mesosim_score(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    log = tmp_path / "a.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s,bevel,device\n"
                   "0,40,0.5,45,0.01,superficial-nappage,1,up,hand\n"
                   "4,40,0.5,45,0.01,superficial-nappage,2,down,hand\n"
                   "17,30,4.0,45,0.01,medium-papule,3,up,hand\n"
                   "32,9,1.5,10,0.003,micro-papule,5,up,hand\n")
    out, shot = tmp_path / "att.json", tmp_path / "summary.png"
    assert main(["run", "face-free", "--replay", str(log), "--save", str(out), "--screenshot", str(shot)]) == 0
    capsys.readouterr()
    assert main(["score", "face-free", str(log)]) == 0
    scored = json.loads(capsys.readouterr().out)
    record = json.loads(out.read_text())
    assert record["report"] == scored
    img = pygame.image.load(str(shot))
    assert img.get_size() == (1280, 800)
    colours = {tuple(img.get_at((x, y)))[:3] for x in range(0, 1280, 16) for y in range(0, 800, 16)}
    assert len(colours) > 20  # a drawn summary, not a blank window


@pytest.mark.parametrize("display", [None, ":77"])
def test_no_display_is_one_clear_sentence_and_exit_2(tmp_path, display):
    """Without a display SDL would quietly draw into memory and the window would wait for clicks for ever: the
    trainer, the picker and the record viewer say so in one sentence and exit 2 instead (the timeout is a hang)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    log = tmp_path / "a.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml\n0,45,0.5,45,0.01\n")
    record = tmp_path / "a.json"
    assert main(["score", "forehead-nappage", str(log), "--save", str(record)]) == 0
    if display:
        env["DISPLAY"] = display  # set, but no server answers there
    for args in (["run", "face-free"], ["run"], ["replay", str(record)]):
        r = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, env=env, cwd=ROOT,
                           timeout=30)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("mesosim: no display is available") and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # SDL's own complaints are held back
        assert (display or "DISPLAY") in r.stderr


def test_a_replay_needs_no_display(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), "DISPLAY": ":77",
           "XDG_DATA_HOME": str(tmp_path / "data")}
    log = tmp_path / "a.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n0,45,0.5,45,0.01,superficial-nappage\n")
    r = subprocess.run([sys.executable, "-m", "sim", "run", "face-free", "--replay", str(log), "--save",
                        str(tmp_path / "a.json")], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "a.json").exists()


def test_run_with_bad_scenario_exits_2_before_any_window(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n")
    assert main(["run", str(bad)]) == 2
    assert f"{bad}:" in capsys.readouterr().err


def test_scalp_workspace_draws_partings_and_targets(make_app, tmp_path):
    path = tmp_path / "scalp.yaml"
    path.write_text(textwrap.dedent("""\
        id: scalp-parting
        title: Partings
        objective: Inject along the partings.
        map: scalp
        techniques: [scalp-microinjection]
        targets: [{region: midscalp}]
        product: {name: hair cocktail, form: liquid}
        devices: [hand]
        mode: practice
        pass_mark: 80
        partings:
          - {name: first, points_mm: [[10, 60], [10, 0]]}
        """))
    d = make_app(scenario=str(path))
    d.key(pygame.K_RETURN)
    ws = d.screen
    d.move((5, 300))
    assert d.pixel(d.px((10, 30))) == style.SKIN  # the parting line shows the skin through the hair
    d.click_mm((10, 30))
    assert ws.attempt.evaluation.region[0] == ws.scenario.atlas.region_ids().index("midscalp")
    assert ws.attempt.evaluation.measures["coverage"] > 0


def test_scalp_top_view_shows_the_patients_left_on_the_viewers_left(make_app):
    d = to_workspace(make_app, scenario="scalp-free")
    view = d.screen.view
    left, right = view.to_px((40, 0)), view.to_px((-40, 0))
    assert left[0] < right[0]
    assert np.allclose(view.to_mm(view.to_px((12.5, -30.0))), (12.5, -30.0))
    from sim.core.exercise.scenario import load_scenario
    from sim.ui.mapview import MapView

    face = MapView(load_scenario("face-free"), pygame.Rect(0, 0, 800, 600))
    assert face.to_px((40, 0))[0] > face.to_px((-40, 0))[0]  # frontal: the patient's left is on the viewer's right


def test_esc_asks_before_leaving_and_leaving_keeps_no_record(make_app, tmp_path):
    from sim.core.records.journal import unfinished

    d = to_workspace(make_app, scenario="forehead-nappage")
    ws = d.screen
    d.click_mm((0, 45))
    d.key(pygame.K_ESCAPE)
    assert ws.dialog is not None and ws.dialog.title == "Leave this exercise?"
    d.click_mm((5, 45))  # the map behind the question takes no click
    assert len(ws.attempt) == 1
    d.key(pygame.K_ESCAPE)  # Esc again: go on
    assert ws.dialog is None and isinstance(d.screen, screens.WorkspaceScreen)
    d.press(ws.b_leave)  # the Leave button asks the same
    assert ws.dialog.title == "Leave this exercise?"
    d.key(pygame.K_TAB)
    d.key(pygame.K_RETURN)  # Tab to "Leave, no record", Enter
    assert isinstance(d.screen, screens.PickerScreen) and d.screen.current.id == "forehead-nappage"
    assert not (tmp_path / "attempt.json").exists() and unfinished() == []


def test_an_early_submit_is_confirmed_and_enter_keeps_working(make_app, tmp_path):
    """An exam ended at 0:15 with 2 of 19 injections by one Ctrl+Enter: now it asks, and Enter means go on."""
    d = to_workspace(make_app, scenario="periorbital-micro-papules-exam")
    ws = d.screen
    d.click_mm((-32, -10))
    d.key(pygame.K_RETURN, pygame.KMOD_CTRL)
    dialog = ws.dialog
    assert dialog.title == "Submit now?" and "1 of 11-17 injections made." in dialog.lines
    assert any("left" in line for line in dialog.lines)
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, screens.WorkspaceScreen) and ws.dialog is None
    assert not (tmp_path / "attempt.json").exists()
    d.key(pygame.K_RETURN, pygame.KMOD_CTRL)
    d.answer("submit")
    assert isinstance(d.screen, screens.SummaryScreen) and (tmp_path / "attempt.json").exists()


def test_the_exam_warns_before_the_time_is_up_and_says_so_before_the_summary(make_app, tmp_path):
    d = to_workspace(make_app, scenario="forehead-nappage-exam")
    ws = d.screen
    limit = ws.scenario.spec.time_limit_s
    ws.elapsed = limit - 301
    d.frames(61)
    assert "5:00 left" in ws.toast[0]
    ws.elapsed = limit - 61
    d.frames(61)
    assert "1:00 left" in ws.toast[0]
    d.click_mm((0, 45))
    ws.elapsed = limit - 0.5
    d.frames(40)
    assert ws.dialog is not None and ws.dialog.title == "Time is up"
    assert (tmp_path / "attempt.json").exists()  # saved when the time ran out, not when the notice is read
    d.click_mm((5, 45))
    assert len(ws.attempt) == 1
    d.key(pygame.K_ESCAPE)  # the notice can only be answered
    assert ws.dialog is not None
    d.key(pygame.K_RETURN)
    assert isinstance(d.screen, screens.SummaryScreen) and len(d.screen.report["injections"]) == 1


def test_the_practice_clock_stops_while_the_help_is_open(make_app):
    d = to_workspace(make_app, scenario="forehead-nappage")
    ws = d.screen
    d.frames(60)
    before = ws.elapsed
    d.key(pygame.K_F1)
    d.frames(120)
    assert ws.elapsed == pytest.approx(before + 1 / 60, abs=0.05)  # the help's own key frames at most
    d.key(pygame.K_ESCAPE)
    assert not ws.help and ws.dialog is None  # Esc closes the help first
    d.frames(60)
    assert ws.elapsed > before + 0.9


@pytest.mark.parametrize("exercise", ["periorbital-micro-papules", "periorbital-micro-papules-exam",
                                      "submental-fat-infiltration"])
def test_the_needle_starts_at_the_instructed_settings(make_app, exercise):
    """Periorbital micro papules started at 1.5 mm and 10 deg while the briefing says 1.4 mm, 12 deg and 0.005
    ml; the needle now starts at the exercise's instructed values, and a first click there is what the briefing
    asked for, not a finding."""
    from sim.core.scoring.injections import read_log

    d = to_workspace(make_app, scenario=exercise)
    ws = d.screen
    sol = ws.scenario.spec.solutions.reference
    log = read_log(Path(ws.scenario.file).parent / sol.log, ws.app.library.ids, ws.scenario.technique_ids)
    first = log.records()[0]
    n = ws.needle
    assert (n.depth_mm, n.angle_deg, n.volume_ml) == (first["depth_mm"], first["angle_deg"], first["volume_ml"])
    ins = ws.scenario.spec.instructed
    assert (n.depth_mm, n.angle_deg, n.volume_ml) == (ins.depth_mm, ins.angle_deg, ins.volume_ml)
    if exercise.startswith("periorbital"):
        assert (n.depth_mm, n.angle_deg, n.volume_ml) == (1.4, 12, 0.005)
        ws.toggle("control")  # and back: switching modes keeps them
        ws.toggle("control")
        d.key(pygame.K_1)
        assert (n.depth_mm, n.angle_deg, n.volume_ml) == (1.4, 12, 0.005)
    d.click_mm((first["x_mm"], first["y_mm"]))
    assert ws.attempt.evaluation.findings(0) == []


def test_where_the_technique_is_chosen_its_settings_are_the_techniques_own(make_app):
    d = to_workspace(make_app, scenario="choose-the-technique")
    ws = d.screen
    tech = ws.tech
    assert ws.instructed == {}
    assert (ws.needle.depth_mm, ws.needle.angle_deg) == (tech.depth_mm.nominal, tech.angle_deg.nominal)


def test_the_eye_is_on_the_map(make_app):
    """Hovering the globe names it and shows why no needle goes there; a click there is its critical finding."""
    d = to_workspace(make_app, scenario="face-free")
    ws = d.screen
    d.move(d.px((31, 0)))
    assert ws.place_name(ws.cursor_mm).startswith("Eye")
    assert ws.region_at(ws.cursor_mm) < 0
    d.click_mm((31, 0))
    assert style.VERDICT_WORDS["critical"] in panels_text(ws, 0)
    assert ws.attempt.evaluation.verdict[0] == 3  # critical


def panels_text(ws, i):
    from sim.ui.screens import workspace_panels

    return " ".join(workspace_panels.tooltip_lines(ws, i))


def test_hand_mode_sounds_and_shows_the_alarm_as_the_tip_reaches_a_vessel(make_app):
    from sim.ui import sound

    d = to_workspace(make_app, scenario="face-free")
    ws = d.screen
    d.key(pygame.K_m)
    pos = d.px((17, 30))  # the left supratrochlear artery, about 3.5 mm deep here
    depth = min(b.depth_mm for b in ws.beneath(ws.view.to_mm(pos)))
    before = sound.played
    d.down(pos)
    d.frames(int(depth / ws.hand_speed * 60) - 6)  # just above it: quiet
    assert sound.played == before and not ws.in_danger
    d.frames(12)  # past it
    assert sound.played == before + 1 and ws.in_danger
    assert ws.toast[0].startswith("Stop:") and "supratrochlear" in ws.toast[0].lower()
    red = style.SEVERITY["critical"]
    xs = ws.xs_rect
    assert d.pixel((xs.left + 6, xs.centery)) == red  # the cross-section's red frame
    d.frames(30)
    assert sound.played == before + 1  # once per structure and press
    d.up(pos)
    assert ws.attempt.evaluation.verdict[0] == 3 and not ws.in_danger


def test_the_exam_sounds_no_alarm(make_app):
    from sim.ui import sound

    d = to_workspace(make_app, scenario="face-free", mode="exam")
    ws = d.screen
    d.key(pygame.K_m)
    before = sound.played
    d.down(d.px((17, 30)))
    d.frames(150)
    assert sound.played == before and not ws.in_danger


def test_the_needle_panel_names_the_limit_under_the_cursor(make_app):
    from sim.ui.screens import workspace_panels

    d = to_workspace(make_app, scenario="periorbital-micro-papules")
    ws = d.screen
    d.move(d.px((31, -9)))  # the lower lid, over the orbital septum
    text, _colour = workspace_panels.here_line(ws)
    assert text.startswith("Here: the orbital septum") and "2.5\u00a0mm" in text
    d.move(d.px((55, 5)))  # the temple, with nothing beneath in reach of the panel
    assert workspace_panels.here_line(ws)[0].startswith("Here:")


def test_toggle_buttons_name_what_they_do(make_app):
    d = to_workspace(make_app, scenario="forehead-nappage")
    ws = d.screen
    assert ws.b_bevel.text == "Bevel down" and ws.b_control.text == "Hold mode" and ws.b_device.text == "Mesoinjector"
    assert ws.b_danger.text == "Show danger"
    d.press(ws.b_bevel)
    d.press(ws.b_control)
    d.press(ws.b_device)
    d.press(ws.b_danger)
    ws = d.screen
    assert (ws.needle.bevel, ws.needle.control, ws.needle.device) == ("down", "hand", "gun")
    assert ws.b_bevel.text == "Bevel up" and ws.b_control.text == "Set mode" and ws.b_device.text == "By hand"
    assert ws.b_danger.text == "Hide danger" and ws.view.show_danger


def test_a_gap_is_pending_while_working_and_judged_at_submit(make_app):
    """The first point of a new row was a red fail that turned ok once its neighbour came (and red again on
    undo); now it is pending until then, and the summary gives the engine's verdict."""
    d = to_workspace(make_app, scenario="face-free")
    ws = d.screen
    for x in (-8, -4, 0):
        d.click_mm((x, 45))
    d.click_mm((-8, 60))  # a new row, 15 mm above: too far from everything, for now
    d.move((5, 300))
    verdict, pending = ws.shown()
    assert ws.attempt.evaluation.verdict[3] == 2 and pending[3] and verdict[3] == 0  # the engine: fail
    assert d.pixel(d.px((-8, 60))) == style.VERDICT["ok"]  # shown by its other criteria, with a dashed ring
    assert "pending" in panels_text(ws, 3)
    d.click_mm((-4, 60))  # its neighbour: no gap any more
    d.move((5, 300))
    assert not ws.shown()[1].any() and ws.attempt.evaluation.verdict[3] == 0
    d.key(pygame.K_z, pygame.KMOD_CTRL)
    d.move((5, 300))
    assert ws.shown()[1][3] and d.pixel(d.px((-8, 60))) == style.VERDICT["ok"]  # pending again, not red
    d.submit()
    assert d.screen.report["injections"][3]["verdict"] == "fail"  # at submit, the verdict


def test_spacing_on_the_map_the_nearest_point_and_the_gun_speed(make_app):
    d = to_workspace(make_app, scenario="forehead-nappage")
    ws = d.screen
    d.click_mm((0, 45))
    d.move(d.px((6, 45)))
    nearest, last = ws.spacing_now()
    assert abs(nearest - 6) < 0.5 and tuple(last) == (ws.attempt.records[0]["x_mm"], ws.attempt.records[0]["y_mm"])
    from sim.ui.screens import workspace_panels

    lines = workspace_panels.spacing_aid(ws, d.app.window)
    assert lines[0][0].startswith("nearest superficial nappage: 6") and lines[0][1] == style.text_colour("ok")
    # the ring of the band's far end (10 mm) around the last point
    ring = d.px((10, 45))
    d.frames(1)
    assert any(d.pixel((ring[0] + dx, ring[1] + dy)) == style.ACCENT for dx in (-1, 0, 1) for dy in (-2, -1, 0, 1, 2))
    # a drag of the mesoinjector at 35 mm/s: shots 6 mm apart, said while dragging
    d.key(pygame.K_g)
    pts = [(-30 + 35 / 60 * k, 30) for k in range(40)]
    d.down(d.px(pts[0]))
    for p in pts:
        d.move(d.px(p))
    assert abs(ws.gun_spacing() - 6.0) < 0.3
    d.up(d.px(pts[-1]))
    assert ws.gun_spacing() is None


def test_the_summary_speaks_to_the_trainee_and_links_marks_and_list(make_app, tmp_path):
    """No file names, seed numbers or ids in what the trainee reads; a repeated finding once by kind; a mark and
    its entry show each other; the map zoomed to the worked area with the uncovered target hatched."""
    from sim.core.scoring.injections import read_log

    d = to_workspace(make_app, scenario="periorbital-micro-papules")
    ws = d.screen
    sol = ws.scenario.spec.solutions
    log = next(f.log for f in sol.flawed if f.fails_on == "danger")
    recs = read_log(Path(ws.scenario.file).parent / log, ws.app.library.ids, ws.scenario.technique_ids).records()
    for rec in recs[:8]:
        ws.attempt.add(rec["x_mm"], rec["y_mm"], rec["depth_mm"], rec["angle_deg"], rec["volume_ml"],
                       rec["technique"], rec.get("t_s"))
    d.submit()
    s = d.screen
    text = "\n".join("".join(t for _x, t, _c, _b in line) for line in s.findings.lines)
    for word in ("seed 0", ".md", ".yaml", "[GK]", "micro-papule", "lower-eyelid"):
        assert word not in text, word
    assert "Findings by kind" in text and "Source: the clinic article" in text
    assert s.view.zoom > 1.5  # the eyes, not the whole face
    assert s.view.uncovered is not None and len(s.view.uncovered) > 0
    # a click on mark #4 tints its entry and scrolls it into view; hovering an entry rings its mark
    rec = ws.attempt.records[3]
    pos = tuple(int(v) for v in s.view.to_px((rec["x_mm"], rec["y_mm"])))
    d.down(pos)
    d.up(pos)
    first, _end = s._entry_of[3]
    assert s.hover == 3 and s.findings.highlight == s._entry_of[3]
    a, _b = s.findings.para_lines[first]
    assert s.findings.offset <= a * s.findings.line_h < s.findings.offset + s.findings.body.height
    s.findings.show_para(*s._entry_of[5])
    entry_y = s.findings.body.top + s.findings.para_lines[s._entry_of[5][0]][0] * s.findings.line_h \
        - s.findings.offset + 3
    d.move((s.findings.body.left + 40, entry_y))
    assert s.hover == 5


@pytest.mark.parametrize("decision, reason", [("no-go", "pregnancy"), ("go", "no-contraindication")])
def test_a_screening_decision_is_explained_right_or_wrong(make_app, decision, reason):
    d = make_app(scenario="screening-pregnancy")
    b = d.screen
    b.decide(decision)
    b = d.screen
    b.reason = reason
    b._refresh()
    d.press(b.b_start)
    if decision == "go":  # the workspace first; then submitted with nothing done
        d.submit()
    s = d.screen
    assert isinstance(s, screens.SummaryScreen)
    text = "\n".join("".join(t for _x, t, _c, _b in line) for line in s.findings.lines)
    expected = s.attempt.scenario.spec.patient.screening
    assert "Your decision: " + decision in text and "The right decision: no-go" in text
    assert expected.explanation.split(".")[0] in text
    assert "The exercise's objective: " + s.attempt.scenario.spec.objective[:30] in text


def test_the_picker_scrolls_keeps_its_place_and_shows_past_attempts(make_app):
    d = make_app(size=(1024, 700))
    p = d.screen
    assert isinstance(p, screens.PickerScreen) and p.bar.max_offset > 0  # more exercises than the window shows
    texts = [it.text for it in p.items if it.kind == "scenario"]
    assert not any("exam" in t.lower()[t.lower().find("exam") + 4:] for t in texts if "exam" in t.lower())
    # the scroll bar's track pages down to the end
    for _ in range(20):
        below = (p.bar.rect.centerx, p.bar.rect.bottom - 2)
        d.down(below)
        d.up(below)
    assert p.scroll == p.bar.max_offset
    last = max(i for i, it in enumerate(p.items) if it.kind == "scenario")
    y = p.list_rect.top + last * p.ROW - p.scroll + p.ROW // 2
    assert p.list_rect.top < y < p.list_rect.bottom
    d.down((p.list_rect.centerx, y))
    d.up((p.list_rect.centerx, y))
    chosen = p.current.id
    offset = p.scroll
    d.key(pygame.K_RETURN)  # the briefing, and back
    d.key(pygame.K_ESCAPE)
    p = d.screen
    assert isinstance(p, screens.PickerScreen) and p.current.id == chosen and p.scroll == offset
    # an attempt made: the picker marks the exercise with its last score
    assert p.history is not None and "face-free" not in p.history
    d.app.open("picker", "face-free")
    d.key(pygame.K_RETURN)
    d.key(pygame.K_RETURN)
    d.click_mm((0, 45))
    d.submit()
    d.press(d.screen.b_picker)
    d.frames(2)
    past = d.screen.history["face-free"]
    assert past["attempts"] == 1 and past["score"] == d.app.screen.history["face-free"]["score"]


def test_free_practice_offers_the_techniques_of_its_map(make_app):
    from sim.ui.screens.base import map_techniques

    d = to_workspace(make_app, scenario="scalp-free")
    lib = d.app.library
    on_scalp = {t for t in lib.ids if "scalp" in lib.get(t).maps}
    assert {t.id for t in d.screen.techs} == on_scalp == {t.id for t in map_techniques(d.screen.scenario, lib)}
    assert "superficial-nappage" not in on_scalp and d.screen.techs[0].id == "scalp-microinjection"


def test_a_record_not_verified_says_so_beside_its_score(make_app, tmp_path, capsys):
    log = tmp_path / "a.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml\n0,45,0.5,45,0.01\n5,45,3,45,0.01\n")
    path = tmp_path / "a.json"
    assert main(["score", "forehead-nappage", str(log), "--save", str(path)]) == 0
    capsys.readouterr()
    record = json.loads(path.read_text())
    record["report"]["score"] = 99.0  # changed after signing
    d = make_app(view_record=record, view_record_path=str(path), size=(1024, 700))
    v = d.screen
    assert not v.verified and v.status.startswith("signature NOT verified")
    # drawn in the score's line, at its size, in the fail colour
    bar = pygame.Rect(0, 28, 1024 - screens.SIDE, 24)
    colours = {d.pixel((x, y)) for x in range(bar.left, bar.right) for y in range(bar.top, bar.bottom)}
    assert style.VERDICT["fail"] in colours


def test_a_held_enter_does_not_go_on_through_the_summary(make_app):
    """One Enter, its release read late while the window saved the record, repeated: the summary, the briefing and
    a new attempt went by. A repeated Enter (or Esc, Tab) now does nothing; the next press does."""
    d = to_workspace(make_app, scenario="face-free")
    d.click_mm((0, 45))
    d.key(pygame.K_RETURN, pygame.KMOD_CTRL)
    for _ in range(4):  # the confirming Enter, then its repeats: KEYDOWN after KEYDOWN, no KEYUP yet
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, mod=0, unicode="\r", scancode=0))
        d.frames(1)
    assert isinstance(d.screen, screens.SummaryScreen)
    pygame.event.post(pygame.event.Event(pygame.KEYUP, key=pygame.K_RETURN, mod=0, unicode="\r", scancode=0))
    d.frames(1)
    d.key(pygame.K_RETURN)  # a new press: try again
    assert isinstance(d.screen, screens.BriefingScreen)


def test_areas_are_named_not_given_by_id():
    from sim.core.anatomy.atlas import load_atlas
    from sim.ui.words import plain, source_line

    face = load_atlas("face")
    said = plain("This injection is outside the target area (crows-feet, lower-eyelid, nasolabial-fold-right).", face)
    assert "crows-feet" not in said and "lower eyelid" in said and "nasolabial fold (right)" in said
    assert plain("made by hand to spare the small vessels (seed 000).") == "made by hand to spare the small vessels."
    line = source_line("seed 004 (1.5 mm); bands: techniques.md proposal (anatomy.md B; Scheuer 2017 PRS)")
    assert line.startswith('the clinic article "Complications and risks of mesotherapy"')
    assert "the technique reference" in line and "Scheuer 2017" in line and ".md" not in line
