"""An attempt in progress: the injections placed so far, scored after each one, and the record saved at the end.

The trainer window and `--replay` both go through this class, so a replayed log scores exactly as `mesosim score`.
"""

from __future__ import annotations

import datetime as _dt
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from sim import __version__
from sim.core.scoring.injections import Injections
from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring.config import Config
from sim.core.scoring import Evaluation, ScreeningAnswer, evaluate
from sim.core.scoring.report import build_report
from sim.core.exercise.techniques import Library

ATTEMPT_VERSION = 1


def station_clock() -> float:
    """The station's clock [s since 1970, UTC], read by the program itself (never taken from a log)."""
    return time.time()


@dataclass
class Attempt:
    """The injections so far and their evaluation, which add() and undo() keep current: reading it (in a frame, a
    report) never scores. Built with `evaluation` given (a cohort scored at once), it is not scored again."""

    scenario: LoadedScenario
    library: Library
    config: Config
    mode: str
    trainee: str = ""
    screening: ScreeningAnswer | None = None
    records: list[dict] = field(default_factory=list)
    started: str = field(default_factory=lambda: now())
    ended: str | None = None
    attempt_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    """Unique to this attempt, kept in its journal (a resumed attempt is the same attempt) and in its record."""
    journal: object | None = field(default=None, repr=False)
    """A sim.core.records.journal.Journal: every change is written to it (and synced) before it is shown."""
    journal_problem: str | None = field(default=None, repr=False)
    """Why the journal stopped (a full disk): the attempt goes on without crash safety, and says so once."""
    evaluation: Evaluation | None = field(default=None, repr=False)
    _injections: Injections | None = field(default=None, repr=False)
    provenance: str | None = None
    """Where the injections come from (sim.core.records.integrity.PROVENANCE_WORDS): "live" (the trainer's window),
    "replay" (a log played through it), "scored-log", "rescore"; stated in the record."""
    resumptions: list[dict] = field(default_factory=list)
    """Each time the attempt went on after the program died: when, after which injection, how long it was not
    running (gap_s)."""
    clock: Callable[[], float] = field(default=lambda: station_clock(), repr=False)
    """The station's clock [s since 1970, UTC]: stamped by the program on every injection it places (wall_s)."""

    def __post_init__(self) -> None:
        if self.evaluation is None:
            self._score_all()

    def _score_all(self) -> None:
        self._injections = Injections.from_records(self.records, self.library.ids)
        self.evaluation = evaluate(self.scenario, self._injections, self.library, self.config, self.screening)

    @classmethod
    def resumed(cls, scenario: LoadedScenario, library: Library, config: Config, mode: str, trainee: str,
                screening: ScreeningAnswer | None, unfinished) -> "Attempt":
        """An attempt cut short (a crash): it goes on where its journal (a journal.Unfinished) ends, writing on to
        the same journal."""
        from sim.core.records.journal import Journal

        s = unfinished.screening
        if s:
            screening = ScreeningAnswer(s["decision"], s.get("reason"))
        h = unfinished.header
        attempt = cls(scenario, library, config, mode, h.get("trainee", trainee), screening,
                      list(unfinished.records), started=h.get("started") or now(),
                      provenance=h.get("provenance") or None, resumptions=list(unfinished.resumed))
        if isinstance(h.get("attempt_id"), str) and h["attempt_id"]:
            attempt.attempt_id = h["attempt_id"]
        attempt.journal = Journal(unfinished.path, attempt.header())
        walls = [r["wall_s"] for r in attempt.records if isinstance(r.get("wall_s"), (int, float))]
        at = attempt.clock()
        last = max(walls) if walls else unfinished.last_wall_s
        gap = round(at - last, 3) if last is not None else None
        event = {"at": now(), "wall_s": round(at, 3), "after": len(attempt.records), "gap_s": gap, "mode": mode}
        attempt.resumptions.append(event)
        attempt._journal("resumed", event)
        return attempt

    def seconds_since_start(self) -> float | None:
        """How long ago the attempt started by the station's clock (the timer goes on while the program is not
        running), or None when its start is not known."""
        try:
            start = _dt.datetime.fromisoformat(self.started).timestamp()
        except (TypeError, ValueError):
            return None
        return max(0.0, self.clock() - start)

    def open_journal(self):
        """Start journalling this attempt (crash safety); returns the journal."""
        from sim.core.records.journal import Journal

        try:
            self.journal = Journal.create(self.scenario.id, self.header())
        except OSError as exc:
            self._journal_failed(exc)
            return None
        for rec in self.records:
            self._journal("add", rec)
        if self.screening is not None:
            self._journal("screening", _answer_dict(self.screening))
        return self.journal

    def _journal(self, what: str, *args) -> None:
        """One event into the journal; a journal that cannot be written (a full disk) is given up, not the attempt."""
        if self.journal is None:
            return
        try:
            getattr(self.journal, what)(*args, mode=self.mode)
        except OSError as exc:
            self._journal_failed(exc)

    def _journal_failed(self, exc: OSError) -> None:
        self.journal_problem = (f"The attempt is no longer kept safe against a crash ({exc.strerror or exc}): "
                                "it goes on, and is saved when submitted")
        if self.journal is not None:
            try:
                self.journal.close(remove=False)
            except OSError:
                pass
            self.journal = None

    def header(self) -> dict:
        return {"scenario": {"id": self.scenario.id, "file": self.scenario.file, "sha256": self.scenario.digest},
                "mode": self.mode, "trainee": self.trainee, "started": self.started, "attempt_id": self.attempt_id,
                "provenance": self.provenance}

    def __len__(self) -> int:
        return len(self.records)

    @property
    def injections(self) -> Injections:
        if self._injections is None or len(self._injections) != len(self.records):
            self._injections = Injections.from_records(self.records, self.library.ids)
        return self._injections

    def add(self, x_mm: float, y_mm: float, depth_mm: float, angle_deg: float, volume_ml: float, technique: str,
            t_s: float | None = None, bevel: str = "up", device: str = "hand") -> int:
        """Place one injection and score it (with the spacing of its neighbours and the coverage it adds:
        Evaluation.extended, equal to scoring the whole attempt again); returns its index."""
        rec = {"x_mm": float(x_mm), "y_mm": float(y_mm), "depth_mm": float(depth_mm), "angle_deg": float(angle_deg),
               "volume_ml": float(volume_ml), "technique": technique, "bevel": bevel, "device": device}
        if t_s is not None and not math.isnan(t_s):
            rec["t_s"] = round(float(t_s), 3)
        if self.provenance in ("live", "replay"):
            rec["wall_s"] = round(self.clock(), 3)
        self._journal("add", rec)
        one = Injections.from_records([rec], self.library.ids)
        before = self.injections
        self.records.append(rec)
        self._injections = Injections.concat([before, one])
        self.evaluation = self.evaluation.extended(one)
        return len(self.records) - 1

    def undo(self) -> bool:
        if not self.records or self.mode == "exam":  # an exam has no undo
            return False
        self._journal("undo")
        self.records.pop()
        self._score_all()
        return True

    def finish(self) -> dict:
        """Close the attempt and return its score report."""
        self.ended = self.ended or now()
        return build_report(self.evaluation)

    def record(self) -> dict:
        """The attempt record: who, what, when, every injection with its settings, the screening and the report."""
        return {
            "attempt_version": ATTEMPT_VERSION,
            "attempt_id": self.attempt_id,
            "trainee": self.trainee,
            "scenario": {"id": self.scenario.id, "file": self.scenario.file, "sha256": self.scenario.digest},
            "specs": {"atlas_sha256": self.scenario.atlas.digest, "techniques_sha256": self.library.digest,
                      "scoring_sha256": self.config.digest},
            "mode": self.mode,
            "started": self.started,
            "ended": self.ended,
            "screening": _answer_dict(self.screening),
            "injections": self.records,
            "report": self.finish(),
            "scorer": f"mesosim {__version__}",
            **({"provenance": {"kind": self.provenance, **({"resumed": self.resumptions} if self.resumptions else {})}}
               if self.provenance else {}),
        }

    def close_journal(self) -> None:
        """The attempt is saved: its journal is no longer needed."""
        if self.journal is not None:
            try:
                self.journal.close(remove=True)
            except OSError:
                pass
            self.journal = None


def evaluate_attempts(scenario: LoadedScenario, library: Library, config: Config,
                      attempts: list[dict]) -> list[Attempt]:
    """Many attempts of one exercise scored at once (evaluate_many: a cohort's history in seconds). Each dict holds
    Attempt's fields (mode, trainee, screening, records); each Attempt keeps its evaluation."""
    from sim.core.scoring import evaluate_many

    injections = [Injections.from_records(a.get("records", []), library.ids) for a in attempts]
    evaluations = evaluate_many(scenario, injections, library, config, [a.get("screening") for a in attempts])
    return [Attempt(scenario, library, config, evaluation=ev, _injections=inj, **a)
            for a, inj, ev in zip(attempts, injections, evaluations)]


def _answer_dict(answer: ScreeningAnswer | None) -> dict | None:
    return None if answer is None else {"decision": answer.decision, "reason": answer.reason}


def now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")
