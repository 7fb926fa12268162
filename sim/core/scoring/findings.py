"""What the rules hand back: a Finding for a check that did not pass, a rule's verdicts over all injections
(RuleResult), and the trainee's screening answer the screening rule judges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from sim.core.scoring.text import rounded
from sim.core.vocabulary import CODE

OK, WARN, FAIL, CRITICAL = (CODE[v] for v in ("ok", "warn", "fail", "critical"))
"""Verdict codes (sim.core.vocabulary.CODE): the worse, the larger, so `max` is the worst."""


@dataclass(frozen=True)
class Finding:
    """A check that did not pass: which rule, how bad, what was measured against what, why, and on what authority."""

    rule: str
    verdict: str
    message: str
    source: str
    measured: float | str | None = None
    expected: str | None = None
    unit: str | None = None
    structure: str | None = None

    def as_dict(self) -> dict:
        out = {"rule": self.rule, "verdict": self.verdict, "message": self.message, "source": self.source}
        if self.measured is not None:
            out["measured"] = rounded(self.measured) if isinstance(self.measured, float) else self.measured
        if self.expected is not None:
            out["expected"] = self.expected
        if self.unit is not None:
            out["unit"] = self.unit
        if self.structure is not None:
            out["structure"] = self.structure
        return out


@dataclass(frozen=True)
class ScreeningAnswer:
    decision: str
    """go, postpone or no-go."""
    reason: str | None = None


@dataclass
class RuleResult:
    """One per-injection rule over all injections: a verdict each, and how to explain the ones that are not ok."""

    verdict: np.ndarray
    explain: Callable[[int], list[Finding]]
