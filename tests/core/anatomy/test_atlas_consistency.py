"""The consistency rules of the anatomy reference (anatomy.md B), checked on the atlas through its public API, and
the two measurements docs/atlas.md reports: false criticals at 1.5 mm per face region, the facial artery at 10 mm."""

import numpy as np
import pytest

from sim.core.anatomy.atlas import load_atlas
from sim.core.anatomy.files import PolylineShape, load_source
from sim.core.vocabulary import LAYERS

VARIANTS = [("face", None), ("face", "female"), ("scalp", None), ("scalp", "female")]
GRID_MM = 2.0
TIP_MM = 1.5
"""The median nappage and micro papule depth (seed 004; anatomy.md E)."""


def _base(sid: str) -> str:
    return sid.removesuffix("-left").removesuffix("-right")


def _grid(atlas, step=GRID_MM):
    x0, y0, x1, y1 = atlas.bounds_mm
    xs, ys = np.meshgrid(np.arange(x0, x1 + 1e-9, step), np.arange(y0, y1 + 1e-9, step))
    xy = np.c_[xs.ravel(), ys.ravel()]
    region = atlas.region_index(xy)
    return xy[region >= 0], region[region >= 0]


def _bottoms(atlas):
    """(R, 3) depth of the bottom of epidermis, dermis and fat per region [mm]."""
    return np.cumsum(atlas.skin_arrays(), axis=1)


def _samples(structure, entry, step=1.0):
    """(points, structure depth there, index into LAYERS of the layer it must lie under) along a structure: every
    `step` mm along a path (a segment takes the less strict of its two ends' layers), a grid inside an area."""
    planes = entry.lies_below if isinstance(entry.lies_below, list) else [entry.lies_below] * (len(structure.a) + 1)
    if structure.area is not None:
        poly = structure.area
        xs, ys = np.meshgrid(np.arange(poly[:, 0].min(), poly[:, 0].max(), step),
                             np.arange(poly[:, 1].min(), poly[:, 1].max(), step))
        xy = np.c_[xs.ravel(), ys.ravel()]
        from sim.core.spatial.geometry import points_in_polygon
        xy = xy[points_in_polygon(xy, poly)]
        return xy, np.full(len(xy), float(structure.depth_a[0])), np.full(len(xy), LAYERS.index(planes[0]))
    pts, depth, plane = [], [], []
    for k, (p, q, da, db) in enumerate(zip(structure.a, structure.b, structure.depth_a, structure.depth_b)):
        n = max(1, int(np.ceil(np.hypot(*(q - p)) / step)))
        layer = min(LAYERS.index(planes[k]), LAYERS.index(planes[min(k + 1, len(planes) - 1)]))
        for t in np.linspace(0.0, 1.0, n + 1):
            pts.append(p + t * (q - p))
            depth.append(da + t * (db - da))
            plane.append(layer)
    return np.asarray(pts), np.asarray(depth), np.asarray(plane)


@pytest.mark.parametrize("map_id,variant", VARIANTS)
def test_a_structure_lies_at_or_below_the_layer_it_is_said_to_lie_under(map_id, variant):
    """anatomy.md B: 'a structure said to lie in or under a layer lies at or below that layer in its region's skin
    model' (the superficial temporal artery under the temple's fat, the frontal branch deeper still)."""
    atlas = load_atlas(map_id, variant)
    entries = {d.id: d for d in load_source(map_id).danger}
    bottoms = _bottoms(atlas)
    wrong = []
    for s in atlas.structures:
        entry = entries[_base(s.id)]
        if entry.lies_below is None:
            assert np.all(s.depth_a == 0) and np.all(s.depth_b == 0), s.id  # only the eye, at any depth
            continue
        xy, depth, plane = _samples(s, entry)
        region = atlas.region_index(xy)
        on = region >= 0
        need = bottoms[region[on], plane[on]]
        bad = depth[on] < need - 1e-9
        wrong += [(s.id, tuple(np.round(p, 1)), atlas.regions[r].id, round(d, 2), round(n, 2))
                  for p, r, d, n in zip(xy[on][bad], region[on][bad], depth[on][bad], need[bad])][:3]
    assert not wrong


def test_the_temple_fat_ends_above_the_temporal_artery_and_the_frontal_branch():
    for variant in (None, "female"):
        atlas = load_atlas("face", variant)
        temple = _bottoms(atlas)[atlas.region_ids().index("temple-left")]
        s = {x.id: x for x in atlas.structures}
        idx = atlas.region_index(s["superficial-temporal-artery-left"].points)
        in_temple = idx == atlas.region_ids().index("temple-left")
        sta = np.append(s["superficial-temporal-artery-left"].depth_a, s["superficial-temporal-artery-left"].depth_b[-1])
        assert in_temple.any() and (sta[in_temple] >= temple[2]).all()
        nerve = s["facial-nerve-frontal-branch-left"]
        assert nerve.depth_b[-1] > sta[in_temple].max() - 1e-9  # the nerve deeper still, in the temple


def test_a_structure_on_both_maps_has_one_depth_and_severity_where_they_meet():
    """anatomy.md B: supratrochlear, supraorbital and superficial temporal arteries, drawn on the face and on the
    scalp, agree at the frontal hairline, the end of each path nearest the other map."""
    face, scalp = load_atlas("face"), load_atlas("scalp")
    pairs = [(d.id, d.meets) for d in load_source("face").danger if d.meets]
    assert {f for f, _ in pairs} == {"supratrochlear-artery", "supraorbital-artery", "superficial-temporal-artery"}
    fs = {s.id: s for s in face.structures}
    ss = {s.id: s for s in scalp.structures}
    for face_id, meets in pairs:
        assert meets.map == "scalp"
        for side in ("left", "right"):
            f, s = fs[f"{face_id}-{side}"], ss[f"{meets.id}-{side}"]
            f_depth = np.append(f.depth_a, f.depth_b[-1])
            s_depth = np.append(s.depth_a, s.depth_b[-1])
            # the face path's top end (the hairline) and the scalp path's front end (the hairline)
            assert f_depth[np.argmax(f.points[:, 1])] == pytest.approx(s_depth[np.argmax(s.points[:, 1])]), face_id
            assert f.severity == s.severity, face_id


def _dermis_tip_hits(atlas, xy, region, tip_mm):
    """For every point, whether a tip of tip_mm lies in the dermis there, and the structures it hits."""
    bottoms = _bottoms(atlas)[region]
    depth = np.full(len(xy), float(tip_mm)) if np.isscalar(tip_mm) else tip_mm
    in_dermis = (depth >= bottoms[:, 0]) & (depth < bottoms[:, 1])
    hits = {}
    for s in atlas.structures:
        hit, _, sdepth = s.hits(xy, depth)
        hits[s.id] = (hit, sdepth)
    return in_dermis, hits


@pytest.mark.parametrize("map_id,variant", VARIANTS)
def test_danger_bands_leave_tips_in_the_dermis_alone(map_id, variant):
    """anatomy.md B: danger bands do not cover points where the same atlas puts a tip of that depth in the dermis,
    unless the structure itself is that shallow there (the eye: any depth). Checked at the techniques' dermal
    depths (anatomy.md E: 0.5, 1.5, 2 and 3 mm) and at the deepest tip still in the dermis of each point."""
    atlas = load_atlas(map_id, variant)
    xy, region = _grid(atlas, 1.0)
    deepest_dermis = _bottoms(atlas)[region, 1] - 1e-6
    for tip in (0.5, TIP_MM, 2.0, 3.0, deepest_dermis):
        in_dermis, hits = _dermis_tip_hits(atlas, xy, region, tip)
        for sid, (hit, sdepth) in hits.items():
            bad = hit & in_dermis & (sdepth > 0)
            assert not bad.any(), (sid, xy[bad][:3], tip if np.isscalar(tip) else "deepest")


def false_criticals(variant=None, tip_mm=TIP_MM, step=GRID_MM):
    """{region (both sides together): (grid points, critical at tip_mm, critical where that tip is in the dermis)}
    on a step-mm grid of the face (docs/atlas.md, 'Measurements')."""
    atlas = load_atlas("face", variant)
    xy, region = _grid(atlas, step)
    in_dermis, hits = _dermis_tip_hits(atlas, xy, region, tip_mm)
    critical = np.zeros(len(xy), dtype=bool)
    for s in atlas.structures:
        if s.severity == "critical":
            critical |= hits[s.id][0]
    out = {}
    for i, r in enumerate(atlas.regions):
        here = region == i
        n, c, d = out.get(_base(r.id), (0, 0, 0))
        out[_base(r.id)] = (n + int(here.sum()), c + int((critical & here).sum()),
                            d + int((critical & here & in_dermis).sum()))
    return out


@pytest.mark.parametrize("variant", [None, "female"])
def test_no_false_critical_at_1_5_mm(variant):
    """The assessed figures (27 % of the brow, 51 % of the glabella, 21 % of the nasal dorsum, 12 % of the crow's
    feet critical at 1.5 mm with the tip in the dermis) are 0 everywhere; what stays critical at 1.5 mm is the
    eye and its 2 mm lid-margin band, where 1.5 mm is below the lid's dermis anyway."""
    table = false_criticals(variant)
    assert {k: v[2] for k, v in table.items() if v[2]} == {}
    still = {k for k, (n, c, d) in table.items() if c}
    assert still <= {"upper-eyelid", "lower-eyelid", "medial-canthus", "crows-feet"}
    for region in ("brow", "glabella", "nasal-dorsum", "malar"):
        assert table[region][1] == 0


def facial_artery_path(atlas, depth_mm=10.0, step=1.0):
    """(samples, flagged) along each side's facial artery: is the point on its path, at depth_mm, a danger hit."""
    out = {}
    for side in ("left", "right"):
        s = {x.id: x for x in atlas.structures}[f"facial-artery-{side}"]
        pts = [p + t * (q - p) for p, q in zip(s.a, s.b)
               for t in np.linspace(0, 1, max(2, int(np.ceil(np.hypot(*(q - p)) / step))), endpoint=False)]
        pts = np.asarray(pts + [s.b[-1]])
        flagged = np.zeros(len(pts), dtype=bool)
        for st in atlas.structures:
            flagged |= st.hits(pts, np.full(len(pts), depth_mm))[0]
        out[side] = (len(pts), int(flagged.sum()))
    return out


@pytest.mark.parametrize("variant", [None, "female"])
def test_an_infiltration_on_the_facial_artery_is_found_along_its_whole_path(variant):
    """A 10 mm infiltration (seed 004) anywhere on the facial artery's path is a danger finding: its depth is the
    pooled 9.2-10.3 mm (Trzeciak 2025) less its radius, not one cohort's 21.6 mm at the commissure."""
    for side, (n, flagged) in facial_artery_path(load_atlas("face", variant)).items():
        assert n > 60 and flagged == n, side


def test_the_angular_arteries_do_not_merge_across_the_nasal_root():
    """anatomy.md B: margin 5, the two sides apart, in every seeded anatomy too (each side moves on its own)."""
    for variant in (None, "female"):
        for seed in [None, *range(40)]:
            atlas = load_atlas("face", variant, seed)
            s = {x.id: x for x in atlas.structures}
            left, right = s["angular-artery-left"], s["angular-artery-right"]
            pts = np.concatenate([left.a + t * (left.b - left.a) for t in np.linspace(0, 1, 11)])
            _, dist, _ = right.hits(pts, np.full(len(pts), np.inf))
            assert dist.min() > left.margin_a.max() + right.margin_a.max(), (variant, seed)


def test_facial_and_angular_depths_follow_the_pooled_means():
    """Trzeciak 2025: the drawn depths, and seeded depths reaching the CI's shallow end."""
    src = {d.id: d for d in load_source("face").danger}
    assert src["angular-artery"].depth_mm[3:] == [2.38, 2.38] and src["angular-artery"].depth_mm[1] == 4.68
    assert isinstance(src["facial-artery"].shape, PolylineShape)
    shallow = min(load_atlas("face", None, seed).structures[[s.id for s in load_atlas("face").structures]
                                                           .index("angular-artery-left")].depth_b[-1]
                  for seed in range(60))
    assert shallow < 1.6  # CI 1.38-3.38 at the canthus
