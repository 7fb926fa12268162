"""Submitting an attempt in the window: the one explicit step that saves its record, before the summary shows it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.core.records.attempt import Attempt


@dataclass(frozen=True)
class Submitted:
    """What submitting an attempt did: where its record went, and a sentence when something went wrong."""

    path: Path | None
    note: str | None = None
    """The gradebook did not take the record (it is saved all the same)."""
    error: str | None = None
    """The record could not be written."""


def submit(attempt: Attempt, path: str | None) -> Submitted:
    """The explicit end of an attempt: its signed record saved (and kept in the gradebook) through the same
    sim.session.save_attempt as `mesosim score --save`."""
    from sim.session import new_attempt_path, save_attempt

    target = path or new_attempt_path(attempt.scenario.id)
    try:
        saved = save_attempt(attempt, target)
    except OSError as exc:
        return Submitted(None, None, f"The attempt could not be saved to {target}: {exc.strerror or exc}")
    return Submitted(saved.path, saved.note)
