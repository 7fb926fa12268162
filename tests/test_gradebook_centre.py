"""A centre's gradebook on a throw-away PostgreSQL server, set up as docs/records.md says: stations log in with a
role that may only append (docs/centre-roles.sql), the server stamps each row's time and its record's hash, and
`mesosim gradebook check` computes the result from what the server holds, with the specs of the machine it runs on."""

import json
import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from sim.cli import main
from sim.core.records.signing import record_text

ROOT = Path(__file__).resolve().parent.parent
LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "0,40,0.5,45,0.01,superficial-nappage,1\n"
       "4,40,0.5,45,0.01,superficial-nappage,2\n")


@pytest.fixture
def centre(pg_server, tmp_path, capsys):
    admin = pg_server.fresh_database("centre")
    assert main(["gradebook", "list", "--db", admin]) == 0  # the owner's first command makes the tables
    capsys.readouterr()
    psql = shutil.which("psql")
    if not psql:
        pytest.skip("psql is not installed")
    with psycopg.connect(f"host=127.0.0.1 port={pg_server.port} user=postgres dbname=postgres",
                         autocommit=True) as c:
        c.execute("DROP ROLE IF EXISTS station")
    r = subprocess.run([psql, "-h", "127.0.0.1", "-p", str(pg_server.port), "-U", "postgres", "-d", "centre",
                        "-v", "ON_ERROR_STOP=1", "-v", "station=station", "-q", "-f",
                        str(ROOT / "docs" / "centre-roles.sql")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    station = admin.replace("postgres@", "station@")
    yield admin, station, f"host=127.0.0.1 port={pg_server.port} dbname=centre"
    with psycopg.connect(f"host=127.0.0.1 port={pg_server.port} user=postgres dbname=postgres",
                         autocommit=True) as c:
        c.execute("DROP DATABASE IF EXISTS centre")
        c.execute("DROP ROLE IF EXISTS station")


def test_a_station_may_only_append_and_the_server_checks_every_result(centre, tmp_path, capsys):
    admin, station, conninfo = centre
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    out = tmp_path / "a.json"
    assert main(["score", "face-free", str(log), "--save", str(out), "--trainee", "Ann", "--db", station]) == 0
    capsys.readouterr()
    with psycopg.connect(conninfo + " user=station", autocommit=True) as c:
        for sql in ("UPDATE attempts SET score = 99", "DELETE FROM attempts", "SELECT record FROM attempts",
                    "SELECT score FROM attempts", "INSERT INTO labels VALUES ('x', 'competent', 'me', 'now')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                c.execute(sql)
        # what a station's account can still do: append a forged row, its hash and time set by itself
        forged = json.loads(out.read_text())
        forged["attempt_id"] = "forged"
        forged["report"]["score"] = 100.0
        text = json.dumps(forged)
        c.execute("INSERT INTO attempts (uid, trainee_id, scenario_id, scenario_sha256, mode, score, passed, "
                  "critical, injections, signed, record, added, saved, record_sha256) SELECT 'forged', id, "
                  "'face-free', '', 'practice', 100, true, 0, 2, true, %s, 'x', '2020-01-01T00:00:00+00:00', "
                  "'0000' FROM trainees", (text,))
    with psycopg.connect(conninfo + " user=postgres") as c:
        rows = c.execute("SELECT uid, received, record_sha256 FROM attempts ORDER BY id").fetchall()
    assert all(r[1] for r in rows) and rows[1][2] != "0000"  # the server's time and hash, not the station's
    assert main(["gradebook", "check", "--db", admin]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("attempt 1 (Ann, face-free") and lines[0].endswith("signature verified")
    assert lines[1].startswith("attempt 2 (Ann, face-free") and "NOT verified" in lines[1]
    assert "the content was changed after signing" in lines[1]


def test_check_on_sqlite_finds_a_row_edited_in_sql(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'g.sqlite'}"
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    out = tmp_path / "a.json"
    assert main(["score", "face-free", str(log), "--save", str(out), "--db", db]) == 0
    assert main(["gradebook", "check", "--db", db, "--format", "json"]) == 0
    capsys.readouterr()
    import sqlite3

    with sqlite3.connect(tmp_path / "g.sqlite") as c:
        c.execute("UPDATE attempts SET record = ?", (record_text(json.loads(out.read_text())),))
    assert main(["gradebook", "check", "--db", db]) == 1
    assert "its hash does not match" in capsys.readouterr().out
