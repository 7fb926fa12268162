"""Re-scoring, the cohort report and the record viewer."""

import csv
import io
import json

import pygame
import pytest

from sim.cli import main

LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "0,40,0.5,45,0.01,superficial-nappage,1\n"
       "4,40,0.5,45,0.01,superficial-nappage,2\n")
BAD = LOG + "17,30,4.0,45,0.01,medium-papule,3\n"


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    monkeypatch.setenv("MESOSIM_DB", url)
    return url


def _save(tmp_path, capsys, text, trainee, name):
    log = tmp_path / f"{name}.csv"
    log.write_text(text)
    out = tmp_path / f"{name}.json"
    assert main(["score", "face-free", str(log), "--save", str(out), "--trainee", trainee]) == 0
    capsys.readouterr()
    return out


def test_rescore_gives_the_same_report_with_the_same_specs(tmp_path, capsys, db):
    rec = _save(tmp_path, capsys, BAD, "Ann", "a")
    new = tmp_path / "new.json"
    assert main(["rescore", str(rec), "--save", str(new)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == json.loads(rec.read_text())["report"]
    saved = json.loads(new.read_text())
    assert saved["rescored_from"]["signature_verified"] is True and saved["report"] == out
    assert main(["verify", str(new)]) == 0


def test_rescore_a_cohort_at_once(tmp_path, capsys, db):
    """Several records, of two trainees: each re-scored as it would be alone, all saved and verified."""
    recs = [_save(tmp_path, capsys, BAD, "Ann", "a"), _save(tmp_path, capsys, LOG, "Bob", "b"),
            _save(tmp_path, capsys, LOG, "Cy", "c")]
    alone = []
    for r in recs:
        assert main(["rescore", str(r)]) == 0
        alone.append(json.loads(capsys.readouterr().out))
    out_dir = tmp_path / "again"
    assert main(["rescore", *map(str, recs), "--save-dir", str(out_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["report"] for row in rows] == alone
    assert [row["trainee"] for row in rows] == ["Ann", "Bob", "Cy"]
    assert [row["score_before"] for row in rows] == [a["score"] for a in alone]
    assert main(["verify", *map(str, sorted(out_dir.iterdir()))]) == 0
    capsys.readouterr()
    assert main(["rescore", *map(str, recs), "--format", "text"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].split("\t")[1] == "Ann" and "->" in lines[0]
    assert main(["rescore", *map(str, recs), "--save", str(tmp_path / "x.json")]) == 2
    assert "--save-dir" in capsys.readouterr().err


def test_cohort_csv_json_and_pdf(tmp_path, capsys, db):
    _save(tmp_path, capsys, BAD, "Ann", "a1")
    _save(tmp_path, capsys, LOG, "Ann", "a2")
    _save(tmp_path, capsys, LOG, "Bob", "b1")
    assert main(["cohort", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["trainee"], r["passed"]) for r in rows] == [("Ann", "False"), ("Ann", "True"), ("Bob", "True")]
    assert all(r["date"] and r["saved"] == r["date"] and r["signature"] == "verified" for r in rows)
    assert main(["cohort", "--trainee", "Ann", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert [a["passed"] for a in summary["trainees"]["Ann"]] == [False, True]
    assert summary["pass_rates"]["face-free"] == {"title": "Free practice - face", "attempts": 2, "passed": 1,
                                                  "rate": 0.5, "trainees": 1, "not_verified": 0}
    assert {"rule": "danger", "verdict": "critical", "structure": "supratrochlear-artery-left", "count": 1,
            "share": 0.5, "injections": 1} in summary["common_findings"]
    pdf = tmp_path / "c.pdf"
    assert main(["cohort", "--format", "pdf", "-o", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")


def test_one_cohort_csv_from_records_and_from_the_gradebook(tmp_path, capsys, db):
    recs = [_save(tmp_path, capsys, BAD, "Ann", "a1"), _save(tmp_path, capsys, LOG, "Bob", "b1")]
    assert main(["report", *map(str, recs), "--format", "cohort-csv"]) == 0
    from_records = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert main(["cohort", "--format", "csv"]) == 0
    from_book = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert list(from_records[0]) == list(from_book[0])  # the same columns, in the same order
    same = [c for c in from_book[0] if c not in ("file", "gradebook_id", "verification", "exam_result")]
    assert [{c: r[c] for c in same} for r in from_records] == [{c: r[c] for c in same} for r in from_book]
    assert from_records[0]["file"] == str(recs[0]) and from_book[0]["gradebook_id"] == "1"
    assert from_records[0]["date"] == json.loads(recs[0].read_text())["saved"]


def test_findings_are_counted_per_attempt_not_per_injection(tmp_path, capsys, db):
    """One attempt with ten critical injections and one with a single one: the finding is in 2 of 2 attempts."""
    many = "x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n" + "".join(
        f"17,{30 + k * 0.1:.1f},4.0,45,0.01,medium-papule,{k}\n" for k in range(10))
    _save(tmp_path, capsys, many, "Ann", "many")
    _save(tmp_path, capsys, BAD, "Bob", "one")
    assert main(["cohort", "--format", "json"]) == 0
    common = json.loads(capsys.readouterr().out)["common_findings"]
    hit = next(f for f in common if f["rule"] == "danger" and f["verdict"] == "critical")
    assert hit["count"] == 2 and hit["share"] == 1.0 and hit["injections"] == 11


def test_trainees_match_without_case_or_spacing_and_unknown_ones_get_a_suggestion(tmp_path, capsys, db):
    _save(tmp_path, capsys, LOG, "Ann Lee", "a1")
    _save(tmp_path, capsys, BAD, "ann  lee", "a2")
    _save(tmp_path, capsys, LOG, "Bob", "b1")
    assert main(["cohort", "--trainee", " ANN LEE ", "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (name, attempts), = summary["trainees"].items()  # one trainee, as most often spelled (the first on a tie)
    assert name == "Ann Lee" and len(attempts) == 2
    assert main(["cohort", "--trainee", "Anne Le", "--format", "csv"]) == 2
    err = capsys.readouterr().err
    assert err.startswith('--trainee:0:0: no trainee "Anne Le" in the gradebook') and 'did you mean "Ann Lee"' in err
    assert main(["cohort", "--scenario", "face-fre", "--format", "csv"]) == 2
    assert 'did you mean "face-free"?' in capsys.readouterr().err
    assert main(["gradebook", "list", "--trainee", "bobb"]) == 2
    assert 'did you mean "Bob"?' in capsys.readouterr().err


def test_learning_curves_follow_the_real_dates(tmp_path, capsys, db):
    """Attempts imported out of order: the curve runs by the attempts' own dates, not by when they were added."""
    from sim.core.records.signing import read_record, write_record

    recs = []
    for k, day in enumerate(("2026-03-09", "2026-03-02", "2026-03-05")):
        path = _save(tmp_path, capsys, LOG if k else BAD, "Cy", f"c{k}")
        rec = read_record(path)
        rec["saved"] = f"{day}T10:00:00+01:00"
        recs.append(write_record({k2: v for k2, v in rec.items() if k2 != "signature"}, tmp_path / f"d{k}.json"))
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert main(["gradebook", "import", *map(str, (tmp_path / f"d{k}.json" for k in range(3))), "--db", other]) == 0
    capsys.readouterr()
    assert main(["cohort", "--format", "json", "--db", other]) == 0
    (attempts,) = json.loads(capsys.readouterr().out)["trainees"].values()
    assert [a["date"][:10] for a in attempts] == ["2026-03-02", "2026-03-05", "2026-03-09"]
    assert [a["passed"] for a in attempts] == [True, True, False]


def test_record_viewer_steps_through_the_attempt(tmp_path, capsys, db):
    from sim.core.records.signing import read_record
    from sim.ui.app import App, Options
    from sim.ui.screens import RecordViewerScreen

    rec = _save(tmp_path, capsys, BAD, "Ann", "a")
    app = App(Options(view_record=read_record(rec), view_record_path=str(rec)))
    try:
        viewer = app.screen
        assert isinstance(viewer, RecordViewerScreen) and viewer.status == "signature verified"
        for key in (pygame.K_RIGHT, pygame.K_RIGHT, pygame.K_LEFT, pygame.K_RIGHT, pygame.K_RIGHT):
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))
            app.step(1 / 60)
        assert viewer.shown == 3
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_HOME, mod=0, unicode="", scancode=0))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE, mod=0, unicode="", scancode=0))
        for _ in range(60):  # one second of play at 0.6 s per injection
            app.step(1 / 60)
        assert viewer.shown == 1 and viewer.playing
    finally:
        app.close()
