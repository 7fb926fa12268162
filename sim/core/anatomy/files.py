"""The atlas files of a map (assets/atlas/<map>/*.yaml): their models with every check, and reading them whole.

atlas.yaml says what the map is and its variants, landmarks.yaml, regions.yaml, danger.yaml and drawing.yaml
list its items. Coordinates are canonical (the canonical variant's) in mm; a paired item is written once, on the
subject's left (+x). `load_source` reads and validates the five files together, references between them
included, and gives FILE:LINE:COL problems as an InputError; sim.core.anatomy.atlas compiles the result.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, Field, model_validator

from sim.core.files.model import FileModel, validate
from sim.core.files.yamlio import load_yaml_file
from sim.core.spatial.geometry import polygon_problem
from sim.core.vocabulary import MapId, Severity, Slug
from sim.errors import InputError, Problem
from sim.paths import assets_dir

Point = tuple[float, float]


def _simple_polygon(points: list[Point]) -> list[Point]:
    problem = polygon_problem(points)
    if problem:
        raise ValueError(problem)
    return points


SimplePolygon = Annotated[list[Point], Field(min_length=3), AfterValidator(_simple_polygon)]
"""A polygon [mm] of at least three points whose edges do not cross."""
Evidence = Literal["V", "D", "GK", "P"]
"""How a number is backed (docs/atlas.md): V confirmed in a published source, D derived from such numbers, GK
general anatomical knowledge, P a proposal of this atlas (its note says why the number was chosen)."""
Plane = Literal["epidermis", "dermis", "fat"]
"""The layer a structure lies under: its top is at or below the bottom of this layer of its region's skin."""


def _needs_note_if_proposal(evidence: str, note: str) -> None:
    if evidence == "P" and not note.strip():
        raise ValueError("evidence P (a proposal) needs a note saying why the number was chosen")


class Variant(FileModel):
    label: str
    """What a trainee sees, e.g. 'Adult female'."""
    scale: float = Field(default=1.0, gt=0.5, lt=1.5)
    """Factor applied about the origin to every canonical coordinate of regions, danger structures and drawing."""
    warp: Literal["landmarks"] | None = None
    """"landmarks": after the scale, every coordinate follows the landmarks, each moved from its canonical position
    to this variant's own (at_mm), the moves blended by inverse squared distance: so each region, structure and
    drawn line follows the landmarks nearest to it rather than one factor for the whole map."""
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
    """The thicknesses of a region's skin layers [mm]."""

    epidermis_mm: float = Field(gt=0, le=5)
    """Thickness of the epidermis [mm]."""
    dermis_mm: float = Field(gt=0, le=10)
    """Thickness of the dermis [mm]."""
    fat_mm: float = Field(ge=0, le=60)
    """Thickness of the subcutaneous fat [mm]."""


class RegionSkin(FileModel):
    by_variant: dict[Slug, Skin]
    """Skin layer thicknesses per variant; a variant without its own uses the canonical one."""
    source: str
    evidence: Evidence
    note: str = ""

    @model_validator(mode="after")
    def _proposal_note(self):
        _needs_note_if_proposal(self.evidence, self.note)
        return self


class Region(FileModel):
    id: Slug
    name: str
    group: Slug | None = None
    """A name that covers several regions, e.g. 'temples' for temple-left and temple-right."""
    tags: list[Slug] = []
    """Properties the rules refer to, e.g. 'periorbital' or 'nasolabial' (no mesoinjector there)."""
    paired: bool = False
    polygon_mm: SimplePolygon
    skin: RegionSkin


class PolylineShape(FileModel):
    kind: Literal["polyline"]
    points_mm: list[Point] = Field(min_length=2)


class PointShape(FileModel):
    kind: Literal["point"]
    at_mm: Point


class PolygonShape(FileModel):
    kind: Literal["polygon"]
    points_mm: SimplePolygon


class EllipseClip(FileModel):
    """Horizontal limits of an ellipse taken from landmarks (their y in the variant the atlas is built in)."""

    top_landmark: Slug | None = None
    """The ellipse never reaches above this landmark's y."""
    bottom_landmark: Slug | None = None
    """The ellipse never reaches below this landmark's y."""


class EllipseShape(FileModel):
    kind: Literal["ellipse"]
    center_mm: Point
    semi_axes_mm: tuple[Annotated[float, Field(gt=0)], Annotated[float, Field(gt=0)]]
    clip: EllipseClip | None = None


Shape = Annotated[Union[PolylineShape, PointShape, PolygonShape, EllipseShape], Field(discriminator="kind")]


class Variation(FileModel):
    """How far this structure may lie from its drawn position in a seeded anatomical variant (published ranges)."""

    lateral_mm: float = Field(ge=0, le=15)
    """The whole path (or point) moves by up to this distance in a random direction [mm]."""
    depth_factor: tuple[Annotated[float, Field(gt=0.2, le=3)], Annotated[float, Field(gt=0.2, le=3)]] = (1.0, 1.0)
    """Depths are multiplied by a factor drawn between these two."""
    depth_range_mm: list[tuple[Annotated[float, Field(ge=0, le=60)], Annotated[float, Field(ge=0, le=60)]]] | None \
        = None
    """Instead of a factor: per point, the shallowest and deepest depth [mm] (a published confidence interval, say).
    One draw places every point at the same fraction of its own range, so the vessel is shallow or deep as a
    whole."""
    source: str

    @model_validator(mode="after")
    def _one_depth_rule(self):
        if self.depth_range_mm is not None:
            if tuple(self.depth_factor) != (1.0, 1.0):
                raise ValueError("give depth_factor or depth_range_mm, not both")
            if any(lo > hi for lo, hi in self.depth_range_mm):
                raise ValueError("each depth_range_mm pair is [shallowest, deepest]")
        return self


class Meets(FileModel):
    """The same structure drawn on another map: the two must agree in depth and severity where they meet."""

    map: MapId
    id: Slug


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
    lies_below: Plane | list[Plane] | None = None
    """The layer the structure is said to lie under (per point for a polyline): its depth there is at or below the
    bottom of that layer in the region's skin (tests/core/test_atlas_consistency.py). None only for a structure
    at the surface (depth 0: the eye), which is hit at any depth."""
    meets: Meets | None = None
    source: str
    evidence: Evidence
    note: str = ""
    variation: Variation | None = None
    """Range of positions and depths for seeded anatomical variants; none keeps it where it is drawn."""

    @model_validator(mode="after")
    def _per_point_lengths(self):
        _needs_note_if_proposal(self.evidence, self.note)
        depths = self.depth_mm if isinstance(self.depth_mm, list) else [self.depth_mm]
        if self.lies_below is None and any(d > 0 for d in depths):
            raise ValueError("lies_below is required unless the structure is at the surface (depth_mm 0)")
        v = self.variation
        if v is not None and v.depth_range_mm is not None:
            if len(v.depth_range_mm) != len(depths):
                raise ValueError(f"variation.depth_range_mm has {len(v.depth_range_mm)} pairs for {len(depths)} "
                                 "depths")
            for d, (lo, hi) in zip(depths, v.depth_range_mm):
                if not lo <= d <= hi:
                    raise ValueError(f"depth {d} lies outside its variation range [{lo}, {hi}]")
        for name in ("depth_mm", "margin_mm", "lies_below"):
            value = getattr(self, name)
            if isinstance(value, list):
                if not isinstance(self.shape, PolylineShape):
                    raise ValueError(f"{name} may be a list only for a polyline")
                if len(value) != len(self.shape.points_mm):
                    raise ValueError(f"{name} has {len(value)} values for {len(self.shape.points_mm)} points")
            if name == "lies_below":
                continue
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


# ---------------------------------------------------------------- reading the five files


FILES = ("atlas.yaml", "landmarks.yaml", "regions.yaml", "danger.yaml", "drawing.yaml")
LISTS = {"landmarks.yaml": Landmark, "regions.yaml": Region, "danger.yaml": DangerStructure,
         "drawing.yaml": DrawingItem}
"""The files that are lists of items, and the model of an item."""


def atlas_dir(map_id: str) -> Path:
    return assets_dir() / "atlas" / map_id


@dataclass(frozen=True)
class AtlasSource:
    """A map's atlas files as written, validated; `digest` is the SHA-256 of the five files."""

    meta: AtlasMeta
    landmarks: list[Landmark]
    regions: list[Region]
    danger: list[DangerStructure]
    drawing: list[DrawingItem]
    digest: str


@functools.lru_cache(maxsize=8)
def load_source(map_id: str) -> AtlasSource:
    """The atlas files of `map_id`, validated; every problem in any of them at once, as an InputError."""
    folder = atlas_dir(map_id)
    digest = hashlib.sha256()
    docs = {}
    for name in FILES:
        path = folder / name
        docs[name] = load_yaml_file(path)
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    problems: list[Problem] = []
    parts = {}
    for name, model in LISTS.items():
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


def _check_references(src: AtlasSource, docs) -> None:
    """What no single entry can check: variants that exist and the canonical one given, landmarks that clip a shape
    exist, tags that cannot be mistaken for a region or group name, ids used once per file."""
    problems = []
    variants = set(src.meta.variants)
    canon = src.meta.canonical_variant
    landmarks, regions = docs["landmarks.yaml"], docs["regions.yaml"]
    for i, landmark in enumerate(src.landmarks):
        for v in landmark.at_mm:
            if v not in variants:
                problems.append(landmarks.problem((i, "at_mm", v), f'unknown variant "{v}"', key=True))
        if canon not in landmark.at_mm:
            problems.append(landmarks.problem((i, "at_mm"), f'needs a value for "{canon}"'))
    for i, region in enumerate(src.regions):
        for v in region.skin.by_variant:
            if v not in variants:
                problems.append(regions.problem((i, "skin", "by_variant", v), f'unknown variant "{v}"', key=True))
        if canon not in region.skin.by_variant:
            problems.append(regions.problem((i, "skin", "by_variant"), f'needs a value for "{canon}"'))
    landmark_ids = {lm.id for lm in src.landmarks}
    for i, d in enumerate(src.danger):
        clip = getattr(d.shape, "clip", None)
        for key in ("top_landmark", "bottom_landmark"):
            ref = getattr(clip, key, None) if clip else None
            if ref is not None and ref not in landmark_ids:
                problems.append(docs["danger.yaml"].problem((i, "shape", "clip", key), f'unknown landmark "{ref}"'))
    names = {r.id for r in src.regions} | {r.group for r in src.regions if r.group}
    names |= {f"{r.id}-{side}" for r in src.regions if r.paired for side in ("left", "right")}
    for i, region in enumerate(src.regions):
        for j, tag in enumerate(region.tags):
            if tag in names:
                problems.append(regions.problem((i, "tags", j), f'tag "{tag}" is also a region or group name; a '
                                                "scenario could not tell which is meant"))
    for fname, items in (("landmarks.yaml", src.landmarks), ("regions.yaml", src.regions),
                         ("danger.yaml", src.danger), ("drawing.yaml", src.drawing)):
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.id in seen:
                problems.append(docs[fname].problem((i, "id"), f'id "{item.id}" is used twice (first at entry '
                                                    f'{seen[item.id] + 1})'))
            seen.setdefault(item.id, i)
    if problems:
        raise InputError(problems)
