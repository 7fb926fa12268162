"""Scenario files: the exercises instructors write (YAML), their validation, and finding them by path or id."""

from __future__ import annotations

import functools
import errno
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.core.anatomy.atlas import Atlas, Structure, load_atlas
from sim.core.anatomy.files import Skin
from sim.errors import InputError, Problem
from sim.core.spatial.geometry import polygon_problem
from sim.core.spatial import CoverageGrid, DangerIndex, RegionIndex
from sim.core.files.model import FileModel, suggest, validate_all

from sim.paths import builtin_scenarios_dir, library_dirs, scenarios_dir
from sim.core.exercise.techniques import Device, Library, ProductForm, load_library
from sim.core.files.yamlio import Document, load_yaml_file
from sim.core.vocabulary import ANSWER_PATTERN, RULES, SCORE_PARTS, InjectionRule, Decision, MapId, Mode, Severity, Sex, Slug

Coordinate = Annotated[float, Field(ge=-500, le=500)]
"""A coordinate in the map's frame [mm]; the maps lie well within +-500 mm (contract.md)."""
Point = tuple[Coordinate, Coordinate]


def _named(kind: str, words: str) -> Any:
    """A name an instructor types that the JSON Schema lists for completion: sim.core.exercise.schema fills in the
    names of `kind` (technique, area, region, variant, reason, rule, score-part), by map where they depend on it.
    The names are checked when the file is loaded (check_references), with a suggestion for a near miss."""
    return Field(description=words, json_schema_extra={"x-names": kind})


TechniqueId = Annotated[str, _named("technique", "a technique id (mesosim techniques)")]
AreaName = Annotated[str, _named("area", "an atlas region, a paired region's base name, a group or a tag "
                                         "(docs/atlas.md)")]
ReasonId = Annotated[str, _named("reason", "a screening reason id (assets/screening.yaml)")]
RuleId = Annotated[str, _named("rule", "a rule id (docs/scoring.md)")]


class Target(FileModel):
    """A target area: an atlas region or group by name, or a polygon of the scenario's own."""

    region: AreaName | None = None
    """An atlas region id (e.g. "forehead", "temple-left"), a paired region's base name ("temple"), a group (e.g.
    "temples") or a tag of the map (docs/atlas.md)."""
    name: str | None = None
    """The name of an area of the scenario's own (with polygon_mm)."""
    polygon_mm: list[Point] | None = None
    """The scenario's own area, in the map's frame [mm]."""

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.region is None) == (self.polygon_mm is None):
            raise ValueError("give either region, or name and polygon_mm")
        if self.polygon_mm is not None:
            if not self.name:
                raise ValueError("an area of the scenario's own needs a name")
            problem = polygon_problem(self.polygon_mm)
            if problem:
                raise ValueError(problem)
        return self

    @property
    def label(self) -> str:
        return self.region or self.name or ""


class Product(FileModel):
    """What the trainee injects."""

    name: str
    """What the trainee injects, e.g. "hyaluronic acid cocktail"."""
    form: ProductForm
    """liquid or gel: gels are not used for superficial and median nappage (seed 004)."""


class CountRange(FileModel):
    """The expected number of injections: 10 % outside the range warns, further fails."""

    min: int = Field(ge=0, le=100_000)
    """The fewest injections expected."""
    max: int = Field(ge=0, le=100_000)
    """The most injections expected."""

    @model_validator(mode="after")
    def _order(self):
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is larger than max ({self.max})")
        return self


class VolumeRange(FileModel):
    """The volume of the whole attempt [ml]."""

    min_ml: float = Field(ge=0, le=1000)
    """The least volume of the attempt [ml]."""
    max_ml: float = Field(ge=0, le=1000)
    """The most volume of the attempt [ml]."""

    @model_validator(mode="after")
    def _order(self):
        if self.min_ml > self.max_ml:
            raise ValueError(f"min_ml ({self.min_ml}) is larger than max_ml ({self.max_ml})")
        return self


class CoverageSpec(FileModel):
    """How much of the target area the punctures must reach (within the technique's reach of a puncture)."""

    ok: float = Field(gt=0, le=1)
    """Share of the target area that must lie within reach of a puncture to pass."""
    warn: float = Field(gt=0, le=1)
    """Share below which the coverage fails; between warn and ok it warns."""

    @model_validator(mode="after")
    def _order(self):
        if self.warn > self.ok:
            raise ValueError("warn must not be above ok")
        return self


class NoGoSpot(FileModel):
    """A spot of this patient's that must not be punctured (a mole, a lesion), seed 001 / seed 003."""

    name: str
    """What the spot is (e.g. "mole"), shown to the trainee."""
    at_mm: Point
    """Its centre [x, y] in the map's frame [mm]."""
    radius_mm: float = Field(gt=0, le=30)
    """The radius around the centre that must not be punctured [mm]."""
    severity: Severity
    """How grave a puncture there is: critical fails the attempt whatever its score."""
    consequence: str = "Moles and lesions must not be injured (seed 001, seed 003)."
    """The sentence the trainee reads when the spot is punctured."""


class Parting(FileModel):
    """A parting line of the hair along which the scalp is injected (seed 003: partings 10-20 mm apart)."""

    name: str = ""
    """The parting's name (e.g. "midline"), shown in the preview."""
    points_mm: list[Point] = Field(min_length=2)
    """The line, as [x, y] points in the map's frame [mm]."""


class Screening(FileModel):
    """The decision the trainee must take before injecting, and the reasons that justify it."""

    expected: Decision
    """The right decision: go, postpone or no-go; the right one for every reason listed."""
    reasons: list[ReasonId] = Field(min_length=1)
    """Reason ids accepted as the right reason (e.g. "pregnancy", "anticoagulants"; assets/screening.yaml)."""
    explanation: str
    """Why, shown to the trainee after the decision."""
    source: str
    """Where the rule comes from (e.g. "contraindications.md")."""


class AnatomyVariation(FileModel):
    """Ask for a seeded anatomical variant: vessels and nerves move and change depth within their published
    ranges (assets/atlas/*/danger.yaml, `variation`), so that trainees learn the zone rather than one drawing."""

    seed: int = Field(ge=0, le=2**31 - 1)
    """The seed of the variant: the same seed gives the same anatomy everywhere."""


class Indication(FileModel):
    """For "choose the technique" exercises: every technique of `techniques` may be chosen, but only these are
    right for the case; any other is a technique finding with this explanation."""

    techniques: list[TechniqueId] = Field(min_length=1)
    """The techniques right for the case (ids among the exercise's techniques)."""
    explanation: str
    """Why these are right, shown with a technique finding."""
    source: str
    """Where the indication comes from."""


class SolutionRef(FileModel):
    """An injection log (contract.md) that solves the exercise, path relative to the scenario file."""

    log: str = Field(min_length=1)
    """The injection log (CSV), relative to the scenario file (e.g. "solutions/my-exercise/reference.csv")."""
    screening: str | None = Field(default=None, pattern=ANSWER_PATTERN)
    """The screening answer that goes with it, DECISION[:REASON] (e.g. "no-go:pregnancy")."""


class Flaw(FileModel):
    """How `mesosim plan` makes a flawed solution from the planned reference: every change given is applied, in
    this order (a fresh layout, the settings, the points moved, thinned, doubled and added)."""

    spacing_mm: float | None = Field(default=None, gt=0, le=100)
    """Lay the points out again this far apart [mm]."""
    treat: bool = False
    """Treat with the instructed values although the reference makes no injection (a patient who should have
    been sent home)."""
    empty: bool = False
    """No injection at all (a patient sent home who should have been treated)."""
    technique: TechniqueId | None = None
    """Every point with this technique instead."""
    depth_mm: float | None = Field(default=None, gt=0, le=60)
    """Every point at this depth [mm] (too deep, too shallow)."""
    angle_deg: float | None = Field(default=None, ge=0, le=90)
    """Every point at this angle to the skin [deg]."""
    volume_ml: float | None = Field(default=None, gt=0, le=1)
    """Every point with this volume [ml]."""
    device: Device | None = None
    """Every point with this device (gun: the mesoinjector)."""
    shift_mm: Point | None = None
    """Move every point by (dx, dy) [mm]."""
    keep_every: int | None = Field(default=None, ge=2, le=1000)
    """Keep one point in this many (too sparse)."""
    double: bool = False
    """Puncture every point twice, 0.4 mm apart."""
    extra_mm: list[Annotated[list[float], Field(min_length=2, max_length=3)]] = []
    """Points added with the instructed settings: [x, y] or [x, y, depth] [mm]."""


class FlawedRef(SolutionRef):
    """An injection log with one mistake, which `mesosim validate` checks fails on its criterion."""

    fails_on: RuleId
    """The criterion this flawed solution must fail on (a rule id such as depth, danger, coverage)."""
    plan: Flaw | None = None
    """How `mesosim plan` writes it from the reference."""


class Instructed(FileModel):
    """What the instructions ask for, as values: the trainer's needle starts there, and `mesosim plan` lays out the
    reference solution with them (inside the targets, clear of every danger margin and no-go spot, along the
    partings on the scalp)."""

    technique: TechniqueId
    """The technique the instructions ask for."""
    depth_mm: float = Field(gt=0, le=60)
    """The instructed depth of the tip [mm]."""
    angle_deg: float = Field(ge=1, le=90)
    """The instructed angle between needle and skin [deg]."""
    volume_ml: float = Field(gt=0, le=1)
    """The instructed volume per point [ml]."""
    spacing_mm: float | None = Field(default=None, gt=0, le=100)
    """Distance between neighbouring points [mm] (the technique's nominal spacing when left out)."""
    device: Device = "hand"
    """hand, or gun (the mesoinjector)."""
    grid: Literal["hex", "square"] = "hex"
    """How the points are laid out over an area (along the partings where the exercise has any)."""
    depth_margin_mm: float = Field(default=0.5, ge=0, le=10)
    """The planner keeps its points clear of every danger structure a tip this much deeper would reach [mm]."""


class Solutions(FileModel):
    """A model answer that must pass with at least 90, and flawed answers that must fail for their reason.
    `mesosim validate` scores them."""

    reference: SolutionRef
    """The model answer: it must pass with at least 90."""
    flawed: list[FlawedRef] = []
    """Answers with one mistake each, which must fail on their criterion."""


class Patient(FileModel):
    """The patient's case, shown in the briefing."""

    name: str
    """How the patient is named (e.g. "Ms K.")."""
    age_years: int = Field(ge=0, le=120)
    """Age [years]."""
    sex: Sex | None = None
    """female or male."""
    complaint: str
    """What the patient comes for."""
    history: list[str] = []
    """The history, one item per line."""
    medications: list[str] = []
    """Current medications, one item per line."""
    skin_overrides: Annotated[dict[str, Skin], Field(json_schema_extra={"x-keys": "region"})] = {}
    """This patient's own skin layer thicknesses for some regions [mm] (thick submental fat, say), by region id."""
    screening: Screening | None = None
    """The decision the trainee must take before injecting (go, postpone, no-go) and its reasons."""


class Scenario(FileModel):
    """An exercise: which map, which techniques, where, with what product, and how it is scored."""

    id: Slug
    """The exercise's id, lower-case words joined by '-', unique among the scenarios: what `mesosim run ID` and
    the reports use."""
    title: str
    """The name trainees see in the picker."""
    objective: str
    """The learning objective, one or two sentences."""
    instructions: str = ""
    """What to do, shown in the briefing."""
    map: MapId
    """face (frontal view) or scalp (top view)."""
    variant: Annotated[Slug, Field(json_schema_extra={"x-names": "variant"})] | None = None
    """Atlas variant (e.g. "female"); the canonical one when left out."""
    variation: AnatomyVariation | None = None
    """A seeded anatomical variant: vessels and nerves move and change depth within their published ranges."""
    techniques: (Annotated[list[TechniqueId], Field(min_length=1, description="a list of technique ids")]
                 | Literal["all"])
    """Technique ids the trainee may use (mesosim techniques), or "all"."""
    targets: list[Target] = []
    """Target areas; none means the whole map with no target, count or coverage criteria."""
    product: Product
    """What the trainee injects: its name and its form (liquid or gel)."""
    devices: list[Device] = Field(min_length=1)
    """hand and/or gun (mesoinjector)."""
    mode: Mode
    """practice (each injection marked and explained at once, undo) or exam (no feedback until submit)."""
    count: CountRange | None = None
    """The expected number of injections."""
    time_limit_s: float | None = Field(default=None, gt=0, le=24 * 3600)
    """The time allowed [s]; in an exam the attempt is submitted when it is up."""
    pass_mark: float = Field(ge=0, le=100)
    """The score at or above which an attempt passes (with the other conditions), set by standard setting:
    `mesosim calibrate` proposes it."""
    competence_threshold: float | None = Field(default=None, ge=0, le=1)
    """The share of injections that must be done right (default: competence.threshold of scoring.yaml)."""
    significant: list[InjectionRule] = []
    """Per-injection criteria that must be right in this exercise, beside those its techniques name."""
    weights: Annotated[dict[str, Annotated[float, Field(ge=0, le=100)]],
                       Field(json_schema_extra={"x-keys": "score-part"})] = {}
    """Weights of the score's parts (injections and the attempt criteria) that replace the defaults of
    assets/scoring.yaml."""
    coverage: CoverageSpec | None = None
    """The share of the target area the punctures must reach, to pass and to warn."""
    total_volume_ml: VolumeRange | None = None
    """The volume of the whole attempt [ml]."""
    patient: Patient | None = None
    """The patient's case; with `screening`, the trainee decides go / postpone / no-go before injecting."""
    no_go: list[NoGoSpot] = []
    """The patient's own spots never to be punctured (moles, lesions)."""
    partings: list[Parting] = []
    """Parting lines drawn on the map (scalp exercises)."""
    indication: Indication | None = None
    """For "choose the technique" exercises: which of the offered techniques are right for the case."""
    instructed: Instructed | None = None
    """The instructed technique and settings, as values (the needle's start, `mesosim plan`)."""
    solutions: Solutions | None = None
    """Model answers beside the file, which `mesosim validate` scores."""


STAND_INS = {"id": "x", "title": "x", "objective": "x", "techniques": "all", "product": {"name": "x", "form": "liquid"},
             "devices": ["hand"], "mode": "practice", "pass_mark": 0}
"""What stands in for a wrong required field while the rest of a file is checked (sim.core.files.model.validate_all);
the map has none: without it nothing else can be checked."""

SPOT_SOURCE = "scenario no-go spot (seed 001: moles must not be injured)"


def spot_structure(spot: NoGoSpot, index: int) -> Structure:
    """A patient's no-go spot as a danger structure: a point whose radius is its margin, hit at any depth."""
    p = np.asarray([spot.at_mm], dtype=np.float64)
    r = float(spot.radius_mm)
    return Structure(f"no-go-{index + 1}", spot.name, "spot", spot.severity, spot.consequence, SPOT_SOURCE,
                     p, p, np.zeros(1), np.zeros(1), np.asarray([r]), np.asarray([r]), None,
                     (float(p[0, 0] - r), float(p[0, 1] - r), float(p[0, 0] + r), float(p[0, 1] + r)), p)


@dataclass(frozen=True, eq=False)
class LoadedScenario:
    """A validated scenario with its atlas, its techniques and its target areas resolved, and the data derived
    from them (computed once, when first asked for): what the scoring engine and the window both look up."""

    spec: Scenario
    file: str
    atlas: Atlas
    technique_ids: tuple[str, ...]
    target_polygons: tuple[tuple[str, np.ndarray], ...]
    digest: str
    _grids: dict[float, CoverageGrid] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def id(self) -> str:
        return self.spec.id

    @functools.cached_property
    def spots(self) -> tuple[Structure, ...]:
        """The patient's no-go spots as danger structures (spot_structure), in the order of the file."""
        return tuple(spot_structure(s, i) for i, s in enumerate(self.spec.no_go))

    @functools.cached_property
    def structures(self) -> tuple[Structure, ...]:
        """Every danger structure of the exercise: the atlas's, then the patient's no-go spots."""
        return tuple(self.atlas.structures) + self.spots

    @functools.cached_property
    def danger_index(self) -> DangerIndex:
        """`structures`, indexed for lookup."""
        return DangerIndex(list(self.structures))

    @functools.cached_property
    def skin(self) -> np.ndarray:
        """Skin layer thicknesses [mm] per region (atlas.skin_arrays, (R, 3)) with the patient's overrides."""
        overrides = self.spec.patient.skin_overrides if self.spec.patient else {}
        return self.atlas.skin_arrays(overrides)

    @functools.cached_property
    def skin_bottoms(self) -> np.ndarray:
        """Depth [mm] of the bottom of epidermis, dermis and fat per region (cumulative `skin`), then a row of
        zeros for points off the map: (R + 1, 3)."""
        return np.vstack([np.cumsum(self.skin, axis=1), np.zeros((1, 3))])

    @functools.cached_property
    def target_index(self) -> RegionIndex:
        """The target polygons, indexed: inside one of them is index >= 0."""
        return RegionIndex([p for _n, p in self.target_polygons], 0.0)

    def coverage_grid(self, cell_mm: float) -> CoverageGrid:
        """The target areas (their union) sampled on a grid of cell_mm, made once per cell size."""
        grid = self._grids.get(cell_mm)
        if grid is None:
            grid = self._grids[cell_mm] = CoverageGrid([p for _n, p in self.target_polygons], cell_mm)
        return grid

    def refused_regions(self, library: Library) -> np.ndarray:
        """Per region, then a last False for off the map ((R + 1,) booleans): is the mesoinjector refused there
        (a region tagged with one of the library's gun.refused_tags, seed 000)?"""
        refused_tags = set(library.limits.gun.refused_tags)
        return np.asarray([bool(refused_tags & set(r.tags)) for r in self.atlas.regions] + [False], dtype=bool)


def _check_fat_holds(doc: Document, scn: Scenario, library: Library, atlas) -> list[Problem]:
    """An exercise that asks for a technique whose tip belongs in the fat (infiltration, deep nappage: layer ok is
    fat alone) must give it a target whose fat holds that tip, in this variant and with the patient's skin
    overrides: the technique's nominal depth inside the fat, and for a technique with layer.fat_middle
    (infiltration) the middle of the fat inside its ok depth band (techniques.md: on the face the tip belongs at
    mid-depth of the fat; the submental pad, not the thin jaw). Checked for the techniques an exercise names or
    indicates, not for every one a free choice offers."""
    named = scn.indication.techniques if scn.indication is not None else (
        [] if scn.techniques == "all" else scn.techniques)
    fat_only = [library.get(t) for t in named if t in library.techniques and library.get(t).layer.ok == ["fat"]]
    if not fat_only:
        return []
    try:
        skinned = load_atlas(scn.map, scn.variant)
    except (KeyError, InputError):
        return []  # an unknown variant is reported on its own
    skin = skinned.skin_arrays(scn.patient.skin_overrides if scn.patient else {})
    index = {r.id: k for k, r in enumerate(skinned.regions)}
    problems = []
    for i, target in enumerate(scn.targets):
        if target.region is None:
            continue
        for tech in fat_only:
            lo, hi = tech.depth_mm.ok
            nominal = tech.depth_mm.nominal
            thin = []
            for rid in skinned.resolve_area(target.region):
                e, d, f = skin[index[rid]]
                top, bottom, middle = e + d, e + d + f, e + d + f / 2
                if not top <= nominal < bottom or (tech.layer.fat_middle and not lo <= middle <= hi):
                    thin.append(f"{rid} (fat {top:.1f}-{bottom:.1f} mm, middle {middle:.1f})")
            if thin:
                where = f"{lo:g}-{hi:g} mm, in the middle of the fat" if tech.layer.fat_middle else \
                    f"{nominal:g} mm, in the fat"
                problems.append(doc.problem(("targets", i, "region"), f"{tech.name.lower()} puts its tip at "
                                            f"{where}, but the fat of " + ", ".join(thin) + " does not hold it "
                                            "there; choose a region with that much fat or give the patient's "
                                            "skin_overrides"))
    return problems


def _check_instructed(doc: Document, scn: Scenario, library: Library) -> list[Problem]:
    """The instructed technique and device must be ones the exercise allows; a flawed solution's planned technique
    must exist."""
    problems = []
    ins = scn.instructed
    if ins is not None:
        offered = library.ids if scn.techniques == "all" else scn.techniques
        if ins.technique not in library.techniques:
            problems.append(doc.problem(("instructed", "technique"), f'unknown technique "{ins.technique}"'
                                        + suggest(ins.technique, library.ids)))
        elif ins.technique not in offered:
            problems.append(doc.problem(("instructed", "technique"), f'"{ins.technique}" is not one of the '
                                        f"exercise's techniques ({', '.join(offered)})"))
        if ins.device not in scn.devices:
            problems.append(doc.problem(("instructed", "device"), f'"{ins.device}" is not one of the exercise\'s '
                                        f"devices ({', '.join(scn.devices)})"))
    for i, flawed in enumerate(scn.solutions.flawed if scn.solutions else []):
        if flawed.plan is not None:
            if ins is None:
                problems.append(doc.problem(("solutions", "flawed", i, "plan"), "a planned flawed solution needs "
                                            "the exercise's instructed: values to start from"))
            tech = flawed.plan.technique
            if tech is not None and tech not in library.techniques:
                problems.append(doc.problem(("solutions", "flawed", i, "plan", "technique"), f'unknown technique '
                                            f'"{tech}"' + suggest(tech, library.ids)))
    return problems


def check_references(doc: Document, scn: Scenario, library: Library) -> list[Problem]:
    """Problems with names that must exist in the atlas or technique library."""
    problems: list[Problem] = []
    try:
        atlas = load_atlas(scn.map)
    except InputError as exc:
        return exc.problems
    if scn.variant is not None and scn.variant not in atlas.variants:
        problems.append(doc.problem(("variant",), f'unknown variant "{scn.variant}" of the {scn.map} map; variants: '
                                    f'{", ".join(atlas.variants)}' + suggest(scn.variant, atlas.variants)))
    if isinstance(scn.techniques, list):
        seen = set()
        for i, tid in enumerate(scn.techniques):
            if tid not in library.techniques:
                problems.append(doc.problem(("techniques", i), f'unknown technique "{tid}"'
                                            + suggest(tid, library.ids) + f'; techniques: {", ".join(library.ids)}'))
            elif scn.map not in library.get(tid).maps:
                problems.append(doc.problem(("techniques", i), f'"{tid}" is not a {scn.map} technique'))
            if tid in seen:
                problems.append(doc.problem(("techniques", i), f'"{tid}" is listed twice'))
            seen.add(tid)
    x0, y0, x1, y1 = atlas.bounds_mm
    extent = f" (it spans x {x0:g} to {x1:g} mm, y {y0:g} to {y1:g} mm)"
    names = atlas.area_names()
    for i, target in enumerate(scn.targets):
        if target.region is not None and not atlas.resolve_area(target.region):
            problems.append(doc.problem(("targets", i, "region"), f'unknown region "{target.region}" of the '
                                        f'{scn.map} map' + suggest(target.region, names)))
        if target.polygon_mm is not None:
            for j, (x, y) in enumerate(target.polygon_mm):
                if not (x0 <= x <= x1 and y0 <= y <= y1):
                    problems.append(doc.problem(("targets", i, "polygon_mm", j),
                                                f"point ({x:g}, {y:g}) is off the {scn.map} map" + extent))
    for i, spot in enumerate(scn.no_go):
        x, y = spot.at_mm
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            problems.append(doc.problem(("no_go", i, "at_mm"), f"point ({x:g}, {y:g}) is off the {scn.map} map" + extent))
    for i, parting in enumerate(scn.partings):
        for j, (x, y) in enumerate(parting.points_mm):
            if not (x0 <= x <= x1 and y0 <= y <= y1):
                problems.append(doc.problem(("partings", i, "points_mm", j),
                                            f"point ({x:g}, {y:g}) is off the {scn.map} map" + extent))
    problems += _check_fat_holds(doc, scn, library, atlas)
    problems += _check_instructed(doc, scn, library)
    if scn.indication is not None:
        offered = library.ids if scn.techniques == "all" else scn.techniques
        for i, tid in enumerate(scn.indication.techniques):
            if tid not in offered:
                problems.append(doc.problem(("indication", "techniques", i), f'"{tid}" is not one of the '
                                            "exercise's techniques" + suggest(tid, list(offered))))
    rule_ids = RULES
    if scn.solutions is not None:
        refs = [(("solutions", "reference", "log"), scn.solutions.reference.log)]
        for i, flawed in enumerate(scn.solutions.flawed):
            refs.append((("solutions", "flawed", i, "log"), flawed.log))
            if flawed.fails_on not in rule_ids:
                problems.append(doc.problem(("solutions", "flawed", i, "fails_on"), f'unknown criterion '
                                            f'"{flawed.fails_on}"' + suggest(flawed.fails_on, rule_ids)))
        for where, rel in refs:
            if not (Path(doc.file).parent / rel).is_file():
                problems.append(doc.problem(where, f'no such injection log "{rel}" beside the scenario file'
                                            + (" (mesosim plan --write writes it)" if scn.instructed else "")))
    for key in scn.weights:
        if key not in SCORE_PARTS:
            hint = (f"; {key} is a per-injection criterion: name it under significant: to make it count"
                    if key in rule_ids else suggest(key, SCORE_PARTS))
            problems.append(doc.problem(("weights", key), f'unknown part of the score "{key}"' + hint
                                        + f'; parts: {", ".join(SCORE_PARTS)}', key=True))
    if scn.patient is not None:
        region_ids = atlas.region_ids()
        for key in scn.patient.skin_overrides:
            if key not in region_ids:
                problems.append(doc.problem(("patient", "skin_overrides", key), f'unknown region "{key}"'
                                            + suggest(key, region_ids), key=True))
        if scn.patient.screening is not None:
            from sim.core.exercise.screening import load_reasons

            catalogue = load_reasons()
            expected = scn.patient.screening.expected
            for j, reason_id in enumerate(scn.patient.screening.reasons):
                reason = catalogue.get(reason_id)
                where = ("patient", "screening", "reasons", j)
                if reason is None:
                    problems.append(doc.problem(where, f'unknown reason "{reason_id}"' + suggest(reason_id, catalogue.ids)
                                                + " (reasons: assets/screening.yaml)"))
                elif reason.decision != expected:
                    also = f" ({', '.join(reason.accepted)} accepted with a warning)" if reason.accepted else ""
                    problems.append(doc.problem(where, f'reason "{reason_id}" calls for {reason.decision}{also}, '
                                                f"but expected: is {expected}; the expected decision is the right one "
                                                "for every reason listed (assets/screening.yaml, contraindications.md)"))
    return problems


def _missing_log(problem: Problem) -> bool:
    return problem.path.startswith("solutions.") and problem.message.startswith("no such injection log")


def load_scenario_file(path: Path | str, library: Library | None = None,
                       solutions_needed: bool = True) -> LoadedScenario:
    """Read, validate and resolve one scenario file, or raise InputError with every problem in it. Without
    `solutions_needed` a solution log that is not written yet is no problem (mesosim preview draws such a file)."""
    path = Path(path)
    library = library or load_library()
    doc = load_yaml_file(path)
    if not isinstance(doc.data, dict):
        raise InputError([doc.problem((), "a scenario file is a mapping of fields (id:, title:, map: ...)")])
    checked = validate_all(Scenario, doc, STAND_INS)
    problems = list(checked.problems)
    if checked.value is not None:  # the references are checked in what is right even when the rest is not
        problems += checked.outside_filled(check_references(checked.doc, checked.value, library))
    if not solutions_needed:
        problems = [p for p in problems if not _missing_log(p)]
    if problems:
        raise InputError(problems)
    scn = checked.value
    atlas = load_atlas(scn.map, scn.variant, scn.variation.seed if scn.variation else None)
    if scn.techniques == "all":
        tids = tuple(library.ids)
    else:
        tids = tuple(scn.techniques)
    polygons: list[tuple[str, np.ndarray]] = []
    for target in scn.targets:
        if target.region is not None:
            for rid in atlas.resolve_area(target.region):
                polygons.append((rid, atlas.region(rid).polygon))
        else:
            polygons.append((target.name or "", np.asarray(target.polygon_mm, dtype=np.float64)))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedScenario(scn, str(path), atlas, tids, tuple(polygons), digest)


def scenario_files(root: Path | None = None) -> list[Path]:
    """Every scenario file under `root` (default: the shipped scenarios), sorted."""
    root = root or scenarios_dir()
    return sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


@dataclass(frozen=True)
class LibraryFile:
    """A scenario file that can be looked up by id: shipped, or in a folder of the instructor's library."""

    path: Path
    shipped: bool
    folder: Path
    """The folder it was found in."""
    origin: str = "shipped"
    """How the folder was named: shipped, the user folder, MESOSIM_LIBRARY or --library."""


def library_folder_problems() -> list[Problem]:
    """A folder named in MESOSIM_LIBRARY or with --library that is not there (the user folder may be absent)."""
    problems = []
    for folder, origin in library_dirs():
        if origin != "the user folder" and not folder.is_dir():
            what = "is not a folder" if folder.exists() else "no such folder"
            problems.append(Problem(str(folder), 0, 0, "", f"{what} (named in {origin} as a folder of exercises)"))
    return problems


def library_files(check_folders: bool = True) -> list[LibraryFile]:
    """Every scenario file that can be looked up by id: the shipped ones (the built-ins first), then those of each
    folder of the instructor's library (sim.paths.library_dirs), each file once. A library folder that is not
    there is an InputError (or, without `check_folders`, left out)."""
    if check_folders:
        problems = library_folder_problems()
        if problems:
            raise InputError(problems)
    out: list[LibraryFile] = []
    seen: set[Path] = set()
    shipped = [(builtin_scenarios_dir(), True, "shipped"), (scenarios_dir(), True, "shipped")]
    for folder, shipped_, origin in shipped + [(f, False, o) for f, o in library_dirs()]:
        if not folder.is_dir():
            continue
        for path in scenario_files(folder):
            key = path.resolve()
            if key not in seen:
                seen.add(key)
                out.append(LibraryFile(path, shipped_, folder, origin))
    return out


def _id_of(path: Path) -> str | None:
    try:
        doc = load_yaml_file(path)
    except InputError:
        return None
    sid = doc.data.get("id") if isinstance(doc.data, dict) else None
    return sid if isinstance(sid, str) else None


def ids_of(paths) -> dict[str, list[Path]]:
    """The files of each scenario id among `paths` (each file once, in order); unreadable files are left out."""
    out: dict[str, list[Path]] = {}
    seen: set[Path] = set()
    for path in paths:
        path = Path(path)
        key = path.resolve()
        if key in seen:
            continue
        seen.add(key)
        sid = _id_of(path)
        if sid:
            out.setdefault(sid, []).append(path)
    return out


def _both(files: list[Path]) -> str:
    return " and ".join(str(f) for f in files) if len(files) == 2 else ", ".join(str(f) for f in files)


def duplicate_id_problems(paths) -> list[Problem]:
    """For each of `paths` whose id is also the id of another file (among `paths` and every file that can be looked
    up by id), a problem at its id naming the others: an id must name one exercise."""
    paths = [Path(p) for p in paths]
    everything = ids_of([*paths, *(f.path for f in library_files(check_folders=False))])
    checked = {p.resolve() for p in paths}
    problems = []
    for sid, files in everything.items():
        if len(files) < 2:
            continue
        for f in files:
            if f.resolve() in checked:
                others = [o for o in files if o.resolve() != f.resolve()]
                doc = load_yaml_file(f)
                problems.append(doc.problem(("id",), f'"{sid}" is also the id of {_both(others)}; an id names one '
                                            "exercise: rename one of them"))
    return problems


def resolve_scenario(ref: str) -> Path:
    """A scenario reference is a path to a file, or the id of a shipped scenario (face-free, scalp-free, ...) or of
    one in the instructor's library (sim.paths.library_dirs). An id given by two files is refused, naming both."""
    from sim.core.files.safeio import exists

    if len(ref) > 4096 or "\0" in ref:
        raise InputError.one(ref[:80] + "...", "not a scenario file or id: too long, or holding a NUL character")
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or exists(path) or "/" in ref or "\\" in ref:
        if not exists(path):
            try:
                path.stat()
            except OSError as exc:
                if exc.errno == errno.ENAMETOOLONG:
                    raise InputError.one(ref, "no such scenario file: the name is too long for this system") \
                        from None
            except ValueError:
                pass
            raise InputError.one(ref, "no such scenario file")
        return path
    files = library_files()
    known = ids_of(f.path for f in files)
    if ref in known:
        if len(known[ref]) > 1:
            raise InputError.one(ref, f'the id "{ref}" is given by {len(known[ref])} files: {_both(known[ref])}; '
                                 "an id names one exercise: rename one of them (mesosim validate reports it)")
        return known[ref][0]
    for f in files:
        if f.path.stem == ref:
            return f.path
    folders = [str(folder) for folder, _origin in library_dirs()]
    where = f" ({', '.join(folders)})" if folders else ""
    unreadable = [f.path for f in files if not f.shipped and _id_of(f.path) is None]
    note = (f"; these files of your library cannot be read: {', '.join(map(str, unreadable))} (mesosim validate "
            "says why)") if unreadable else ""
    raise InputError.one(ref, f'no scenario file, shipped scenario or scenario of your library{where} with id '
                         f'"{ref}"' + suggest(ref, known) + note)


def load_scenario(ref: str, library: Library | None = None, solutions_needed: bool = True) -> LoadedScenario:
    return load_scenario_file(resolve_scenario(ref), library, solutions_needed)


def missing_solution_logs(scenario: LoadedScenario) -> list[str]:
    """The solution logs a scenario names that are not beside it (yet), as written in the file."""
    sol = scenario.spec.solutions
    if sol is None:
        return []
    logs = [sol.reference.log, *(f.log for f in sol.flawed)]
    return [log for log in logs if not (Path(scenario.file).parent / log).is_file()]
