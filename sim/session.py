"""The use cases the command line and the trainer share: save an attempt, load a record and check its signature,
find the exercise a record was made on, score records again.

Each exists once, here, so `mesosim score --save`, the trainer's submit and `mesosim rescore` keep records and the
gradebook the same way.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from sim.core.exercise.scenario import LoadedScenario, load_scenario
from sim.core.exercise.techniques import Library
from sim.core.records.attempt import Attempt, evaluate_attempts, now
from sim.core.records.model import normalized
from sim.core.records.times import record_time
from sim.core.records.signing import read_record, verify, write_record
from sim.core.scoring.config import Config
from sim.core.scoring import ScreeningAnswer
from sim.errors import InputError, Problem, UnavailableError
from sim.paths import attempts_dir


def signature_status(verified: bool, why: str = "") -> str:
    """The one sentence every output uses for a record's signature."""
    return "signature verified" if verified else f"signature NOT verified: {why}"


@dataclass(frozen=True)
class LoadedRecord:
    path: str
    raw: dict
    """As on disk: what the signature covers."""
    record: dict
    """Checked, with defaults filled in (sim.core.records.model.normalized)."""
    verified: bool
    why: str

    @property
    def status(self) -> str:
        return signature_status(self.verified, self.why)


def check_signature(raw: dict) -> tuple[bool, str]:
    """(verified, why not); a machine without the key cannot verify, and says so."""
    try:
        return verify(raw)
    except InputError as exc:
        return False, exc.problems[0].message


def load_record(path: Path | str) -> LoadedRecord:
    raw = read_record(path)
    return LoadedRecord(str(path), raw, normalized(raw), *check_signature(raw))


def load_records(paths) -> list[LoadedRecord]:
    """Every record, or an InputError naming every one that cannot be read."""
    out, problems = [], []
    for p in paths:
        try:
            out.append(load_record(p))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return out


def find_exercise(record: dict, library: Library | None = None, where: str = "record") -> LoadedScenario:
    """The exercise a record was made on: its file if that can still be read, else the shipped one of its id."""
    ref = record.get("scenario") or {}
    for candidate in (ref.get("file"), ref.get("id")):
        if candidate:
            try:
                return load_scenario(candidate, library)
            except InputError:
                continue
    raise InputError.one(where, f'the exercise "{ref.get("id", "")}" of this record cannot be found')


def new_attempt_path(scenario_id: str, attempt_id: str | None = None) -> Path:
    """Where an attempt is kept when no path is given: the user's attempts folder, named by time, exercise and the
    start of the attempt's id (two attempts saved in the same second never share a file)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    tail = f"-{attempt_id[:8]}" if attempt_id else ""
    return attempts_dir() / f"{stamp}-{scenario_id}{tail}.json"


def write_failure(exc: OSError) -> str:
    """The sentence for a record (or the key) that could not be written."""
    if exc.errno == errno.ENOSPC or exc.errno == getattr(errno, "EDQUOT", -1):
        return ("cannot write: the disk is full (" + (exc.strerror or "no space left") + "); nothing was saved: "
                "free some space and save again")
    return f"cannot write: {exc.strerror or exc}"


@dataclass(frozen=True)
class Saved:
    path: Path
    record: dict
    """The signed record as written."""
    gradebook_problem: InputError | UnavailableError | None
    """Why the gradebook did not take it (the record is written all the same), or None."""
    db: str | None = None
    """The --db the save was given (for the command that adds the record later)."""

    @property
    def import_command(self) -> str:
        db = ""
        if self.db:
            from sqlalchemy.engine import make_url

            try:
                db = f" --db {shlex.quote(make_url(self.db).render_as_string(hide_password=True))}"
            except Exception:  # not a URL at all: the problem line says so
                db = " --db URL"
        return f"mesosim gradebook import {shlex.quote(str(self.path))}{db}"

    @property
    def note(self) -> str | None:
        if self.gradebook_problem is None:
            return None
        return (f"The attempt is saved in {self.path} but not in the gradebook ("
                + "; ".join(p.message for p in self.gradebook_problem.problems)
                + f"). Add it later with: {self.import_command}")


def save_attempt(attempt: Attempt, path: Path | str | None = None, db: str | None = None,
                 source: dict | None = None, times_known: bool = True) -> Saved:
    """Write the signed record (atomically, with its attempt id and the time of saving), then keep it in the
    gradebook. A record on disk is never lost over a gradebook that cannot take it: that comes back as
    `gradebook_problem`, and `mesosim gradebook import` adds the record later. An OSError writing the record itself
    propagates (nothing was saved, and nothing is left on disk). `source` says where the injections came from
    (e.g. an injection log); without `times_known` the record's started/ended are left empty (a log's time of
    making is not known)."""
    from sim.gradebook import Gradebook

    target = Path(path) if path else new_attempt_path(attempt.scenario.id, attempt.attempt_id)
    record = attempt.record()
    record["saved"] = now()
    if not times_known:
        record["started"] = record["ended"] = None
    if source is not None:
        record["source"] = source
    signed = write_record(record, target)
    attempt.close_journal()
    problem = None
    try:
        with Gradebook(db) as book:
            book.add(signed)
    except (InputError, UnavailableError) as exc:
        problem = exc
    except Exception as exc:  # a database that refuses in a way not foreseen: the record on disk is what counts
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, (SQLAlchemyError, OSError)):
            raise
        problem = UnavailableError([Problem(db or "gradebook", 0, 0, "", (str(exc).strip().splitlines() or
                                                                           [type(exc).__name__])[0])])
    return Saved(target, signed, problem, db)


@dataclass(frozen=True)
class Imported:
    path: str
    row: int
    """The attempt's id in the gradebook."""
    added: bool
    """False when the gradebook held it already."""
    when: str | None
    """The time the gradebook gives the attempt."""
    own_time: bool
    """The time is the record's own (not --when or the file's time)."""


@dataclass
class ImportResult:
    imported: list[Imported]
    bad: list[Problem]
    """Files that are no readable attempt record (not added)."""
    refused: list[Problem]
    """Records whose signature does not verify here (not added)."""


def parse_when(text: str, where: str = "--when") -> str:
    """An ISO 8601 time as a user types it (2026-05-09, 2026-05-09T14:30, ...+02:00), with the local UTC offset
    when it gives none."""
    try:
        t = _dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError.one(where, f'"{text}" is not an ISO 8601 time, e.g. 2026-05-09T14:30 or '
                             "2026-05-09T14:30+02:00") from None
    if t.tzinfo is None:
        t = t.astimezone()
    return t.isoformat(timespec="seconds")


def import_records(paths, db: str | None = None, when: str | None = None,
                   unverified: bool = False) -> ImportResult:
    """Add saved records to the gradebook (a save that could not reach it, a record from another station). Each is
    read and checked and its signature verified; a record already there is not added twice. The attempt's time is
    the record's own (saved, else ended or started), else `when`, else the file's modification time. Records whose
    signature does not verify are refused unless `unverified` (then kept, marked as not signed)."""
    from sim.gradebook import Gradebook

    out = ImportResult([], [], [])
    ready: list[tuple[LoadedRecord, str | None, bool]] = []
    for p in paths:
        try:
            item = load_record(p)
        except InputError as exc:
            out.bad.extend(exc.problems)
            continue
        if not item.verified and not unverified:
            out.refused.append(Problem(item.path, 0, 0, "", f"{item.status}; not added (--unverified adds it, "
                                       "marked as not verified)"))
            continue
        own = record_time(item.raw)
        ready.append((item, own or when or modified_time(item.path), own is not None))
    if ready:
        with Gradebook(db) as book:
            for item, stamp, own_time in ready:
                row, added = book.keep(item.raw, stamp)
                out.imported.append(Imported(item.path, row, added, stamp, own_time))
    return out


def record_date(item: LoadedRecord) -> str | None:
    """An attempt's time: the record's own (saved, else ended or started), else its file's modification time, as
    `mesosim gradebook import` gives it."""
    return record_time(item.raw) or modified_time(item.path)


def modified_time(path: str) -> str | None:
    """A file's modification time, ISO 8601 with the local UTC offset (None when it cannot be read)."""
    try:
        stamp = _dt.datetime.fromtimestamp(os.stat(path).st_mtime, _dt.timezone.utc).astimezone()
    except OSError:
        return None
    return stamp.isoformat(timespec="seconds")


@dataclass
class Rescored:
    loaded: LoadedRecord
    attempt: Attempt
    report: dict
    changed_exercise: bool
    """The exercise file differs from the one the attempt was made on."""


def rescore(paths, library: Library, config: Config) -> list[Rescored]:
    """Score records again with today's specs; the records of one exercise are scored together."""
    loaded = load_records(paths)
    scenarios: dict[str, LoadedScenario] = {}
    problems: list[Problem] = []
    jobs: dict[int, list[tuple[int, dict]]] = {}
    for n, item in enumerate(loaded):
        rec = item.record
        ref = rec.get("scenario") or {}
        key = f'{ref.get("file", "")}\0{ref.get("id", "")}'
        if key not in scenarios:
            scenarios[key] = find_exercise(rec, library, item.path)
        scenario = scenarios[key]
        problems += [Problem(item.path, 0, 0, f"injections[{i}].technique", f'unknown technique "{r["technique"]}"')
                     for i, r in enumerate(rec["injections"]) if r["technique"] not in library.techniques]
        s = rec.get("screening")
        answer = ScreeningAnswer(s["decision"], s.get("reason")) if isinstance(s, dict) else None
        fields = {"mode": rec.get("mode", scenario.spec.mode), "trainee": rec.get("trainee", ""),
                  "screening": answer, "records": list(rec.get("injections", [])),
                  "started": rec.get("started"), "ended": rec.get("ended")}
        jobs.setdefault(id(scenario), []).append((n, fields))
    if problems:
        raise InputError(problems)
    by_id = {id(s): s for s in scenarios.values()}
    attempts: dict[int, Attempt] = {}
    for sid, group in jobs.items():
        done = evaluate_attempts(by_id[sid], library, config, [f for _n, f in group])
        attempts.update({n: a for (n, _f), a in zip(group, done)})
    out = []
    for n, item in enumerate(loaded):
        a = attempts[n]
        ref = item.record.get("scenario") or {}
        out.append(Rescored(item, a, a.finish(), a.scenario.digest != ref.get("sha256")))
    return out


def save_rescored(item: Rescored, target: Path | str) -> dict:
    """The re-scored attempt as a new signed record that names the one it came from and whether that verified."""
    new = item.attempt.record()
    new["saved"] = now()
    new["started"], new["ended"] = item.loaded.record.get("started"), item.loaded.record.get("ended")
    new["rescored_from"] = {"file": item.loaded.path, "signature_verified": item.loaded.verified,
                            "score": (item.loaded.record.get("report") or {}).get("score")}
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    return write_record(new, target)
