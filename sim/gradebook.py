"""The gradebook: trainees, scenarios, attempts and instructors' labels in SQLite (WAL, the default, in the user's
data folder) or in one PostgreSQL database shared by every station of a training centre. One schema, one code path
(SQLAlchemy Core).

Where it is: `--db URL`, else the MESOSIM_DB environment variable, else `database:` in the user's config file
(config.yaml in the mesosim config folder), else SQLite in the data folder.

Many stations write at once (docs/records.md, "Concurrent saves"): the schema is made or upgraded by one process at
a time (PostgreSQL: a transaction-level advisory lock; SQLite: BEGIN IMMEDIATE, the database's write lock) and
every other process waits and finds it made; rows are added with INSERT ... ON CONFLICT DO NOTHING and then read
back, so a racing twin adding the same trainee, exercise or attempt is no error; a busy database (SQLite's write
lock, a PostgreSQL deadlock or serialization failure) is waited for and the transaction tried again with backoff.
An attempt is known by its `attempt_id` (older records: by their signature), so adding a record twice keeps one row.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import random
import re
import time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as _postgresql
from sqlalchemy.dialects import sqlite as _sqlite

from sim.errors import InputError, Problem, UnavailableError
from sim.core.records.times import record_time
from sim.core.records.signing import canonical, verify
from sim.paths import config_file, gradebook_file

SCHEMA_VERSION = 4
"""1: trainees, scenarios, attempts, gradebook_meta. 2: attempts.saved (when the record was written) and labels.
3: attempts.pass_mark and attempts.findings (what a cohort report needs, so that it never parses a record). 4:
attempts.record_sha256 (the hash of the record text kept, checked on every read) and attempts.received (the
database server's own time when the row arrived)."""
LABELS = ("competent", "not-competent")
BUSY_TIMEOUT_MS = 10_000
"""How long SQLite waits for another connection's write lock before it says busy (and the transaction is retried)."""
RETRY_FOR_S = 60.0
"""How long a transaction is tried again while the database is busy, before the save is reported as not kept."""
_SCHEMA_LOCK = int.from_bytes(hashlib.sha256(b"mesosim gradebook schema").digest()[:8], "big", signed=True)

metadata = sa.MetaData()

trainees = sa.Table(
    "trainees", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("created", sa.Text, nullable=False),
)
scenarios = sa.Table(
    "scenarios", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("map", sa.Text, nullable=False),
)
attempts = sa.Table(
    "attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.Text, nullable=False, unique=True),
    sa.Column("trainee_id", sa.Integer, sa.ForeignKey("trainees.id"), nullable=False),
    sa.Column("scenario_id", sa.Text, sa.ForeignKey("scenarios.id"), nullable=False),
    sa.Column("scenario_sha256", sa.Text, nullable=False),
    sa.Column("mode", sa.Text, nullable=False),
    sa.Column("started", sa.Text),
    sa.Column("ended", sa.Text),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("critical", sa.Integer, nullable=False),
    sa.Column("injections", sa.Integer, nullable=False),
    sa.Column("signed", sa.Boolean, nullable=False),
    sa.Column("added", sa.Text, nullable=False),
    sa.Column("saved", sa.Text),
    sa.Column("pass_mark", sa.Float),
    sa.Column("findings", sa.Text),
    sa.Column("record_sha256", sa.Text),
    sa.Column("received", sa.Text, server_default=sa.text("CURRENT_TIMESTAMP")),
    # Last: SQLite reads a column after a long one by walking its overflow pages; a report that never reads the
    # record must not pay for it (a gradebook made by an earlier version keeps its order: slower, the same).
    sa.Column("record", sa.Text, nullable=False),
    sa.Index("attempts_trainee", "trainee_id"),
    sa.Index("attempts_scenario", "scenario_id"),
)
labels = sa.Table(
    "labels", metadata,
    sa.Column("attempt_uid", sa.Text, sa.ForeignKey("attempts.uid"), primary_key=True),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("labelled_by", sa.Text, nullable=False),
    sa.Column("labelled_at", sa.Text, nullable=False),
    sa.CheckConstraint("label IN ('competent', 'not-competent')", name="labels_label"),
)
meta_table = sa.Table(
    "gradebook_meta", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def default_url() -> str:
    from sim.core.files.safeio import create_private

    path = gradebook_file()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        create_private(path)  # names and results: the owner's only (SQLite gives its -wal and -shm files the same)
    except OSError:
        pass  # reported by the connection, with the URL it came from
    return f"sqlite:///{path}"


def configured(explicit: str | None = None) -> tuple[str, str]:
    """The gradebook's URL and where that came from (--db, MESOSIM_DB, the config file, or the default), the name
    a problem with it is reported under."""
    if explicit:
        return explicit, "--db"
    if os.environ.get("MESOSIM_DB"):
        return os.environ["MESOSIM_DB"], "MESOSIM_DB"
    cfg = config_file()
    if cfg.is_file():
        from sim.core.files.yamlio import load_yaml_file

        doc = load_yaml_file(cfg)
        if isinstance(doc.data, dict) and doc.data.get("database"):
            value = doc.data["database"]
            if not isinstance(value, str):
                raise InputError([doc.problem(("database",), "expected a database URL, e.g. "
                                              "postgresql+psycopg://user@host/mesosim")])
            if re.search(r"://[^/@\s]*:[^/@\s]*@", value) and os.name == "posix" and cfg.stat().st_mode & 0o077:
                raise InputError([doc.problem(("database",), "the URL holds a password and this file can be read "
                                              "by other users of the machine: make it yours only (chmod 600), or "
                                              "keep the password in ~/.pgpass (docs/records.md, a centre's setup)")])
            return value, str(cfg)
    return default_url(), "gradebook"


def configured_url(explicit: str | None = None) -> str:
    return configured(explicit)[0]


def record_uid(record: dict) -> str:
    """What the gradebook knows an attempt by: its attempt_id; for records saved before they had one, the signature
    (else the hash of the record)."""
    if isinstance(record.get("attempt_id"), str) and record["attempt_id"]:
        return record["attempt_id"]
    sig = record.get("signature")
    if isinstance(sig, dict) and isinstance(sig.get("value"), str):
        return sig["value"]
    return hashlib.sha256(canonical(record)).hexdigest()


def finding_counts(report: dict) -> list[list]:
    """The attempt's findings by kind: [rule, verdict, structure ("" when none), injections concerned (0 for a
    finding of the attempt as a whole)], sorted. A cohort counts each kind once per attempt from this."""
    counts: dict[tuple[str, str, str], int] = {}
    for entry in report.get("injections") or ():
        for key in {(f["rule"], f["verdict"], f.get("structure") or "") for f in entry.get("findings") or ()}:
            counts[key] = counts.get(key, 0) + 1
    for f in report.get("attempt_findings") or ():
        counts.setdefault((f["rule"], f["verdict"], f.get("structure") or ""), 0)
    return [[*key, n] for key, n in sorted(counts.items())]


def name_key(name: str | None) -> str:
    """A trainee's name as it is matched: without regard to case and spacing ("ann  LEE" is "Ann Lee")."""
    return " ".join((name or "").split()).casefold()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def row_problem(row: dict, text: str | None) -> tuple[dict | None, str]:
    """(the record a gradebook row keeps, why the row cannot be trusted or ""). A row is checked against the hash
    kept with it and against its record (score, passed, critical findings, trainee, exercise, mode): a row edited
    in SQL shows as not verified, whatever its `signed` column says; then the record's own signature."""
    if text is None:
        return None, "the row keeps no record"
    if row.get("record_sha256") and row["record_sha256"] != text_sha256(text):
        return None, "the record kept in the gradebook was changed after it was added (its hash does not match)"
    try:
        record = json.loads(text)
        rep = record["report"]
        expected = {"score": float(rep["score"]), "passed": bool(rep["passed"]),
                    "critical": int(rep.get("critical_findings", 0)), "injections": len(record.get("injections", [])),
                    "trainee": record.get("trainee") or "(no name)", "scenario": record["scenario"]["id"],
                    "mode": record.get("mode", rep.get("mode", ""))}
    except (ValueError, KeyError, TypeError):
        return None, "the record kept in the gradebook is damaged"
    changed = [k for k, v in expected.items() if k in row and (bool(row[k]) if k == "passed" else row[k]) != v]
    if changed:
        return record, (f"the gradebook row was changed after it was added ({', '.join(changed)} differ from its "
                        "record)")
    if not row.get("record_sha256"):
        return record, "the row keeps no hash of its record (added by an earlier version: import the record again)"
    try:
        ok, why = verify(record)
    except InputError as exc:
        ok, why = False, exc.problems[0].message
    if "seal" in record:  # a centre's seal: it holds with a trusted key, or it does not hold at all
        from sim.core.records.seal import check_seal, trusted_keys

        try:
            sealed, seal_why = check_seal(record, trusted_keys())
        except InputError as exc:
            sealed, seal_why = False, exc.problems[0].message
        if sealed:
            return record, ""
        if sealed is False and (not ok or "does not hold" in seal_why):
            return record, seal_why
    return record, "" if ok else why


def now() -> str:
    """When a row or a label is written (the attempt's own time is in its record)."""
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def _transient(exc: sa.exc.DBAPIError) -> str | None:
    """What kind of passing trouble a database error is: "busy" (a lock held by another connection, a deadlock, a
    serialization failure), "race" (a twin made the same row or table a moment before), "connection" (a connection
    refused or dropped), or None for an error that trying again will not cure."""
    orig = exc.orig
    message = str(orig).lower()
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        if code & 0xFF in (5, 6):  # SQLITE_BUSY, SQLITE_LOCKED (and their extended codes)
            return "busy"
        return "race" if isinstance(exc, sa.exc.IntegrityError) or "already exists" in message else None
    if "database is locked" in message or "database table is locked" in message:
        return "busy"
    state = getattr(orig, "sqlstate", None) or ""
    if state in ("40001", "40P01", "55P03"):
        return "busy"
    if state in ("23505", "42P07", "42710") or isinstance(exc, sa.exc.IntegrityError):
        return "race"
    if state.startswith("08") or state in ("53300", "57P03") or (not state and "connection" in message
                                                                  and isinstance(exc, sa.exc.OperationalError)):
        return "connection"
    return None


_TRIES = {"race": 6, "connection": 3}


class Gradebook:
    def __init__(self, url: str | None = None):
        self.url, self.where = configured(url)
        try:
            self.engine = sa.create_engine(self.url)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError, ImportError) as exc:
            raise InputError.one(self.where, f'"{self.url}" is not a database URL this gradebook can use ({exc})') \
                from None
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_connect)
            sa.event.listen(self.engine, "begin", _sqlite_begin)
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                from sim.core.files.safeio import create_private

                try:
                    create_private(database)  # names and results: the owner's only
                except OSError:
                    pass  # the connection reports it, with where the URL came from
        try:
            self._ensure_schema()
        except BaseException:
            self.engine.dispose()
            raise

    # -- plumbing

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _unavailable(self, exc: Exception) -> UnavailableError:
        orig = getattr(exc, "orig", None) or exc
        text = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
        return UnavailableError([Problem(self.where, 0, 0, "", f"cannot use the gradebook at {self._safe_url()}: "
                                         f"{text}")])

    def _retry(self, work):
        """work() in a transaction of its own, tried again while the database is busy or a twin is racing (with
        backoff and jitter, for RETRY_FOR_S at most); what cannot be cured becomes an UnavailableError."""
        start, delay, tries = time.monotonic(), 0.02, {"race": 0, "connection": 0}
        while True:
            try:
                return work()
            except sa.exc.DBAPIError as exc:
                kind = _transient(exc)
                if kind is None or time.monotonic() - start + delay > RETRY_FOR_S:
                    raise self._unavailable(exc) from None
                if kind in tries:
                    tries[kind] += 1
                    if tries[kind] > _TRIES[kind]:
                        raise self._unavailable(exc) from None
            except (sa.exc.SQLAlchemyError, OSError) as exc:
                raise self._unavailable(exc) from None
            time.sleep(random.uniform(delay / 2, delay))
            delay = min(delay * 2, 1.0)

    @contextlib.contextmanager
    def _writing(self):
        """A write transaction: on SQLite it holds the write lock from its start (BEGIN IMMEDIATE), so it never
        fails half-way for a lock taken after its first read."""
        with self.engine.connect() as c:
            c.execution_options(mesosim_write=True)
            with c.begin():
                yield c

    # -- the schema

    def _ensure_schema(self) -> None:
        def current() -> bool:
            try:
                with self.engine.connect() as c:
                    return c.execute(sa.select(meta_table.c.value)
                                     .where(meta_table.c.key == "schema_version")).scalar() == str(SCHEMA_VERSION)
            except sa.exc.DBAPIError as exc:
                if _transient(exc):
                    raise
                return False  # no gradebook here yet: made below, under the lock (or the reason said there)

        if not self._retry(current):
            self._retry(self._make_schema)

    def _make_schema(self) -> None:
        with self._writing() as c:
            if self.dialect == "postgresql":  # one process at a time; the lock ends with the transaction
                c.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            metadata.create_all(c)  # each table only if it is missing: under the lock, no twin makes it meanwhile
            found = c.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).scalar()
            if found is None:
                c.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                return
            try:
                version = int(found)
            except ValueError:
                version = -1
            if version > SCHEMA_VERSION:
                raise InputError.one(self.where, f"the gradebook at {self._safe_url()} was made by a newer mesosim "
                                     f"(schema {version}; this one knows {SCHEMA_VERSION}): upgrade mesosim")
            if version < 1:
                raise InputError.one(self.where, f'the gradebook at {self._safe_url()} has an unknown schema version '
                                     f'"{found}"')
            if version < SCHEMA_VERSION:
                self._upgrade(c, version)
                c.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                          .values(value=str(SCHEMA_VERSION)))

    @staticmethod
    def _upgrade(c, version: int) -> None:
        """Bring a gradebook of an earlier schema up to this one, in the schema transaction (labels, a new table,
        was made by create_all)."""
        columns = {col["name"] for col in sa.inspect(c).get_columns("attempts")}
        if version < 2 and "saved" not in columns:
            c.execute(sa.text("ALTER TABLE attempts ADD COLUMN saved TEXT"))
        if version < 4:
            for name, kind in (("pass_mark", "FLOAT"), ("findings", "TEXT"), ("record_sha256", "TEXT")):
                if name not in columns:
                    c.execute(sa.text(f"ALTER TABLE attempts ADD COLUMN {name} {kind}"))
            if "received" not in columns:  # SQLite cannot add a column whose default is not a constant
                c.execute(sa.text("ALTER TABLE attempts ADD COLUMN received TEXT"
                                  + (" DEFAULT CURRENT_TIMESTAMP" if c.dialect.name == "postgresql" else "")))
            # Filled once from the records, so that no cohort report has to read them again.
            todo = c.execute(sa.select(attempts.c.id, attempts.c.record).where(attempts.c.findings.is_(None))).all()
            for row_id, text in todo:
                try:
                    rep = json.loads(text)["report"]
                    values = {"pass_mark": float(rep["pass_mark"]), "findings": json.dumps(finding_counts(rep))}
                except (ValueError, KeyError, TypeError):
                    values = {"findings": "[]"}  # not a record this version can read: no findings to count
                c.execute(attempts.update().where(attempts.c.id == row_id).values(**values))
            todo = c.execute(sa.select(attempts.c.id, attempts.c.record).where(attempts.c.record_sha256.is_(None)))
            for rid, text in todo.all():
                c.execute(attempts.update().where(attempts.c.id == rid).values(record_sha256=text_sha256(text)))

    # -- writing

    def _insert_new(self, c, table: sa.Table, values: dict, key: str) -> bool:
        """Insert the row unless one with the same `key` exists (perhaps added by a twin a moment ago); True if this
        call added it."""
        if self.dialect == "postgresql":  # its rowcount is not the rows added here: RETURNING says
            insert = _postgresql.insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
            return c.execute(insert.returning(table.c[key])).first() is not None
        if self.dialect == "sqlite":  # RETURNING needs SQLite 3.35; the count of changes is right
            insert = _sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=[key])
            return c.execute(insert).rowcount == 1
        if c.execute(sa.select(table.c[key]).where(table.c[key] == values[key])).first() is not None:
            return False
        c.execute(table.insert().values(**values))  # a twin's row meanwhile: IntegrityError, tried again
        return True

    def add(self, record: dict, when: str | None = None) -> int:
        """Keep an attempt record (once: adding it again changes nothing); returns its row id."""
        return self.keep(record, when)[0]

    def keep(self, record: dict, when: str | None = None) -> tuple[int, bool]:
        """Keep an attempt record; (its row id, True if this call added it, False if it was there). The row's time
        is the record's own (record_time), else `when`."""
        uid = record_uid(record)
        rep = record["report"]
        name = record.get("trainee") or "(no name)"
        try:
            signed = verify(record)[0]
        except InputError:
            signed = False
        sid = record["scenario"]["id"]
        added = now()
        row = dict(
            uid=uid, scenario_id=sid, scenario_sha256=record["scenario"].get("sha256", ""),
            mode=record.get("mode", rep.get("mode", "")), started=record.get("started"), ended=record.get("ended"),
            score=float(rep["score"]), passed=bool(rep["passed"]), critical=int(rep.get("critical_findings", 0)),
            injections=len(record.get("injections", [])), signed=signed,
            record=json.dumps(record, ensure_ascii=False), added=added, saved=record_time(record) or when,
            pass_mark=float(rep["pass_mark"]) if rep.get("pass_mark") is not None else None,
            findings=json.dumps(finding_counts(rep)),
        )
        row["record_sha256"] = text_sha256(row["record"])

        def work() -> tuple[int, bool]:
            with self._writing() as c:
                found = c.execute(sa.select(attempts.c.id).where(attempts.c.uid == uid)).scalar()
                if found is not None:
                    return found, False
                self._insert_new(c, trainees, {"name": name, "created": added}, "name")
                tid = c.execute(sa.select(trainees.c.id).where(trainees.c.name == name)).scalar_one()
                self._insert_new(c, scenarios, {"id": sid, "title": rep.get("title", sid), "map": rep.get("map", "")},
                                 "id")
                new = self._insert_new(c, attempts, {**row, "trainee_id": tid}, "uid")
                return c.execute(sa.select(attempts.c.id).where(attempts.c.uid == uid)).scalar_one(), new

        return self._retry(work)

    def label(self, ref: str, label: str, by: str) -> dict:
        """An instructor's label for an attempt (given by row id or attempt id); labelling again replaces it.
        Returns the attempt's row (attempts()) with its new label."""
        if label not in LABELS:
            raise InputError.one("LABEL", f'"{label}" is not a label; use {" or ".join(LABELS)}')
        row = self.find(ref)
        values = {"attempt_uid": row["uid"], "label": label, "labelled_by": by, "labelled_at": now()}

        def work() -> None:
            with self._writing() as c:
                if self.dialect in ("postgresql", "sqlite"):
                    insert = (_postgresql if self.dialect == "postgresql" else _sqlite).insert(labels).values(**values)
                    c.execute(insert.on_conflict_do_update(index_elements=["attempt_uid"],
                                                           set_={k: insert.excluded[k] for k in values
                                                                 if k != "attempt_uid"}))
                else:
                    c.execute(labels.delete().where(labels.c.attempt_uid == row["uid"]))
                    c.execute(labels.insert().values(**values))

        self._retry(work)
        return {**row, "label": label, "labelled_by": by, "labelled_at": values["labelled_at"]}

    # -- reading

    def _select(self):
        return (sa.select(attempts.c.id, attempts.c.uid, trainees.c.name.label("trainee"),
                          attempts.c.scenario_id.label("scenario"), scenarios.c.title, attempts.c.mode,
                          attempts.c.started, attempts.c.ended, attempts.c.score, attempts.c.passed,
                          attempts.c.critical, attempts.c.injections, attempts.c.signed, attempts.c.added,
                          attempts.c.saved, attempts.c.pass_mark, attempts.c.findings, attempts.c.received,
                          labels.c.label, labels.c.labelled_by, labels.c.labelled_at)
                .join(trainees, attempts.c.trainee_id == trainees.c.id)
                .join(scenarios, attempts.c.scenario_id == scenarios.c.id)
                .outerjoin(labels, labels.c.attempt_uid == attempts.c.uid)
                .order_by(attempts.c.id))

    def _read(self, query) -> list[dict]:
        def work():
            with self.engine.connect() as c:
                return [dict(r._mapping) for r in c.execute(query)]

        return self._retry(work)

    def _attempt_rows(self, query, with_records: bool = False) -> list[dict]:
        """Rows with their time (`when`) and their verification worked out from what they keep (row_problem): `signed`
        is True only for a row that matches its record and whose record's signature holds; `why` says why not. With
        `with_records` each row also carries its record (`record`)."""
        rows = self._read(query.add_columns(attempts.c.record.label("record_text"), attempts.c.record_sha256))
        for r in rows:
            r["when"] = r["saved"] or r["ended"] or r["started"] or r["added"]
            record, why = row_problem(r, r.pop("record_text"))
            r["signed"], r["why"] = not why, why
            del r["record_sha256"]
            if with_records:
                r["record"] = record
        return rows

    def attempts(self, trainee: str | None = None, scenario: str | None = None,
                 with_records: bool = False) -> list[dict]:
        """Attempts in the order they were added, with the trainee's name, the scenario's title, the time of the
        attempt (`when`: the record's own, else when it was added), its pass mark, its findings by kind
        (finding_counts, as JSON text), the instructor's label (or None) and whether the row verifies (`signed`,
        `why`: checked on every read, never taken from the row). `trainee` is matched without regard to case and
        spacing (name_key)."""
        q = self._select()
        if trainee:
            ids = [r["id"] for r in self._read(sa.select(trainees.c.id, trainees.c.name))
                   if name_key(r["name"]) == name_key(trainee)]
            q = q.where(attempts.c.trainee_id.in_(ids))
        if scenario:
            q = q.where(attempts.c.scenario_id == scenario)
        return self._attempt_rows(q, with_records)

    def scenario_ids(self) -> list[str]:
        """The exercises the gradebook holds attempts of."""
        return [r["id"] for r in self._read(sa.select(scenarios.c.id).order_by(scenarios.c.id))]

    def check_selection(self, trainee: str | None = None, scenario: str | None = None) -> None:
        """An InputError naming `trainee` or `scenario` when the gradebook knows no such one, with the closest it
        knows ("did you mean")."""
        import difflib

        problems = []
        if trainee and not any(name_key(n) == name_key(trainee) for n in self.trainees()):
            names = self.trainees()
            close = difflib.get_close_matches(name_key(trainee), [name_key(n) for n in names], n=3, cutoff=0.5)
            spelled = [next(n for n in names if name_key(n) == k) for k in close]
            problems.append(Problem("--trainee", 0, 0, "", f'no trainee "{trainee}" in the gradebook at '
                                    f"{self._safe_url()}" + _did_you_mean(spelled, names)))
        if scenario and scenario not in (ids := self.scenario_ids()):
            close = difflib.get_close_matches(scenario, ids, n=3, cutoff=0.5)
            problems.append(Problem("--scenario", 0, 0, "", f'no attempt of the exercise "{scenario}" in the '
                                    f"gradebook at {self._safe_url()}" + _did_you_mean(close, ids)))
        if problems:
            raise InputError(problems)

    def find(self, ref: str) -> dict:
        """The attempt with this row id (as `mesosim gradebook list` shows it) or attempt id."""
        ref = str(ref).strip()
        q = self._select()
        by_row = ref.isdigit() and len(ref) < 10  # a row id fits the INTEGER column; anything else is a uid
        rows = self._attempt_rows(q.where(attempts.c.id == int(ref)) if by_row else q.where(attempts.c.uid == ref))
        if not rows:
            raise InputError.one("ATTEMPT_ID", f'no attempt "{ref}" in the gradebook at {self._safe_url()} '
                                 "(mesosim gradebook list shows the ids)")
        return rows[0]

    def count(self) -> int:
        """How many attempts the gradebook holds."""
        def work() -> int:
            with self.engine.connect() as c:
                return c.execute(sa.select(sa.func.count()).select_from(attempts)).scalar_one()

        return self._retry(work)

    def record(self, attempt_id: int) -> dict:
        def work():
            with self.engine.connect() as c:
                return c.execute(sa.select(attempts.c.record).where(attempts.c.id == attempt_id)).scalar()

        text = self._retry(work)
        if text is None:
            raise KeyError(attempt_id)
        return json.loads(text)

    def trainees(self) -> list[str]:
        return [r["name"] for r in self._read(sa.select(trainees.c.name).order_by(trainees.c.name))]

    def labelled(self, scenario_id: str) -> list[tuple[dict, str]]:
        """Every labelled attempt of an exercise: (its record, its label), in the order the attempts were added."""
        q = (sa.select(attempts.c.record, labels.c.label)
             .join(labels, labels.c.attempt_uid == attempts.c.uid)
             .where(attempts.c.scenario_id == scenario_id)
             .order_by(attempts.c.id))
        return [(json.loads(r["record"]), r["label"]) for r in self._read(q)]


def _did_you_mean(close: list[str], known: list[str]) -> str:
    if close:
        return "; did you mean " + " or ".join(f'"{c}"' for c in close) + "?"
    if not known:
        return " (it holds none yet)"
    return f" (it holds {len(known)}; mesosim gradebook list shows them)"


def labelled(scenario_id: str, db: str | None = None) -> list[tuple[dict, str]]:
    """The labelled attempts of an exercise in the configured gradebook (or `db`): (record, label) pairs, where the
    label is "competent" or "not-competent" (standard setting from real attempts)."""
    with Gradebook(db) as book:
        return book.labelled(scenario_id)


def _sqlite_connect(dbapi_conn, _record) -> None:
    # Transactions are begun by _sqlite_begin, not by the sqlite3 module; the busy timeout is set before anything
    # else so that switching a new file to WAL waits for a twin doing the same.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # a committed save survives a power cut, not only a crash
        cur.execute("PRAGMA foreign_keys=ON")
    finally:
        cur.close()


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("mesosim_write") else "BEGIN")
