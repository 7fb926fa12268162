"""The use cases the command line and the trainer share: save an attempt, load a record and check its signature,
find the exercise a record was made on, score records again.

Each exists once, here, so `mesosim score --save`, the trainer's submit and `mesosim rescore` keep records and the
gradebook the same way.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

from sim.core.exercise.scenario import LoadedScenario, load_scenario
from sim.core.exercise.techniques import Library
from sim.core.records.attempt import Attempt, evaluate_attempts
from sim.core.records.model import normalized
from sim.core.records.signing import read_record, verify, write_record
from sim.core.scoring.config import Config
from sim.core.scoring import ScreeningAnswer
from sim.errors import InputError, Problem
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


def new_attempt_path(scenario_id: str) -> Path:
    """Where an attempt is kept when no path is given: the user's attempts folder, named by time and exercise."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return attempts_dir() / f"{stamp}-{scenario_id}.json"


@dataclass(frozen=True)
class Saved:
    path: Path
    record: dict
    """The signed record as written."""
    gradebook_problem: InputError | None
    """Why the gradebook did not take it (the record is written all the same), or None."""

    @property
    def note(self) -> str | None:
        if self.gradebook_problem is None:
            return None
        return ("The attempt is saved but not in the gradebook: "
                + "; ".join(p.message for p in self.gradebook_problem.problems))


def save_attempt(attempt: Attempt, path: Path | str | None = None, db: str | None = None,
                 source: dict | None = None, times_known: bool = True) -> Saved:
    """Write the signed record (atomically), then keep it in the gradebook. A record on disk is never lost over a
    gradebook that cannot take it: that comes back as `gradebook_problem`. An OSError writing the record itself
    propagates (nothing was saved). `source` says where the injections came from (e.g. an injection log);
    without `times_known` the record's started/ended are left empty (a log's time of making is not known)."""
    from sim.gradebook import Gradebook

    target = Path(path) if path else new_attempt_path(attempt.scenario.id)
    record = attempt.record()
    if not times_known:
        record["started"] = record["ended"] = None
    if source is not None:
        record["source"] = source
    signed = write_record(record, target)
    attempt.close_journal()
    problem = None
    try:
        book = Gradebook(db)
        try:
            book.add(signed)
        finally:
            book.close()
    except InputError as exc:
        problem = exc
    except Exception as exc:  # a database that is down or refuses: the record on disk is what counts
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, (SQLAlchemyError, OSError)):
            raise
        problem = InputError.one(db or "gradebook", str(exc).strip().splitlines()[0] if str(exc).strip() else
                                 type(exc).__name__)
    return Saved(target, signed, problem)


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
    new["started"], new["ended"] = item.loaded.record.get("started"), item.loaded.record.get("ended")
    new["rescored_from"] = {"file": item.loaded.path, "signature_verified": item.loaded.verified,
                            "score": (item.loaded.record.get("report") or {}).get("score")}
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    return write_record(new, target)
