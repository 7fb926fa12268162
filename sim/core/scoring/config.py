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
from sim.core.vocabulary import ATTEMPT_RULES, INJECTION_RULES, RULES, VERDICTS, FindingVerdict, Verdict



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


class ScoringConfig(FileModel):
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
    blocking: list[str] = []
    """Attempt criteria whose fail stops the attempt from passing, whatever its score (an exercise left half
    done, a wrong screening decision)."""

    @model_validator(mode="after")
    def _all_rules_weighted(self):
        wrong = [r for r in self.blocking if r not in ATTEMPT_RULES]
        if wrong:
            raise ValueError(f"blocking names criteria that are not attempt criteria: {wrong}")
        missing = [r for r in RULES if r not in self.weights]
        unknown = [r for r in self.weights if r not in RULES]
        if missing or unknown:
            raise ValueError(f"weights must name every criterion exactly: missing {missing}, unknown {unknown}")
        return self


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
        mdoc = load_yaml_file(messages_path)
        if not isinstance(mdoc.data, dict) or not all(
                isinstance(v, dict) and all(isinstance(t, str) for t in v.values()) for v in mdoc.data.values()):
            raise InputError([mdoc.problem((), "messages are a mapping of rule -> case -> text")])
        messages = mdoc.data
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return Config(scoring, messages, digest.hexdigest())
