"""Nothing lost under load: stations saving at once into SQLite and into a real PostgreSQL server (tests/pgserver.py),
from a new gradebook and from an existing one of the earlier schema, the same new trainees from every station,
stations killed in the middle of their saves, a full disk, and the signing key made by many processes at once.
Every count is rows in the gradebook against record files on disk.

Sizes follow MESOSIM_TESTS (tests/profile.py): `quick` 3 stations x 5 saves and 3 kills, `long` 8 stations x 25
saves (the 200 of docs/records.md) and 20 kills on each database.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from sim.cli import main
from sim.gradebook import Gradebook, attempts, meta_table
from sim.core.records.signing import read_record, write_record
from sim.session import load_record
from tests.gradebook_station import LOG
from tests.profile import LONG, amount

ROOT = Path(__file__).resolve().parent.parent
STATIONS = amount(quick=3, long=8)
SAVES = amount(quick=5, long=25)
KILLS = amount(quick=3, long=20)
TRAINEES = ["Ann", "Bob", "Cleo", "Dev", "Eve"]  # new to the gradebook, saved by every station at once


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
                PYTHONDONTWRITEBYTECODE="1")


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db(request, tmp_path):
    """A gradebook that does not exist yet: a new SQLite file, or a new empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gradebook.sqlite'}"
    server = request.getfixturevalue("pg_server")
    return server.fresh_database(f"load_{os.getpid()}_{abs(hash(str(tmp_path))) % 10**8}")


def _schema_1(url: str, out: Path) -> None:
    """An existing gradebook as the earlier version left it (schema 1: no labels, no saved column) holding one
    attempt, saved by the earlier version's `mesosim score --save` (no attempt_id, no times)."""
    log = out / "old.csv"
    log.write_text(LOG)
    assert main(["score", "face-free", str(log), "--save", str(out / "old.json"), "--trainee", "Old", "--db",
                 url]) == 0
    old = {k: v for k, v in read_record(out / "old.json").items() if k not in ("attempt_id", "saved")}
    signed = write_record(old, out / "old.json")
    book = Gradebook(url)
    try:
        with book.engine.begin() as c:
            c.execute(sa.text("DELETE FROM attempts"))
        book.add(signed)  # known by its signature, as the earlier version kept it
        with book.engine.begin() as c:
            c.execute(sa.text("DROP TABLE labels"))
            c.execute(sa.text("ALTER TABLE attempts DROP COLUMN saved"))
            c.execute(meta_table.update().values(value="1"))
    finally:
        book.close()


def _stations(out: Path, db: str, count: int, saves: int, name: str = "s") -> list[subprocess.Popen]:
    """`count` stations, each loaded and waiting at the start line."""
    procs = [subprocess.Popen([sys.executable, "-m", "tests.gradebook_station", str(out), db, str(saves),
                               ",".join(TRAINEES), f"{name}{k}"], cwd=ROOT, env=_env(), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(count)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
    return procs


def _go(procs) -> None:
    for p in procs:
        p.stdin.write("go\n")
    for p in procs:
        p.stdin.flush()


def _rows(url: str) -> list[str]:
    book = Gradebook(url)
    try:
        with book.engine.connect() as c:
            return [r[0] for r in c.execute(sa.select(attempts.c.uid))]
    finally:
        book.close()


def _files(out: Path) -> list[Path]:
    return sorted(out.glob("*.json"))


@pytest.mark.parametrize("start", ["new", "existing"])
def test_concurrent_saves_lose_nothing(tmp_path, new_db, start, capsys):
    """STATIONS x SAVES at once, the same log each time, the same five new trainees from every station: a row for
    every record file, each its own attempt, no traceback, every save kept in the gradebook at once."""
    out = tmp_path / "records"
    out.mkdir()
    if start == "existing":
        _schema_1(new_db, out)
    capsys.readouterr()
    procs = _stations(out, new_db, STATIONS, SAVES)
    _go(procs)
    notes = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        assert p.returncode == 0 and "Traceback" not in stderr, stderr
        notes += [json.loads(line)["note"] for line in stdout.splitlines()]
    assert notes == [None] * (STATIONS * SAVES)  # every save reached the gradebook
    files = _files(out)
    assert len(files) == STATIONS * SAVES + (start == "existing")
    uids = _rows(new_db)
    records = [load_record(f) for f in files]
    assert all(r.verified for r in records)
    ids = {r.raw.get("attempt_id") for r in records if r.raw.get("attempt_id")}
    assert len(ids) == STATIONS * SAVES  # the same log saved again is another attempt
    assert len(uids) == len(set(uids)) == len(files) and ids <= set(uids)
    with Gradebook(new_db) as book:
        names = book.trainees()
        assert names == sorted(TRAINEES + (["Old"] if start == "existing" else []))
        saved = {r.raw["attempt_id"]: r.raw["saved"] for r in records if r.raw.get("attempt_id")}
        assert all(r["when"] == saved[r["uid"]] for r in book.attempts() if r["uid"] in saved)
    print(f"\n{new_db.split(':')[0]} {start}: {len(uids)} rows of {len(files)} record files")


def test_concurrent_cli_saves(tmp_path):
    """`mesosim score --save` itself, several at once into a new gradebook: each prints its report and exits 0."""
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    n = amount(quick=2, long=8)
    procs = [subprocess.Popen([sys.executable, "-m", "sim", "score", "face-free", str(log), "--format", "text",
                               "--save", str(tmp_path / f"r{k}.json"), "--trainee", TRAINEES[k % 2], "--db", url],
                              cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(n)]
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0 and stderr == "" and "PASSED" in stdout, stderr
    assert len(_rows(url)) == n == len(list(tmp_path.glob("r*.json")))


def test_kills_in_the_middle_lose_nothing(tmp_path, new_db, capsys):
    """A station SIGKILLed at a random moment of its saves, KILLS times (each time a new station goes on): every
    record file on disk is whole and verifies; `mesosim gradebook import` of them all makes rows == files, and
    importing them again adds nothing."""
    if new_db.startswith("postgresql") and not LONG:
        pytest.skip("kills on PostgreSQL run in the long profile (MESOSIM_TESTS=long)")
    out = tmp_path / "records"
    rng = random.Random(16)
    for k in range(KILLS):
        (proc,) = _stations(out, new_db, 1, 10_000, name=f"k{k}-")
        _go([proc])
        first = time.monotonic()
        proc.stdout.readline()  # one save done: the next ones are what the kill lands in
        per_save = time.monotonic() - first
        for _ in range(rng.randrange(3)):
            proc.stdout.readline()
        time.sleep(rng.uniform(0, per_save))
        proc.send_signal(signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL, "the station ended before the kill"
        proc.stdout.close()
        proc.stderr.close()
        proc.stdin.close()
    files = _files(out)
    records = [load_record(f) for f in files]  # a kill never leaves a short record under its name
    assert all(r.verified for r in records)
    before = len(_rows(new_db))
    assert before <= len(files)
    capsys.readouterr()
    assert main(["gradebook", "import", *map(str, files), "--db", new_db]) == 0
    imported = capsys.readouterr()
    assert len(_rows(new_db)) == len(files)
    assert f"{len(files) - before} record(s) added, {before} already in the gradebook" in imported.err
    assert main(["gradebook", "import", *map(str, files), "--db", new_db]) == 0
    assert f"0 record(s) added, {len(files)} already in the gradebook" in capsys.readouterr().err
    assert len(_rows(new_db)) == len(files)
    leftovers = list(out.glob(".*.tmp"))
    print(f"\n{new_db.split(':')[0]}: {KILLS} kills, {len(files)} record files, {before} rows before the import "
          f"({len(files) - before} added by it), {len(leftovers)} temporary file(s) left by the kills")


def test_the_signing_key_made_by_many_processes_at_once(tmp_path):
    """Eight processes needing the key for the first time at the same instant all get the same whole key."""
    rounds = amount(quick=2, long=10)
    code = ("import sys\nfrom sim.core.records.signing import load_key\nprint('ready', flush=True)\n"
            "sys.stdin.readline()\nprint(load_key().hex(), flush=True)\n")
    for r in range(rounds):
        key = tmp_path / f"round{r}" / "signing.key"
        env = dict(_env(), MESOSIM_KEY_FILE=str(key))
        procs = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        _go(procs)
        results = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0] * 8, [e for _o, e in results]
        assert len({o.strip() for o, _e in results}) == 1
        assert key.read_text().strip() == results[0][0].strip() and len(key.read_bytes()) == 65
        assert list(key.parent.iterdir()) == [key]  # no temporary file left


# -- a full disk (a small tmpfs: needs root; skipped otherwise)


@pytest.fixture
def small_disk(tmp_path):
    """A 200 kB file system of its own, mounted for the test."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(disk)], capture_output=True,
                         text=True)
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {run.stderr.strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _fill(disk: Path) -> Path:
    """The disk filled to the last byte."""
    filler = disk / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_a_full_disk_keeps_the_report_and_leaves_nothing_half_written(tmp_path, small_disk, capsys, monkeypatch):
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    filler = _fill(small_disk)
    # the key's first use on a full disk: no key at all, never an empty one
    key = small_disk / "signing.key"
    monkeypatch.setenv("MESOSIM_KEY_FILE", str(key))
    code = main(["score", "face-free", str(log), "--format", "text", "--save", str(tmp_path / "a.json"),
                 "--db", url])
    cap = capsys.readouterr()
    assert code == 2 and "PASSED" in cap.out
    assert cap.err == (f"{key}:0:0: cannot write: the disk is full (No space left on device); nothing was saved: "
                       "free some space and save again\n")
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    monkeypatch.undo()
    # the record on the full disk
    code = main(["score", "face-free", str(log), "--save", str(small_disk / "r.json"), "--db", url])
    cap = capsys.readouterr()
    assert code == 2 and '"score"' in cap.out
    assert cap.err.startswith(f"{small_disk / 'r.json'}:0:0: cannot write: the disk is full")
    assert len(cap.err.splitlines()) == 1 and sorted(p.name for p in small_disk.iterdir()) == ["filler"]
    # the gradebook on the full disk: the record is kept beside it, with the command that adds it later
    book = f"sqlite:///{small_disk / 'g.sqlite'}"
    kept = tmp_path / "kept.json"
    code = main(["score", "face-free", str(log), "--save", str(kept), "--db", book])
    cap = capsys.readouterr()
    assert code == 1 and '"score"' in cap.out
    assert cap.err.strip().endswith(f"Add it later with: mesosim gradebook import {kept} --db {book}"), cap.err
    assert load_record(kept).verified
    filler.unlink()
    assert main(["gradebook", "import", str(kept), "--db", book]) == 0
    assert capsys.readouterr().out == f"{kept}: added as attempt 1\n"
    assert len(_rows(book)) == 1


def test_saving_until_the_disk_is_full(tmp_path, small_disk, capsys):
    """Records saved onto a disk until it is full: every save either is whole on disk and in the gradebook, or
    says the disk is full and leaves nothing."""
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    url = f"sqlite:///{tmp_path / 'g.sqlite'}"
    saved, full = [], 0
    for i in range(200):
        code = main(["score", "face-free", str(log), "--save", str(small_disk / f"r{i:03d}.json"), "--db", url])
        err = capsys.readouterr().err
        assert code in (0, 2) and "Traceback" not in err
        if code == 0:
            saved.append(f"r{i:03d}.json")
        else:
            assert "the disk is full" in err
            full += 1
            if full == 3:
                break
    names = sorted(p.name for p in small_disk.iterdir())
    assert full and saved and names == saved  # no temporary file, no short record
    assert all(load_record(small_disk / n).verified for n in names)
    assert len(_rows(url)) == len(saved)
    print(f"\nfull disk: {len(saved)} records saved and kept, then {full} saves refused with nothing left on disk")
