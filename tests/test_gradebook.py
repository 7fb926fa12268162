"""The gradebook on SQLite and on a real PostgreSQL server: same schema, same code path."""

import json
import shlex
import sqlite3

import pytest
import sqlalchemy as sa

from sim.cli import main
from sim.gradebook import Gradebook

LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "0,40,0.5,45,0.01,superficial-nappage,1\n"
       "4,40,0.5,45,0.01,superficial-nappage,2\n")
BAD = LOG + "17,30,4.0,45,0.01,medium-papule,3\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradebook.sqlite'}"
    server = request.getfixturevalue("pg_server")
    return server.fresh_database(f"gb_{abs(hash(str(tmp_path))) % 10**8}")


def _score(tmp_path, capsys, log_text, trainee, db, name):
    log = tmp_path / f"{name}.csv"
    log.write_text(log_text)
    out = tmp_path / f"{name}.json"
    assert main(["score", "face-free", str(log), "--save", str(out), "--trainee", trainee, "--db", db]) == 0
    capsys.readouterr()
    return json.loads(out.read_text())


def test_attempts_are_kept_once_and_listed(tmp_path, capsys, db_url):
    r1 = _score(tmp_path, capsys, LOG, "Ann O'Neil", db_url, "a")
    r2 = _score(tmp_path, capsys, BAD, "Ann O'Neil", db_url, "b")
    _score(tmp_path, capsys, LOG, "Bob", db_url, "c")
    book = Gradebook(db_url)
    try:
        book.add(r1)  # the same record again: no second row
        rows = book.attempts()
        assert [(r["trainee"], r["passed"]) for r in rows] == [("Ann O'Neil", True), ("Ann O'Neil", False),
                                                              ("Bob", True)]
        assert all(r["signed"] for r in rows) and rows[1]["critical"] == 1
        assert [r["score"] for r in book.attempts(trainee="Ann O'Neil")] == [r1["report"]["score"],
                                                                              r2["report"]["score"]]
        assert book.attempts(scenario="nope") == []
        assert book.trainees() == ["Ann O'Neil", "Bob"]
        assert book.record(rows[1]["id"]) == r2
    finally:
        book.close()


def test_sqlite_is_in_wal_mode(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    _score(tmp_path, capsys, LOG, "Ann", url, "a")
    with sqlite3.connect(tmp_path / "g.sqlite") as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_trainer_attempts_land_in_the_default_gradebook(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MESOSIM_DB", f"sqlite:///{tmp_path / 'default.sqlite'}")
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    assert main(["run", "face-free", "--replay", str(log), "--save", str(tmp_path / "r.json"), "--trainee",
                 "Cleo"]) == 0
    book = Gradebook()
    try:
        (row,) = book.attempts()
        assert row["trainee"] == "Cleo" and row["injections"] == 2
    finally:
        book.close()


def test_bad_database_url_is_input_error(tmp_path, capsys):
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    code = main(["score", "face-free", str(log), "--save", str(tmp_path / "x.json"), "--db", "nosuchdb://x"])
    assert code == 2 and "--db" in capsys.readouterr().err


def test_the_same_log_scored_twice_is_two_attempts(tmp_path, capsys, db_url):
    a = _score(tmp_path, capsys, LOG, "Ann", db_url, "a")
    b = _score(tmp_path, capsys, LOG, "Ann", db_url, "b")
    with Gradebook(db_url) as book:
        rows = book.attempts()
    assert [r["uid"] for r in rows] == [a["attempt_id"], b["attempt_id"]]
    assert [r["when"] for r in rows] == [a["saved"], b["saved"]]


def test_a_save_the_gradebook_cannot_take_is_imported_later(tmp_path, capsys, db_url):
    """The gradebook out of reach: the report is printed, the record kept, stderr gives the command that adds it;
    that command adds it once, however often it is run."""
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    out = tmp_path / "a.json"
    down = f"sqlite:///{tmp_path / 'no such folder' / 'g.sqlite'}"
    assert main(["score", "face-free", str(log), "--save", str(out), "--trainee", "Ann", "--db", down]) == 1
    cap = capsys.readouterr()
    assert json.loads(cap.out)["passed"] is True
    first, second = cap.err.strip().splitlines()
    assert first.startswith(f"--db:0:0: cannot use the gradebook at {down}: ")
    assert second.endswith(f"Add it later with: mesosim gradebook import {out} --db {shlex.quote(down)}")
    assert main(["gradebook", "import", str(out), "--db", db_url]) == 0
    cap = capsys.readouterr()
    assert cap.out == f"{out}: added as attempt 1\n" and cap.err == "1 record(s) added, 0 already in the gradebook\n"
    assert main(["gradebook", "import", str(out), str(out), "--db", db_url]) == 0
    assert capsys.readouterr().out == f"{out}: already in the gradebook as attempt 1\n" * 2
    with Gradebook(db_url) as book:
        (row,) = book.attempts()
    assert row["trainee"] == "Ann" and row["signed"] and row["when"] == json.loads(out.read_text())["saved"]


def test_import_of_old_records_bad_files_and_other_keys(tmp_path, capsys, db_url, monkeypatch):
    from sim.core.records.signing import write_record

    rec = _score(tmp_path, capsys, LOG, "Ann", f"sqlite:///{tmp_path / 'elsewhere.sqlite'}", "a")
    old = tmp_path / "old.json"  # as saved before records had an attempt id and a time
    write_record({k: v for k, v in rec.items() if k not in ("attempt_id", "saved", "started", "ended")}, old)
    bad = tmp_path / "bad.json"
    bad.write_text('{"attempt_version": 1,\n "trainee": 3}\n')
    assert main(["gradebook", "import", str(old), str(bad), "--when", "2026-03-01T09:30+01:00",
                 "--db", db_url]) == 2
    cap = capsys.readouterr()
    assert cap.out == f"{old}: added as attempt 1\n"
    assert f"{bad}:2:" in cap.err and "Traceback" not in cap.err
    assert main(["gradebook", "import", str(old), "--db", db_url]) == 0  # known by its signature: once
    capsys.readouterr()
    # a record signed with another station's key is not added unless asked
    other = tmp_path / "other.json"
    monkeypatch.setenv("MESOSIM_KEY_FILE", str(tmp_path / "other.key"))
    write_record({k: v for k, v in rec.items() if k != "attempt_id"}, other)
    monkeypatch.undo()
    assert main(["gradebook", "import", str(other), "--db", db_url]) == 1
    assert "signed with another key (another machine or a replaced key); not added (--unverified adds it" in \
        capsys.readouterr().err
    assert main(["gradebook", "import", str(other), "--unverified", "--db", db_url]) == 0
    capsys.readouterr()
    with Gradebook(db_url) as book:
        rows = book.attempts()
    assert [(r["when"], r["signed"]) for r in rows] == [("2026-03-01T09:30:00+01:00", True), (rec["saved"], False)]
    assert main(["gradebook", "import", str(old), "--when", "yesterday", "--db", db_url]) == 2
    assert capsys.readouterr().err.startswith('--when:0:0: "yesterday" is not an ISO 8601 time')


def test_labels_are_kept_replaced_and_listed(tmp_path, capsys, db_url):
    from sim.gradebook import labelled

    a = _score(tmp_path, capsys, LOG, "Ann", db_url, "a")
    _score(tmp_path, capsys, BAD, "Bob", db_url, "b")
    assert main(["gradebook", "label", "1", "competent", "--by", "Dr Rey", "--db", db_url]) == 0
    assert capsys.readouterr().out.startswith("attempt 1 (Ann, face-free, ")
    assert main(["gradebook", "label", a["attempt_id"], "not-competent", "--by", "Dr Lin", "--db", db_url]) == 0
    assert main(["gradebook", "label", "2", "not-competent", "--db", db_url]) == 0
    capsys.readouterr()
    assert [(r["attempt_id"], label) for r, label in labelled("face-free", db_url)] == \
        [(a["attempt_id"], "not-competent"), (json.loads((tmp_path / "b.json").read_text())["attempt_id"],
                                              "not-competent")]
    assert labelled("scalp-free", db_url) == []
    with Gradebook(db_url) as book:
        with book.engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM labels")).scalar() == 2
        assert book.attempts()[0]["labelled_by"] == "Dr Lin"
    assert main(["gradebook", "list", "--db", db_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "trainee", "scenario", "date", "score", "passed", "label"]
    assert lines[1].split()[:2] == ["1", "Ann"] and lines[1].split()[-2:] == ["yes", "not-competent"]
    assert lines[2].split()[1] == "Bob" and lines[2].split()[-2] == "no" and len(lines) == 3
    assert main(["gradebook", "list", "--trainee", "Bob", "--format", "json", "--db", db_url]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["id"] == 2 and row["label"] == "not-competent" and row["passed"] is False
    assert main(["gradebook", "label", "7", "competent", "--db", db_url]) == 2
    assert capsys.readouterr().err.startswith('ATTEMPT_ID:0:0: no attempt "7" in the gradebook')
    with pytest.raises(SystemExit) as exc:
        main(["gradebook", "label", "1", "good", "--db", db_url])
    assert exc.value.code == 2 and "invalid choice: 'good'" in capsys.readouterr().err


def test_an_earlier_gradebook_is_upgraded_and_a_newer_one_refused(tmp_path, capsys, db_url):
    from sim.gradebook import meta_table

    _score(tmp_path, capsys, LOG, "Ann", db_url, "a")
    with Gradebook(db_url) as book:
        with book.engine.begin() as c:
            c.execute(sa.text("DROP TABLE labels"))
            c.execute(sa.text("ALTER TABLE attempts DROP COLUMN saved"))
            c.execute(meta_table.update().values(value="1"))
    assert main(["gradebook", "label", "1", "competent", "--db", db_url]) == 0
    with Gradebook(db_url) as book:
        (row,) = book.attempts()
        assert row["label"] == "competent" and row["saved"] is None and row["when"] == row["added"]
        with book.engine.begin() as c:
            c.execute(meta_table.update().values(value="9"))
    capsys.readouterr()
    assert main(["gradebook", "list", "--db", db_url]) == 2
    assert "was made by a newer mesosim (schema 9" in capsys.readouterr().err


def test_the_problem_names_where_the_gradebook_was_configured(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MESOSIM_DB", f"sqlite:///{tmp_path / 'missing' / 'g.sqlite'}")
    assert main(["gradebook", "list"]) == 1
    assert capsys.readouterr().err.startswith("MESOSIM_DB:0:0: cannot use the gradebook at sqlite:///")


def test_the_trainer_replay_says_when_its_record_is_not_kept(tmp_path, capsys, monkeypatch):
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    monkeypatch.setenv("MESOSIM_DB", f"sqlite:///{tmp_path / 'missing' / 'g.sqlite'}")
    assert main(["run", "face-free", "--replay", str(log), "--save", str(tmp_path / "r.json")]) == 1
    assert f"Add it later with: mesosim gradebook import {tmp_path / 'r.json'}" in capsys.readouterr().err
    (tmp_path / "file").write_text("")
    assert main(["run", "face-free", "--replay", str(log), "--save", str(tmp_path / "file" / "r.json")]) == 2
    assert "The attempt could not be saved" in capsys.readouterr().err


def test_schema_2_gains_the_pass_mark_and_the_findings_from_its_records(tmp_path, capsys, db_url):
    """A gradebook of the previous schema: its rows get the pass mark and the findings by kind from their own
    records on the first open, so that a cohort report never reads a record."""
    import json as _json

    from sim.gradebook import finding_counts, meta_table

    rec = _score(tmp_path, capsys, BAD, "Ann", db_url, "a")
    with Gradebook(db_url) as book:
        with book.engine.begin() as c:
            c.execute(sa.text("UPDATE attempts SET pass_mark = NULL, findings = NULL"))
            c.execute(meta_table.update().values(value="2"))
    with Gradebook(db_url) as book:
        (row,) = book.attempts()
    assert row["pass_mark"] == rec["report"]["pass_mark"]
    assert _json.loads(row["findings"]) == finding_counts(rec["report"]) != []
    assert ["danger", "critical", "supratrochlear-artery-left", 1] in _json.loads(row["findings"])

