"""The anatomy atlas: landmarks, regions with their skin layers, danger structures and the drawing, in mm.

Data lives in assets/atlas/<map>/ (atlas.yaml, landmarks.yaml, regions.yaml, danger.yaml, drawing.yaml).
Paired items are written once on the subject's left (+x) and mirrored here into `<id>-left` and `<id>-right`.
A variant (the female face, say) scales the canonical coordinates about the origin and may give its own
landmark positions and skin thicknesses.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Union

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.errors import InputError, Problem
from sim.core.spatial.geometry import ellipse_polygon, mirror_x, points_in_polygon, polygon_problem, closest_on_segments
from sim.core.files.model import FileModel, validate
from sim.paths import assets_dir
from sim.core.spatial.indexes import RegionIndex
from sim.core.files.yamlio import load_yaml_file
from sim.core.vocabulary import LAYERS, MAPS, MapId, Severity, Slug

Point = tuple[float, float]
Evidence = Literal["V", "D", "GK"]
"""Skin layers from the surface down; 'below' is whatever lies under the subcutaneous fat (muscle, fascia, bone)."""



# ---------------------------------------------------------------- file models


class Variant(FileModel):
    label: str
    """What a trainee sees, e.g. 'Adult female'."""
    scale: float = Field(gt=0.5, lt=1.5)
    """Factor applied about the origin to every canonical coordinate of regions, danger structures and drawing."""
    source: str


class AtlasMeta(FileModel):
    id: MapId
    name: str
    view: Literal["frontal", "top"]
    frame: str
    """The coordinate frame in words (origin, axes)."""
    canonical_variant: Slug
    variants: dict[Slug, Variant]
    snap_mm: float = Field(ge=0, le=20)
    """A point outside every region but this close to one [mm] belongs to the nearest region."""
    bounds_mm: tuple[float, float, float, float]
    """Extent of the map drawing: x_min, y_min, x_max, y_max [mm]."""

    @model_validator(mode="after")
    def _canonical_exists(self):
        if self.canonical_variant not in self.variants:
            raise ValueError(f'canonical_variant "{self.canonical_variant}" is not in variants')
        return self


class Landmark(FileModel):
    id: Slug
    name: str
    paired: bool = False
    at_mm: dict[Slug, Point]
    """Position per variant [mm]; a variant without its own value uses the canonical one scaled."""
    basis: str
    evidence: Evidence


class Skin(FileModel):
    epidermis_mm: float = Field(gt=0, le=5)
    dermis_mm: float = Field(gt=0, le=10)
    fat_mm: float = Field(ge=0, le=60)


class RegionSkin(FileModel):
    by_variant: dict[Slug, Skin]
    """Skin layer thicknesses per variant; a variant without its own uses the canonical one."""
    source: str
    evidence: Evidence
    note: str = ""


class Region(FileModel):
    id: Slug
    name: str
    group: Slug | None = None
    """A name that covers several regions, e.g. 'temples' for temple-left and temple-right."""
    tags: list[Slug] = []
    """Properties the rules refer to, e.g. 'periorbital' or 'nasolabial' (no mesoinjector there)."""
    paired: bool = False
    polygon_mm: list[Point] = Field(min_length=3)
    skin: RegionSkin

    @field_validator("polygon_mm")
    @classmethod
    def _simple(cls, v):
        problem = polygon_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class PolylineShape(FileModel):
    kind: Literal["polyline"]
    points_mm: list[Point] = Field(min_length=2)


class PointShape(FileModel):
    kind: Literal["point"]
    at_mm: Point


class PolygonShape(FileModel):
    kind: Literal["polygon"]
    points_mm: list[Point] = Field(min_length=3)

    @field_validator("points_mm")
    @classmethod
    def _simple(cls, v):
        problem = polygon_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class EllipseShape(FileModel):
    kind: Literal["ellipse"]
    center_mm: Point
    semi_axes_mm: tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]]


Shape = Annotated[Union[PolylineShape, PointShape, PolygonShape, EllipseShape], Field(discriminator="kind")]


class Variation(FileModel):
    """How far this structure may lie from its drawn position in a seeded anatomical variant (published ranges)."""

    lateral_mm: float = Field(ge=0, le=15)
    """The whole path (or point) moves by up to this distance in a random direction [mm]."""
    depth_factor: tuple[Annotated[float, Field(gt=0.2, le=3)], Annotated[float, Field(gt=0.2, le=3)]] = (1.0, 1.0)
    """Depths are multiplied by a factor drawn between these two."""
    source: str


class DangerStructure(FileModel):
    id: Slug
    name: str
    kind: Literal["artery", "vein", "nerve", "neurovascular", "foramen", "eye", "duct"]
    paired: bool = False
    shape: Shape
    depth_mm: float | list[float]
    """Depth of the structure's top below the skin surface [mm]; per point for a polyline, interpolated between.
    A needle tip at or below this depth, laterally within the margin, hits it."""
    margin_mm: float | list[float]
    """Lateral margin [mm] (vessel diameter plus positional spread); per point for a polyline. For a point
    structure it is the radius."""
    severity: Severity
    consequence: str
    """What a hit means for the patient, in words a trainee understands."""
    source: str
    evidence: Evidence
    note: str = ""
    variation: Variation | None = None
    """Range of positions and depths for seeded anatomical variants; none keeps it where it is drawn."""

    @model_validator(mode="after")
    def _per_point_lengths(self):
        for name in ("depth_mm", "margin_mm"):
            value = getattr(self, name)
            if isinstance(value, list):
                if not isinstance(self.shape, PolylineShape):
                    raise ValueError(f"{name} may be a list only for a polyline")
                if len(value) != len(self.shape.points_mm):
                    raise ValueError(f"{name} has {len(value)} values for {len(self.shape.points_mm)} points")
            values = value if isinstance(value, list) else [value]
            if any(not (0 <= v <= 60) for v in values):
                raise ValueError(f"{name} must lie between 0 and 60 mm")
        return self


class DrawingItem(FileModel):
    """A feature drawn so that a cosmetologist recognises the map (outline, brows, eyes, lips, hairline...)."""

    id: Slug
    style: Literal["outline", "hairline", "hair", "brow", "eye", "iris", "nose", "lip", "ear", "crease", "parting",
                   "landmark"]
    paired: bool = False
    closed: bool = False
    points_mm: list[Point] = Field(min_length=2)


# ---------------------------------------------------------------- the compiled atlas


@dataclass(frozen=True)
class CompiledRegion:
    id: str
    name: str
    group: str | None
    tags: tuple[str, ...]
    side: Literal["left", "right", "midline"]
    polygon: np.ndarray
    epidermis_mm: float
    dermis_mm: float
    fat_mm: float
    skin_source: str


@dataclass(frozen=True)
class Structure:
    """A danger structure placed in one variant: segments with depth and margin at each end."""

    id: str
    name: str
    kind: str
    severity: str
    consequence: str
    source: str
    a: np.ndarray
    b: np.ndarray
    depth_a: np.ndarray
    depth_b: np.ndarray
    margin_a: np.ndarray
    margin_b: np.ndarray
    area: np.ndarray | None = None
    """Polygon [mm] for area structures (inside counts as distance 0), else None."""
    bbox: tuple[float, float, float, float] = (0, 0, 0, 0)
    """x_min, y_min, x_max, y_max including the margin [mm]: a cheap first test before the exact one."""
    points: np.ndarray | None = None
    """The path or outline [mm], for drawing."""

    def hits(self, xy: np.ndarray, depth_mm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hit, lateral distance [mm], structure depth there [mm]) for every point; depth-aware.

        A hit needs the point within the lateral margin AND the tip at or below the structure's depth.
        Points outside the bounding box get distance inf and are never hits.
        """
        n = len(xy)
        dist = np.full(n, np.inf)
        sdepth = np.full(n, np.nan)
        margin = np.zeros(n)
        x0, y0, x1, y1 = self.bbox
        near = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        idx = np.nonzero(near)[0]
        if len(idx):
            d, t = closest_on_segments(xy[idx], self.a, self.b)
            best = np.argmin(d, axis=1)
            rows = np.arange(len(idx))
            tb = t[rows, best]
            dist[idx] = d[rows, best]
            sdepth[idx] = self.depth_a[best] + tb * (self.depth_b[best] - self.depth_a[best])
            margin[idx] = self.margin_a[best] + tb * (self.margin_b[best] - self.margin_a[best])
            if self.area is not None:
                inside = points_in_polygon(xy[idx], self.area)
                dist[idx[inside]] = 0.0
        hit = (dist <= margin) & (depth_mm >= sdepth)
        return hit, dist, sdepth


@dataclass(frozen=True)
class Atlas:
    """One map in one variant, ready for scoring and drawing. Coordinates in mm in the frame of contract.md."""

    map: str
    variant: str
    variant_label: str
    name: str
    view: str
    bounds_mm: tuple[float, float, float, float]
    snap_mm: float
    regions: tuple[CompiledRegion, ...]
    structures: tuple[Structure, ...]
    landmarks: dict[str, tuple[float, float]]
    drawing: tuple[tuple[str, str, bool, np.ndarray], ...]
    """(id, style, closed, points [mm]) for every drawn feature."""
    digest: str
    """SHA-256 of the atlas files this was built from."""
    variants: tuple[str, ...] = ()
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tags: dict[str, tuple[str, ...]] = field(default_factory=dict)
    seed: int | None = None
    """The anatomical-variation seed this atlas was built with (None: the drawn anatomy)."""

    def region_ids(self) -> list[str]:
        return [r.id for r in self.regions]

    def area_names(self) -> list[str]:
        """Every name a scenario may use for an area: region ids, group names and tags."""
        return sorted(set(self.region_ids()) | set(self.groups) | set(self.tags))

    def resolve_area(self, name: str) -> tuple[str, ...]:
        """Region ids named by a region id, a group name or a tag (e.g. 'periorbital'); () if unknown."""
        if name in self.groups:
            return self.groups[name]
        if name in self.region_ids():
            return (name,)
        return self.tags.get(name, ())

    def region(self, region_id: str) -> CompiledRegion:
        for r in self.regions:
            if r.id == region_id:
                return r
        raise KeyError(region_id)

    def region_index(self, xy: np.ndarray) -> np.ndarray:
        """Index into `regions` for every point, -1 when off the map. Earlier regions win where they overlap;
        a point outside all of them but within snap_mm of one belongs to the nearest. The same result as
        `region_index_exact`, from a raster of the regions (sim.core.spatial.indexes.RegionIndex)."""
        return self.region_raster.lookup(xy)

    @functools.cached_property
    def region_raster(self) -> RegionIndex:
        key = (self.digest, self.map, self.variant)
        index = _REGION_RASTERS.get(key)
        if index is None:
            index = _REGION_RASTERS[key] = RegionIndex([r.polygon for r in self.regions], self.snap_mm)
        return index

    def region_index_exact(self, xy: np.ndarray) -> np.ndarray:
        """region_index by testing every point against every polygon: the definition, kept for the tests."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        out = np.full(len(xy), -1, dtype=np.int64)
        for i, r in enumerate(self.regions):
            todo = out < 0
            if not todo.any():
                break
            idx = np.nonzero(todo)[0]
            out[idx[points_in_polygon(xy[idx], r.polygon)]] = i
        missing = np.nonzero(out < 0)[0]
        if len(missing) and self.snap_mm > 0:
            best = np.full(len(missing), np.inf)
            for i, r in enumerate(self.regions):
                d, _ = closest_on_segments(xy[missing], r.polygon, np.roll(r.polygon, -1, axis=0))
                dmin = d.min(axis=1)
                better = (dmin < best) & (dmin <= self.snap_mm)
                best[better] = dmin[better]
                out[missing[better]] = i
        return out

    def skin_arrays(self, overrides: dict[str, Skin] | None = None) -> np.ndarray:
        """(R, 3) epidermis, dermis, fat [mm] per region, with a patient's overrides applied."""
        rows = []
        for r in self.regions:
            o = (overrides or {}).get(r.id)
            rows.append((o.epidermis_mm, o.dermis_mm, o.fat_mm) if o else (r.epidermis_mm, r.dermis_mm, r.fat_mm))
        return np.asarray(rows, dtype=np.float64).reshape(-1, 3)


_REGION_RASTERS: dict[tuple[str, str, str], RegionIndex] = {}
"""Region rasters by (atlas digest, map, variant): the regions do not change with the variation seed."""


# ---------------------------------------------------------------- loading


FILES = ("atlas.yaml", "landmarks.yaml", "regions.yaml", "danger.yaml", "drawing.yaml")


def atlas_dir(map_id: str) -> Path:
    return assets_dir() / "atlas" / map_id


def _list_of(model, doc):
    if not isinstance(doc.data, list):
        raise InputError([doc.problem((), "expected a list of entries")])
    items, problems = [], []
    for i, entry in enumerate(doc.data):
        try:
            items.append(validate(model, doc, entry, prefix=(i,)))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return items


@dataclass(frozen=True)
class AtlasSource:
    meta: AtlasMeta
    landmarks: list[Landmark]
    regions: list[Region]
    danger: list[DangerStructure]
    drawing: list[DrawingItem]
    digest: str


@functools.lru_cache(maxsize=8)
def load_source(map_id: str) -> AtlasSource:
    folder = atlas_dir(map_id)
    digest = hashlib.sha256()
    docs = {}
    for name in FILES:
        path = folder / name
        docs[name] = load_yaml_file(path)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    problems: list[Problem] = []
    parts = {}
    for name, model in (("landmarks.yaml", Landmark), ("regions.yaml", Region), ("danger.yaml", DangerStructure),
                        ("drawing.yaml", DrawingItem)):
        try:
            parts[name] = _list_of(model, docs[name])
        except InputError as exc:
            problems.extend(exc.problems)
    try:
        meta = validate(AtlasMeta, docs["atlas.yaml"])
    except InputError as exc:
        problems.extend(exc.problems)
        meta = None
    if problems:
        raise InputError(problems)
    src = AtlasSource(meta, parts["landmarks.yaml"], parts["regions.yaml"], parts["danger.yaml"],
                      parts["drawing.yaml"], digest.hexdigest())
    _check_references(src, docs)
    return src


def _check_references(src: AtlasSource, docs) -> None:
    problems = []
    variants = set(src.meta.variants)
    for fname, items, attr in (("landmarks.yaml", src.landmarks, "at_mm"),):
        for i, item in enumerate(items):
            for v in getattr(item, attr):
                if v not in variants:
                    problems.append(docs[fname].problem((i, attr, v), f'unknown variant "{v}"', key=True))
            if src.meta.canonical_variant not in getattr(item, attr):
                problems.append(docs[fname].problem((i, attr), f'needs a value for "{src.meta.canonical_variant}"'))
    for i, region in enumerate(src.regions):
        for v in region.skin.by_variant:
            if v not in variants:
                problems.append(docs["regions.yaml"].problem((i, "skin", "by_variant", v),
                                                             f'unknown variant "{v}"', key=True))
        if src.meta.canonical_variant not in region.skin.by_variant:
            problems.append(docs["regions.yaml"].problem((i, "skin", "by_variant"),
                                                         f'needs a value for "{src.meta.canonical_variant}"'))
    names = {r.id for r in src.regions} | {r.group for r in src.regions if r.group}
    names |= {f"{r.id}-{side}" for r in src.regions if r.paired for side in ("left", "right")}
    for i, region in enumerate(src.regions):
        for j, tag in enumerate(region.tags):
            if tag in names:
                problems.append(docs["regions.yaml"].problem((i, "tags", j), f'tag "{tag}" is also a region or group '
                                                             "name; a scenario could not tell which is meant"))
    for fname, items in (("landmarks.yaml", src.landmarks), ("regions.yaml", src.regions),
                         ("danger.yaml", src.danger), ("drawing.yaml", src.drawing)):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append(docs[fname].problem((i, "id"), f'id "{item.id}" is used twice (first at entry {seen[item.id] + 1})'))
            seen.setdefault(item.id, i)
    if problems:
        raise InputError(problems)


def _sides(item_id: str, paired: bool, points: np.ndarray):
    if not paired:
        return [(item_id, "midline", points)]
    return [(f"{item_id}-left", "left", points), (f"{item_id}-right", "right", mirror_x(points))]


def _per_point(value, n: int) -> np.ndarray:
    return np.asarray(value if isinstance(value, list) else [value] * n, dtype=np.float64)


def _vary(sid: str, seed: int, points: np.ndarray, depth: np.ndarray, v: Variation, scale: float):
    """A seeded, per-structure (and per-side) displacement and depth factor within the structure's ranges."""
    rng = np.random.default_rng([seed, zlib.crc32(sid.encode())])
    angle, radius = rng.uniform(0, 2 * np.pi), v.lateral_mm * scale * np.sqrt(rng.uniform())
    lo, hi = sorted(v.depth_factor)
    factor = rng.uniform(lo, hi)
    return points + radius * np.array([np.cos(angle), np.sin(angle)]), depth * factor


def _compile_structure(s: DangerStructure, scale: float, seed: int | None = None) -> list[Structure]:
    shape = s.shape
    area = None
    if isinstance(shape, PolylineShape):
        pts = np.asarray(shape.points_mm, dtype=np.float64)
        depth = _per_point(s.depth_mm, len(pts))
        margin = _per_point(s.margin_mm, len(pts))
    elif isinstance(shape, PointShape):
        pts = np.asarray([shape.at_mm], dtype=np.float64)
        depth = _per_point(s.depth_mm, 1)
        margin = _per_point(s.margin_mm, 1)
    else:
        pts = (np.asarray(shape.points_mm, dtype=np.float64) if isinstance(shape, PolygonShape)
               else ellipse_polygon(shape.center_mm, shape.semi_axes_mm))
        area = True
        depth = _per_point(s.depth_mm, len(pts))
        margin = _per_point(s.margin_mm, len(pts))
    pts = pts * scale
    margin = margin * scale
    out = []
    base_depth = depth
    for sid, _side, p in _sides(s.id, s.paired, pts):
        depth = base_depth
        if seed is not None and s.variation is not None:
            p, depth = _vary(sid, seed, p, base_depth, s.variation, scale)
        if area:
            a, b = p, np.roll(p, -1, axis=0)
            da, db, ma, mb = depth, np.roll(depth, -1), margin, np.roll(margin, -1)
        elif len(p) == 1:
            a, b, da, db, ma, mb = p, p, depth, depth, margin, margin
        else:
            a, b = p[:-1], p[1:]
            da, db, ma, mb = depth[:-1], depth[1:], margin[:-1], margin[1:]
        reach = float(margin.max())
        bbox = (float(p[:, 0].min() - reach), float(p[:, 1].min() - reach),
                float(p[:, 0].max() + reach), float(p[:, 1].max() + reach))
        out.append(Structure(sid, s.name + ("" if _side == "midline" else f" ({_side})"), s.kind, s.severity,
                             s.consequence, s.source, a, b, da, db, ma, mb, p if area else None, bbox, p))
    return out


@functools.lru_cache(maxsize=16)
def load_atlas(map_id: str, variant: str | None = None, seed: int | None = None) -> Atlas:
    """The atlas of `map_id` ('face' or 'scalp') in `variant` (default: the canonical one). With a seed, danger
    structures that declare a variation move and change depth within their ranges, the same way for the same
    seed on every machine."""
    if map_id not in MAPS:
        raise InputError.one(str(atlas_dir(map_id)), f'unknown map "{map_id}"; maps are {", ".join(MAPS)}')
    src = load_source(map_id)
    meta = src.meta
    variant = variant or meta.canonical_variant
    if variant not in meta.variants:
        raise KeyError(variant)
    scale = meta.variants[variant].scale
    canon = meta.canonical_variant

    regions: list[CompiledRegion] = []
    groups: dict[str, list[str]] = {}
    tags: dict[str, list[str]] = {}
    for r in src.regions:
        skin = r.skin.by_variant.get(variant, r.skin.by_variant[canon])
        for rid, side, poly in _sides(r.id, r.paired, np.asarray(r.polygon_mm, dtype=np.float64) * scale):
            regions.append(CompiledRegion(rid, r.name + ("" if side == "midline" else f" ({side})"), r.group,
                                          tuple(r.tags), side, poly, skin.epidermis_mm, skin.dermis_mm, skin.fat_mm,
                                          r.skin.source))
            if r.group:
                groups.setdefault(r.group, []).append(rid)
            if r.paired:
                groups.setdefault(r.id, []).append(rid)
            for t in r.tags:
                tags.setdefault(t, []).append(rid)

    landmarks: dict[str, tuple[float, float]] = {}
    for lm in src.landmarks:
        if variant in lm.at_mm:
            base = np.asarray([lm.at_mm[variant]], dtype=np.float64)
        else:
            base = np.asarray([lm.at_mm[canon]], dtype=np.float64) * scale
        for lid, _side, p in _sides(lm.id, lm.paired, base):
            landmarks[lid] = (float(p[0, 0]), float(p[0, 1]))

    structures: list[Structure] = []
    for s in src.danger:
        structures.extend(_compile_structure(s, scale, seed))

    drawing = []
    for d in src.drawing:
        for did, _side, p in _sides(d.id, d.paired, np.asarray(d.points_mm, dtype=np.float64) * scale):
            drawing.append((did, d.style, d.closed, p))

    x0, y0, x1, y1 = meta.bounds_mm
    return Atlas(map_id, variant, meta.variants[variant].label, meta.name, meta.view,
                 (x0 * scale, y0 * scale, x1 * scale, y1 * scale), meta.snap_mm, tuple(regions), tuple(structures),
                 landmarks, tuple(drawing), src.digest, tuple(meta.variants),
                 {k: tuple(v) for k, v in groups.items()}, {k: tuple(v) for k, v in tags.items()}, seed)
