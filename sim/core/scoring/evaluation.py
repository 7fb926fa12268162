"""An attempt scored: every rule's verdicts, the attempt-level findings, the score and the pass; `evaluate()`
makes one, `Evaluation.extended()` adds injections to one without scoring the others again.

Several attempts scored together (sim.core.scoring.batch) share one set of rule results; each attempt's
evaluation sees its own rows of them (`_Slice`). An evaluation extended click by click keeps the parts it was
computed in (`Part`) until it has MAX_PARTS of them."""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from sim.core.exercise.scenario import LoadedScenario
from sim.core.exercise.techniques import Library
from sim.core.scoring.attempt_rules import attempt_rules, cover
from sim.core.scoring.config import Config
from sim.core.scoring.context import RuleContext, rule_context
from sim.core.scoring.findings import CRITICAL, FAIL, OK, Finding, RuleResult, ScreeningAnswer
from sim.core.scoring.injection_rules import pointwise_rules, rule_spacing
from sim.core.scoring.injections import Injections
from sim.core.scoring.neighbours import extend_nearest, nearest_same_technique
from sim.core.scoring.table import (UNITS, TechniqueTable, allowed_by, band_credit, distance_credit, layer_distance,
                                    significance_table, spacing_cap, technique_table)
from sim.core.vocabulary import ATTEMPT_RULES, INJECTION_RULES, VERDICTS

POINTWISE = tuple(r for r in INJECTION_RULES if r != "spacing")
"""Rules that judge each injection on its own; spacing depends on the others."""
MAX_PARTS = 64
"""An evaluation extended injection by injection is recomputed whole once it has this many parts."""
NEAREST_BLOCK = 1 << 15
"""The neighbour search takes the attempts of a chunk this many injections at a time (its arrays then stay in
the processor's cache)."""
COVER_CHUNK = 16
"""Attempts whose coverage grids are marked together."""


@dataclass(frozen=True)
class Part:
    """Pointwise results for injections [start, start + n) of an attempt: rows [offset, offset + n) of `rules`."""

    start: int
    n: int
    offset: int
    rules: dict[str, RuleResult]


class _Slice(Mapping):
    """The rule results of one attempt among many scored together: rows [offset, offset + n) of `rules`, each
    rule's view made when first asked for (re-scoring a cohort needs only the verdict counts)."""

    def __init__(self, rules: dict[str, RuleResult], offset: int, n: int):
        self._rules, self._offset, self._n = rules, offset, n
        self._made: dict[str, RuleResult] = {}

    def __getitem__(self, rule: str) -> RuleResult:
        made = self._made.get(rule)
        if made is None:
            result, offset = self._rules[rule], self._offset
            made = self._made[rule] = RuleResult(result.verdict[offset:offset + self._n],
                                                 lambda i: result.explain(offset + i))
        return made

    def __iter__(self):
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)


@dataclass
class Evaluation:
    scenario: LoadedScenario
    injections: Injections
    config: Config
    library: Library
    region: np.ndarray
    layer: np.ndarray
    rules: Mapping[str, RuleResult]
    attempt_findings: list[Finding]
    attempt_verdicts: dict[str, int]
    """Verdict of each applicable attempt criterion (ok included)."""
    measures: dict[str, float | None] = field(default_factory=dict)
    screening: ScreeningAnswer | None = None
    nearest_mm: np.ndarray | None = None
    """Distance [mm] from each injection to its nearest neighbour of the same technique (NaN: none)."""
    covered: np.ndarray | None = None
    """Coverage grid cells within reach of an injection (None without target areas)."""
    parts: tuple[Part, ...] = ()
    counts: dict[str, list[int]] | None = None
    """Verdict counts (ok, warn, fail, critical) of each per-injection rule, when already known."""
    attempt_credit: dict[str, float] = field(default_factory=dict)
    """Credit of an attempt criterion where it is not its verdict's (an accepted screening decision)."""

    @functools.cached_property
    def verdict(self) -> np.ndarray:
        """Worst verdict per injection."""
        if not self.rules:
            return np.zeros(len(self.injections), dtype=np.int8)
        return np.max(np.stack([r.verdict for r in self.rules.values()]), axis=0)

    def findings(self, i: int) -> list[Finding]:
        out: list[Finding] = []
        for rule in INJECTION_RULES:
            result = self.rules.get(rule)
            if result is not None and result.verdict[i] > OK:
                out.extend(result.explain(i))
        return out

    def weights(self) -> dict[str, float]:
        """Weight of each part of the score (injections, attempt criteria): scoring.yaml, then the scenario's."""
        w = dict(self.config.scoring.weights)
        w.update(self.scenario.spec.weights)
        return w

    @functools.cached_property
    def significant(self) -> np.ndarray:
        """(injections, rules) booleans over INJECTION_RULES: does this criterion count for this injection being
        done right (scoring.yaml competence.significant, its technique's and the scenario's own)?"""
        common = tuple(self.config.scoring.competence.significant) + tuple(self.scenario.spec.significant)
        return significance_table(self.library, self.injections.technique_ids, common)[self.injections.technique]

    @functools.cached_property
    def credit(self) -> np.ndarray:
        """Per injection, 0-1: the credit of its worst significant criterion. A criterion with a band earns 1 in
        its ok band, falling linearly to 0.5 at the edge of the warn band and to 0 as far again beyond it (how far
        off counts); its verdict caps it (a fail earns at most 0.5). The layer earns 1 in a layer the technique
        belongs in, falling to 0.5 at scoring.yaml layer_half_credit_mm from the nearest such layer (a tip just
        past the dermis is almost right), under the same cap. Others earn their verdict's credit."""
        n = len(self.injections)
        out = np.ones(n)
        if not n:
            return out
        c = self.config.scoring.verdict_credit
        by_verdict = np.asarray([c.ok, c.warn, c.fail, c.critical])
        cap = np.asarray([1.0, 1.0, 0.5, 0.0])  # by verdict: a fail earns at most half
        table = technique_table(self.library, self.injections.technique_ids)
        values = {"depth": self.injections.depth_mm, "angle": self.injections.angle_deg,
                  "volume": self.injections.volume_ml, "spacing": self.nearest_mm}
        significant = self.significant
        for k, rule in enumerate(INJECTION_RULES):
            mask = significant[:, k]
            if not mask.any():
                continue
            verdict = np.asarray(self.rules[rule].verdict)
            if rule in values and values[rule] is not None:
                graded = np.minimum(band_credit(values[rule], table.bands[f"{rule}_{UNITS[rule]}"],
                                                self.injections.technique), cap[verdict])
            elif rule == "layer":  # how far the tip is from a layer it belongs in
                off = layer_distance(self.injections.depth_mm, self.region, self.scenario.skin_bottoms,
                                     table.layer_ok[self.injections.technique])
                graded = np.minimum(distance_credit(off, self.config.scoring.layer_half_credit_mm), cap[verdict])
            else:
                graded = by_verdict[verdict]
            out = np.where(mask, np.minimum(out, graded), out)
        return out

    @functools.cached_property
    def done_right(self) -> np.ndarray:
        """Per injection: none of its significant criteria failed (a warning is still right)."""
        n = len(self.injections)
        if not n:
            return np.ones(0, dtype=bool)
        failed = np.stack([np.asarray(self.rules[r].verdict) >= FAIL for r in INJECTION_RULES], axis=1)
        return ~np.any(failed & self.significant, axis=1)

    def share_right(self) -> float:
        """The share of the injections done right; 1 when there are none (nothing was done wrong)."""
        return float(self.done_right.mean()) if len(self.done_right) else 1.0

    def competence_threshold(self) -> float:
        own = self.scenario.spec.competence_threshold
        return self.config.scoring.competence.threshold if own is None else own

    def failed_throughout(self) -> list[str]:
        """Per-injection criteria failed on at least competence.throughout of the injections: a systematic error
        fails the attempt, whatever else went right."""
        n = len(self.injections)
        if not n:
            return []
        limit = self.config.scoring.competence.throughout
        checked = set(self.config.scoring.competence.throughout_rules)
        out = []
        for rule in (r for r in INJECTION_RULES if r in checked):
            counts = (self.counts[rule] if self.counts is not None
                      else np.bincount(self.rules[rule].verdict, minlength=4).tolist())
            if (counts[FAIL] + counts[CRITICAL]) / n >= limit:
                out.append(rule)
        return out

    def criteria(self) -> list[dict]:
        """The parts of the score (injections, then each applicable attempt criterion) with their weight, score
        0-1 and verdict counts; then each per-injection criterion with the share of credit its verdicts earn and
        whether it is significant here (weight 0: it counts through the injections)."""
        credit = self.config.scoring.verdict_credit
        credits = (credit.ok, credit.warn, credit.fail, credit.critical)
        weights = self.weights()
        n = len(self.injections)
        out = []
        if n:
            counts = np.bincount(self.verdict, minlength=4).tolist()
            out.append({"rule": "injections", "weight": weights["injections"], "score": float(self.credit.mean()),
                        "counts": dict(zip(VERDICTS, counts))})
        for rule in ATTEMPT_RULES:
            if rule in self.attempt_verdicts:
                v = self.attempt_verdicts[rule]
                out.append({"rule": rule, "weight": weights[rule],
                            "score": float(self.attempt_credit.get(rule, credits[v])),
                            "counts": dict(zip(VERDICTS, [int(i == v) for i in range(4)]))})
        if n:
            significant = self.significant.any(axis=0)
            for k, rule in enumerate(INJECTION_RULES):
                if rule == "parting" and not self.scenario.spec.partings:
                    continue  # nothing to follow: not a criterion of this exercise
                counts = (self.counts[rule] if self.counts is not None
                          else np.bincount(self.rules[rule].verdict, minlength=4).tolist())
                out.append({"rule": rule, "weight": 0.0, "significant": bool(significant[k]),
                            "score": sum(c * s for c, s in zip(counts, credits)) / n,
                            "counts": dict(zip(VERDICTS, counts))})
        return out

    def score(self) -> float:
        total = weight = 0.0
        for c in self.criteria():
            total += c["weight"] * c["score"]
            weight += c["weight"]
        return round(100.0 * total / weight, 1) if weight > 0 else 0.0

    def critical_count(self) -> int:
        n = int(np.sum(self.rules["danger"].verdict == CRITICAL)) if self.rules else 0
        return n + sum(1 for f in self.attempt_findings if f.verdict == "critical")

    def blocking_failures(self) -> list[str]:
        """Criteria whose failure stops the attempt from passing, whatever its score: the attempt criteria of
        scoring.yaml `blocking` that failed, and per-injection criteria failed throughout."""
        blocked = [r for r in self.config.scoring.blocking if self.attempt_verdicts.get(r, OK) >= FAIL]
        return blocked + self.failed_throughout()

    def passed(self) -> bool:
        return (self.critical_count() == 0 and not self.blocking_failures()
                and self.share_right() >= self.competence_threshold() - 1e-9
                and self.score() >= self.scenario.spec.pass_mark)

    def extended(self, new: Injections) -> "Evaluation":
        """This evaluation with `new` injections added after the others, computed for the new ones only (plus
        the spacing of their neighbours and the coverage they add): what the trainer needs after each click.
        The result equals evaluate() of the whole attempt."""
        if len(self.parts) >= MAX_PARTS or self.nearest_mm is None:
            whole = Injections.concat([self.injections, new])
            return evaluate(self.scenario, whole, self.library, self.config, self.screening)
        start = len(self.injections)
        inj = Injections.concat([self.injections, new])
        ctx = rule_context(self.scenario, new, self.library, self.config)
        pointwise = pointwise_rules(ctx)
        parts = self.parts + (Part(start, len(new), 0, pointwise),)
        region = np.concatenate([self.region, ctx.region])
        layer = np.concatenate([self.layer, ctx.layer])
        nearest = extend_nearest(self.nearest_mm, self.injections, new, spacing_cap(ctx.table, inj.technique))
        rules = {r: _joined(parts, r, np.concatenate([self.rules[r].verdict, pointwise[r].verdict]))
                 for r in POINTWISE}
        whole = ctx.with_injections(inj, region, layer)
        rules["spacing"] = rule_spacing(whole, nearest)
        covered = coverage = None
        if self.covered is not None:
            covered = self.covered.copy()
            cover(self.scenario, ctx.table, self.config, covered, new)
            coverage = self.scenario.coverage_grid(self.config.scoring.coverage.cell_mm).fraction(covered)
        return assemble(whole, self.screening, {r: rules[r] for r in INJECTION_RULES}, nearest, covered,
                        coverage, None, parts)


def evaluate(scenario: LoadedScenario, inj: Injections, library: Library, config: Config,
             screening: ScreeningAnswer | None = None) -> Evaluation:
    """Run every rule on every injection of an attempt, then the attempt-level rules."""
    return evaluate_chunk(scenario, [inj], library, config, [screening])[0]


def batches(sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
    """Consecutive items (attempts of `sizes` injections) in [first, last) batches of at most `limit` injections,
    an item larger than that alone in its batch."""
    out: list[tuple[int, int]] = []
    first = 0
    while first < len(sizes):
        last, size = first, 0
        while last < len(sizes) and (last == first or size + sizes[last] <= limit):
            size += sizes[last]
            last += 1
        out.append((first, last))
        first = last
    return out


def evaluate_chunk(scenario: LoadedScenario, attempts: list[Injections], library: Library, config: Config,
                   screenings: list[ScreeningAnswer | None]) -> list[Evaluation]:
    """Several attempts (of the same technique ids) scored together: every rule runs once over all their
    injections, a neighbour counting for spacing only within its own attempt."""
    everything = Injections.concat(attempts)
    ctx = rule_context(scenario, everything, library, config)
    rules = pointwise_rules(ctx)
    sizes = np.asarray([len(a) for a in attempts], dtype=np.int64)
    ends = np.cumsum(sizes)
    owner = np.repeat(np.arange(len(attempts)), sizes)
    # a neighbour counts for spacing only within the same attempt and technique
    group = owner * len(everything.technique_ids) + everything.technique
    cap = spacing_cap(ctx.table, everything.technique)
    nearest = np.empty(len(everything))
    for first, last in batches(sizes.tolist(), NEAREST_BLOCK):  # groups never span attempts: in cache
        lo, hi = int(ends[first] - sizes[first]), int(ends[last - 1])
        nearest[lo:hi] = nearest_same_technique(everything.xy[lo:hi], group[lo:hi], cap[lo:hi])
    rules["spacing"] = rule_spacing(ctx, nearest, group)
    rules = {r: rules[r] for r in INJECTION_RULES}
    base = owner * 4
    counts = {r: np.bincount(base + rules[r].verdict, minlength=4 * len(attempts)).reshape(-1, 4).tolist()
              for r in INJECTION_RULES}
    covered = _cover_many(scenario, ctx.table, config, everything, owner, len(attempts))
    coverage = [None] * len(attempts)
    if covered is not None:
        grid = scenario.coverage_grid(config.scoring.coverage.cell_mm)
        inside = np.count_nonzero(covered & grid.inside, axis=(1, 2))
        coverage = [float(c / grid.n_inside) if grid.n_inside else 0.0 for c in inside.tolist()]
    out = []
    for k, (inj, answer) in enumerate(zip(attempts, screenings)):
        start, end = int(ends[k] - sizes[k]), int(ends[k])
        part = Part(0, end - start, start, rules)
        mine = rules if len(attempts) == 1 else _Slice(rules, start, end - start)
        one = ctx.with_injections(inj, ctx.region[start:end], ctx.layer[start:end])
        out.append(assemble(one, answer, mine, nearest[start:end], None if covered is None else covered[k],
                            coverage[k], {r: counts[r][k] for r in INJECTION_RULES}, (part,)))
    return out


def _cover_many(scenario: LoadedScenario, table: TechniqueTable, config: Config, inj: Injections,
                owner: np.ndarray, attempts: int) -> np.ndarray | None:
    """The coverage grid of every attempt (attempts, ny, nx), marked a chunk of attempts at a time; None when
    the scenario has no target areas."""
    if not scenario.target_polygons:
        return None
    grid = scenario.coverage_grid(config.scoring.coverage.cell_mm)
    out = np.zeros((attempts,) + grid.inside.shape, dtype=bool)
    use = (np.nonzero(allowed_by(scenario.technique_ids, table)[inj.technique])[0] if len(inj)
           else np.zeros(0, dtype=np.int64))
    bounds = np.searchsorted(owner[use], np.arange(0, attempts + COVER_CHUNK, COVER_CHUNK))
    for c, first in enumerate(range(0, attempts, COVER_CHUNK)):
        sel = use[bounds[c]:bounds[c + 1]]
        grid.cover(out[first:first + COVER_CHUNK], inj.xy[sel], table.reach_mm[inj.technique[sel]],
                   owner[sel] - first)
    return out


def _joined(parts: tuple[Part, ...], rule: str, verdict: np.ndarray) -> RuleResult:
    """One rule's result over the whole attempt from the parts it was computed in."""
    if len(parts) == 1:
        part = parts[0]
        result = part.rules[rule]
        if part.offset == 0 and len(result.verdict) == part.n:
            return result
        return RuleResult(verdict, lambda i: result.explain(part.offset + i))
    starts = [p.start for p in parts]

    def explain(i: int) -> list[Finding]:
        part = parts[bisect.bisect_right(starts, i) - 1]
        return part.rules[rule].explain(part.offset + i - part.start)

    return RuleResult(verdict, explain)


def _latest(t_s: np.ndarray) -> float | None:
    """The last time in the log (NaN, unknown, ignored); None when there is none."""
    latest = np.fmax.reduce(t_s) if len(t_s) else np.nan
    return None if np.isnan(latest) else float(latest)


def assemble(ctx: RuleContext, screening: ScreeningAnswer | None, rules: Mapping[str, RuleResult],
             nearest: np.ndarray, covered: np.ndarray | None, coverage: float | None,
             counts: dict[str, list[int]] | None, parts: tuple[Part, ...]) -> Evaluation:
    """The evaluation of one attempt from its per-injection results: the attempt-level rules are decided here."""
    inj = ctx.inj
    verdicts: dict[str, int] = {}
    findings: list[Finding] = []
    measures: dict[str, float | None] = {
        "total_volume_ml": round(float(np.sum(inj.volume_ml)), 9) if len(inj) else 0.0,
        "duration_s": _latest(inj.t_s),
        "coverage": None,
    }
    credit: dict[str, float] = {}
    attempt_rules(ctx, screening, coverage, verdicts, findings, measures, credit)
    return Evaluation(ctx.scenario, inj, ctx.config, ctx.library, ctx.region, ctx.layer, rules, findings,
                      verdicts, measures, screening, nearest, covered, parts, counts, credit)
