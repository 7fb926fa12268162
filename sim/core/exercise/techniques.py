"""The technique library: every mesotherapy technique's spec with its warn and fail bands, read from
assets/techniques/ (one file per technique, plus library.yaml for the limits that apply to all)."""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, model_validator

from sim.errors import InputError, Problem
from sim.core.files.model import FileModel, suggest, validate
from sim.paths import assets_dir
from sim.core.files.yamlio import load_yaml_file
from sim.core.vocabulary import SLUG_PATTERN, InjectionRule, Bevel, Device, Layer, MapId, ProductForm

Bound = float | None


class Band(FileModel):
    """A measured quantity's spec: inside `ok` passes, inside `warn` (but outside ok) warns, outside `warn` fails.
    A null bound is open."""

    nominal: float
    """The value the trainer presets."""
    ok: tuple[Bound, Bound]
    warn: tuple[Bound, Bound]
    source: str
    note: str = ""

    @model_validator(mode="after")
    def _nested(self):
        lo, hi = _lo(self.ok[0]), _hi(self.ok[1])
        wlo, whi = _lo(self.warn[0]), _hi(self.warn[1])
        if lo > hi:
            raise ValueError(f"ok band is empty: {self.ok[0]} > {self.ok[1]}")
        if wlo > lo or whi < hi:
            raise ValueError("the warn band must contain the ok band")
        if not (lo <= self.nominal <= hi):
            raise ValueError(f"nominal {self.nominal} lies outside the ok band")
        return self

    def bounds(self) -> tuple[float, float, float, float]:
        return _lo(self.ok[0]), _hi(self.ok[1]), _lo(self.warn[0]), _hi(self.warn[1])

    def describe(self, unit: str) -> str:
        lo, hi = self.ok
        if lo is not None and hi is not None:
            return f"{_num(lo)} {unit}" if lo == hi else f"{_num(lo)}-{_num(hi)} {unit}"
        if lo is not None:
            return f"at least {_num(lo)} {unit}"
        return f"at most {_num(hi)} {unit}"


def _lo(v: Bound) -> float:
    return -math.inf if v is None else float(v)


def _hi(v: Bound) -> float:
    return math.inf if v is None else float(v)


def _num(v: float) -> str:
    return f"{v:g}"


class LayerSpec(FileModel):
    ok: list[Layer] = Field(min_length=1)
    warn: list[Layer] = []
    fat_middle: bool = False
    """The tip belongs at mid-depth of the fat (infiltration): an exercise asking for it must target a region whose
    fat's middle lies in the ok depth band (mesosim validate checks it)."""
    source: str


class BevelSpec(FileModel):
    required: Bevel
    source: str


class ProductSpec(FileModel):
    allowed: list[ProductForm] = Field(min_length=1)
    source: str


class DeviceSpec(FileModel):
    allowed: list[Device] = Field(min_length=1)
    source: str


class Reach(FileModel):
    value: float = Field(gt=0, le=50)
    source: str


class Technique(FileModel):
    id: str = Field(pattern=SLUG_PATTERN)
    name: str
    summary: str
    maps: list[MapId] = Field(min_length=1)
    indications: list[str] = []
    papule: bool = False
    """A papule technique: its volume gives a visible bleb whose size the feedback reports."""
    significant: list[InjectionRule] = []
    """Per-injection criteria this technique depends on, beside the ones every technique does (scoring.yaml
    competence.significant): e.g. the volume of a papule, the angle of an almost parallel needle."""
    depth_mm: Band
    angle_deg: Band
    spacing_mm: Band
    volume_ml: Band
    reach_mm: Reach | None = None
    """Radius [mm] an injection covers for the coverage criterion; by default half the diagonal of a square grid
    at the largest ok spacing (spacing ok max / sqrt 2)."""
    layer: LayerSpec
    bevel: BevelSpec
    products: ProductSpec
    devices: DeviceSpec

    @model_validator(mode="after")
    def _physical(self):
        if _lo(self.angle_deg.warn[0]) < 0 or _hi(self.angle_deg.warn[1]) > 90:
            raise ValueError("angle bands must lie within 0-90 deg")
        if _lo(self.depth_mm.warn[0]) < 0 or _lo(self.volume_ml.warn[0]) < 0:
            raise ValueError("depth and volume bands cannot be negative")
        if self.spacing_mm.ok[1] is None and self.reach_mm is None:
            raise ValueError("an open spacing band needs reach_mm")
        return self

    def reach(self) -> float:
        if self.reach_mm is not None:
            return self.reach_mm.value
        return float(self.spacing_mm.ok[1]) / math.sqrt(2.0)


class MaxVolume(FileModel):
    value: float = Field(gt=0)
    source: str


class FaceDepthCap(FileModel):
    value: float = Field(gt=0)
    exempt: list[str] = []
    source: str


class GunSpec(FileModel):
    rate_per_min: float = Field(gt=0)
    refused_tags: list[str] = []
    source: str


class LibraryLimits(FileModel):
    order: list[str] = Field(min_length=1)
    """Technique ids in the order the trainer and listings show them; every technique file must be listed."""
    max_volume_ml: MaxVolume
    face_max_depth_mm: FaceDepthCap
    gun: GunSpec


@dataclass(frozen=True, eq=False)
class Library:
    limits: LibraryLimits
    techniques: dict[str, Technique]
    digest: str

    @property
    def ids(self) -> list[str]:
        return list(self.techniques)

    def get(self, technique_id: str) -> Technique:
        return self.techniques[technique_id]


def techniques_dir():
    return assets_dir() / "techniques"


@functools.lru_cache(maxsize=2)
def load_library() -> Library:
    folder = techniques_dir()
    digest = hashlib.sha256()
    problems = []
    limits = None
    techniques: dict[str, Technique] = {}
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        try:
            doc = load_yaml_file(path)
            if path.name == "library.yaml":
                limits = validate(LibraryLimits, doc)
                continue
            tech = validate(Technique, doc)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if tech.id != path.stem:
            problems.append(doc.problem(("id",), f'id "{tech.id}" must match the file name "{path.stem}"'))
        techniques[tech.id] = tech
    if limits is None and not problems:
        raise InputError.one(str(folder / "library.yaml"), "no such file")
    if limits is not None:
        lib_file = str(folder / "library.yaml")
        for field, names in (("face_max_depth_mm.exempt", limits.face_max_depth_mm.exempt), ("order", limits.order)):
            for name in names:
                if name not in techniques:
                    problems.append(Problem(lib_file, 0, 0, field, f'unknown technique "{name}"'
                                            + suggest(name, techniques)))
        for name in techniques:
            if name not in limits.order:
                problems.append(Problem(lib_file, 0, 0, "order", f'technique "{name}" is not listed'))
    if problems:
        raise InputError(problems)
    ordered = {name: techniques[name] for name in limits.order}
    return Library(limits, ordered, digest.hexdigest())
