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
from sim.core.scoring.batch import evaluate_many
from sim.core.scoring.config import Config
from sim.core.scoring.evaluation import Evaluation, evaluate
from sim.core.scoring.findings import ScreeningAnswer
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


class Labelled(FileModel):
    min_per_group: Annotated[int, Field(ge=2, le=100_000)]
    """Real attempts an instructor labelled competent / not competent are used for the pass mark when each group
    has at least this many; with fewer they are reported beside the simulated groups."""


class Validity(FileModel):
    """What a valid exercise shows (the checks the suite runs on every shipped exercise)."""

    competent_min: Annotated[float, Field(ge=0, le=1)]
    novice_max: Annotated[float, Field(ge=0, le=1)]
    small_errors: Sweep
    """Errors of one injection that must never fail the reference."""


class Calibration(FileModel):
    seed: int
    attempts: Annotated[int, Field(ge=10, le=100_000)]
    cohorts: dict[str, Cohort]
    sweep: Sweep
    labelled: Labelled
    validity: Validity


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
    evaluations = evaluate_many(scenario, list(attempts), library, config, [screening] * len(attempts))
    return Group(name, np.asarray([ev.score() for ev in evaluations]),
                 np.asarray([ev.passed() for ev in evaluations], dtype=bool),
                 np.asarray([ev.share_right() for ev in evaluations]))


LABELS = ("competent", "not-competent")
"""The labels an instructor gives a real attempt in the gradebook (mesosim gradebook label)."""


@dataclass(frozen=True)
class Real:
    """Real attempts of one exercise that an instructor labelled, scored again with today's specs."""

    competent: Group
    not_competent: Group
    min_per_group: int
    left_out: int = 0
    """Labelled records that could not be used (another exercise's, an unverified signature, unreadable)."""

    @property
    def enough(self) -> bool:
        return min(len(self.competent.scores), len(self.not_competent.scores)) >= self.min_per_group

    def as_dict(self) -> dict:
        return {"competent": len(self.competent.scores), "not_competent": len(self.not_competent.scores),
                "left_out": self.left_out, "min_per_group": self.min_per_group, "used": self.enough,
                "competent_pass_rate": round(self.competent.pass_rate, 4) if len(self.competent.scores) else None,
                "not_competent_pass_rate": (round(self.not_competent.pass_rate, 4)
                                            if len(self.not_competent.scores) else None)}


def real_groups(scenario: LoadedScenario, labelled: Sequence[tuple[Injections, ScreeningAnswer | None, str]],
                library: Library, config: Config, min_per_group: int, left_out: int = 0) -> Real:
    """Score the labelled real attempts (injections, screening answer, label) of this exercise with today's specs:
    the labels are the instructor's judgement, the scores today's."""
    groups = {}
    for label in LABELS:
        mine = [(inj, answer) for inj, answer, lab in labelled if lab == label]
        evs = evaluate_many(scenario, [inj for inj, _a in mine], library, config, [a for _i, a in mine]) if mine else []
        groups[label] = Group(label, np.asarray([ev.score() for ev in evs]),
                              np.asarray([ev.passed() for ev in evs], dtype=bool),
                              np.asarray([ev.share_right() for ev in evs]))
    return Real(groups["competent"], groups["not-competent"], min_per_group, left_out)


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


def proposed_pass_mark(competent: np.ndarray, novice: np.ndarray, reference: Evaluation,
                       threshold: float) -> float:
    """The contrasting-groups cut, but never stricter than the competence rule itself (the score of an attempt
    with just the competence threshold of its injections right and the others wholly wrong), nor so high that one
    injection done wholly wrong fails a competent attempt (the competent 5th percentile less what one of the
    reference's injections weighs): small errors give small changes. The weights are those of the parts of the
    score that apply to the exercise, as the reference's own evaluation has them."""
    cut = contrasting_cut(competent, novice)
    points = len(reference.injections)
    if not len(competent) or not points:
        return cut
    parts = [c for c in reference.criteria() if c["weight"]]
    share = next(c["weight"] for c in parts if c["rule"] == "injections") / sum(c["weight"] for c in parts)
    one = 100.0 * share / points
    cap = min(float(np.percentile(competent, 5)) - one, 100.0 * (1.0 - share * (1.0 - threshold)))
    return float(np.floor(min(cut, cap) * 10) / 10)


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


@dataclass(frozen=True)
class SweepRow:
    """One error of one size: applied to every point (throughout) and to one point at a time (single)."""

    error: str
    size: float
    throughout_score: float
    throughout_passed: bool
    single_flips: int
    """How many of the points, each changed alone, turn the passing reference into a fail."""
    points: int


@dataclass(frozen=True)
class Result:
    scenario: str
    pass_mark: float
    competence_threshold: float
    competent: Group
    novice: Group
    auc: float
    proposed_pass_mark: float
    proposed_threshold: float
    sweep: list[SweepRow]
    real: Real | None = None
    """Labelled real attempts from the gradebook, when any were read."""
    validity: Validity | None = None
    checks: dict[str, bool] | None = None
    """The validity checks (calibration.yaml validity): competent attempts pass, novice ones do not, a wrong depth
    throughout fails, no small error of one injection fails the reference."""
    note: str = ""
    """Why nothing was simulated (a patient to be sent home: judged on the screening decision alone)."""

    @property
    def simulated(self) -> bool:
        return not self.note

    def as_dict(self) -> dict:
        def group(g: Group) -> dict:
            q = np.percentile(g.scores, [5, 25, 50, 75, 95]).round(1).tolist() if len(g.scores) else []
            return {"attempts": int(len(g.scores)), "pass_rate": round(g.pass_rate, 4),
                    "score_percentiles_5_25_50_75_95": q,
                    "median_share_right": round(float(np.median(g.share_right)), 4) if len(g.scores) else None}

        if not self.simulated:
            return {"scenario": self.scenario, "pass_mark": self.pass_mark, "note": self.note}
        return {"scenario": self.scenario, "pass_mark": self.pass_mark,
                "competence_threshold": self.competence_threshold, "competent": group(self.competent),
                "novice": group(self.novice), "auc": round(self.auc, 4),
                "proposed_pass_mark": self.proposed_pass_mark, "proposed_competence_threshold":
                    self.proposed_threshold,
                "proposed_from": "labelled" if self.real is not None and self.real.enough else "simulated",
                "labelled": None if self.real is None else self.real.as_dict(),
                "checks": self.checks,
                "sweep": [row.__dict__ for row in self.sweep]}


def _perturbed(reference: Injections, error: str, size: float, which: np.ndarray) -> Injections:
    """The reference with one error of `size` at the points `which` (a boolean mask)."""
    depth, angle, volume, xy = (reference.depth_mm.copy(), reference.angle_deg.copy(), reference.volume_ml.copy(),
                                reference.xy.copy())
    if error == "depth_mm":
        depth[which] += size
    elif error == "angle_deg":
        angle[which] += size
    elif error == "volume_factor":
        volume[which] *= size
    elif error == "position_mm":
        xy[which, 0] += size  # sideways
    return _with(reference, xy=xy, depth_mm=depth, angle_deg=angle, volume_ml=volume)


def sweep(scenario: LoadedScenario, reference: Injections, screening, library: Library, config: Config,
          plan: Sweep) -> list[SweepRow]:
    """Each error of each size applied throughout, and to each point alone: where does the verdict change?"""
    n = len(reference)
    rows = []
    for error in ("depth_mm", "position_mm", "angle_deg", "volume_factor"):
        for size in getattr(plan, error):
            attempts = [_perturbed(reference, error, size, np.ones(n, dtype=bool))]
            attempts += [_perturbed(reference, error, size, np.arange(n) == i) for i in range(n)]
            evs = evaluate_many(scenario, attempts, library, config, [screening] * len(attempts))
            rows.append(SweepRow(error, float(size), evs[0].score(), bool(evs[0].passed()),
                                 sum(not ev.passed() for ev in evs[1:]), n))
    return rows


CHECKS = {
    "competent_pass": "simulated competent attempts pass at {competent_min:.0%} or more",
    "novice_fail": "simulated novice attempts pass at {novice_max:.0%} or less",
    "too_deep_fails": "every point too deep (past the technique's warn band) fails",
    "too_shallow_fails": "every point too shallow fails",
    "small_errors_hold": "no small error of one injection fails the reference",
}


def validity_checks(scenario: LoadedScenario, reference: Injections, screening, library: Library, config: Config,
                    cal: Calibration, competent: Group, novice: Group) -> dict[str, bool]:
    """The suite's validity checks for one exercise (tests/scenarios/test_validity.py runs them on every shipped
    one); a too-shallow check where the warn band starts at the surface is left out."""
    v = cal.validity
    bounds = np.asarray([library.get(reference.technique_ids[t]).depth_mm.bounds() for t in reference.technique])
    checks = {"competent_pass": competent.pass_rate >= v.competent_min - 1e-9,
              "novice_fail": novice.pass_rate <= v.novice_max + 1e-9}
    wrong = {"too_deep_fails": bounds[:, 3] + 0.5}
    if (bounds[:, 2] > 0).any():
        wrong["too_shallow_fails"] = np.maximum(bounds[:, 2] - 0.3, 0.0)
    for key, depth in wrong.items():
        checks[key] = not evaluate(scenario, _with(reference, depth_mm=depth), library, config, screening).passed()
    rows = sweep(scenario, reference, screening, library, config, v.small_errors)
    checks["small_errors_hold"] = all(row.single_flips == 0 for row in rows)
    return checks


def calibrate(scenario: LoadedScenario, reference: Injections, screening, library: Library, config: Config,
              cal: Calibration, with_sweep: bool = True, real: Real | None = None) -> Result:
    """Contrasting groups for one exercise: simulated competent and novice cohorts scored, their pass rates at
    the exercise's own pass mark and threshold, the AUC, the proposed pass mark and competence threshold (where
    the two groups meet), and the one-error sweeps. With enough labelled real attempts (`real`, each group at
    least calibration.yaml labelled.min_per_group) the pass mark and threshold are proposed from them instead."""
    if not len(reference):
        empty = Group("", np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0))
        return Result(scenario.id, scenario.spec.pass_mark, 1.0, empty, empty, float("nan"), scenario.spec.pass_mark,
                      1.0, [], note="its reference makes no injection (a patient to be sent home): it is judged on the "
                      "screening decision alone, and there are no injections to simulate or a pass mark to set")
    groups = {}
    for k, (name, cohort) in enumerate(sorted(cal.cohorts.items())):
        attempts = cohort_attempts(reference, cohort, cal.attempts, cal.seed + 1000 * k)
        groups[name] = score_group(name, scenario, attempts, screening, library, config)
    competent, novice = groups["competent"], groups["novice"]
    reference_ev = evaluate(scenario, reference, library, config, screening)
    threshold = reference_ev.competence_threshold()
    high, low = (real.competent, real.not_competent) if real is not None and real.enough else (competent, novice)
    right_cut = contrasting_cut(np.round(high.share_right * 100, 1), np.round(low.share_right * 100, 1))
    return Result(scenario.id, scenario.spec.pass_mark, threshold, competent, novice,
                  auc(competent.scores, novice.scores),
                  proposed_pass_mark(high.scores, low.scores, reference_ev, threshold),
                  round(right_cut / 100, 3),
                  sweep(scenario, reference, screening, library, config, cal.sweep) if with_sweep else [], real,
                  cal.validity, validity_checks(scenario, reference, screening, library, config, cal, competent, novice))


def to_text(result: Result) -> str:
    if not result.simulated:
        return f"{result.scenario}: {result.note}\n"
    c, n = result.competent, result.novice
    lines = [f"{result.scenario}: pass mark {result.pass_mark:g}, {100 * result.competence_threshold:.0f} % of the "
             "injections done right",
             f"  competent: {100 * c.pass_rate:.0f} % pass, median score {np.median(c.scores):.1f}, "
             f"{100 * np.median(c.share_right):.0f} % right",
             f"  novice:    {100 * n.pass_rate:.0f} % pass, median score {np.median(n.scores):.1f}, "
             f"{100 * np.median(n.share_right):.0f} % right",
             f"  AUC {result.auc:.3f}; proposed pass mark {result.proposed_pass_mark:g}, competence threshold "
             f"{100 * result.proposed_threshold:.0f} %"]
    if result.checks:
        failed = [k for k, ok in result.checks.items() if not ok]
        lines.append("  validity: " + ("all checks met" if not failed else "NOT MET: " + "; ".join(
            CHECKS[k].format(competent_min=result.validity.competent_min, novice_max=result.validity.novice_max)
            for k in failed)))
    real = result.real
    if real is not None:
        nc, nn = len(real.competent.scores), len(real.not_competent.scores)
        counts = f"{nc} labelled competent, {nn} not competent"
        if real.left_out:
            counts += f" ({real.left_out} left out: unverified or unreadable)"
        if real.enough:
            lines.append(f"  real attempts: {counts}; at today's pass mark {100 * real.competent.pass_rate:.0f} % "
                         f"and {100 * real.not_competent.pass_rate:.0f} % pass; the proposal is made from them "
                         f"(AUC {auc(real.competent.scores, real.not_competent.scores):.3f})")
        else:
            lines.append(f"  real attempts: {counts}; fewer than {real.min_per_group} in a group, so the proposal "
                         "is made from the simulated groups")
    if result.sweep:
        lines.append("  one error (throughout: score, pass; one point at a time: how many of the points fail it):")
        for row in result.sweep:
            lines.append(f"    {row.error:<13} {row.size:>6g}: {row.throughout_score:5.1f} "
                         f"{'pass' if row.throughout_passed else 'FAIL'}; single {row.single_flips} of {row.points}")
    return "\n".join(lines) + "\n"
