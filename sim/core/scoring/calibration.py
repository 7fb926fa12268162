"""Standard setting by contrasting groups: simulated competent and novice attempts at an exercise, scored, their
score distributions compared, and the pass mark proposed where the two meet; one-error sweeps that show where a
verdict changes.

Every simulated attempt starts from the exercise's reference solution and adds the errors of a documented,
seeded error model (assets/calibration.yaml): the same seed gives the same figures on every machine.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Sequence

import numpy as np
from pydantic import Field

from sim.core.exercise.scenario import LoadedScenario
from sim.core.exercise.techniques import Library
from sim.core.files.model import FileModel, validate
from sim.core.files.yamlio import load_yaml_file
from sim.core.scoring.config import Config
from sim.core.scoring.injections import Injections, log_spec
from sim.paths import assets_dir

Chance = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(ge=0, le=1000)]


class DepthError(FileModel):
    abs_mm: Positive
    """The part of the error that is the same at any depth [mm]."""
    fraction: Annotated[float, Field(ge=0, le=5)]
    """The part proportional to the instructed depth."""

    def sd(self, depth_mm: np.ndarray) -> np.ndarray:
        return self.abs_mm + self.fraction * depth_mm


class Cohort(FileModel):
    """How one group's attempts differ from the reference."""

    position_sd_mm: Positive
    depth_sd: DepthError
    depth_bias_sd: DepthError
    angle_sd_deg: Positive
    angle_bias_sd_deg: Positive
    volume_sd_factor: Annotated[float, Field(ge=1, le=100)]
    volume_bias_sd_factor: Annotated[float, Field(ge=1, le=100)]
    skip: Chance
    double: Chance
    off_target: Chance
    off_target_mm: tuple[Positive, Positive]
    gross_depth: Chance
    gross_depth_mm: tuple[Positive, Positive]


class Sweep(FileModel):
    depth_mm: list[Annotated[float, Field(ge=-60, le=60)]]
    position_mm: list[Positive]
    angle_deg: list[Annotated[float, Field(ge=-90, le=90)]]
    volume_factor: list[Annotated[float, Field(gt=0, le=100)]]


class Calibration(FileModel):
    seed: int
    attempts: Annotated[int, Field(ge=10, le=100_000)]
    cohorts: dict[str, Cohort]
    sweep: Sweep


@functools.lru_cache(maxsize=2)
def load_calibration(path: str | None = None) -> Calibration:
    cal = validate(Calibration, load_yaml_file(Path(path) if path else assets_dir() / "calibration.yaml"))
    return cal


def _bounds(column: str) -> tuple[float, float]:
    c = log_spec().columns[column]
    return float(c.min), float(c.max)


def simulate(reference: Injections, cohort: Cohort, rng: np.random.Generator) -> Injections:
    """One simulated attempt: the reference with this cohort's errors (a seeded rng gives the same attempt)."""
    n = len(reference)
    keep = rng.random(n) >= cohort.skip
    inj = reference.take(np.flatnonzero(keep))
    m = len(inj)
    depth = inj.depth_mm.copy()
    depth += rng.normal(0.0, 1.0) * cohort.depth_bias_sd.sd(depth) + rng.normal(0.0, 1.0, m) * cohort.depth_sd.sd(depth)
    gross = rng.random(m) < cohort.gross_depth
    depth[gross] += rng.uniform(*cohort.gross_depth_mm, int(gross.sum()))
    angle = inj.angle_deg + rng.normal(0.0, cohort.angle_bias_sd_deg) + rng.normal(0.0, cohort.angle_sd_deg, m)
    volume = inj.volume_ml * cohort.volume_bias_sd_factor ** rng.normal() * cohort.volume_sd_factor ** rng.normal(
        0.0, 1.0, m)
    xy = inj.xy + rng.normal(0.0, cohort.position_sd_mm, (m, 2))
    off = rng.random(m) < cohort.off_target
    if off.any():
        k = int(off.sum())
        theta = rng.uniform(0, 2 * np.pi, k)
        dist = rng.uniform(*cohort.off_target_mm, k)
        xy[off] += np.stack([np.cos(theta), np.sin(theta)], axis=1) * dist[:, None]
    out = _with(inj, xy=xy, depth_mm=depth, angle_deg=angle, volume_ml=volume)
    twice = np.flatnonzero(rng.random(m) < cohort.double)
    if len(twice):  # the same point punctured again, within half a millimetre, right after the first
        again = out.take(twice)
        again = _with(again, xy=again.xy + rng.uniform(-0.5, 0.5, (len(twice), 2)))
        order = np.argsort(np.concatenate([np.arange(m), twice]), kind="stable")
        out = Injections.concat([out, again]).take(order)
    return out


def _with(inj: Injections, **arrays) -> Injections:
    """A copy with some arrays replaced, every value clipped to what an injection log may hold."""
    values = {"xy": inj.xy, "depth_mm": inj.depth_mm, "angle_deg": inj.angle_deg, "volume_ml": inj.volume_ml}
    values.update(arrays)
    lo, hi = _bounds("x_mm")
    values["xy"] = np.clip(values["xy"], lo, hi)
    for name in ("depth_mm", "angle_deg", "volume_ml"):
        values[name] = np.clip(values[name], *_bounds(name))
    return Injections(values["xy"], values["depth_mm"], values["angle_deg"], values["volume_ml"], inj.technique,
                      inj.technique_ids, inj.t_s, inj.bevel_down, inj.gun)


@dataclass(frozen=True)
class Group:
    """Scores of one cohort of attempts."""

    name: str
    scores: np.ndarray
    passed: np.ndarray
    share_right: np.ndarray
    """Share of each attempt's injections done right."""

    @property
    def pass_rate(self) -> float:
        return float(self.passed.mean()) if len(self.passed) else 0.0


def score_group(name: str, scenario: LoadedScenario, attempts: Sequence[Injections], screening, library: Library,
                config: Config) -> Group:
    from sim.core.scoring.batch import evaluate_many

    evaluations = evaluate_many(scenario, list(attempts), library, config, [screening] * len(attempts))
    return Group(name, np.asarray([ev.score() for ev in evaluations]),
                 np.asarray([ev.passed() for ev in evaluations], dtype=bool),
                 np.asarray([ev.share_right() for ev in evaluations]))


def cohort_attempts(reference: Injections, cohort: Cohort, n: int, seed: int) -> list[Injections]:
    rng = np.random.default_rng(seed)
    return [simulate(reference, cohort, rng) for _ in range(n)]


def auc(higher: np.ndarray, lower: np.ndarray) -> float:
    """The chance that an attempt of the first group scores above one of the second (ties count half): the area
    under the ROC curve, by the Mann-Whitney count."""
    if not len(higher) or not len(lower):
        return float("nan")
    both = np.concatenate([higher, lower])
    order = np.argsort(both, kind="mergesort")
    ranks = np.empty(len(both))
    sorted_vals = both[order]
    # average ranks over ties
    _, first, counts = np.unique(sorted_vals, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    r = ranks[: len(higher)].sum()
    return float((r - len(higher) * (len(higher) + 1) / 2.0) / (len(higher) * len(lower)))


def contrasting_cut(competent: np.ndarray, novice: np.ndarray) -> float:
    """The pass mark where the two groups meet: of the cuts (an attempt passes at or above it), the one that
    misclassifies the fewest attempts, each group counted as a share of its size (the intersection of the two
    distributions). Among equally good cuts the middle one; the mark is placed halfway into the gap below it."""
    values = np.unique(np.concatenate([competent, novice]))
    if not len(values):
        return 0.0
    cuts = np.concatenate([values, [values[-1] + 0.2]])
    fail_competent = np.searchsorted(np.sort(competent), cuts, side="left") / max(len(competent), 1)
    pass_novice = 1.0 - np.searchsorted(np.sort(novice), cuts, side="left") / max(len(novice), 1)
    error = fail_competent + pass_novice
    best = np.flatnonzero(np.isclose(error, error.min()))
    i = int(best[len(best) // 2])
    below = float(values[i - 1]) if i > 0 else float(cuts[i]) - 0.2
    return float(np.floor((below + float(cuts[i])) / 2.0 * 10 + 0.5) / 10)
