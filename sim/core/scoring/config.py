"""Scoring tolerances and message texts, read from assets/scoring.yaml and assets/messages.yaml."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from sim.errors import InputError
from sim.core.files.model import FileModel, validate
from sim.paths import assets_dir
from sim.core.files.yamlio import load_yaml_file
from sim.core.vocabulary import SCORE_PARTS, InjectionRule, ATTEMPT_RULES, INJECTION_RULES, RULES, VERDICTS, FindingVerdict, Verdict



class Credits(FileModel):
    ok: float = Field(ge=0, le=1)
    warn: float = Field(ge=0, le=1)
    fail: float = Field(ge=0, le=1)
    critical: float = Field(ge=0, le=1)


class SeverityVerdicts(FileModel):
    critical: Verdict
    high: Verdict
    moderate: Verdict
    low: Verdict


class SpacingCfg(FileModel):
    double_puncture_mm: float = Field(ge=0, le=10)


class FractionCfg(FileModel):
    warn_fraction: float = Field(ge=0, le=10)


class CoverageCfg(FileModel):
    ok: float = Field(gt=0, le=1)
    warn: float = Field(gt=0, le=1)
    cell_mm: float = Field(gt=0.05, le=5)


class VerdictCfg(FileModel):
    bevel_wrong: FindingVerdict
    outside_target: FindingVerdict
    off_map: FindingVerdict
    technique_not_allowed: FindingVerdict
    technique_wrong_map: FindingVerdict
    technique_not_indicated: FindingVerdict
    screening_wrong_decision: FindingVerdict
    screening_inconsistent: FindingVerdict
    screening_treated: FindingVerdict
    product_not_allowed: FindingVerdict
    device_not_allowed: FindingVerdict
    device_refused_region: FindingVerdict
    over_max_volume: FindingVerdict
    over_face_depth: FindingVerdict


class BlebCfg(FileModel):
    reference_volume_ml: float = Field(gt=0)
    reference_diameter_mm: float = Field(gt=0)
    source: str


class Competence(FileModel):
    significant: list[InjectionRule] = Field(min_length=1)
    """Per-injection criteria every technique must meet for an injection to be done right."""
    threshold: float = Field(ge=0, le=1)
    """Default share of an attempt's injections that must be done right."""
    throughout: float = Field(gt=0, le=1)
    """A criterion failed on at least this share of the injections fails the attempt."""
    throughout_rules: list[InjectionRule]
    """The per-injection criteria `throughout` applies to."""


class PartingCfg(FileModel):
    ok_mm: float = Field(gt=0, le=50)
    """A scalp point within this distance of the nearest parting is on it."""
    warn_mm: float = Field(gt=0, le=50)
    """Up to this distance it warns; farther fails."""
    source: str

    @model_validator(mode="after")
    def _ordered(self):
        if self.warn_mm < self.ok_mm:
            raise ValueError("warn_mm must be at least ok_mm")
        return self


class ScreeningCfg(FileModel):
    accepted_credit: float = Field(gt=0, lt=1)
    """Credit of a second, defensible decision (contraindications.md): accepted, never full credit."""


class ScoringConfig(FileModel):
    competence: Competence
    parting: PartingCfg
    screening: ScreeningCfg
    verdict_credit: Credits
    severity_verdict: SeverityVerdicts
    weights: dict[str, float]
    spacing: SpacingCfg
    count: FractionCfg
    coverage: CoverageCfg
    total_volume: FractionCfg
    time: FractionCfg
    verdicts: VerdictCfg
    bleb: BlebCfg
    layer_half_credit_mm: float = Field(gt=0, le=20)
    """How far [mm] from a layer the technique belongs in a tip earns half credit for its layer."""
    blocking: list[str] = []
    """Attempt criteria whose fail stops the attempt from passing, whatever its score (an exercise left half
    done, a wrong screening decision)."""

    @model_validator(mode="after")
    def _all_rules_weighted(self):
        wrong = [r for r in self.blocking if r not in ATTEMPT_RULES]
        if wrong:
            raise ValueError(f"blocking names criteria that are not attempt criteria: {wrong}")
        missing = [r for r in SCORE_PARTS if r not in self.weights]
        unknown = [r for r in self.weights if r not in SCORE_PARTS]
        if missing or unknown:
            raise ValueError(f"weights must name every part of the score exactly (injections and the attempt "
                             f"criteria): missing {missing}, unknown {unknown}")
        return self


class _Texts(FileModel):
    """The sentences of one rule, one per case: every case the engine may need must be there (a renamed one is
    named with its file, line and column when the messages are read, not when a trainee first needs it)."""


class DepthTexts(_Texts):
    too_deep: str
    too_shallow: str
    over_face_cap: str


class LayerTexts(_Texts):
    wrong: str


class AngleTexts(_Texts):
    too_steep: str
    too_flat: str


class SpacingTexts(_Texts):
    double: str
    too_close: str
    too_far: str


class VolumeTexts(_Texts):
    too_much: str
    too_little: str
    over_max: str
    papule: str


class BevelTexts(_Texts):
    wrong: str


class ProductTexts(_Texts):
    not_allowed: str


class DeviceTexts(_Texts):
    not_allowed_scenario: str
    not_allowed_technique: str
    refused_region: str


class TechniqueTexts(_Texts):
    not_allowed: str
    wrong_map: str
    not_indicated: str


class TargetTexts(_Texts):
    outside: str
    off_map: str


class DangerTexts(_Texts):
    hit: str
    hit_point: str
    hit_area: str
    hit_area_any: str
    no_go_spot: str


class CountTexts(_Texts):
    too_few: str
    too_many: str


class PartingTexts(_Texts):
    off: str


class CoverageTexts(_Texts):
    low: str


class TotalVolumeTexts(_Texts):
    too_much: str
    too_little: str


class TimeTexts(_Texts):
    over: str


class ScreeningTexts(_Texts):
    missing: str
    wrong_decision: str
    wrong_reason: str
    no_reason: str
    accepted: str
    inconsistent: str
    treated: str


class Messages(FileModel):
    """assets/messages.yaml: every sentence the scoring engine shows a trainee, by rule and case."""

    depth: DepthTexts
    layer: LayerTexts
    angle: AngleTexts
    spacing: SpacingTexts
    parting: PartingTexts
    volume: VolumeTexts
    bevel: BevelTexts
    product: ProductTexts
    device: DeviceTexts
    technique: TechniqueTexts
    target: TargetTexts
    danger: DangerTexts
    count: CountTexts
    coverage: CoverageTexts
    total_volume: TotalVolumeTexts
    time: TimeTexts
    screening: ScreeningTexts


@dataclass(frozen=True)
class Config:
    scoring: ScoringConfig
    messages: dict[str, dict[str, str]]
    digest: str

    def text(self, rule: str, case: str) -> str:
        return self.messages[rule][case]


@functools.lru_cache(maxsize=2)
def load_config() -> Config:
    digest = hashlib.sha256()
    scoring_path = assets_dir() / "scoring.yaml"
    messages_path = assets_dir() / "messages.yaml"
    problems = []
    scoring = None
    messages: dict[str, dict[str, str]] = {}
    for path in (scoring_path, messages_path):
        try:
            digest.update(path.read_bytes())
        except OSError:
            pass
    try:
        scoring = validate(ScoringConfig, load_yaml_file(scoring_path))
    except InputError as exc:
        problems.extend(exc.problems)
    try:
        messages = validate(Messages, load_yaml_file(messages_path)).model_dump()
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return Config(scoring, messages, digest.hexdigest())
