"""The scoring engine: every rule as a pure function over numpy arrays of an attempt's injections.

`evaluate()` runs the per-injection and per-attempt rules; `Evaluation.score()` weighs them into 0-100;
`report.build_report()` turns an evaluation into the score report of contract.md. Same inputs, same bytes.
"""

from __future__ import annotations

import bisect
import functools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from sim.core.anatomy.atlas import Atlas, Structure
from sim.core.scoring.injections import Injections
from sim.core.exercise.scenario import LoadedScenario, NoGoSpot
from sim.core.scoring.config import ATTEMPT_RULES, INJECTION_RULES, VERDICTS, Config
from sim.core.spatial import CoverageGrid, DangerHits, DangerIndex, RegionIndex, distance, nearest_in_group
from sim.core.exercise.techniques import Band, Library
from sim.core.vocabulary import CODE, LAYERS

OK, WARN, FAIL, CRITICAL = 0, 1, 2, 3


@dataclass(frozen=True)
class Finding:
    """A check that did not pass: which rule, how bad, what was measured against what, why, and on what authority."""

    rule: str
    verdict: str
    message: str
    source: str
    measured: float | str | None = None
    expected: str | None = None
    unit: str | None = None
    structure: str | None = None

    def as_dict(self) -> dict:
        out = {"rule": self.rule, "verdict": self.verdict, "message": self.message, "source": self.source}
        if self.measured is not None:
            out["measured"] = _round(self.measured) if isinstance(self.measured, float) else self.measured
        if self.expected is not None:
            out["expected"] = self.expected
        if self.unit is not None:
            out["unit"] = self.unit
        if self.structure is not None:
            out["structure"] = self.structure
        return out


@dataclass(frozen=True)
class ScreeningAnswer:
    decision: str
    """go, postpone or no-go."""
    reason: str | None = None


def _round(v: float) -> float:
    r = round(float(v), 4)
    return 0.0 if r == 0 else r


class _Blank(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(template: str, **values) -> str:
    """str.format that leaves unknown placeholders visible instead of failing (message texts are data)."""
    return template.format_map(_Blank(values))


def fmt(value: float, unit: str) -> str:
    if unit == "ml":
        text = f"{value:.3f}".rstrip("0").rstrip(".")
    elif unit == "s":
        text = f"{value:.0f}"
    else:
        text = f"{value:.1f}".rstrip("0").rstrip(".")
    if unit == "deg":
        return f"{text}°"
    if unit == "%":
        return f"{text} %"
    return f"{text} {unit}"


UNIT_WORD = {"depth_mm": "mm", "angle_deg": "deg", "spacing_mm": "mm", "volume_ml": "ml"}


# ---------------------------------------------------------------- technique parameters as arrays


@dataclass(frozen=True)
class TechniqueTable:
    """Per technique (indexed like Injections.technique): bands and masks as arrays, for vectorised lookups."""

    ids: tuple[str, ...]
    bands: dict[str, np.ndarray]
    """quantity -> (T, 4) ok_lo, ok_hi, warn_lo, warn_hi."""
    layer_ok: np.ndarray
    layer_warn: np.ndarray
    """(T, 4) booleans over LAYERS."""
    bevel_down: np.ndarray
    liquid_ok: np.ndarray
    gel_ok: np.ndarray
    hand_ok: np.ndarray
    gun_ok: np.ndarray
    face_cap_exempt: np.ndarray
    on_face: np.ndarray
    on_scalp: np.ndarray
    reach_mm: np.ndarray


@functools.lru_cache(maxsize=8)
def technique_table(library: Library, ids: tuple[str, ...]) -> TechniqueTable:
    techs = [library.get(t) for t in ids]
    bands = {q: np.asarray([getattr(t, q).bounds() for t in techs], dtype=np.float64).reshape(-1, 4)
             for q in ("depth_mm", "angle_deg", "spacing_mm", "volume_ml")}
    exempt = set(library.limits.face_max_depth_mm.exempt)
    return TechniqueTable(
        ids=ids,
        bands=bands,
        layer_ok=np.asarray([[layer in t.layer.ok for layer in LAYERS] for t in techs], dtype=bool).reshape(-1, 4),
        layer_warn=np.asarray([[layer in t.layer.warn for layer in LAYERS] for t in techs], dtype=bool).reshape(-1, 4),
        bevel_down=np.asarray([t.bevel.required == "down" for t in techs], dtype=bool),
        liquid_ok=np.asarray(["liquid" in t.products.allowed for t in techs], dtype=bool),
        gel_ok=np.asarray(["gel" in t.products.allowed for t in techs], dtype=bool),
        hand_ok=np.asarray(["hand" in t.devices.allowed for t in techs], dtype=bool),
        gun_ok=np.asarray(["gun" in t.devices.allowed for t in techs], dtype=bool),
        face_cap_exempt=np.asarray([t.id in exempt for t in techs], dtype=bool),
        on_face=np.asarray(["face" in t.maps for t in techs], dtype=bool),
        on_scalp=np.asarray(["scalp" in t.maps for t in techs], dtype=bool),
        reach_mm=np.asarray([t.reach() for t in techs], dtype=np.float64),
    )


def band_verdict(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """OK inside [ok_lo, ok_hi], WARN inside [warn_lo, warn_hi], else FAIL (NaN too); `bounds` is (N, 4)."""
    return _verdict3((values >= bounds[:, 0]) & (values <= bounds[:, 1]),
                     (values >= bounds[:, 2]) & (values <= bounds[:, 3]))


def band_verdict_by(values: np.ndarray, table: np.ndarray, technique: np.ndarray) -> np.ndarray:
    """band_verdict with the bounds of each injection's technique from `table` (T, 4), column by column."""
    col = [np.ascontiguousarray(table[:, c])[technique] for c in range(4)]
    return _verdict3((values >= col[0]) & (values <= col[1]), (values >= col[2]) & (values <= col[3]))


def _verdict3(ok: np.ndarray, warn: np.ndarray) -> np.ndarray:
    out = np.full(len(ok), FAIL, dtype=np.int8)
    out[warn] = WARN
    out[ok] = OK
    return out


# ---------------------------------------------------------------- the evaluation


@dataclass
class RuleResult:
    """One per-injection rule over all injections: a verdict each, and how to explain the ones that are not ok."""

    verdict: np.ndarray
    explain: Callable[[int], list[Finding]]


POINTWISE = tuple(r for r in INJECTION_RULES if r != "spacing")
"""Rules that judge each injection on its own; spacing depends on the others."""
MAX_PARTS = 64
"""An evaluation extended injection by injection is recomputed whole once it has this many parts."""


@dataclass(frozen=True)
class _Part:
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
    parts: tuple[_Part, ...] = ()
    counts: dict[str, list[int]] | None = None
    """Verdict counts (ok, warn, fail, critical) of each per-injection rule, when already known."""

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
        w = dict(self.config.scoring.weights)
        w.update(self.scenario.spec.weights)
        return w

    def criteria(self) -> list[dict]:
        """Each applicable criterion: its weight, its score 0-1 and its verdict counts."""
        return [{"rule": rule, "weight": w, "score": score, "counts": dict(zip(VERDICTS, counts))}
                for rule, w, score, counts in self._scored()]

    def score(self) -> float:
        total = weight = 0.0
        for _rule, w, score, _counts in self._scored():
            total += w * score
            weight += w
        return round(100.0 * total / weight, 1) if weight > 0 else 0.0

    def _scored(self):
        """(rule, weight, score 0-1, verdict counts) of each applicable criterion."""
        credit = self.config.scoring.verdict_credit
        credits = (credit.ok, credit.warn, credit.fail, credit.critical)
        weights = self.weights()
        n = len(self.injections)
        if n:
            for rule in INJECTION_RULES:
                counts = (self.counts[rule] if self.counts is not None
                          else np.bincount(self.rules[rule].verdict, minlength=4).tolist())
                yield rule, weights[rule], sum(c * k for c, k in zip(counts, credits)) / n, counts
        for rule in ATTEMPT_RULES:
            if rule in self.attempt_verdicts:
                v = self.attempt_verdicts[rule]
                yield rule, weights[rule], float(credits[v]), [int(i == v) for i in range(4)]

    def critical_count(self) -> int:
        n = int(np.sum(self.rules["danger"].verdict == CRITICAL)) if self.rules else 0
        return n + sum(1 for f in self.attempt_findings if f.verdict == "critical")

    def blocking_failures(self) -> list[str]:
        """Attempt criteria that failed and, by scoring.yaml `blocking`, stop the attempt from passing."""
        return [r for r in self.config.scoring.blocking if self.attempt_verdicts.get(r, OK) >= FAIL]

    def passed(self) -> bool:
        return (self.score() >= self.scenario.spec.pass_mark and self.critical_count() == 0
                and not self.blocking_failures())

    def extended(self, new: Injections) -> "Evaluation":
        """This evaluation with `new` injections added after the others, computed for the new ones only (plus
        the spacing of their neighbours and the coverage they add): what the trainer needs after each click.
        The result equals evaluate() of the whole attempt."""
        if len(self.parts) >= MAX_PARTS or self.nearest_mm is None:
            whole = Injections.concat([self.injections, new])
            return evaluate(self.scenario, whole, self.library, self.config, self.screening)
        start = len(self.injections)
        inj = Injections.concat([self.injections, new])
        ctx = _context(self.scenario, new, self.library, self.config)
        pointwise = _pointwise_rules(ctx)
        parts = self.parts + (_Part(start, len(new), 0, pointwise),)
        region = np.concatenate([self.region, ctx.region])
        layer = np.concatenate([self.layer, ctx.layer])
        nearest = extend_nearest(self.nearest_mm, self.injections, new, spacing_cap(ctx.table, inj.technique))
        rules = {r: _joined(parts, r, np.concatenate([self.rules[r].verdict, pointwise[r].verdict]))
                 for r in POINTWISE}
        whole = _Ctx(self.scenario, inj, self.library, self.config, ctx.table, region, layer, ctx.skin)
        rules["spacing"] = _rule_spacing(whole, nearest)
        covered = coverage = None
        if self.covered is not None:
            covered = self.covered.copy()
            _cover(self.scenario, ctx.table, self.config, covered, new)
            coverage = coverage_grid(self.scenario, self.config.scoring.coverage.cell_mm).fraction(covered)
        return _assemble(whole, self.screening, {r: rules[r] for r in INJECTION_RULES}, nearest, covered,
                         coverage, None, parts)


def evaluate(scenario: LoadedScenario, inj: Injections, library: Library, config: Config,
             screening: ScreeningAnswer | None = None) -> Evaluation:
    """Run every rule on every injection of an attempt, then the attempt-level rules."""
    return evaluate_many(scenario, [inj], library, config, [screening])[0]


CHUNK_INJECTIONS = 1 << 16
"""evaluate_many works through the attempts in chunks of about this many injections: large enough that numpy,
not Python, does the work (and can do it in several threads at once), small enough to keep memory bounded."""


def default_workers() -> int:
    """Threads evaluate_many uses: one per processor this process may run on, at most four (beyond that the
    Python between the numpy calls is the limit)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(4, available))


def evaluate_many(scenario: LoadedScenario, attempts: Sequence[Injections], library: Library, config: Config,
                  screenings: Sequence[ScreeningAnswer | None] | None = None,
                  workers: int | None = None) -> list[Evaluation]:
    """evaluate() for many attempts of one scenario at once (re-scoring a cohort): every rule runs over the
    injections of many attempts together, a neighbour counting for spacing only within its own attempt. Each
    result equals evaluate() of that attempt alone.

    The attempts are scored in chunks; after the first (which builds the scenario's indexes), the chunks are
    shared among `workers` threads (default: default_workers()). numpy does most of the work without holding
    the interpreter lock, so the threads run at once. Chunks do not depend on each other, so the results are
    the same, in the same order, whatever the number of threads."""
    if not attempts:
        return []
    screenings = list(screenings) if screenings is not None else [None] * len(attempts)
    ids = attempts[0].technique_ids
    attempts = [a if a.technique_ids == ids else Injections.from_records(a.records(), ids) for a in attempts]
    chunks = _batches([len(a) for a in attempts], CHUNK_INJECTIONS)

    def chunk(bounds: tuple[int, int]) -> list[Evaluation]:
        lo, hi = bounds
        return _evaluate_chunk(scenario, attempts[lo:hi], library, config, screenings[lo:hi])

    out = chunk(chunks[0])
    workers = default_workers() if workers is None else max(1, int(workers))
    if workers == 1 or len(chunks) < 3:
        for bounds in chunks[1:]:
            out.extend(chunk(bounds))
        return out
    with ThreadPoolExecutor(max_workers=min(workers, len(chunks) - 1), thread_name_prefix="mesosim-score") as pool:
        for evaluations in pool.map(chunk, chunks[1:]):
            out.extend(evaluations)
    return out


def _batches(sizes: Sequence[int], limit: int) -> list[tuple[int, int]]:
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


def _evaluate_chunk(scenario: LoadedScenario, attempts: list[Injections], library: Library, config: Config,
                    screenings: list[ScreeningAnswer | None]) -> list[Evaluation]:
    everything = Injections.concat(attempts)
    ctx = _context(scenario, everything, library, config)
    rules = _pointwise_rules(ctx)
    sizes = np.asarray([len(a) for a in attempts], dtype=np.int64)
    ends = np.cumsum(sizes)
    owner = np.repeat(np.arange(len(attempts)), sizes)
    # a neighbour counts for spacing only within the same attempt and technique
    group = owner * len(everything.technique_ids) + everything.technique
    cap = spacing_cap(ctx.table, everything.technique)
    nearest = np.empty(len(everything))
    for first, last in _batches(sizes.tolist(), NEAREST_BLOCK):  # groups never span attempts: in cache
        lo, hi = int(ends[first] - sizes[first]), int(ends[last - 1])
        nearest[lo:hi] = nearest_same_technique(everything.xy[lo:hi], group[lo:hi], cap[lo:hi])
    rules["spacing"] = _rule_spacing(ctx, nearest, group)
    rules = {r: rules[r] for r in INJECTION_RULES}
    base = owner * 4
    counts = {r: np.bincount(base + rules[r].verdict, minlength=4 * len(attempts)).reshape(-1, 4).tolist()
              for r in INJECTION_RULES}
    covered = _cover_many(scenario, ctx.table, config, everything, owner, len(attempts))
    coverage = [None] * len(attempts)
    if covered is not None:
        grid = coverage_grid(scenario, config.scoring.coverage.cell_mm)
        inside = np.count_nonzero(covered & grid.inside, axis=(1, 2))
        coverage = [float(c / grid.n_inside) if grid.n_inside else 0.0 for c in inside.tolist()]
    out = []
    for k, (inj, answer) in enumerate(zip(attempts, screenings)):
        start, end = int(ends[k] - sizes[k]), int(ends[k])
        part = _Part(0, end - start, start, rules)
        mine = rules if len(attempts) == 1 else _Slice(rules, start, end - start)
        one = _Ctx(scenario, inj, library, config, ctx.table, ctx.region[start:end], ctx.layer[start:end], ctx.skin)
        out.append(_assemble(one, answer, mine, nearest[start:end], None if covered is None else covered[k],
                             coverage[k], {r: counts[r][k] for r in INJECTION_RULES}, (part,)))
    return out


NEAREST_BLOCK = 1 << 15
"""The neighbour search takes the attempts of a chunk this many injections at a time (its arrays then stay in
the processor's cache)."""


COVER_CHUNK = 16
"""Attempts whose coverage grids are marked together."""


def _cover_many(scenario: LoadedScenario, table: TechniqueTable, config: Config, inj: Injections,
                owner: np.ndarray, attempts: int) -> np.ndarray | None:
    """The coverage grid of every attempt (attempts, ny, nx), marked a chunk of attempts at a time; None when
    the scenario has no target areas."""
    if not scenario.target_polygons:
        return None
    grid = coverage_grid(scenario, config.scoring.coverage.cell_mm)
    out = np.zeros((attempts,) + grid.inside.shape, dtype=bool)
    use = np.nonzero(_allowed(scenario, table)[inj.technique])[0] if len(inj) else np.zeros(0, dtype=np.int64)
    bounds = np.searchsorted(owner[use], np.arange(0, attempts + COVER_CHUNK, COVER_CHUNK))
    for c, first in enumerate(range(0, attempts, COVER_CHUNK)):
        sel = use[bounds[c]:bounds[c + 1]]
        grid.cover(out[first:first + COVER_CHUNK], inj.xy[sel], table.reach_mm[inj.technique[sel]],
                   owner[sel] - first)
    return out


def _context(scenario: LoadedScenario, inj: Injections, library: Library, config: Config) -> "_Ctx":
    """Everything the pointwise rules need: region and skin layer of every injection, the danger hits."""
    atlas = scenario.atlas
    table = technique_table(library, inj.technique_ids)
    region = atlas.region_index(inj.xy) if len(inj) else np.zeros(0, dtype=np.int64)
    skin = skin_of(scenario)
    layer = _layers(inj.depth_mm, region, skin_bottoms(scenario))
    danger = danger_index(scenario)
    hits = danger.hits(inj.xy, inj.depth_mm)
    return _Ctx(scenario, inj, library, config, table, region, layer, skin, danger.structures, hits)


def _pointwise_rules(ctx: "_Ctx") -> dict[str, RuleResult]:
    return {
        "technique": _rule_technique(ctx),
        "target": _rule_target(ctx),
        "depth": _rule_depth(ctx),
        "layer": _rule_layer(ctx),
        "angle": _rule_band(ctx, "angle", "angle_deg", "too_steep", "too_flat"),
        "volume": _rule_volume(ctx),
        "bevel": _rule_bevel(ctx),
        "product": _rule_product(ctx),
        "device": _rule_device(ctx),
        "danger": _rule_danger(ctx),
    }


def _joined(parts: tuple[_Part, ...], rule: str, verdict: np.ndarray) -> RuleResult:
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


def _assemble(ctx: "_Ctx", screening: ScreeningAnswer | None, rules: dict[str, RuleResult], nearest: np.ndarray,
              covered: np.ndarray | None, coverage: float | None, counts: dict[str, list[int]] | None,
              parts: tuple[_Part, ...]) -> Evaluation:
    """The evaluation of one attempt from its per-injection results: the attempt-level rules are decided here."""
    inj, scenario = ctx.inj, ctx.scenario
    verdicts_attempt: dict[str, int] = {}
    findings: list[Finding] = []
    measures: dict[str, float | None] = {
        "total_volume_ml": round(float(np.sum(inj.volume_ml)), 9) if len(inj) else 0.0,
        "duration_s": _latest(inj.t_s),
        "coverage": None,
    }
    patient = scenario.spec.patient
    declined = (screening is not None and screening.decision != "go" and patient is not None
                and patient.screening is not None)
    if not declined:  # a patient sent home is judged on the decision alone
        _attempt_count(ctx, verdicts_attempt, findings, measures)
        _attempt_coverage(ctx, verdicts_attempt, findings, measures, coverage)
        _attempt_total_volume(ctx, verdicts_attempt, findings, measures)
        _attempt_time(ctx, verdicts_attempt, findings, measures)
    _attempt_screening(ctx, screening, verdicts_attempt, findings)
    return Evaluation(scenario, inj, ctx.config, ctx.library, ctx.region, ctx.layer, rules, findings,
                      verdicts_attempt, measures, screening, nearest, covered, parts, counts)


@dataclass(frozen=True)
class _Ctx:
    scenario: LoadedScenario
    inj: Injections
    library: Library
    config: Config
    table: TechniqueTable
    region: np.ndarray
    layer: np.ndarray
    skin: np.ndarray
    structures: tuple[Structure, ...] = ()
    hits: DangerHits | None = None

    @property
    def atlas(self) -> Atlas:
        return self.scenario.atlas

    def tech(self, i: int):
        return self.library.get(self.inj.technique_ids[int(self.inj.technique[i])])

    def region_name(self, i: int) -> str:
        r = int(self.region[i])
        return self.atlas.regions[r].name.lower() if r >= 0 else f"area off the {self.atlas.map}"

    def text(self, rule: str, case: str, **values) -> str:
        return fill(self.config.text(rule, case), **values)

    def verdict_name(self, key: str) -> int:
        return CODE[getattr(self.config.scoring.verdicts, key)]


def _layers(depth: np.ndarray, region: np.ndarray, bottoms: np.ndarray) -> np.ndarray:
    """Index into LAYERS of the tip for every injection; -1 off the map. The boundary belongs to the deeper layer.
    `bottoms`: (R + 1, 3) depth of the bottom of epidermis, dermis and fat per region, then a row for off the
    map."""
    b = bottoms[region]  # region -1 takes the last row
    out = (depth >= b[:, 0]).astype(np.int64) + (depth >= b[:, 1]) + (depth >= b[:, 2])
    out[region < 0] = -1
    return out


@functools.lru_cache(maxsize=32)
def skin_bottoms(scenario: LoadedScenario) -> np.ndarray:
    """Cumulative skin thicknesses per region (skin_of), and a row of zeros for points off the map."""
    return np.vstack([np.cumsum(skin_of(scenario), axis=1), np.zeros((1, 3))])


def _empty_explain(_i: int) -> list[Finding]:
    return []


# ---------------------------------------------------------------- per-injection rules


def _rule_technique(ctx: _Ctx) -> RuleResult:
    """technique: the technique is one the scenario allows, and belongs on this map (techniques.md)."""
    t = ctx.table
    allowed = np.asarray([tid in ctx.scenario.technique_ids for tid in t.ids], dtype=bool)
    on_map = t.on_face if ctx.atlas.map == "face" else t.on_scalp
    k = ctx.inj.technique
    not_allowed = ~allowed[k] if len(k) else np.zeros(0, dtype=bool)
    wrong_map = ~on_map[k] if len(k) else np.zeros(0, dtype=bool)
    indication = ctx.scenario.spec.indication
    indicated = np.asarray([indication is None or tid in indication.techniques for tid in t.ids], dtype=bool)
    not_indicated = (~indicated[k] & ~not_allowed) if len(k) else np.zeros(0, dtype=bool)
    verdict = np.maximum.reduce([np.where(not_allowed, ctx.verdict_name("technique_not_allowed"), OK),
                                 np.where(wrong_map, ctx.verdict_name("technique_wrong_map"), OK),
                                 np.where(not_indicated, ctx.verdict_name("technique_not_indicated"), OK)]
                                ).astype(np.int8)
    names = [ctx.library.get(x).name for x in ctx.scenario.technique_ids]

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        out = []
        if not_allowed[i]:
            out.append(Finding("technique", VERDICTS[ctx.verdict_name("technique_not_allowed")],
                               ctx.text("technique", "not_allowed", technique=tech.name, expected=" or ".join(names)),
                               f"scenario {ctx.scenario.id}", tech.id, " or ".join(ctx.scenario.technique_ids)))
        if not_indicated[i]:
            right = " or ".join(ctx.library.get(x).name for x in indication.techniques)
            out.append(Finding("technique", VERDICTS[ctx.verdict_name("technique_not_indicated")],
                               ctx.text("technique", "not_indicated", technique=tech.name, expected=right,
                                        explanation=indication.explanation),
                               indication.source, tech.id, " or ".join(indication.techniques)))
        if wrong_map[i]:
            out.append(Finding("technique", VERDICTS[ctx.verdict_name("technique_wrong_map")],
                               ctx.text("technique", "wrong_map", technique=tech.name, map=ctx.atlas.map),
                               "techniques.md", tech.id, ", ".join(tech.maps)))
        return out

    return RuleResult(verdict, explain)


def _rule_target(ctx: _Ctx) -> RuleResult:
    """target: the point is on the map, and inside one of the scenario's target areas when it names any."""
    n = len(ctx.inj)
    off = ctx.region < 0
    inside = np.ones(n, dtype=bool)
    if ctx.scenario.target_polygons and n:
        inside = target_index(ctx.scenario).lookup(ctx.inj.xy) >= 0
    verdict = np.where(off, ctx.verdict_name("off_map"),
                       np.where(inside, OK, ctx.verdict_name("outside_target"))).astype(np.int8)
    labels = ", ".join(t.label for t in ctx.scenario.spec.targets)

    def explain(i: int) -> list[Finding]:
        if off[i]:
            return [Finding("target", VERDICTS[int(verdict[i])], ctx.text("target", "off_map", map=ctx.atlas.map),
                            "anatomy.md", None, ctx.atlas.map)]
        return [Finding("target", VERDICTS[int(verdict[i])], ctx.text("target", "outside", expected=labels),
                        f"scenario {ctx.scenario.id}", ctx.region_name(i), labels)]

    return RuleResult(verdict, explain)


def _rule_depth(ctx: _Ctx) -> RuleResult:
    """depth: tip depth against the technique's depth band (depth_mm ok/warn); on the face, deeper than
    face_max_depth_mm outside the exempt techniques also fails (seeds 001, 002, 004)."""
    k = ctx.inj.technique
    d = ctx.inj.depth_mm
    table = ctx.table.bands["depth_mm"]
    verdict = band_verdict_by(d, table, k)
    cap = ctx.library.limits.face_max_depth_mm
    over = np.zeros(len(d), dtype=bool)
    if ctx.atlas.map == "face" and len(d):
        over = (d > cap.value) & ~ctx.table.face_cap_exempt[k]
        verdict = np.maximum(verdict, np.where(over, ctx.verdict_name("over_face_depth"), OK)).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        out = []
        bounds = table[k[i]]
        band_v = int(band_verdict(d[i:i + 1], bounds[None, :])[0])
        if band_v > OK:
            case = "too_deep" if d[i] > bounds[1] else "too_shallow"
            expected = tech.depth_mm.describe("mm")
            out.append(Finding("depth", VERDICTS[band_v], ctx.text("depth", case, measured=fmt(d[i], "mm"),
                                                                    technique=tech.name, expected=expected),
                               tech.depth_mm.source, float(d[i]), expected, "mm"))
        if over[i]:
            expected = f"at most {cap.value:g} mm"
            out.append(Finding("depth", VERDICTS[ctx.verdict_name("over_face_depth")],
                               ctx.text("depth", "over_face_cap", measured=fmt(d[i], "mm"), expected=expected),
                               cap.source, float(d[i]), expected, "mm"))
        return out

    return RuleResult(verdict, explain)


def _rule_layer(ctx: _Ctx) -> RuleResult:
    """layer: the skin layer the tip reaches in this region (atlas skin thicknesses, patient overrides) against
    the technique's target layers (layer.ok, layer.warn): 1.5 mm is dermis on the cheek, below it on the eyelid."""
    k = ctx.inj.technique
    lay = ctx.layer
    on = lay >= 0
    verdict = np.zeros(len(k), dtype=np.int8)
    if on.any():
        idx = np.nonzero(on)[0]
        ok = ctx.table.layer_ok[k[idx], lay[idx]]
        warn = ctx.table.layer_warn[k[idx], lay[idx]]
        verdict[idx] = np.where(ok, OK, np.where(warn, WARN, FAIL))
    layer_words = {"epidermis": "epidermis", "dermis": "dermis", "fat": "subcutaneous fat",
                   "below": "tissue below the subcutaneous fat (muscle, fascia or bone)"}

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        epi, der, fat = ctx.skin[ctx.region[i]]
        expected = " or ".join(layer_words[x] for x in tech.layer.ok)
        message = ctx.text("layer", "wrong", measured=fmt(ctx.inj.depth_mm[i], "mm"),
                           layer=layer_words[LAYERS[lay[i]]], region=ctx.region_name(i),
                           epidermis=fmt(epi, "mm"), dermis=fmt(der, "mm"), fat=fmt(fat, "mm"),
                           technique=tech.name, expected=expected)
        source = f"{tech.layer.source}; skin: {ctx.atlas.regions[ctx.region[i]].skin_source}"
        return [Finding("layer", VERDICTS[int(verdict[i])], message, source, LAYERS[lay[i]], expected)]

    return RuleResult(verdict, explain)


def _rule_band(ctx: _Ctx, rule: str, quantity: str, high_case: str, low_case: str) -> RuleResult:
    """A plain band check of one injection setting against the technique's band for it."""
    values = getattr(ctx.inj, quantity)
    table = ctx.table.bands[quantity]
    verdict = band_verdict_by(values, table, ctx.inj.technique)
    unit = UNIT_WORD[quantity]

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        band: Band = getattr(tech, quantity)
        expected = band.describe(unit).replace(" deg", "°")
        case = high_case if values[i] > table[ctx.inj.technique[i], 1] else low_case
        return [Finding(rule, VERDICTS[int(verdict[i])],
                        ctx.text(rule, case, measured=fmt(values[i], unit), technique=tech.name, expected=expected),
                        band.source, float(values[i]), expected, unit)]

    return RuleResult(verdict, explain)


def _distance(xy: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Distance [mm] between injections i and j, elementwise; the one formula both the whole-attempt and the
    injection-by-injection spacing use."""
    return distance(xy[:, 0], xy[:, 1], i, j)


def spacing_cap(table: TechniqueTable, technique: np.ndarray) -> np.ndarray:
    """Per injection, the spacing beyond which the verdict no longer depends on the distance (the top of the
    technique's warn band: farther fails all the same)."""
    b = table.bands["spacing_mm"]
    return np.maximum(b[:, 1], b[:, 3])[technique]


def nearest_same_technique(xy: np.ndarray, technique: np.ndarray, cap: np.ndarray | None = None) -> np.ndarray:
    """Distance [mm] from each injection to its nearest neighbour of the same technique; NaN when it has none;
    +inf when it is beyond `cap` (its exact value is then worked out only when a finding needs it). A spatial
    grid (sim.core.spatial.indexes.nearest_in_group): linear in the number of injections, never all pairs."""
    return nearest_in_group(xy, technique, cap)


def exact_nearest(xy: np.ndarray, group: np.ndarray, i: int) -> float:
    """The distance [mm] from injection i to its nearest neighbour of the same group, by the same formula."""
    same = np.nonzero(group == group[i])[0]
    same = same[same != i]
    return float(_distance(xy, same, np.full(len(same), i)).min()) if len(same) else float("nan")


def extend_nearest(nearest: np.ndarray, old: Injections, new: Injections, cap: np.ndarray) -> np.ndarray:
    """nearest_same_technique of old + new, from that of old: each new injection is measured against the ones of
    its technique before it, which may in turn come closer to it than to their old neighbour. `cap` is for all
    of old + new."""
    xy = np.concatenate([old.xy, new.xy])
    technique = np.concatenate([old.technique, new.technique])
    out = np.concatenate([nearest, np.full(len(new), np.nan)])
    for k in range(len(old), len(xy)):
        same = np.nonzero(technique[:k] == technique[k])[0]
        if not len(same):
            continue
        d = _distance(xy, same, np.full(len(same), k))
        out[k] = d.min()
        closer = ~(out[same] <= d)  # NaN (no neighbour yet) too
        out[same[closer]] = d[closer]
    out[out > cap] = np.inf
    return out


def _rule_spacing(ctx: _Ctx, nn: np.ndarray, group: np.ndarray | None = None) -> RuleResult:
    """spacing: distance to the nearest injection of the same technique against spacing_mm; closer than
    scoring.spacing.double_puncture_mm is a double puncture (fail). `group`: who counts as a neighbour (by
    default the same technique; for many attempts at once, the same attempt and technique)."""
    table = ctx.table.bands["spacing_mm"]
    has = ~np.isnan(nn)
    verdict = band_verdict_by(nn, table, ctx.inj.technique)
    verdict[~has] = OK  # alone with its technique: nothing to space from
    double = nn < ctx.config.scoring.spacing.double_puncture_mm  # False for NaN
    verdict[double] = FAIL

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        expected = tech.spacing_mm.describe("mm")
        d = float(nn[i]) if np.isfinite(nn[i]) else exact_nearest(
            ctx.inj.xy, ctx.inj.technique if group is None else group, i)
        if double[i]:
            case = "double"
        else:
            case = "too_far" if d > table[ctx.inj.technique[i], 1] else "too_close"
        return [Finding("spacing", VERDICTS[int(verdict[i])],
                        ctx.text("spacing", case, measured=fmt(d, "mm"), technique=tech.name, expected=expected),
                        tech.spacing_mm.source, d, expected, "mm")]

    return RuleResult(verdict, explain)


def bleb_diameter_mm(volume_ml: np.ndarray | float, config: Config) -> np.ndarray | float:
    """Papule diameter [mm] from its volume [ml]: d = d_ref * (V / V_ref)^(1/3) (bleb model, techniques.md)."""
    b = config.scoring.bleb
    return b.reference_diameter_mm * np.cbrt(np.asarray(volume_ml) / b.reference_volume_ml)


def _rule_volume(ctx: _Ctx) -> RuleResult:
    """volume: volume at one point against the technique's volume_ml band; over max_volume_ml (0.2 ml, seed 004)
    always fails. For papules the message gives the bleb size the volume makes."""
    base = _rule_band(ctx, "volume", "volume_ml", "too_much", "too_little")
    vmax = ctx.library.limits.max_volume_ml
    over = ctx.inj.volume_ml > vmax.value
    verdict = np.maximum(base.verdict, np.where(over, ctx.verdict_name("over_max_volume"), OK)).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        out = []
        if base.verdict[i] > OK and not over[i]:  # over the maximum: that finding says it all
            (f,) = base.explain(i)
            papule = ""
            if tech.papule:
                lo, hi = tech.volume_ml.ok
                size = (f"{fmt(float(bleb_diameter_mm(lo, ctx.config)), 'mm')}-"
                        f"{fmt(float(bleb_diameter_mm(hi, ctx.config)), 'mm')} papules")
                papule = ctx.text("volume", "papule", technique=tech.name, size=size,
                                  diameter=fmt(float(bleb_diameter_mm(ctx.inj.volume_ml[i], ctx.config)), "mm"))
            case = "too_much" if ctx.inj.volume_ml[i] > tech.volume_ml.ok[1] else "too_little"
            message = ctx.text("volume", case, measured=fmt(ctx.inj.volume_ml[i], "ml"), technique=tech.name,
                               expected=f.expected, papule=papule)
            source = f.source + (f"; {ctx.config.scoring.bleb.source}" if papule else "")
            out.append(Finding("volume", f.verdict, message, source, f.measured, f.expected, "ml"))
        if over[i]:
            expected = f"{vmax.value:g} ml"
            out.append(Finding("volume", VERDICTS[ctx.verdict_name("over_max_volume")],
                               ctx.text("volume", "over_max", measured=fmt(ctx.inj.volume_ml[i], "ml"),
                                        expected=expected), vmax.source, float(ctx.inj.volume_ml[i]),
                               f"at most {expected}", "ml"))
        return out

    return RuleResult(verdict, explain)


def _rule_bevel(ctx: _Ctx) -> RuleResult:
    """bevel: the bevel as the technique requires (all of them bevel up, seed 004)."""
    want_down = ctx.table.bevel_down[ctx.inj.technique]
    wrong = ctx.inj.bevel_down != want_down
    verdict = np.where(wrong, ctx.verdict_name("bevel_wrong"), OK).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        measured = "down" if ctx.inj.bevel_down[i] else "up"
        return [Finding("bevel", VERDICTS[int(verdict[i])],
                        ctx.text("bevel", "wrong", measured=measured, technique=tech.name,
                                 expected=tech.bevel.required), tech.bevel.source, measured, tech.bevel.required)]

    return RuleResult(verdict, explain)


def _rule_product(ctx: _Ctx) -> RuleResult:
    """product: the scenario's product form is one the technique allows (no gels for superficial and median
    nappage, seed 004)."""
    form = ctx.scenario.spec.product.form
    allowed = ctx.table.liquid_ok if form == "liquid" else ctx.table.gel_ok
    bad = ~allowed[ctx.inj.technique]
    verdict = np.where(bad, ctx.verdict_name("product_not_allowed"), OK).astype(np.int8)

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        expected = " or ".join(tech.products.allowed)
        return [Finding("product", VERDICTS[int(verdict[i])],
                        ctx.text("product", "not_allowed", measured=form, technique=tech.name, expected=expected),
                        tech.products.source, form, expected)]

    return RuleResult(verdict, explain)


def _rule_device(ctx: _Ctx) -> RuleResult:
    """device: hand or mesoinjector as the scenario and the technique allow; the mesoinjector is refused in
    regions tagged with gun.refused_tags (around the eyes and the nasolabial folds, seed 000)."""
    gun = ctx.inj.gun
    devices = ctx.scenario.spec.devices
    by_scenario = np.where(gun, "gun" not in devices, "hand" not in devices)
    k = ctx.inj.technique
    by_technique = np.where(gun, ~ctx.table.gun_ok[k], ~ctx.table.hand_ok[k])
    refused_tags = set(ctx.library.limits.gun.refused_tags)
    refused_regions = np.asarray([bool(refused_tags & set(r.tags)) for r in ctx.atlas.regions] + [False], dtype=bool)
    in_refused = refused_regions[ctx.region] if len(ctx.region) else np.zeros(0, dtype=bool)
    refused = gun & in_refused
    v_not = ctx.verdict_name("device_not_allowed")
    verdict = np.maximum(np.where(by_scenario | by_technique, v_not, OK),
                         np.where(refused, ctx.verdict_name("device_refused_region"), OK)).astype(np.int8)
    words = {"hand": "by hand", "gun": "with the mesoinjector"}

    def explain(i: int) -> list[Finding]:
        tech = ctx.tech(i)
        measured = "gun" if gun[i] else "hand"
        label = "mesoinjector" if gun[i] else "hand"
        out = []
        if by_scenario[i]:
            expected = " or ".join(words[d] for d in devices)
            out.append(Finding("device", VERDICTS[v_not], ctx.text("device", "not_allowed_scenario", measured=label,
                                                                    expected=expected),
                               f"scenario {ctx.scenario.id}", measured, " or ".join(devices)))
        if by_technique[i]:
            out.append(Finding("device", VERDICTS[v_not], ctx.text("device", "not_allowed_technique",
                                                                    measured=label, technique=tech.name),
                               tech.devices.source, measured, " or ".join(tech.devices.allowed)))
        if refused[i]:
            out.append(Finding("device", VERDICTS[ctx.verdict_name("device_refused_region")],
                               ctx.text("device", "refused_region", region=ctx.region_name(i)),
                               ctx.library.limits.gun.source, measured, "hand"))
        return out

    return RuleResult(verdict, explain)


def spot_structure(spot: NoGoSpot, index: int) -> Structure:
    """A patient's no-go spot as a danger structure: a point whose radius is its margin, hit at any depth."""
    p = np.asarray([spot.at_mm], dtype=np.float64)
    r = float(spot.radius_mm)
    return Structure(f"no-go-{index + 1}", spot.name, "spot", spot.severity, spot.consequence,
                     "scenario no-go spot (seed 001: moles must not be injured)", p, p, np.zeros(1), np.zeros(1),
                     np.asarray([r]), np.asarray([r]), None,
                     (float(p[0, 0] - r), float(p[0, 1] - r), float(p[0, 0] + r), float(p[0, 1] + r)), p)


@functools.lru_cache(maxsize=32)
def danger_index(scenario: LoadedScenario) -> DangerIndex:
    """The atlas's danger structures and the scenario's no-go spots, indexed for lookup."""
    spots = [spot_structure(s, i) for i, s in enumerate(scenario.spec.no_go)]
    return DangerIndex(list(scenario.atlas.structures) + spots)


def _rule_danger(ctx: _Ctx) -> RuleResult:
    """danger: depth-aware danger structures of the atlas and the scenario's no-go spots. A hit needs the point
    within the structure's lateral margin AND the tip at or below its depth there; the structure's severity sets
    the verdict (scoring.severity_verdict)."""
    sev = ctx.config.scoring.severity_verdict
    hits = ctx.hits
    codes = np.asarray([CODE[getattr(sev, s.severity)] for s in ctx.structures], dtype=np.int8)
    verdict = np.zeros(len(ctx.inj), dtype=np.int8)
    if len(hits.point):
        np.maximum.at(verdict, hits.point, codes[hits.structure])

    def explain(i: int) -> list[Finding]:
        out = []
        for h in hits.of(i):
            s = ctx.structures[int(hits.structure[h])]
            dist, sdepth = float(hits.distance[h]), float(hits.depth[h])
            v = VERDICTS[int(codes[hits.structure[h]])]
            if v == "ok":
                continue
            measured = fmt(ctx.inj.depth_mm[i], "mm")
            if s.kind == "spot":
                message = ctx.text("danger", "no_go_spot", structure=s.name.lower(), distance=fmt(dist, "mm"),
                                   consequence=s.consequence)
                expected = f"no puncture within {fmt(float(s.margin_a[0]), 'mm')}"
            else:
                name = s.name[:1].lower() + s.name[1:]
                if s.area is not None:
                    where = "inside" if dist == 0 else f"{fmt(dist, 'mm')} from"
                    message = ctx.text("danger", "hit_area" if sdepth > 0 else "hit_area_any", measured=measured,
                                       structure=name, where=where,
                                       structure_depth=fmt(sdepth, "mm"), consequence=s.consequence)
                else:
                    case = "hit_point" if len(s.a) == 1 and np.array_equal(s.a, s.b) else "hit"
                    message = ctx.text("danger", case, measured=measured, structure=name, distance=fmt(dist, "mm"),
                                       structure_depth=fmt(sdepth, "mm"), consequence=s.consequence)
                expected = f"shallower than {fmt(sdepth, 'mm')} here"
            out.append(Finding("danger", v, message, s.source, float(ctx.inj.depth_mm[i]), expected, "mm", s.id))
        return out

    return RuleResult(verdict, explain)


# ---------------------------------------------------------------- per-attempt rules


def _fraction_verdict(value: float, lo: float, hi: float, warn_fraction: float) -> tuple[int, str]:
    """OK inside [lo, hi]; WARN within warn_fraction outside it; else FAIL. Compared at 1e-9 so that sums of
    decimal volumes (6 x 0.02 = 0.12000000000000001) land where a person would put them."""
    value, lo, hi = round(value, 9), round(lo, 9), round(hi, 9)
    if lo <= value <= hi:
        return OK, ""
    if value < lo:
        return (WARN if value >= round(lo * (1 - warn_fraction), 9) else FAIL), "low"
    return (WARN if value <= round(hi * (1 + warn_fraction), 9) else FAIL), "high"


def _attempt_count(ctx: _Ctx, verdicts, findings, measures) -> None:
    """count: the number of injections against the scenario's expected range; within count.warn_fraction
    outside it warns."""
    spec = ctx.scenario.spec.count
    if spec is None:
        return
    n = len(ctx.inj)
    v, side = _fraction_verdict(n, spec.min, spec.max, ctx.config.scoring.count.warn_fraction)
    verdicts["count"] = v
    if v > OK:
        expected = f"{spec.min}-{spec.max}" if spec.min != spec.max else f"{spec.min}"
        findings.append(Finding("count", VERDICTS[v], ctx.text("count", "too_few" if side == "low" else "too_many",
                                                               measured=n, expected=expected),
                                f"scenario {ctx.scenario.id}", float(n), expected))


@functools.lru_cache(maxsize=32)
def skin_of(scenario: LoadedScenario) -> np.ndarray:
    """Skin layer thicknesses per region (atlas.skin_arrays) with the scenario's patient overrides."""
    overrides = scenario.spec.patient.skin_overrides if scenario.spec.patient else {}
    return scenario.atlas.skin_arrays(overrides)


@functools.lru_cache(maxsize=32)
def target_index(scenario: LoadedScenario) -> RegionIndex:
    """The scenario's target polygons, indexed: inside one of them is index >= 0."""
    return RegionIndex([p for _n, p in scenario.target_polygons], 0.0)


@functools.lru_cache(maxsize=32)
def coverage_grid(scenario: LoadedScenario, cell_mm: float) -> CoverageGrid:
    """The scenario's target areas (their union) sampled on a grid of cell_mm."""
    return CoverageGrid([p for _n, p in scenario.target_polygons], cell_mm)


def _allowed(scenario: LoadedScenario, table: TechniqueTable) -> np.ndarray:
    """Per technique of `table`: does the scenario allow it (only those count towards coverage)?"""
    return np.asarray([tid in scenario.technique_ids for tid in table.ids], dtype=bool)


def _cover(scenario: LoadedScenario, table: TechniqueTable, config: Config, covered: np.ndarray,
           inj: Injections) -> None:
    """Mark the grid cells within reach (the technique's reach_mm) of injections of a technique the scenario
    allows."""
    use = _allowed(scenario, table)[inj.technique] if len(inj) else np.zeros(0, dtype=bool)
    grid = coverage_grid(scenario, config.scoring.coverage.cell_mm)
    grid.cover(covered, inj.xy[use], table.reach_mm[inj.technique[use]])


def _attempt_coverage(ctx: _Ctx, verdicts, findings, measures, value: float | None) -> None:
    """coverage: the share of the target area within reach of a puncture (reach_mm of the technique; `value`,
    from the coverage grid) against the scenario's coverage (or scoring.coverage) ok and warn thresholds."""
    if not ctx.scenario.target_polygons:
        return
    cfg = ctx.config.scoring.coverage
    spec = ctx.scenario.spec.coverage
    ok, warn = (spec.ok, spec.warn) if spec else (cfg.ok, cfg.warn)
    value = value if len(ctx.inj) and value is not None else 0.0
    measures["coverage"] = value
    v = OK if value >= ok else (WARN if value >= warn else FAIL)
    verdicts["coverage"] = v
    if v > OK:
        reach = sorted({fmt(float(ctx.table.reach_mm[ctx.table.ids.index(t)]), "mm")
                        for t in ctx.scenario.technique_ids})
        findings.append(Finding("coverage", VERDICTS[v],
                                ctx.text("coverage", "low", measured=fmt(100 * value, "%"), expected=fmt(100 * ok, "%"),
                                         reach=" or ".join(reach)),
                                "techniques.md spacing specs; scoring.yaml coverage", value, f"at least {ok:g}"))


def _attempt_total_volume(ctx: _Ctx, verdicts, findings, measures) -> None:
    """total_volume: the volume of the whole attempt against the scenario's total_volume_ml range."""
    spec = ctx.scenario.spec.total_volume_ml
    if spec is None:
        return
    total = measures["total_volume_ml"]
    v, side = _fraction_verdict(total, spec.min_ml, spec.max_ml, ctx.config.scoring.total_volume.warn_fraction)
    verdicts["total_volume"] = v
    if v > OK:
        expected = f"{spec.min_ml:g}-{spec.max_ml:g} ml"
        findings.append(Finding("total_volume", VERDICTS[v],
                                ctx.text("total_volume", "too_little" if side == "low" else "too_much",
                                         measured=fmt(total, "ml"), expected=expected),
                                f"scenario {ctx.scenario.id}", total, expected, "ml"))


def _attempt_time(ctx: _Ctx, verdicts, findings, measures) -> None:
    """time: the attempt's duration (last t_s) against the time limit; in exam mode any overrun fails, in
    practice up to time.warn_fraction over warns. Not applicable when the log carries no times."""
    limit = ctx.scenario.spec.time_limit_s
    duration = measures["duration_s"]
    if limit is None or duration is None:
        return
    if duration <= limit:
        v = OK
    elif ctx.scenario.spec.mode == "practice" and duration <= limit * (1 + ctx.config.scoring.time.warn_fraction):
        v = WARN
    else:
        v = FAIL
    verdicts["time"] = v
    if v > OK:
        findings.append(Finding("time", VERDICTS[v], ctx.text("time", "over", measured=fmt(duration, "s"),
                                                              expected=fmt(limit, "s")),
                                f"scenario {ctx.scenario.id}", duration, f"at most {limit:g} s", "s"))


def _attempt_screening(ctx: _Ctx, answer: ScreeningAnswer | None, verdicts, findings) -> None:
    """screening: the go / postpone / no-go decision and its reason against the patient case
    (contraindications.md); injecting a patient who should not be treated today fails."""
    patient = ctx.scenario.spec.patient
    if patient is None or patient.screening is None:
        return
    spec = patient.screening
    source = spec.source
    if answer is None:
        v = FAIL
        findings.append(Finding("screening", "fail", ctx.text("screening", "missing", expected=spec.expected),
                                source, None, spec.expected))
    elif answer.decision != spec.expected:
        v = ctx.verdict_name("screening_wrong_decision")
        findings.append(Finding("screening", VERDICTS[v], ctx.text("screening", "wrong_decision", measured=answer.decision,
                                                              expected=spec.expected, explanation=spec.explanation),
                                source, answer.decision, spec.expected))
    elif answer.reason not in spec.reasons:
        v = WARN
        findings.append(Finding("screening", "warn", ctx.text("screening", "wrong_reason", measured=answer.decision,
                                                              explanation=spec.explanation),
                                source, answer.reason or "", " or ".join(spec.reasons)))
    else:
        v = OK
    if spec.expected != "go" and len(ctx.inj):
        v = max(v, ctx.verdict_name("screening_treated"))
        findings.append(Finding("screening", VERDICTS[ctx.verdict_name("screening_treated")],
                                ctx.text("screening", "treated", expected=spec.expected,
                                                              count=len(ctx.inj)),
                                source, float(len(ctx.inj)), "no injections"))
    verdicts["screening"] = v
