"""The crash-safe journal of an attempt in progress: one JSON line per event, flushed to disk (fsync) before the
trainee sees the injection's feedback. After a crash the next start offers to resume from it.

Lines: a header ({"journal": 1, scenario, mode, trainee, started, attempt_id, provenance}), then {"add": {...}},
{"undo": true}, {"screening": {...}} or {"resumed": {...}}, each with the mode it was written in. A torn last line
(the process died while writing it) is dropped with a message.

An exam cannot be changed through its journal: a journal whose lines were written in another mode than its first
line says, or that holds an undo in an exam, is refused on resume (an InputError naming the line), so that neither
switching the header to practice (for findings and undo) and back, nor adding undo lines, yields an exam record.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.core.files.atomic import write_atomic
from sim.core.files.model import problems_from, suggest
from sim.core.files.yamlio import Document, load_yaml_text
from sim.core.records.model import RecInjection, RecScenario, RecScreening
from sim.core.vocabulary import Mode
from sim.errors import InputError, Problem

from sim.paths import journal_dir

JOURNAL_VERSION = 1


class Journal:
    def __init__(self, path: Path, header: dict):
        self.path = Path(path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not self.path.exists() or self.path.stat().st_size == 0:
            # the header goes in whole or not at all (a kill between creating the file and writing it would
            # leave an empty file that is no journal, and the attempt would start a second one)
            write_atomic(self.path, (json.dumps({"journal": JOURNAL_VERSION, **header}, ensure_ascii=False,
                                                separators=(",", ":")) + "\n").encode("utf-8"), mode=0o600)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0))
        self._f = os.fdopen(fd, "a", encoding="utf-8")

    @classmethod
    def create(cls, scenario_id: str, header: dict) -> "Journal":
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        return cls(journal_dir() / f"{stamp}-{scenario_id}.jsonl", header)

    def _write(self, obj: dict) -> None:
        self._f.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._f.flush()
        os.fsync(self._f.fileno())

    def add(self, rec: dict, mode: str | None = None) -> None:
        self._write({"add": rec, **({"mode": mode} if mode else {})})

    def undo(self, mode: str | None = None) -> None:
        self._write({"undo": True, **({"mode": mode} if mode else {})})

    def screening(self, answer: dict | None, mode: str | None = None) -> None:
        self._write({"screening": answer, **({"mode": mode} if mode else {})})

    def resumed(self, event: dict, mode: str | None = None) -> None:
        self._write({"resumed": event, **({"mode": mode} if mode else {})})

    def close(self, remove: bool = True) -> None:
        if not self._f.closed:
            self._f.close()
        if remove:
            self.path.unlink(missing_ok=True)


@dataclass
class Unfinished:
    path: Path
    header: dict
    records: list[dict] = field(default_factory=list)
    screening: dict | None = None
    warnings: list[str] = field(default_factory=list)
    resumed: list[dict] = field(default_factory=list)
    """The earlier resumptions of this attempt (journal "resumed" lines)."""
    last_wall_s: float | None = None
    """The station's clock at the last line that carried it (the last injection, or the last resumption)."""

    @property
    def scenario_id(self) -> str:
        return self.header.get("scenario", {}).get("id", "")


def read_journal(path: Path, technique_ids: Iterable[str] | None = None) -> Unfinished | None:
    """What a journal holds, or None when it is not a journal at all. A torn or garbled line ends the replay of
    the journal there, with a warning (nothing after a torn line was ever shown to the trainee). A line that is
    whole but wrong (a field out of range, an unknown technique: an edited file) is an InputError naming
    FILE:LINE:COL and the field."""
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError:
        return None
    try:
        header = json.loads(lines[0])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("journal") != JOURNAL_VERSION:
        return None
    _check(JournalHeader, header, path, 1, lines[0])
    if technique_ids is None:
        from sim.core.exercise.techniques import load_library

        technique_ids = load_library().ids
    known = tuple(technique_ids)
    out = Unfinished(path, header)
    mode = header.get("mode")
    body = lines[1:]
    for n, raw in enumerate(body, start=2):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            last = all(not r.strip() for r in body[n - 1:])
            what = "a torn last line" if last else f"a damaged line {n}"
            out.warnings.append(f"{path}:{n}: {what} was dropped; the attempt resumes with the "
                                f"{len(out.records)} injections before it")
            break
        line = _check(JournalLine, obj, path, n, raw)
        if line.mode is not None and mode is not None and line.mode != mode:
            raise InputError([Problem(str(path), n, 1, "mode", f'the journal\'s first line says {mode} but line {n} '
                                      f"was written in {line.mode}: an attempt cannot change mode through its "
                                      "journal (the file was edited); it cannot be resumed")])
        if line.undo and (mode == "exam" or line.mode == "exam"):
            raise InputError([Problem(str(path), n, 1, "undo", f"an undo in an exam (line {n}): an exam has no undo, "
                                      "so the journal was edited; it cannot be resumed")])
        if line.add is not None:
            if line.add.technique not in known:
                col = raw.find(b'"technique"') + 1
                raise InputError([Problem(str(path), n, max(col, 1), "add.technique",
                                          f'unknown technique "{line.add.technique}"'
                                          f"{suggest(line.add.technique, known)}")])
            out.records.append(obj["add"])
            if line.add.wall_s is not None:
                out.last_wall_s = line.add.wall_s
        elif line.undo and out.records:
            out.records.pop()
        elif line.resumed is not None:
            out.resumed.append(obj["resumed"])
            if isinstance(obj["resumed"].get("wall_s"), (int, float)):
                out.last_wall_s = obj["resumed"]["wall_s"]
        elif "screening" in obj:
            out.screening = obj["screening"]
    return out


class JournalHeader(BaseModel):
    model_config = ConfigDict(extra="allow")
    journal: Literal[1]
    scenario: RecScenario
    mode: Mode | None = None
    trainee: str = ""
    started: str | None = None
    provenance: Literal["live", "replay", "scored-log", "rescore"] | None = None


class JournalLine(BaseModel):
    """One event: an injection added, the last one undone, or the screening answer given."""

    model_config = ConfigDict(extra="forbid")
    add: RecInjection | None = None
    undo: bool = False
    screening: RecScreening | None = None
    resumed: dict | None = None
    mode: Mode | None = None
    """The mode the line was written in (journals of earlier versions: not given)."""


def _check(model: type[BaseModel], obj: dict, path: Path, n: int, raw: bytes):
    try:
        return model.model_validate(obj)
    except ValidationError as exc:
        try:
            doc = load_yaml_text(raw.decode("utf-8"), str(path))  # JSON is YAML: positions within the line
        except (InputError, UnicodeDecodeError):
            doc = Document(str(path), obj)
        problems = problems_from(exc, doc, model)
        raise InputError([dataclasses.replace(p, line=n, col=max(p.col, 1)) for p in problems]) from None


def unfinished(scenario_id: str | None = None, technique_ids: Iterable[str] | None = None) -> list[Unfinished]:
    """Journals left behind by attempts that were never submitted, newest first. A journal edited into something
    the program cannot resume is an InputError naming its file, line and field (the file is left as it is)."""
    folder = journal_dir()
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.jsonl"), reverse=True):
        j = read_journal(path, technique_ids)
        if j is not None and (scenario_id is None or j.scenario_id == scenario_id):
            found.append(j)
    return found
