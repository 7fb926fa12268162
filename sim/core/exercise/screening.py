"""The catalogue of screening reasons (assets/screening.yaml): what a trainee may answer before injecting."""

from __future__ import annotations

import functools
from typing import Literal

from pydantic import Field

from sim.core.files.model import FileModel, validate
from sim.paths import assets_dir
from sim.core.files.yamlio import load_yaml_file
from sim.core.vocabulary import SLUG_PATTERN, Decision


class Reason(FileModel):
    id: str = Field(pattern=SLUG_PATTERN)
    label: str
    decision: Decision
    """The decision this reason usually leads to."""
    source: str


class Catalogue(FileModel):
    reasons: list[Reason] = Field(min_length=1)

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.reasons]

    def label(self, reason_id: str | None) -> str:
        for r in self.reasons:
            if r.id == reason_id:
                return r.label
        return reason_id or ""


@functools.lru_cache(maxsize=1)
def load_reasons() -> Catalogue:
    return validate(Catalogue, load_yaml_file(assets_dir() / "screening.yaml"))
