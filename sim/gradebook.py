"""The gradebook: trainees, scenarios and attempts in SQLite (WAL, the default, in the user's data folder) or in one
PostgreSQL database shared by every station of a training centre. One schema, one code path (SQLAlchemy Core).

Where it is: `--db URL`, else the MESOSIM_DB environment variable, else `database:` in the user's config file
(config.yaml in the mesosim config folder), else SQLite in the data folder.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os

import sqlalchemy as sa

from sim.errors import InputError
from sim.core.records.signing import canonical, verify
from sim.paths import config_file, gradebook_file

SCHEMA_VERSION = 1
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
    sa.Column("record", sa.Text, nullable=False),
    sa.Column("added", sa.Text, nullable=False),
    sa.Index("attempts_trainee", "trainee_id"),
    sa.Index("attempts_scenario", "scenario_id"),
)
meta_table = sa.Table(
    "gradebook_meta", metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)


def default_url() -> str:
    path = gradebook_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def configured_url(explicit: str | None = None) -> str:
    if explicit:
        return explicit
    if os.environ.get("MESOSIM_DB"):
        return os.environ["MESOSIM_DB"]
    cfg = config_file()
    if cfg.is_file():
        from sim.core.files.yamlio import load_yaml_file

        doc = load_yaml_file(cfg)
        if isinstance(doc.data, dict) and doc.data.get("database"):
            value = doc.data["database"]
            if not isinstance(value, str):
                raise InputError([doc.problem(("database",), "expected a database URL, e.g. "
                                              "postgresql+psycopg://user@host/mesosim")])
            return value
    return default_url()


def _uid(record: dict) -> str:
    sig = record.get("signature")
    if isinstance(sig, dict) and isinstance(sig.get("value"), str):
        return sig["value"]
    return hashlib.sha256(canonical(record)).hexdigest()


class Gradebook:
    def __init__(self, url: str | None = None):
        self.url = configured_url(url)
        try:
            self.engine = sa.create_engine(self.url, future=True)
        except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
            raise InputError.one("--db", f'"{self.url}" is not a database URL this gradebook can use ({exc})') \
                from None
        if self.engine.dialect.name == "sqlite":
            @sa.event.listens_for(self.engine, "connect")
            def _wal(dbapi_conn, _record):
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=5000")
                cur.close()
        try:
            metadata.create_all(self.engine)
            with self.engine.begin() as c:
                if c.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first() \
                        is None:
                    c.execute(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        except sa.exc.OperationalError as exc:
            raise InputError.one("--db", f"cannot open the gradebook at {self._safe_url()}: "
                                 f"{str(exc.orig).strip().splitlines()[0]}") from None

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    def add(self, record: dict) -> int:
        """Keep an attempt record (once: adding it again changes nothing); returns its row id."""
        uid = _uid(record)
        rep = record["report"]
        name = record.get("trainee") or "(no name)"
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        try:
            signed = verify(record)[0]
        except InputError:
            signed = False
        with self.engine.begin() as c:
            row = c.execute(sa.select(attempts.c.id).where(attempts.c.uid == uid)).first()
            if row:
                return row[0]
            tid = c.execute(sa.select(trainees.c.id).where(trainees.c.name == name)).scalar()
            if tid is None:
                tid = c.execute(trainees.insert().values(name=name, created=now)).inserted_primary_key[0]
            sid = record["scenario"]["id"]
            if c.execute(sa.select(scenarios.c.id).where(scenarios.c.id == sid)).first() is None:
                c.execute(scenarios.insert().values(id=sid, title=rep.get("title", sid), map=rep.get("map", "")))
            return c.execute(attempts.insert().values(
                uid=uid, trainee_id=tid, scenario_id=sid, scenario_sha256=record["scenario"].get("sha256", ""),
                mode=record.get("mode", rep.get("mode", "")), started=record.get("started"),
                ended=record.get("ended"), score=float(rep["score"]), passed=bool(rep["passed"]),
                critical=int(rep.get("critical_findings", 0)), injections=len(record.get("injections", [])),
                signed=signed, record=json.dumps(record, ensure_ascii=False), added=now,
            )).inserted_primary_key[0]

    def attempts(self, trainee: str | None = None, scenario: str | None = None) -> list[dict]:
        """Attempts in the order they were added, with the trainee's name and the scenario's title."""
        q = (sa.select(attempts.c.id, trainees.c.name.label("trainee"), attempts.c.scenario_id.label("scenario"),
                       scenarios.c.title, attempts.c.mode, attempts.c.started, attempts.c.ended, attempts.c.score,
                       attempts.c.passed, attempts.c.critical, attempts.c.injections, attempts.c.signed,
                       attempts.c.added)
             .join(trainees, attempts.c.trainee_id == trainees.c.id)
             .join(scenarios, attempts.c.scenario_id == scenarios.c.id)
             .order_by(attempts.c.id))
        if trainee:
            q = q.where(trainees.c.name == trainee)
        if scenario:
            q = q.where(attempts.c.scenario_id == scenario)
        with self.engine.connect() as c:
            return [dict(r._mapping) for r in c.execute(q)]

    def record(self, attempt_id: int) -> dict:
        with self.engine.connect() as c:
            text = c.execute(sa.select(attempts.c.record).where(attempts.c.id == attempt_id)).scalar()
        if text is None:
            raise KeyError(attempt_id)
        return json.loads(text)

    def trainees(self) -> list[str]:
        with self.engine.connect() as c:
            return [r[0] for r in c.execute(sa.select(trainees.c.name).order_by(trainees.c.name))]
