"""Scoring a scenario's own solutions: the reference must pass with at least REFERENCE_MIN, each flawed one must
fail, and fail on the criterion it names."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.errors import InputError, Problem
from sim.core.scoring.injections import read_log
from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring.config import Config
from sim.core.scoring.evaluation import evaluate
from sim.core.scoring.findings import ScreeningAnswer
from sim.core.vocabulary import CODE
from sim.core.exercise.techniques import Library
from sim.core.files.yamlio import load_yaml_file

REFERENCE_MIN = 90.0


def parse_answer(text: str | None) -> ScreeningAnswer | None:
    if not text:
        return None
    decision, _, reason = text.partition(":")
    return ScreeningAnswer(decision, reason or None)


def score_solution(scn: LoadedScenario, log: str, screening: str | None, library: Library, config: Config):
    inj = read_log(Path(scn.file).parent / log, library.ids, scn.technique_ids)
    return evaluate(scn, inj, library, config, parse_answer(screening))


def failed_on(ev, rule: str) -> bool:
    """Did the attempt get a fail (or critical) on this criterion?"""
    if rule in ev.rules:
        return bool((ev.rules[rule].verdict >= CODE["fail"]).any())
    return ev.attempt_verdicts.get(rule, 0) >= CODE["fail"]


def check_solutions(scn: LoadedScenario, library: Library, config: Config) -> list[Problem]:
    sol = scn.spec.solutions
    if sol is None:
        return []
    doc = load_yaml_file(scn.file)
    problems: list[Problem] = []
    refs = [(("solutions", "reference", "log"), sol.reference.log)]
    refs += [(("solutions", "flawed", i, "log"), f.log) for i, f in enumerate(sol.flawed)]
    missing = [doc.problem(where, f'no such injection log "{rel}" beside the scenario file'
                           + (" (mesosim plan --write writes the planned ones)" if scn.spec.instructed else ""))
               for where, rel in refs if not (Path(scn.file).parent / rel).is_file()]
    if missing:  # a file that is only being written is checked once its logs are there
        return missing
    try:
        ev = score_solution(scn, sol.reference.log, sol.reference.screening, library, config)
        score, passed = ev.score(), ev.passed()
        if score < REFERENCE_MIN or not passed:
            worst = sorted({f"{r}" for r in ev.rules if (ev.rules[r].verdict >= CODE["fail"]).any()}
                           | {r for r, v in ev.attempt_verdicts.items() if v >= CODE["fail"]})
            problems.append(doc.problem(("solutions", "reference", "log"),
                                        f"the reference solution scores {score:g}"
                                        f"{'' if passed else ' and does not pass'}; it needs at least "
                                        f"{REFERENCE_MIN:g} and a pass" + (f" (fails on: {', '.join(worst)})"
                                                                           if worst else "")))
    except InputError as exc:
        problems.extend(exc.problems)
    for i, flawed in enumerate(sol.flawed):
        try:
            ev = score_solution(scn, flawed.log, flawed.screening, library, config)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if ev.passed():
            problems.append(doc.problem(("solutions", "flawed", i, "log"),
                                        f"the flawed solution passes (score {ev.score():g}); it should fail on "
                                        f"{flawed.fails_on}"))
        elif not failed_on(ev, flawed.fails_on):
            problems.append(doc.problem(("solutions", "flawed", i, "fails_on"),
                                        f"the flawed solution does not fail on {flawed.fails_on}"))
    return problems


OFF_MAP_SHARE = 0.05
"""A target with more than this share of its area off the map cannot be worked as drawn."""


def check_passable(scn: LoadedScenario, library: Library) -> list[Problem]:
    """Problems that make an exercise impossible to pass, found before any solution is scored: a target (mostly)
    off the map, devices all refused in the target regions, no point of a target a competent injector could use
    at the instructed depth, and a count range the targets cannot give at the spacing (the planned reference's
    count when the exercise has `instructed:`, else the area at the technique's nominal spacing)."""
    from sim.core.scoring.planner import layout, plan_reference, safe_points
    from sim.core.spatial.coverage import CoverageGrid

    doc = load_yaml_file(scn.file)
    spec = scn.spec
    problems: list[Problem] = []
    x0, y0, x1, y1 = scn.atlas.bounds_mm
    refused = scn.refused_regions(library)
    areas = []
    for i, target in enumerate(spec.targets):
        if target.region is not None:
            named = [(rid, scn.atlas.region(rid).polygon) for rid in scn.atlas.resolve_area(target.region)]
        else:
            named = [(target.name or f"#{i + 1}", np.asarray(target.polygon_mm, dtype=np.float64))]
        regions = []
        for name, poly in named:
            grid = CoverageGrid([poly], 1.0)
            gx, gy = np.meshgrid(grid.xs, grid.ys)
            pts = np.column_stack([gx.ravel(), gy.ravel()])[grid.inside.ravel()]
            areas.append(len(pts))
            if not len(pts):
                continue
            region = scn.atlas.region_index(pts)
            regions.append(region)
            off = float(np.mean(region < 0))
            if off > OFF_MAP_SHARE:
                problems.append(doc.problem(("targets", i), f"{100 * off:.0f} % of the target {name} lies off the "
                                            f"{spec.map} (the map spans x {x0:g} to {x1:g} mm, y {y0:g} to {y1:g} "
                                            "mm); every injection there would be off the map"))
        if spec.devices == ["gun"] and regions and np.all(refused[np.concatenate(regions)]):
            problems.append(doc.problem(("devices",), f"the mesoinjector is the only device allowed, but it is "
                                        f"refused everywhere in target {i + 1} (around the eyes and the nasolabial "
                                        "folds injections are made by hand, seed 000): add hand"))
    ins = spec.instructed
    patient = spec.patient
    declined = patient is not None and patient.screening is not None and patient.screening.expected != "go"
    if ins is not None and ins.technique in library.techniques and spec.targets and not declined:
        tech = library.get(ins.technique)
        spacing = ins.spacing_mm or tech.spacing_mm.nominal
        if ins.device in spec.devices:
            xy = layout(scn, spacing, ins.grid)
            usable = safe_points(scn, library, xy, ins.depth_mm, ins.depth_margin_mm, ins.device) if len(xy) else xy
            if len(xy) and not np.any(usable):
                problems.append(doc.problem(("instructed",), "no point of the targets is clear of the danger "
                                            f"margins and no-go spots at {ins.depth_mm:g} mm with {ins.device}: no "
                                            "attempt can be done right"))
        n = len(plan_reference(scn, library))
        expect = f"the planned reference has {n} points at {spacing:g} mm"
    elif spec.targets and not declined and areas:
        techs = [library.get(t) for t in scn.technique_ids if t in library.techniques]
        spacing = min(t.spacing_mm.nominal for t in techs) if techs else 0.0
        area = float(sum(areas))  # mm2, 1 mm cells
        n = int(round(area / (spacing * spacing * np.sqrt(3) / 2))) if spacing else 0
        expect = f"the targets ({area:.0f} mm2) take about {n} points at {spacing:g} mm (a hexagonal grid)"
    else:
        n, expect = None, ""
    if n is not None and spec.count is not None and n > 0:
        warn = 0.1
        if n < spec.count.min * (1 - warn) or n > spec.count.max * (1 + warn):
            problems.append(doc.problem(("count",), f"count asks for {spec.count.min}-{spec.count.max} injections "
                                        f"but {expect}; a complete, right attempt would fail on count (set count "
                                        f"to about {max(1, int(n * 0.85))}-{int(np.ceil(n * 1.15))}, or change "
                                        "the targets or the spacing)"))
    return problems
