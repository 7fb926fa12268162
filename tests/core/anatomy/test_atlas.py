"""The atlas data: every landmark, region and danger structure the issue and anatomy.md ask for, and its geometry."""

import shutil

import numpy as np
import pytest

import sim.core.anatomy.atlas as atlas_mod
from sim.core.anatomy.atlas import load_atlas, load_source
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
               "globe", "orbit"]
SCALP_DANGER = ["sta-frontal-branch", "sta-parietal-branch", "occipital-artery", "posterior-auricular-artery",
                "supratrochlear-territory", "supraorbital-territory"]


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


def test_the_face_below_the_hairline_is_tiled():
    """Every point of the face between the hairline and the chin, outside the eyes, belongs to a region."""
    face = load_atlas("face")
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
    assert female.region("nasal-dorsum").dermis_mm == face.region("nasal-dorsum").dermis_mm


def test_female_variant_scales_danger_and_uses_its_own_landmarks():
    male, female = load_atlas("face"), load_atlas("face", "female")
    m = {s.id: s for s in male.structures}["supratrochlear-artery-left"]
    f = {s.id: s for s in female.structures}["supratrochlear-artery-left"]
    assert np.allclose(f.points, m.points * 0.94) and np.allclose(f.margin_a, m.margin_a * 0.94)
    assert np.allclose(f.depth_a, m.depth_a)  # depth is not scaled
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
    # inside the orbital rim only <= 1 mm
    hit, _, _ = s["orbit-right"].hits(np.array([[-32.0, 9.0], [-32.0, 9.0]]), np.array([1.0, 1.5]))
    assert hit.tolist() == [False, True]


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
        atlas_mod.load_source.__wrapped__("face")
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
        ratio = a[sid].depth_a / s.depth_a
        assert np.allclose(ratio, ratio[0]) and min(v.depth_factor) - 1e-9 <= ratio[0] <= max(v.depth_factor) + 1e-9
        moved += not np.allclose(a[sid].points, c[sid].points)
    assert moved >= 20  # another seed, another anatomy
    assert not np.allclose(a["angular-artery-left"].points * [-1, 1], a["angular-artery-right"].points)
