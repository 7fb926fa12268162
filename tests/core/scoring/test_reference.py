"""The scoring engine gives, on generated attempts, the per-injection verdicts of the plain reference of the rules
(tests/reference.py): points inside, on and around the targets, the regions' outlines, the danger structures
and the patient's no-go spots; depths, angles and volumes at and about every band edge, layer bottom and
structure depth; the scenario's techniques and one it does not allow; either bevel and either device.

Examples per scenario: a few dozen in the quick profile, hundreds in the long one (tests/profile.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.exercise.scenario import load_scenario
from sim.core.scoring import evaluate
from sim.core.scoring.injections import Injections
from sim.core.vocabulary import BEVELS, DEVICES, VERDICTS
from tests.profile import amount
from tests.reference import RULES, Reference

# Face and scalp; targets named by region and drawn; vessels, the eye's rim, moles; a mesoinjector refused
# around the nasolabial folds; an indication that narrows the allowed techniques; thick and thin fat.
SCENARIOS = ["forehead-nappage", "glabella-frown-lines", "nasolabial-folds", "periorbital-micro-papules",
             "screening-few-moles", "choose-the-technique", "submental-fat-infiltration", "scalp-crown",
             "scalp-temples"]
EXAMPLES = amount(quick=30, long=300)


@pytest.fixture(scope="module")
def loaded(library, config):
    return {sid: (scn := load_scenario(sid, library), Reference(scn, library, config)) for sid in SCENARIOS}


def _anchors(scn) -> np.ndarray:
    """Points where a rule changes its mind: polygon vertices and edge midpoints of targets and regions,
    structure segment ends and midpoints, no-go centres."""
    polys = [poly for _name, poly in scn.target_polygons] + [r.polygon for r in scn.atlas.regions]
    pts = []
    for poly in polys:
        pts += [poly, (poly + np.roll(poly, -1, axis=0)) / 2, poly.mean(axis=0, keepdims=True)]
    for s in scn.atlas.structures:
        pts += [s.a, s.b, (s.a + s.b) / 2]
    pts += [np.asarray([spot.at_mm], dtype=float) for spot in scn.spec.no_go]
    return np.concatenate(pts)


def _levels(scn, library) -> tuple[list[float], list[float], list[float]]:
    """Depths, angles and volumes at the edges of every band, limit, layer and structure of this scenario."""
    depths, angles, volumes = [], [], []
    for t in library.techniques.values():
        depths += [b for b in t.depth_mm.bounds() if np.isfinite(b)]
        angles += [b for b in t.angle_deg.bounds() if np.isfinite(b)]
        volumes += [b for b in t.volume_ml.bounds() if np.isfinite(b)]
    depths.append(library.limits.face_max_depth_mm.value)
    volumes.append(library.limits.max_volume_ml.value)
    for r in scn.atlas.regions:
        depths += [r.epidermis_mm, r.epidermis_mm + r.dermis_mm, r.epidermis_mm + r.dermis_mm + r.fat_mm]
    for s in scn.atlas.structures:
        depths += [float(d) for d in np.concatenate([s.depth_a, s.depth_b])]
    return sorted(set(depths)), sorted(set(angles)), sorted(set(volumes))


def _near(levels: list[float], lo: float, hi: float):
    """A level itself, a hair either side of it, or anything in [lo, hi]."""
    return st.one_of(st.sampled_from(levels), st.sampled_from(levels).flatmap(
        lambda v: st.sampled_from([v - 1e-9, v + 1e-9, v - 0.05, v + 0.05])).map(lambda v: max(lo, v)),
        st.floats(lo, hi, allow_nan=False))


@st.composite
def attempts(draw, scn, library, config) -> list[dict]:
    anchors = _anchors(scn)
    gaps = sorted({0.0, config.scoring.spacing.double_puncture_mm} | {
        b for t in library.techniques.values() for b in t.spacing_mm.bounds() if np.isfinite(b)})
    depths, angles, volumes = _levels(scn, library)
    b = scn.atlas.bounds_mm
    other = [t for t in library.ids if t not in scn.technique_ids]
    techniques = list(scn.technique_ids) + other[:1]
    records = []
    for i in range(draw(st.integers(1, 25))):
        if draw(st.booleans()):  # at or around a point where a rule changes
            ax, ay = anchors[draw(st.integers(0, len(anchors) - 1))]
            dx, dy = draw(st.sampled_from([0.0, 1e-9, -1e-9, 0.5, -2.0])), draw(st.floats(-8, 8))
            x, y = float(ax) + dx, float(ay) + dy
        else:  # anywhere on the map and a little beyond it
            x = draw(st.floats(b[0] - 15, b[2] + 15))
            y = draw(st.floats(b[1] - 15, b[3] + 15))
        if records and draw(st.integers(0, 3)) == 0:  # at a spacing edge from an earlier puncture, or about it
            prev = records[draw(st.integers(0, len(records) - 1))]
            x, y = prev["x_mm"] + draw(_near(gaps, 0.0, 30.0)), prev["y_mm"]
        records.append({"x_mm": x, "y_mm": y, "depth_mm": draw(_near(depths, 0.0, 20.0)),
                        "angle_deg": draw(_near(angles, 1.0, 90.0)), "volume_ml": draw(_near(volumes, 0.0, 0.5)),
                        "technique": draw(st.sampled_from(techniques)), "t_s": float(i),
                        "bevel": draw(st.sampled_from(BEVELS)), "device": draw(st.sampled_from(DEVICES))})
    return records


@pytest.mark.parametrize("scenario_id", SCENARIOS)
def test_engine_verdicts_equal_the_reference(scenario_id, loaded, library, config):
    scn, reference = loaded[scenario_id]

    @settings(max_examples=EXAMPLES)
    @given(attempts(scn, library, config))
    def check(records):
        ev = evaluate(scn, Injections.from_records(records, library.ids), library, config)
        engine = [[VERDICTS[int(ev.rules[rule].verdict[i])] for rule in RULES] for i in range(len(records))]
        expected = [[VERDICTS[code] for code in row] for row in reference.verdicts(records)]
        for i, (got, want) in enumerate(zip(engine, expected)):
            assert dict(zip(RULES, got)) == dict(zip(RULES, want)), records[i]

    check()
