"""`mesosim plan`: lay out an exercise's reference solution from its instructed values, and its flawed solutions
from the reference (scenario `instructed:` and each flawed solution's `plan:`).

A reference is what a competent injector does: points at the instructed spacing (a hexagonal or square grid over
the targets, or along the partings on the scalp), every point at least INSET_MM inside its target and CLEARANCE_MM
clear of every danger margin (and no-go spot) that a tip `depth_margin_mm` deeper than instructed would reach, so
that a hand's usual scatter never turns a right point wrong; no mesoinjector point where the gun is refused. A
patient who should be sent home gets no injection. Deterministic: the same file plans the same points.
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.exercise.scenario import Flaw, Instructed, LoadedScenario
from sim.core.exercise.techniques import Library
from sim.core.spatial.geometry import points_in_polygon
from sim.errors import InputError

CLEARANCE_MM = 2.0
"""How far a reference point keeps from a danger margin: two and a half times a competent hand's scatter
(assets/calibration.yaml, position_sd_mm 0.8)."""
INSET_MM = 1.5
"""How far a reference point keeps inside its target's edge (narrow targets, the folds and the lids, allow no
more)."""
SECONDS_PER_POINT = 3.0
"""The pace of a planned attempt (t_s of each row)."""

_RING = np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)


def _instructed(scenario: LoadedScenario) -> Instructed:
    spec = scenario.spec.instructed
    if spec is None:
        raise InputError.one(scenario.file, "instructed: the exercise gives no instructed technique and settings "
                             "to plan with (docs/scenario-authoring.md, `instructed`)")
    return spec


def layout(scenario: LoadedScenario, spacing: float, grid: str = "hex") -> np.ndarray:
    """Candidate points inside the targets: along the partings where the exercise has any (every `spacing` from
    half a spacing after each parting's start), else a grid of that pitch over the targets' bounding box."""
    polys = [p for _n, p in scenario.target_polygons]
    if not polys:
        x0, y0, x1, y1 = scenario.atlas.bounds_mm
    else:
        allp = np.concatenate(polys)
        (x0, y0), (x1, y1) = allp.min(axis=0), allp.max(axis=0)
    if scenario.spec.partings:
        pts = []
        for parting in scenario.spec.partings:
            line = np.asarray(parting.points_mm, dtype=np.float64)
            seg = np.diff(line, axis=0)
            lengths = np.hypot(seg[:, 0], seg[:, 1])
            at = np.arange(spacing / 2, float(lengths.sum()), spacing)
            ends = np.concatenate([[0.0], np.cumsum(lengths)])
            k = np.clip(np.searchsorted(ends, at, side="right") - 1, 0, len(seg) - 1)
            frac = (at - ends[k]) / np.where(lengths[k] > 0, lengths[k], 1.0)
            pts.append(line[k] + seg[k] * frac[:, None])
        xy = np.concatenate(pts) if pts else np.zeros((0, 2))
    else:
        hexed = grid == "hex"
        dy = spacing * (math.sqrt(3) / 2 if hexed else 1.0)
        rows = []
        for k, y in enumerate(np.arange(y0 + dy / 2, y1, dy)):
            off = spacing / 2 if hexed and k % 2 else 0.0
            xs = np.arange(x0 + spacing / 2 + off, x1, spacing)
            rows.append(np.column_stack([xs, np.full(len(xs), y)]))
        xy = np.concatenate(rows) if rows else np.zeros((0, 2))
    if polys:
        inside = np.zeros(len(xy), dtype=bool)
        for p in polys:
            inside |= points_in_polygon(xy, p)
        xy = xy[inside]
    return xy


def safe_points(scenario: LoadedScenario, library: Library, xy: np.ndarray, depth: float, margin: float,
                device: str) -> np.ndarray:
    """Which points a competent injector would use: on the map, INSET_MM inside a target all round, CLEARANCE_MM clear of every
    danger structure a tip `margin` deeper would reach and of every no-go spot, and no gun where it is refused."""
    polys = [p for _n, p in scenario.target_polygons]
    safe = scenario.atlas.region_index(xy) >= 0 if len(xy) else np.ones(0, dtype=bool)  # on the map
    if polys:
        for off in INSET_MM * _RING:
            within = np.zeros(len(xy), dtype=bool)
            for p in polys:
                within |= points_in_polygon(xy + off, p)
            safe &= within
    for s in scenario.structures:
        for off in np.vstack([[0.0, 0.0], CLEARANCE_MM * _RING]):
            hit, dist, _ = s.hits(xy + off, np.full(len(xy), depth + margin))
            safe &= ~hit
        if s.kind == "spot":
            safe &= ~(dist <= float(s.margin_a[0]) + CLEARANCE_MM)
    if device == "gun":
        refused = scenario.refused_regions(library)
        safe &= ~refused[scenario.atlas.region_index(xy)]
    return safe


def _rows(xy: np.ndarray, spec: Instructed, **changes) -> list[dict]:
    base = {"depth_mm": spec.depth_mm, "angle_deg": spec.angle_deg, "volume_ml": spec.volume_ml,
            "technique": spec.technique, "bevel": "up", "device": spec.device}
    base.update({k: v for k, v in changes.items() if v is not None})
    return [{"x_mm": round(float(x), 1), "y_mm": round(float(y), 1), **base} for x, y in xy]


def _retimed(rows: list[dict]) -> list[dict]:
    return [{**r, "t_s": SECONDS_PER_POINT * i} for i, r in enumerate(rows)]


def treatment(scenario: LoadedScenario, library: Library, spacing: float | None = None) -> list[dict]:
    """The instructed treatment laid out over the exercise, whatever the screening decision."""
    spec = _instructed(scenario)
    if spec.technique not in library.techniques:
        raise InputError.one(scenario.file, f'instructed.technique: unknown technique "{spec.technique}"')
    pitch = spacing or spec.spacing_mm or library.get(spec.technique).spacing_mm.nominal
    xy = layout(scenario, pitch, spec.grid)
    xy = xy[safe_points(scenario, library, xy, spec.depth_mm, spec.depth_margin_mm, spec.device)]
    return _retimed(_rows(xy, spec))


def plan_reference(scenario: LoadedScenario, library: Library) -> list[dict]:
    """The reference solution: the treatment, or nothing for a patient who should be sent home."""
    patient = scenario.spec.patient
    if patient is not None and patient.screening is not None and patient.screening.expected != "go":
        _instructed(scenario)
        return []
    return treatment(scenario, library)


def plan_flawed(scenario: LoadedScenario, library: Library, reference: list[dict], flaw: Flaw) -> list[dict]:
    """A flawed solution: the reference with the flaw's changes."""
    spec = _instructed(scenario)
    if flaw.empty:
        return []
    rows = [dict(r) for r in reference]
    if flaw.treat or flaw.spacing_mm is not None:
        rows = treatment(scenario, library, flaw.spacing_mm)
    changes = {"technique": flaw.technique, "depth_mm": flaw.depth_mm, "angle_deg": flaw.angle_deg,
               "volume_ml": flaw.volume_ml, "device": flaw.device}
    rows = [{**r, **{k: v for k, v in changes.items() if v is not None}} for r in rows]
    if flaw.shift_mm is not None:
        dx, dy = flaw.shift_mm
        rows = [{**r, "x_mm": round(r["x_mm"] + dx, 1), "y_mm": round(r["y_mm"] + dy, 1)} for r in rows]
    if flaw.keep_every:
        rows = rows[::flaw.keep_every]
    if flaw.double:
        rows = [x for r in rows for x in (r, {**r, "x_mm": round(r["x_mm"] + 0.4, 1)})]
    for point in flaw.extra_mm:
        here = {**changes, **({"depth_mm": point[2]} if len(point) > 2 else {})}
        rows += _rows(np.asarray([point[:2]]), spec, **here)
    return _retimed(rows)


def plan_solutions(scenario: LoadedScenario, library: Library) -> dict[str, list[dict]]:
    """Every solution the exercise names that can be planned: the reference, and each flawed one with a `plan:`,
    by their log paths (relative to the scenario file)."""
    sol = scenario.spec.solutions
    if sol is None:
        raise InputError.one(scenario.file, "solutions: the exercise names no solution logs to write")
    reference = plan_reference(scenario, library)
    out = {sol.reference.log: reference}
    for flawed in sol.flawed:
        if flawed.plan is not None:
            out[flawed.log] = plan_flawed(scenario, library, reference, flawed.plan)
    return out
