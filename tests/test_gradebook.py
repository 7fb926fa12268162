"""The gradebook on SQLite and on a real PostgreSQL server: same schema, same code path."""

import json
import sqlite3

import pytest

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
