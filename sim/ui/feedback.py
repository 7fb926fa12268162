"""What the window shows of an attempt while it is being made, beside what the scoring engine says of it.

A gap is only a gap once the attempt is over: the first point of a new row lies far from the others until its
neighbours are placed. While the trainee works, an injection whose only shortfall is the spacing rule's "too far"
is shown as pending (its other criteria still show), and the summary gives the engine's verdict. No pygame here.
"""

from __future__ import annotations

import numpy as np

from sim.core.scoring.evaluation import Evaluation


def pending_gaps(ev: Evaluation) -> np.ndarray:
    """Per injection: is its worst finding a spacing "too far" (farther from its nearest neighbour of the same
    technique than the technique's spacing band allows), which the next injections may still close?"""
    n = len(ev.injections)
    spacing = ev.rules.get("spacing")
    if spacing is None or not n or ev.nearest_mm is None:
        return np.zeros(n, dtype=bool)
    others = [r.verdict for name, r in ev.rules.items() if name != "spacing"]
    rest = np.max(np.stack(others), axis=0) if others else np.zeros(n, dtype=np.int8)
    hi = np.array([np.inf if t.spacing_mm.ok[1] is None else float(t.spacing_mm.ok[1])
                   for t in (ev.library.get(tid) for tid in ev.injections.technique_ids)])
    too_far = np.nan_to_num(ev.nearest_mm, nan=-1.0) > hi[ev.injections.technique]
    return (spacing.verdict > rest) & too_far


def shown_verdicts(ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """(verdict codes as the marks show them, pending): a pending gap shows the verdict of its other criteria."""
    pending = pending_gaps(ev)
    verdict = ev.verdict.copy()
    if pending.any():
        others = [r.verdict for name, r in ev.rules.items() if name != "spacing"]
        verdict[pending] = np.max(np.stack(others), axis=0)[pending] if others else 0
    return verdict, pending
