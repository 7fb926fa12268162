"""The structure an attempt record must have before anything reads it (rescore, report, replay, gradebook).

Records are written by mesosim, but a file on disk can be edited or damaged: every field that is used is checked
here, and a problem is reported as FILE:LINE:COL: field.path: message like any other input error. Fields a later
version adds are allowed (extra keys are kept, not refused).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import InputError, Problem
from sim.core.files.model import problems_from
from sim.core.files.yamlio import MAX_YAML_BYTES, Document, load_yaml_text
from sim.core.scoring.injections import log_spec
from sim.core.vocabulary import Bevel, Decision, Device, Mode, Verdict

Num = Annotated[float, Field(ge=-1e6, le=1e6)]


class _M(BaseModel):
    model_config = ConfigDict(extra="allow", allow_inf_nan=False)


def _log_range(column: str):
    """A number in the range the injection log allows for this column (assets/injection_log.yaml): a record holds
    what a log may hold, and the two cannot drift apart."""
    spec = log_spec().columns[column]
    return Annotated[float, Field(ge=spec.min, le=spec.max, description=spec.description)]


class RecInjection(_M):
    x_mm: _log_range("x_mm")
    y_mm: _log_range("y_mm")
    depth_mm: _log_range("depth_mm")
    angle_deg: _log_range("angle_deg")
    volume_ml: _log_range("volume_ml")
    technique: str
    t_s: _log_range("t_s") | None = None
    bevel: Bevel = "up"
    device: Device = "hand"
    wall_s: Annotated[float, Field(ge=0, le=1e11)] | None = None
    """The station's clock when the program placed the injection [s since 1970, UTC] (trainer sessions only)."""


class RecFinding(_M):
    rule: str
    verdict: Verdict
    message: str
    source: str = ""


class RecEntry(_M):
    index: Annotated[int, Field(ge=0)]
    x_mm: Num
    y_mm: Num
    depth_mm: Num
    angle_deg: Num
    volume_ml: Num
    technique: str
    region: str | None = None
    layer: str | None = None
    verdict: Verdict
    findings: list[RecFinding]


class RecCriterion(_M):
    rule: str
    weight: Annotated[float, Field(ge=0, le=1000)]
    score: Annotated[float, Field(ge=0, le=1)]


class RecReport(_M):
    scenario: str
    title: str = ""
    map: str = ""
    score: Annotated[float, Field(ge=0, le=100)]
    pass_mark: Annotated[float, Field(ge=0, le=100)]
    passed: bool
    critical_findings: Annotated[int, Field(ge=0)]
    criteria: list[RecCriterion]
    injections: list[RecEntry]
    attempt_findings: list[RecFinding]


class RecScenario(_M):
    id: str
    file: str = ""
    sha256: str = ""


class RecScreening(_M):
    decision: Decision
    reason: str | None = None


Stamp = Annotated[str, Field(min_length=1, max_length=64, description="an ISO 8601 time with its UTC offset")]


class AttemptRecord(_M):
    attempt_version: Literal[1]
    attempt_id: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    """Unique to this attempt (a UUID): the same injections saved twice are two attempts. None in records saved
    before attempts had one (the gradebook then knows them by their signature)."""
    saved: Stamp | None = None
    """When the record was written (None in records saved before records carried it)."""
    trainee: str = ""
    scenario: RecScenario
    mode: Mode = "practice"
    started: str | None = None
    ended: str | None = None
    screening: RecScreening | None = None
    injections: list[RecInjection]
    report: RecReport


def check_record(data, name: str, raw: str | None = None) -> None:
    """Raise InputError naming FILE:LINE:COL for every problem in a parsed record."""
    try:
        AttemptRecord.model_validate(data)
    except ValidationError as exc:
        doc = None
        if raw is not None and len(raw.encode("utf-8", "surrogatepass")) <= MAX_YAML_BYTES:
            try:
                doc = load_yaml_text(raw, name)  # JSON is YAML: this gives every value its line and column
            except InputError:
                doc = None
        if doc is None:
            doc = Document(name, data)
        raise InputError(problems_from(exc, doc, AttemptRecord)) from None


def normalized(record: dict) -> dict:
    """The record as its readers use it: checked, with defaults filled in (verify signatures on the raw one)."""
    return AttemptRecord.model_validate(record).model_dump(mode="json")


__all__ = ["AttemptRecord", "check_record", "normalized", "Problem"]
