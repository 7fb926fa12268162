"""Submitting an attempt in the window: the one explicit step that saves its record, before the summary shows it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.core.records.attempt import Attempt
from sim.errors import InputError


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
    from sim.session import new_attempt_path, save_attempt, write_failure

    target = path or new_attempt_path(attempt.scenario.id, attempt.attempt_id)
    try:
        saved = save_attempt(attempt, target)
    except OSError as exc:
        return Submitted(None, None, f"The attempt could not be saved: {exc.filename or target}: {write_failure(exc)}")
    except InputError as exc:  # the signing key is damaged: it says which file and why
        return Submitted(None, None, "The attempt could not be saved: " + "; ".join(map(str, exc.problems)))
    return Submitted(saved.path, saved.note)
