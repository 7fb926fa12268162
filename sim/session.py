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

from sim.core.exercise.scenario import LoadedScenario, load_scenario, load_scenario_file
from sim.core.exercise.techniques import Library
from sim.core.records.attempt import Attempt, evaluate_attempts, now
from sim.core.records.model import normalized
from sim.core.records.times import record_time
from sim.core.records.signing import read_record_file, verify, write_record
from sim.core.scoring.config import Config
from sim.core.scoring import ScreeningAnswer
from sim.errors import InputError, Problem, RefusedError, UnavailableError
from sim.paths import attempts_dir


def signature_status(verified: bool, why: str = "") -> str:
    """The one sentence every output uses for a record's signature."""
    return "signature verified" if verified else f"signature NOT verified: {why}"


VERIFIED_WORD, UNVERIFIED_WORD = "VERIFIED", "NOT VERIFIED"
"""The marker every report puts beside a score, in the same place and size."""


@dataclass(frozen=True)
class LoadedRecord:
    path: str
    raw: dict
    """As on disk: what the signature covers."""
    record: dict
    """Checked, with defaults filled in (sim.core.records.model.normalized)."""
    verified: bool
    """The signature holds, the file is in the canonical form, and the report is the one its injections get."""
    why: str
    report_checked: bool = False
    """The report was scored again from the injections (with the same exercise and specs) and is the same."""
    check_note: str = ""
    """Why the report was not checked (another exercise file, other specs), or which file it was checked with."""
    exam: bool | None = None
    """An exam result (a verified, checked, live session with plausible timing); None for a practice attempt."""
    standing: str = ""
    """The sentence for an exam record: "exam result: ..." or "NOT an exam result: ..."."""
    timing: tuple = ()
    """Timing findings (sim.core.records.integrity.timing_findings) of an exam made in the window."""

    @property
    def status(self) -> str:
        text = signature_status(self.verified, self.why)
        if self.verified and self.why:  # who vouches for it: a centre's seal
            text += f" ({self.why})"
        if self.verified and not self.report_checked and self.check_note:
            text += f"; the report was not re-checked ({self.check_note})"
        return text

    @property
    def marker(self) -> str:
        """VERIFIED or NOT VERIFIED: what a report shows beside the score."""
        return VERIFIED_WORD if self.verified else UNVERIFIED_WORD


def check_signature(raw: dict) -> tuple[bool, str]:
    """(verified, why not, or by whom when sealed); a machine without the key cannot verify, and says so. A
    centre's seal (sim.core.records.seal) that holds with a trusted public key verifies a record without the
    station's key; a seal that does not hold makes it unverified whatever its HMAC says."""
    try:
        ok, why = verify(raw)
    except InputError as exc:
        ok, why = False, exc.problems[0].message
    if "seal" in raw:
        from sim.core.records.seal import check_seal, trusted_keys

        sealed, seal_why = check_seal(raw, trusted_keys())
        if sealed:
            return True, seal_why
        if sealed is False and (not ok or "does not hold" in seal_why or "not one" in seal_why):
            return False, seal_why
    return ok, why


def load_record(path: Path | str, library: Library | None = None, config: Config | None = None) -> LoadedRecord:
    return load_records([path], library, config)[0]


def load_records(paths, library: Library | None = None, config: Config | None = None) -> list[LoadedRecord]:
    """Every record, verified (verify_records), or an InputError naming every one that cannot be read."""
    out, problems = [], []
    for p in paths:
        try:
            raw, form = read_record_file(p)
            out.append((str(p), raw, form))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return verify_records(out, library, config)


def verify_records(items: list[tuple[str, dict, str]], library: Library | None = None,
                   config: Config | None = None) -> list[LoadedRecord]:
    """(name, raw record, why its text is not canonical or "") -> LoadedRecords: each signature checked, and each
    report scored again from its injections and compared (the records of one exercise together). A record whose
    report differs from its injections' is not verified, whatever its signature; one made with another exercise
    file or other specs than today's cannot be checked, and says so."""
    from sim.core.exercise.techniques import load_library
    from sim.core.records.integrity import exam_standing, provenance_of, timing_findings
    from sim.core.scoring.config import load_config

    library = library or load_library()
    config = config or load_config()
    first = []
    groups: dict[int, list[int]] = {}
    scenarios: dict[int, LoadedScenario] = {}
    for n, (name, raw, form) in enumerate(items):
        rec = normalized(raw)
        ok, why = check_signature(raw)
        if ok and form:
            ok, why = False, form
        note, scenario = "", None
        try:
            scenario, note = exercise_for(rec, library, name)
        except InputError as exc:
            note = exc.problems[0].message
        if scenario is not None and not note:
            note = _specs_note(raw, scenario, library, config)
        if scenario is not None and not note:
            scenarios[id(scenario)] = scenario
            groups.setdefault(id(scenario), []).append(n)
        first.append([name, raw, rec, ok, why, note])
    rescored: dict[int, dict] = {}
    for sid, members in groups.items():
        try:
            done = evaluate_attempts(scenarios[sid], library, config, [_fields(first[n][2]) for n in members])
        except (InputError, KeyError, ValueError):
            for n in members:
                first[n][5] = "its injections cannot be scored with today's technique library"
            continue
        for n, a in zip(members, done):
            rescored[n] = a.finish()
    out = []
    for n, (name, raw, rec, ok, why, note) in enumerate(first):
        checked = n in rescored
        if checked and _canonical_report(rescored[n]) != _canonical_report(raw.get("report")):
            r = rescored[n]
            was = raw.get("report") or {}
            if ok:
                why = (f"the report does not match its injections (scored again: {r['score']:.1f}, "
                       f"{'PASSED' if r['passed'] else 'NOT PASSED'}; the record says {was.get('score')}, "
                       f"{'PASSED' if was.get('passed') else 'NOT PASSED'})")
            ok, checked = False, False
            note = ""
        timing = ()
        if rec.get("mode") == "exam" and provenance_of(raw) in ("live", "replay"):
            timing = tuple(timing_findings(raw))
        exam, standing = exam_standing(raw, ok, list(timing))
        if exam and not checked:
            exam, standing = False, f"NOT an exam result: the report could not be re-checked ({note})"
        out.append(LoadedRecord(name, raw, rec, ok, why, checked, note, exam, standing, timing))
    return out


def verify_rows(rows: list[dict], library: Library | None = None, config: Config | None = None) -> None:
    """Gradebook rows (Gradebook.attempts(with_records=True)) verified as records are: each row's `signed` (its
    hash, its columns against its record, the record's signature: sim.gradebook.row_problem) then its report scored
    again; sets `verified`, `verification` (the sentence), `exam_result` and `standing` on each row."""
    from sim.core.records.model import check_record

    items, where = [], []
    for n, r in enumerate(rows):
        rec = r.get("record")
        if rec is None:
            continue
        try:
            check_record(rec, f"gradebook attempt {r['id']}")
        except InputError as exc:
            r["signed"], r["why"] = False, f"the record kept is not a valid record ({exc.problems[0].message})"
            continue
        items.append((f"gradebook attempt {r['id']}", rec, ""))
        where.append(n)
    checked = dict(zip(where, verify_records(items, library, config)))
    for n, r in enumerate(rows):
        item = checked.get(n)
        ok = bool(r["signed"]) and item is not None and item.verified
        why = r.get("why") or (item.why if item is not None else "") or "the record kept is not a valid record"
        r["verified"] = ok
        r["verification"] = (item.status if ok and item is not None else signature_status(False, why))
        r["signed"] = ok
        r["exam_result"] = (item.exam if item is not None and ok else (False if r.get("mode") == "exam" else None))
        r["standing"] = item.standing if item is not None else ""


def _canonical_report(report) -> str:
    import json

    try:
        return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return ""


def _fields(rec: dict) -> dict:
    s = rec.get("screening")
    return {"mode": rec.get("mode", "practice"), "trainee": rec.get("trainee", ""),
            "screening": ScreeningAnswer(s["decision"], s.get("reason")) if isinstance(s, dict) else None,
            "records": list(rec.get("injections", [])), "started": rec.get("started"), "ended": rec.get("ended")}


def _specs_note(raw: dict, scenario: LoadedScenario, library: Library, config: Config) -> str:
    """Why a record's report cannot be compared with today's scoring ("" when it can)."""
    specs = raw.get("specs") if isinstance(raw.get("specs"), dict) else {}
    today = {"atlas_sha256": scenario.atlas.digest, "techniques_sha256": library.digest,
             "scoring_sha256": config.digest}
    changed = [k.split("_")[0] for k, v in today.items() if specs.get(k) != v]
    if changed:
        return f"scored with other specs than today's ({', '.join(changed)}); mesosim rescore compares them"
    if any(r.get("technique") not in library.techniques for r in raw.get("injections") or [] if isinstance(r, dict)):
        return "a technique of the record is not in today's library"
    return ""


def exercise_for(record: dict, library: Library | None = None, where: str = "record") -> tuple[LoadedScenario, str]:
    """The exercise to score a record with, and a sentence when it is not exactly the one the attempt was made on.

    The library's exercise of the record's id comes first (a file the record names is only as trustworthy as the
    record); the file the record names is used only when the library has no exercise of that id, or when the
    library's has changed and the named file is the one the attempt was made on, and the sentence says so."""
    from sim.core.files.safeio import is_file

    ref = record.get("scenario") or {}
    sid, file, digest = ref.get("id") or "", ref.get("file") or "", ref.get("sha256") or ""
    by_id = named = None
    if sid and "/" not in sid and "\\" not in sid and len(sid) <= 200:
        try:
            by_id = load_scenario(sid, library)
        except InputError:
            by_id = None
    if by_id is not None and by_id.digest == digest:
        return by_id, ""
    if file and len(file) <= 4096 and is_file(file) and (by_id is None or Path(file).resolve() != Path(by_id.file)
                                                          .resolve()):
        try:
            named = load_scenario_file(file, library)
        except InputError:
            named = None
        if named is not None and named.id != sid:
            named = None
    if named is not None and (by_id is None or named.digest == digest):
        why = ("no exercise of that id is in the library" if by_id is None else
               "the library's exercise of that id has changed since")
        return named, f"scored with {file}, the file the record names ({why})"
    if by_id is not None:
        return by_id, "the exercise file has changed since the attempt"
    raise InputError.one(where, f'the exercise "{_short(sid)}" of this record cannot be found')


def _short(text: str, n: int = 80) -> str:
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= n else text[:n] + "..."


def find_exercise(record: dict, library: Library | None = None, where: str = "record") -> LoadedScenario:
    """The exercise a record was made on (exercise_for, without the sentence): to draw its map."""
    return exercise_for(record, library, where)[0]


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

    from sim.core.files.yamlio import recheck_parse_cache

    recheck_parse_cache()  # nothing taken from the user's cache decides a result unseen
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
    exercise_note: str = ""
    """How the exercise was found when it is not the library's own of the record's id (exercise_for)."""


def rescore(paths, library: Library, config: Config) -> list[Rescored]:
    """Score records again with today's specs; the records of one exercise are scored together."""
    loaded = load_records(paths, library, config)
    scenarios: dict[str, tuple[LoadedScenario, str]] = {}
    problems: list[Problem] = []
    jobs: dict[int, list[tuple[int, dict]]] = {}
    notes: dict[int, str] = {}
    for n, item in enumerate(loaded):
        rec = item.record
        ref = rec.get("scenario") or {}
        key = f'{ref.get("file", "")}\0{ref.get("id", "")}\0{ref.get("sha256", "")}'
        if key not in scenarios:
            scenarios[key] = exercise_for(rec, library, item.path)
        scenario, notes[n] = scenarios[key]
        problems += [Problem(item.path, 0, 0, f"injections[{i}].technique", f'unknown technique "{r["technique"]}"')
                     for i, r in enumerate(rec["injections"]) if r["technique"] not in library.techniques]
        fields = _fields(rec)
        fields["mode"] = rec.get("mode", scenario.spec.mode)
        jobs.setdefault(id(scenario), []).append((n, fields))
    if problems:
        raise InputError(problems)
    by_id = {id(s): s for s, _note in scenarios.values()}
    attempts: dict[int, Attempt] = {}
    for sid, group in jobs.items():
        done = evaluate_attempts(by_id[sid], library, config, [f for _n, f in group])
        attempts.update({n: a for (n, _f), a in zip(group, done)})
    out = []
    for n, item in enumerate(loaded):
        a = attempts[n]
        a.provenance = "rescore"
        ref = item.record.get("scenario") or {}
        out.append(Rescored(item, a, a.finish(), a.scenario.digest != ref.get("sha256"), notes[n]))
    return out


def save_rescored(item: Rescored, target: Path | str) -> dict:
    """The re-scored attempt as a new signed record that names the one it came from. A record that does not verify
    is never re-signed (RefusedError): signing it would turn an edited record into a verified one."""
    if not item.loaded.verified:
        raise RefusedError([Problem(item.loaded.path, 0, 0, "", f"{item.loaded.status}; a record that does not "
                                    "verify is not re-signed (nothing was saved)")])
    new = item.attempt.record()
    new["saved"] = now()
    new["started"], new["ended"] = item.loaded.record.get("started"), item.loaded.record.get("ended")
    new["rescored_from"] = {"file": item.loaded.path, "signature_verified": item.loaded.verified,
                            "score": (item.loaded.record.get("report") or {}).get("score"),
                            "provenance": item.loaded.raw.get("provenance"),
                            **({"exercise": item.exercise_note} if item.exercise_note else {})}
    Path(target).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return write_record(new, target)
