"""The catalogue of screening reasons (assets/screening.yaml): what a trainee may answer before injecting."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field, model_validator

from sim.core.files.model import FileModel, validate
from sim.paths import assets_dir
from sim.core.files.yamlio import load_yaml_file
from sim.core.vocabulary import SLUG_PATTERN, Decision


class Reason(FileModel):
    id: str = Field(pattern=SLUG_PATTERN)
    label: str
    decision: Decision
    """The right decision for this condition."""
    accepted: list[Decision] = []
    """A second decision that is defensible for this condition: accepted with a warning, never full credit."""
    source: str

    @model_validator(mode="after")
    def _accepted_apart(self):
        if self.decision in self.accepted:
            raise ValueError(f"accepted: {self.decision} is already the right decision; accepted lists a second one")
        return self

    def fits(self, decision: str) -> bool:
        """Whether `decision` may be taken for this reason: its right decision or an accepted one."""
        return decision == self.decision or decision in self.accepted


class Catalogue(FileModel):
    reasons: list[Reason] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        seen = set()
        for r in self.reasons:
            if r.id in seen:
                raise ValueError(f'reason "{r.id}" is listed twice')
            seen.add(r.id)
        return self

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.reasons]

    def get(self, reason_id: str | None) -> Reason | None:
        return next((r for r in self.reasons if r.id == reason_id), None)

    def label(self, reason_id: str | None) -> str:
        for r in self.reasons:
            if r.id == reason_id:
                return r.label
        return reason_id or ""


@functools.lru_cache(maxsize=1)
def load_reasons() -> Catalogue:
    return validate(Catalogue, load_yaml_file(assets_dir() / "screening.yaml"))
