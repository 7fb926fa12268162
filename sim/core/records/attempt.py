"""An attempt in progress: the injections placed so far, scored after each one, and the record saved at the end.

The trainer window and `--replay` both go through this class, so a replayed log scores exactly as `mesosim score`.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sim import __version__
from sim.core.scoring.injections import Injections
from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring.config import Config
from sim.core.scoring.engine import Evaluation, ScreeningAnswer, evaluate
from sim.core.scoring.report import build_report
from sim.core.exercise.techniques import Library

ATTEMPT_VERSION = 1


@dataclass
class Attempt:
    scenario: LoadedScenario
    library: Library
    config: Config
    mode: str
    trainee: str = ""
    screening: ScreeningAnswer | None = None
    records: list[dict] = field(default_factory=list)
    started: str = field(default_factory=lambda: _now())
    ended: str | None = None
    journal: object | None = field(default=None, repr=False)
    """A sim.core.records.journal.Journal: every change is written to it (and synced) before it is shown."""
    _evaluation: Evaluation | None = field(default=None, repr=False)
    _evaluated: int = field(default=0, repr=False)
    """How many of the injections `_evaluation` covers; the rest are added to it incrementally."""
    _injections: Injections | None = field(default=None, repr=False)

    def open_journal(self):
        """Start journalling this attempt (crash safety); returns the journal."""
        from sim.core.records.journal import Journal

        self.journal = Journal.create(self.scenario.id, self.header())
        for rec in self.records:
            self.journal.add(rec)
        if self.screening is not None:
            self.journal.screening(_answer_dict(self.screening))
        return self.journal

    def header(self) -> dict:
        return {"scenario": {"id": self.scenario.id, "file": self.scenario.file, "sha256": self.scenario.digest},
                "mode": self.mode, "trainee": self.trainee, "started": self.started}

    def __len__(self) -> int:
        return len(self.records)

    @property
    def injections(self) -> Injections:
        if self._injections is None or len(self._injections) != len(self.records):
            self._injections = Injections.from_records(self.records, self.library.ids)
        return self._injections

    @property
    def evaluation(self) -> Evaluation:
        """The attempt so far, scored. After a click only the new injection is evaluated (with the spacing of its
        neighbours and the coverage it adds): Evaluation.extended, equal to scoring the whole attempt again."""
        n = len(self.records)
        if self._evaluation is not None and 0 < n - self._evaluated <= 8:
            self._evaluation = self._evaluation.extended(self.injections.take(np.arange(self._evaluated, n)))
            self._evaluated = n
        elif self._evaluation is None or self._evaluated != n:
            self._evaluation = evaluate(self.scenario, self.injections, self.library, self.config, self.screening)
            self._evaluated = n
        return self._evaluation

    def add(self, x_mm: float, y_mm: float, depth_mm: float, angle_deg: float, volume_ml: float, technique: str,
            t_s: float | None = None, bevel: str = "up", device: str = "hand") -> int:
        """Place one injection; returns its index. Its findings are in `evaluation` at once."""
        rec = {"x_mm": float(x_mm), "y_mm": float(y_mm), "depth_mm": float(depth_mm), "angle_deg": float(angle_deg),
               "volume_ml": float(volume_ml), "technique": technique, "bevel": bevel, "device": device}
        if t_s is not None and not math.isnan(t_s):
            rec["t_s"] = round(float(t_s), 3)
        if self.journal is not None:
            self.journal.add(rec)
        self.records.append(rec)
        if self._injections is not None and len(self._injections) == len(self.records) - 1:
            one = Injections.from_records([rec], self.library.ids)
            self._injections = Injections.concat([self._injections, one])
        return len(self.records) - 1

    def undo(self) -> bool:
        if not self.records:
            return False
        if self.journal is not None:
            self.journal.undo()
        self.records.pop()
        self._evaluation = None
        self._injections = None
        return True

    def set_screening(self, answer: ScreeningAnswer | None) -> None:
        if self.journal is not None:
            self.journal.screening(_answer_dict(answer))
        self.screening = answer
        self._evaluation = None

    def finish(self) -> dict:
        """Close the attempt and return its score report."""
        self.ended = self.ended or _now()
        return build_report(self.evaluation)

    def record(self) -> dict:
        """The attempt record: who, what, when, every injection with its settings, the screening and the report."""
        return {
            "attempt_version": ATTEMPT_VERSION,
            "trainee": self.trainee,
            "scenario": {"id": self.scenario.id, "file": self.scenario.file, "sha256": self.scenario.digest},
            "specs": {"atlas_sha256": self.scenario.atlas.digest, "techniques_sha256": self.library.digest,
                      "scoring_sha256": self.config.digest},
            "mode": self.mode,
            "started": self.started,
            "ended": self.ended,
            "screening": (None if self.screening is None
                          else {"decision": self.screening.decision, "reason": self.screening.reason}),
            "injections": self.records,
            "report": self.finish(),
            "scorer": f"mesosim {__version__}",
        }

    def save(self, path: Path | str, gradebook: bool = True) -> str | None:
        """Write the signed record (sim.core.records.signing) atomically, then keep it in the gradebook; the journal is
        then no longer needed. Returns a sentence when the gradebook could not take it (the file is written)."""
        from sim.core.records.signing import write_record

        signed = write_record(self.record(), path)
        if self.journal is not None:
            self.journal.close(remove=True)
            self.journal = None
        if gradebook:
            from sim.gradebook import add_to_default

            return add_to_default(signed)
        return None


def evaluate_attempts(attempts: list[Attempt]) -> None:
    """Score many attempts at once, those of one exercise together (evaluate_many: a cohort's history in
    seconds); each keeps its evaluation, so finish() and record() need no scoring of their own."""
    from sim.core.scoring.engine import evaluate_many

    groups: dict[int, list[Attempt]] = {}
    for a in attempts:
        groups.setdefault(id(a.scenario), []).append(a)
    for group in groups.values():
        first = group[0]
        evaluations = evaluate_many(first.scenario, [a.injections for a in group], first.library, first.config,
                                    [a.screening for a in group])
        for a, ev in zip(group, evaluations):
            a._evaluation, a._evaluated = ev, len(a.records)


def _answer_dict(answer: ScreeningAnswer | None) -> dict | None:
    return None if answer is None else {"decision": answer.decision, "reason": answer.reason}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def default_attempt_path(scenario_id: str) -> Path:
    """Where the trainer keeps an attempt when no --save path is given: the user's data directory."""
    from platformdirs import user_data_path

    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return user_data_path("mesosim", appauthor=False) / "attempts" / f"{stamp}-{scenario_id}.json"
