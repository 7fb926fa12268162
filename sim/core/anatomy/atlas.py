"""The compiled atlas: one map in one variant, ready for scoring and drawing (`load_atlas`), in mm.

Built from the atlas files (sim.core.anatomy.files). Paired items, written once on the subject's left (+x), are
mirrored here into `<id>-left` and `<id>-right`. A variant (the female face, say) scales the canonical
coordinates about the origin and may give its own landmark positions and skin thicknesses; a variant with
`warp: landmarks` also carries every coordinate along with its own landmarks (sim.core.anatomy.placement). With a
seed, danger structures that declare a variation move and change depth within their published ranges.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from sim.core.anatomy.files import (DangerStructure, EllipseShape, Landmark, Point, PointShape, PolygonShape,
                                    PolylineShape, Region, Skin, Variation, atlas_dir, load_source)
from sim.core.anatomy.placement import clip_y, landmark_warp
from sim.core.spatial.geometry import closest_on_segments, ellipse_polygon, mirror_x, points_in_polygon
from sim.core.spatial.regions import RegionIndex
from sim.core.vocabulary import MAPS
from sim.errors import InputError


@dataclass(frozen=True)
class CompiledRegion:
    """A region placed in one variant: its polygon [mm] and the skin layer thicknesses there [mm]."""

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
        """Index into `regions` for every point, -1 when off the map. Earlier regions win where they overlap; a
        point on an edge two regions share goes to one of them by the inside test (points_in_polygon: a point on a
        vertical edge belongs to the region east of it); a point outside all of them but within snap_mm of one
        belongs to the nearest. On a mirror-symmetric atlas (every shipped one) a point on the subject's right
        (x < 0) is decided as its mirror image on the left and given the mirrored region, so that an edge belongs
        to the same region on both sides of the face. The same result as `region_index_exact`, from a raster of
        the regions (sim.core.spatial.regions.RegionIndex)."""
        return self._mirrored(xy, self.region_raster.lookup, self.mirror_regions)

    @staticmethod
    def _mirrored(xy: np.ndarray, lookup, mirror: np.ndarray | None) -> np.ndarray:
        """`lookup` of the points, those on the subject's right (x < 0) decided as their mirror image and given
        the mirrored region (`mirror`: each region's mirror image; None: no mirror rule)."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        right = xy[:, 0] < 0
        if mirror is None or not right.any():
            return lookup(xy)
        q = xy.copy()
        q[right, 0] = -q[right, 0]
        out = lookup(q)
        out[right] = mirror[out[right]]
        return out

    @functools.cached_property
    def mirror_regions(self) -> np.ndarray | None:
        """For a mirror-symmetric atlas (every paired region the mirror image of its pair, every other region its
        own), the index of each region's mirror image, with a last -1 for off the map (so that -1 maps to -1);
        None when the atlas is not symmetric."""
        ids = self.region_ids()
        out = []
        for r in self.regions:
            twin = r.id[:-5] + "-right" if r.id.endswith("-left") else (
                r.id[:-6] + "-left" if r.id.endswith("-right") else r.id)
            if twin not in ids:
                return None
            other = self.regions[ids.index(twin)].polygon
            mirrored = r.polygon * np.array([-1.0, 1.0])
            if not _same_ring(mirrored, other):
                return None
            out.append(ids.index(twin))
        return np.asarray(out + [-1], dtype=np.int64)

    @functools.cached_property
    def region_raster(self) -> RegionIndex:
        key = (self.digest, self.map, self.variant)
        index = _REGION_RASTERS.get(key)
        if index is None:
            index = _REGION_RASTERS[key] = RegionIndex([r.polygon for r in self.regions], self.snap_mm)
        return index

    def region_index_exact(self, xy: np.ndarray, mirrored: bool = True) -> np.ndarray:
        """region_index by testing every point against every polygon: the definition, kept for the tests
        (`mirrored=False`: without the mirror rule, as the raster alone answers)."""
        return self._mirrored(xy, self._exact, self.mirror_regions if mirrored else None)

    def _exact(self, xy: np.ndarray) -> np.ndarray:
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


def _same_ring(a: np.ndarray, b: np.ndarray, tol: float = 1e-6) -> bool:
    """Whether two polygons have the same vertices (in any order and direction)."""
    if a.shape != b.shape:
        return False
    ka = np.lexsort((a[:, 1].round(6), a[:, 0].round(6)))
    kb = np.lexsort((b[:, 1].round(6), b[:, 0].round(6)))
    return bool(np.allclose(a[ka], b[kb], atol=tol))


_REGION_RASTERS: dict[tuple[str, str, str], RegionIndex] = {}
"""Region rasters by (atlas digest, map, variant): the regions do not change with the variation seed."""


# ---------------------------------------------------------------- compiling


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
    shift = radius * np.array([np.cos(angle), np.sin(angle)])
    if v.depth_range_mm is not None:
        lo, hi = np.asarray(v.depth_range_mm, dtype=np.float64).T
        drawn = lo + rng.uniform() * (hi - lo)
        return points + shift, np.broadcast_to(drawn, depth.shape).astype(np.float64)
    lo, hi = sorted(v.depth_factor)
    factor = rng.uniform(lo, hi)
    return points + shift, depth * factor


def _compile_structure(s: DangerStructure, scale: float, seed: int | None = None, place=None,
                       landmarks: dict[str, Point] | None = None) -> list[Structure]:
    """The sides of `s` placed in a variant: `place` maps canonical points [mm] (default: times `scale`);
    `landmarks` (the variant's) give the heights an ellipse is clipped at."""
    place = place or (lambda p: p * scale)
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
    pts = place(pts)
    if isinstance(shape, EllipseShape) and shape.clip is not None:
        def height(ref):
            return None if ref is None else (landmarks or {}).get(ref, (landmarks or {}).get(f"{ref}-left"))[1]
        pts = clip_y(pts, height(shape.clip.bottom_landmark), height(shape.clip.top_landmark))
    if area:
        depth = _per_point(s.depth_mm, len(pts))
        margin = _per_point(s.margin_mm, len(pts))
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


def _compile_regions(source: list[Region], variant: str, canon: str, place):
    """(regions, groups, tags) in `variant`: the regions in file order with their skin, and the region ids each
    group name and tag names (a paired region's id names its two sides)."""
    regions: list[CompiledRegion] = []
    groups: dict[str, list[str]] = {}
    tags: dict[str, list[str]] = {}
    for r in source:
        skin = r.skin.by_variant.get(variant, r.skin.by_variant[canon])
        for rid, side, poly in _sides(r.id, r.paired, place(np.asarray(r.polygon_mm, dtype=np.float64))):
            regions.append(CompiledRegion(rid, r.name + ("" if side == "midline" else f" ({side})"), r.group,
                                          tuple(r.tags), side, poly, skin.epidermis_mm, skin.dermis_mm, skin.fat_mm,
                                          r.skin.source))
            if r.group:
                groups.setdefault(r.group, []).append(rid)
            if r.paired:
                groups.setdefault(r.id, []).append(rid)
            for t in r.tags:
                tags.setdefault(t, []).append(rid)
    return regions, {k: tuple(v) for k, v in groups.items()}, {k: tuple(v) for k, v in tags.items()}


def _place_landmarks(source: list[Landmark], variant: str, canon: str, scale: float) -> dict[str, Point]:
    """Every landmark in `variant`: its own position there, else the canonical one scaled."""
    landmarks: dict[str, Point] = {}
    for lm in source:
        if variant in lm.at_mm:
            base = np.asarray([lm.at_mm[variant]], dtype=np.float64)
        else:
            base = np.asarray([lm.at_mm[canon]], dtype=np.float64) * scale
        for lid, _side, p in _sides(lm.id, lm.paired, base):
            landmarks[lid] = (float(p[0, 0]), float(p[0, 1]))
    return landmarks


def _placement(source: list[Landmark], variant: str, canon: str, scale: float, warp: str | None):
    """The map from canonical coordinates [mm] to `variant`'s: the scale, then (warp 'landmarks') the moves of
    the landmarks that have a position of their own in the variant, from their scaled canonical position."""
    if warp != "landmarks":
        return lambda p: np.asarray(p, dtype=np.float64) * scale
    src, dst = [], []
    for lm in source:
        if variant in lm.at_mm:
            a = np.asarray([lm.at_mm[canon]], dtype=np.float64) * scale
            b = np.asarray([lm.at_mm[variant]], dtype=np.float64)
            for (_i, _s, pa), (_j, _t, pb) in zip(_sides(lm.id, lm.paired, a), _sides(lm.id, lm.paired, b)):
                src.append(pa[0])
                dst.append(pb[0])
    warp_fn = landmark_warp(np.asarray(src).reshape(-1, 2), np.asarray(dst).reshape(-1, 2))
    return lambda p: warp_fn(np.asarray(p, dtype=np.float64) * scale)


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
    place = _placement(src.landmarks, variant, canon, scale, meta.variants[variant].warp)

    regions, groups, tags = _compile_regions(src.regions, variant, canon, place)
    landmarks = _place_landmarks(src.landmarks, variant, canon, scale)
    structures: list[Structure] = []
    for s in src.danger:
        structures.extend(_compile_structure(s, scale, seed, place, landmarks))

    drawing = []
    for d in src.drawing:
        for did, _side, p in _sides(d.id, d.paired, place(np.asarray(d.points_mm, dtype=np.float64))):
            drawing.append((did, d.style, d.closed, p))

    x0, y0, x1, y1 = meta.bounds_mm
    corners = place(np.asarray([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64))
    bounds = (float(corners[:, 0].min()), float(corners[:, 1].min()), float(corners[:, 0].max()),
              float(corners[:, 1].max()))
    return Atlas(map_id, variant, meta.variants[variant].label, meta.name, meta.view,
                 bounds, meta.snap_mm, tuple(regions), tuple(structures),
                 landmarks, tuple(drawing), src.digest, tuple(meta.variants), groups, tags, seed)
