"""The atlas data: every landmark, region and danger structure the issue and anatomy.md ask for, and its geometry."""

import shutil

import numpy as np
import pytest

from sim.core.anatomy.atlas import load_atlas
from sim.core.anatomy.files import load_source
from sim.errors import InputError
from sim.core.spatial.geometry import points_in_polygon
from sim.paths import assets_dir

FACE_AREAS = ["forehead", "glabella", "temples", "eyelids", "upper-eyelid", "lower-eyelid", "periorbital",
              "nasal-dorsum", "malar", "cheeks", "nasolabial-folds", "upper-lip", "perioral", "lips", "chin",
              "jawline", "submental", "neck", "crows-feet"]
SCALP_AREAS = ["frontal", "midscalp", "crown", "temporal-left", "temporal-right", "temporal", "parietal-left",
               "parietal-right", "parietal", "occipital"]
# anatomy.md section A, one id per table row (brow rows give two landmarks each)
FACE_LANDMARKS = ["pupil", "endocanthion", "exocanthion", "nasion", "glabella", "trichion", "brow-lower-midpupil",
                  "brow-upper-midpupil", "brow-head", "brow-peak", "brow-tail", "orbitale", "supraorbital-notch",
                  "infraorbital-foramen", "temporal-line-brow", "zygion", "tragion", "alare", "alar-crease",
                  "nasal-tip", "subnasale", "labrale-superius", "cheilion", "stomion", "labrale-inferius",
                  "sublabiale", "mental-foramen", "pogonion", "menton", "gonion"]
# anatomy.md section B and C
FACE_DANGER = ["supratrochlear-artery", "supraorbital-artery", "dorsal-nasal-artery", "angular-artery",
               "facial-artery", "superior-labial-artery", "inferior-labial-artery", "infraorbital-bundle",
               "mental-bundle", "superficial-temporal-artery", "facial-nerve-frontal-branch",
               "zygomaticofacial-foramen", "zygomaticotemporal-foramen", "transverse-facial-artery", "parotid-duct",
               "marginal-mandibular-nerve", "submental-artery", "facial-vein", "globe", "orbital-septum"]
SCALP_DANGER = ["sta-frontal-branch", "sta-parietal-branch", "occipital-artery", "greater-occipital-nerve",
                "posterior-auricular-artery", "supratrochlear-territory", "supraorbital-territory"]


@pytest.mark.parametrize("map_id,areas", [("face", FACE_AREAS), ("scalp", SCALP_AREAS)])
def test_every_required_area_resolves(map_id, areas):
    atlas = load_atlas(map_id)
    for name in areas:
        assert atlas.resolve_area(name), name


def test_paired_items_are_mirrored_and_grouped():
    face = load_atlas("face")
    left, right = face.region("cheek-left"), face.region("cheek-right")
    assert np.allclose(right.polygon, left.polygon * [-1, 1])
    assert face.resolve_area("cheeks") == ("cheek-left", "cheek-right")
    assert set(face.resolve_area("periorbital")) >= {"upper-eyelid-left", "lower-eyelid-right", "crows-feet-left"}
    assert face.landmarks["pupil-left"] == (32.0, 0.0) and face.landmarks["pupil-right"] == (-32.0, 0.0)


def test_landmarks_cover_anatomy_section_a_and_c():
    src = load_source("face")
    assert [lm.id for lm in src.landmarks] == FACE_LANDMARKS
    assert all(set(lm.at_mm) == {"male", "female"} for lm in src.landmarks)  # both columns of the table
    scalp = load_atlas("scalp")
    assert {"vertex", "glabella", "opisthocranion", "tragion-left", "hairline-midline",
            "frontotemporal-corner-right"} <= set(scalp.landmarks)


@pytest.mark.parametrize("map_id,ids", [("face", FACE_DANGER), ("scalp", SCALP_DANGER)])
def test_every_danger_structure_is_there_with_a_source(map_id, ids):
    src = load_source(map_id)
    assert [d.id for d in src.danger] == ids
    for d in src.danger:
        assert d.source and d.consequence and d.severity in ("critical", "high", "moderate", "low")


@pytest.mark.parametrize("map_id", ["face", "scalp"])
def test_every_number_has_a_source(map_id):
    src = load_source(map_id)
    assert all(r.skin.source for r in src.regions)
    assert all(lm.basis for lm in src.landmarks)
    assert all(v.source for v in src.meta.variants.values())


@pytest.mark.parametrize("point,region", [((0, 45), "forehead"), ((32, 9), "upper-eyelid-left"),
                                          ((-32, 9), "upper-eyelid-right"), ((0, 17), "glabella"),
                                          ((0, -25), "nasal-dorsum"), ((45, -45), "cheek-left"),
                                          ((0, -100), "chin"), ((0, -126), "submental"), ((0, -160), "neck"),
                                          ((-60, 20), "temple-right"), ((26, -60), "nasolabial-fold-left")])
def test_region_lookup(point, region):
    face = load_atlas("face")
    assert face.regions[face.region_index(np.array([point]))[0]].id == region


def test_the_eye_itself_is_no_region():
    face = load_atlas("face")
    assert face.region_index(np.array([[32.0, 0.0], [-32.0, 0.0]])).tolist() == [-1, -1]


@pytest.mark.parametrize("variant", [None, "female"])
def test_the_face_below_the_hairline_is_tiled(variant):
    """Every point of the face between the hairline and the chin, outside the eyes, belongs to a region (the female
    face too: the landmark warp moves shared corners alike, so no gap opens)."""
    face = load_atlas("face", variant)
    draw = {d[0]: d[3] for d in face.drawing}
    half = draw["head-left"]
    outline = np.concatenate([half, draw["head-right"][::-1][1:-1]])
    xs, ys = np.meshgrid(np.arange(-80, 80, 1.0), np.arange(-117, 66, 1.0))
    pts = np.c_[xs.ravel(), ys.ravel()]
    pts = pts[points_in_polygon(pts, outline)]
    for eye in ("eye-left", "eye-right"):
        pts = pts[~points_in_polygon(pts, draw[eye])]
    hair = np.zeros(len(pts), dtype=bool)
    for side in ("hair-left", "hair-right"):
        hair |= points_in_polygon(pts, draw[side])
    pts = pts[~hair]
    missing = pts[face.region_index(pts) < 0]
    assert len(pts) > 15000 and len(missing) == 0, missing[:10]


def test_the_scalp_is_tiled():
    scalp = load_atlas("scalp")
    draw = {d[0]: d[3] for d in scalp.drawing}
    xs, ys = np.meshgrid(np.arange(-80, 80, 1.0), np.arange(-96, 82, 1.0))
    pts = np.c_[xs.ravel(), ys.ravel()]
    hair = points_in_polygon(pts, draw["hair-left"]) | points_in_polygon(pts, draw["hair-right"])
    pts = pts[hair]
    assert len(pts) > 15000 and (scalp.region_index(pts) >= 0).all()
    # the crown wins over the midscalp and parietal squares it overlaps
    assert scalp.regions[scalp.region_index(np.array([[0.0, -15.0]]))[0]].id == "crown"


def test_skin_layers_make_depth_anatomical():
    face = load_atlas("face")
    full = {r.id: r.epidermis_mm + r.dermis_mm for r in face.regions}
    assert full["cheek-left"] == pytest.approx(2.53)  # 50 MHz full skin, anatomy.md D
    assert full["upper-eyelid-left"] < 1.5 < full["cheek-left"]
    assert full["forehead"] == pytest.approx(2.45)
    female = load_atlas("face", "female")
    assert female.region("forehead").epidermis_mm + female.region("forehead").dermis_mm == pytest.approx(1.86)
    # Meng 2022's female / male ratio where no female figure of the full skin exists (anatomy.md D)
    assert female.region("nasal-dorsum").dermis_mm < face.region("nasal-dorsum").dermis_mm
    assert female.region("lower-eyelid-left").dermis_mm < face.region("lower-eyelid-left").dermis_mm
    assert female.region("lips").dermis_mm == face.region("lips").dermis_mm  # nothing published: canonical
    # one published figure for the whole scalp (Sung 2025, histology)
    scalp = load_atlas("scalp")
    assert {round(r.epidermis_mm + r.dermis_mm, 6) for r in scalp.regions} == {1.93}


def test_female_variant_follows_its_own_landmarks_region_by_region():
    male, female = load_atlas("face"), load_atlas("face", "female")
    m = {s.id: s for s in male.structures}
    f = {s.id: s for s in female.structures}
    assert np.allclose(f["supratrochlear-artery-left"].depth_a, m["supratrochlear-artery-left"].depth_a)
    assert np.allclose(f["supratrochlear-artery-left"].margin_a, m["supratrochlear-artery-left"].margin_a)
    # the supraorbital artery starts at the notch: it moves as the notch does ((26.5, 19) -> (26.3, 18)), not x 0.94
    move = f["supraorbital-artery-left"].points[0] - m["supraorbital-artery-left"].points[0]
    assert np.allclose(move, (-0.2, -1.0), atol=0.1)
    # the moves differ from place to place: no single factor
    ratios = [f[k].points[0] / m[k].points[0] for k in ("supratrochlear-artery-left", "facial-artery-left",
                                                        "superficial-temporal-artery-left")]
    assert np.ptp([r[1] for r in ratios]) > 0.02
    # a landmark-anchored region corner lands on the female landmark
    cheilion = female.landmarks["cheilion-left"]
    assert cheilion == (25.1, -65.0)
    draw = {d[0]: d[3] for d in female.drawing}
    assert np.allclose(draw["upper-lip-left"][-1], cheilion)
    assert female.landmarks["pupil-left"] == (31.0, 0.0)
    assert female.landmarks["trichion"] == (0.0, 63.0)
    scalp_f = load_atlas("scalp", "female")
    assert scalp_f.landmarks["glabella"] == pytest.approx((0.0, 93.0))


def test_scalp_vessels_lie_below_scalp_mesotherapy():
    scalp = load_atlas("scalp")
    sta = {s.id: s for s in scalp.structures}["sta-frontal-branch-left"]
    pts = np.array([[62.0, 40.0], [62.0, 40.0]])
    hit, dist, depth = sta.hits(pts, np.array([3.2, 4.0]))
    assert hit.tolist() == [False, True] and dist[0] == 0 and depth[0] == 4.0


def test_point_and_area_structures():
    face = load_atlas("face")
    s = {x.id: x for x in face.structures}
    hit, dist, _ = s["infraorbital-bundle-left"].hits(np.array([[27.7, -14.0], [27.7, -12.0]]), np.array([12.0, 12.0]))
    assert hit.tolist() == [True, False] and dist[0] == pytest.approx(7.0)
    # the globe: inside the fissure is distance 0 and any depth hits; 1.5 mm outside the lid margin still hits
    hit, dist, _ = s["globe-left"].hits(np.array([[32.0, 0.0], [32.0, 7.1], [32.0, 9.0]]), np.array([0.1, 0.1, 0.1]))
    assert hit.tolist() == [True, True, False] and dist[0] == 0
    # inside the orbital rim: micro papules at 1.5 mm on the lids are the technique; past the septum is a fail
    hit, _, _ = s["orbital-septum-right"].hits(np.array([[-32.0, 9.0], [-32.0, 9.0]]), np.array([1.5, 2.5]))
    assert hit.tolist() == [False, True] and s["orbital-septum-right"].severity == "high"
    # the septum zone is clipped at the brow's lower edge and the orbitale (anatomy.md B)
    face_f = load_atlas("face", "female")
    for atlas in (face, face_f):
        septum = {x.id: x for x in atlas.structures}["orbital-septum-left"].area
        assert septum[:, 1].max() == pytest.approx(atlas.landmarks["brow-lower-midpupil-left"][1])
        assert septum[:, 1].min() == pytest.approx(atlas.landmarks["orbitale-left"][1])


def test_broken_atlas_file_names_file_line_and_field(tmp_path, monkeypatch):
    root = tmp_path / "data"
    shutil.copytree(assets_dir(), root / "assets")
    regions = root / "assets" / "atlas" / "face" / "regions.yaml"
    text = regions.read_text().replace("      male: {epidermis_mm: 0.18, dermis_mm: 0.76, fat_mm: 0.4}",
                                       "      male: {epidermis_mm: 0.18, dermis_mm: thick, fat_mm: 0.4}", 1)
    regions.write_text(text)
    line = text.splitlines().index("      male: {epidermis_mm: 0.18, dermis_mm: thick, fat_mm: 0.4}") + 1
    monkeypatch.setenv("MESOSIM_DATA", str(root))
    with pytest.raises(InputError) as info:
        load_source.__wrapped__("face")
    (p,) = info.value.problems
    assert str(p).startswith(f"{regions}:{line}:")
    assert "[0].skin.by_variant.male.dermis_mm" in str(p) and "expected a number" in str(p)


@pytest.mark.parametrize("map_id", ["face", "scalp"])
def test_docs_name_every_area_and_structure(map_id):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "atlas.md").read_text()
    atlas = load_atlas(map_id)
    names = {n for n in atlas.area_names() if not n.endswith(("-left", "-right"))}
    names |= {d.id for d in load_source(map_id).danger if map_id == "face"}
    missing = sorted(n for n in names if f"`{n}`" not in text)
    assert not missing


def test_seeded_variation_moves_structures_within_their_ranges():
    base = {s.id: s for s in load_atlas("face").structures}
    a = {s.id: s for s in load_atlas("face", None, 7).structures}
    b = {s.id: s for s in load_atlas("face", None, 7).structures}
    c = {s.id: s for s in load_atlas("face", None, 8).structures}
    src = {d.id: d for d in load_source("face").danger}
    moved = 0
    for sid, s in base.items():
        v = src[sid.removesuffix("-left").removesuffix("-right")].variation
        shift = a[sid].points - s.points
        assert np.allclose(shift, shift[0])  # the path moves as a whole
        assert np.allclose(a[sid].points, b[sid].points)  # same seed, same anatomy
        if v is None:
            assert np.allclose(shift, 0) and np.allclose(a[sid].depth_a, s.depth_a)
            continue
        assert np.hypot(*shift[0]) <= v.lateral_mm + 1e-9
        if v.depth_range_mm is not None:
            lo, hi = np.asarray(v.depth_range_mm).T
            drawn = np.append(a[sid].depth_a, a[sid].depth_b[-1])
            lo, hi = np.broadcast_to(lo, drawn.shape), np.broadcast_to(hi, drawn.shape)
            assert ((lo - 1e-9 <= drawn) & (drawn <= hi + 1e-9)).all()
            frac = [(d - l) / (h - l) for d, l, h in zip(drawn, lo, hi) if h > l]
            assert np.allclose(frac, frac[0])  # shallow or deep as a whole
            moved += not np.allclose(a[sid].points, c[sid].points)
            continue
        ratio = a[sid].depth_a / s.depth_a
        assert np.allclose(ratio, ratio[0]) and min(v.depth_factor) - 1e-9 <= ratio[0] <= max(v.depth_factor) + 1e-9
        moved += not np.allclose(a[sid].points, c[sid].points)
    assert moved >= 20  # another seed, another anatomy
    assert not np.allclose(a["angular-artery-left"].points * [-1, 1], a["angular-artery-right"].points)


@pytest.mark.parametrize("old,new,message", [
    ("clip: {top_landmark: brow-lower-midpupil,", "clip: {top_landmark: brow-lower-edge,",
     'unknown landmark "brow-lower-edge"'),
    ("  depth_mm: [8.9, 4.68, 3.26, 2.38, 2.38]\n", "  depth_mm: [8.9, 4.68, 3.26, 1.2, 2.38]\n",
     "depth 1.2 lies outside its variation range"),
    ("  lies_below: [dermis, fat, fat, fat, fat]\n", "", "lies_below is required"),
    ("  evidence: P\n", "  evidence: P\n  note: ' '\n", "evidence P (a proposal) needs a note"),
])
def test_broken_danger_entry_is_named(tmp_path, monkeypatch, old, new, message):
    root = tmp_path / "data"
    shutil.copytree(assets_dir(), root / "assets")
    danger = root / "assets" / "atlas" / "face" / "danger.yaml"
    text = danger.read_text()
    assert old in text
    if "note: ' '" in new:  # a proposal whose note is blank
        i = text.index(old)
        j = text.index("  note:", i)
        k = text.index("\n", j)
        text = text[:j] + "  note: ' '" + text[k:]
    else:
        text = text.replace(old, new, 1)
    danger.write_text(text)
    monkeypatch.setenv("MESOSIM_DATA", str(root))
    with pytest.raises(InputError) as info:
        load_source.__wrapped__("face")
    assert any(message in str(p) and str(p).startswith(str(danger)) for p in info.value.problems), \
        info.value.problems
