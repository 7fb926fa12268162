"""The spatial indexes and the fast paths of the engine give exactly what the plain definitions give.

Each index (region raster, danger grid, nearest-neighbour grid, coverage runs) is checked against the
straightforward computation it replaces, on random points and on the awkward ones (polygon vertices and edges,
duplicates, isolated points); then evaluate_many and Evaluation.extended against evaluate(), report for report.
"""

import numpy as np
import pytest
from scipy.spatial import cKDTree

from sim.core.anatomy.atlas import load_atlas
from sim.core.records.attempt import Attempt
from sim.core.spatial.geometry import points_in_polygon
from sim.core.scoring.injections import Injections
from sim.core.exercise.scenario import load_scenario
from sim.core.scoring import ScreeningAnswer, evaluate, evaluate_many
from sim.core.scoring.neighbours import nearest_same_technique
from sim.core.scoring.table import spacing_cap, technique_table
from sim.core.scoring.report import build_report, to_json
from sim.core.spatial import CoverageGrid, DangerIndex, RegionIndex


def awkward_points(atlas, n, seed):
    """Random points over the map plus every region vertex, edge midpoint, points a hair off them, and points
    around the snap distance outside the outline."""
    rng = np.random.default_rng(seed)
    b = atlas.bounds_mm
    pts = np.stack([rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)], axis=1)
    verts = np.concatenate([r.polygon for r in atlas.regions])
    mids = (verts + np.roll(verts, -1, axis=0)) / 2
    ring = verts * (1 + atlas.snap_mm / np.maximum(np.linalg.norm(verts, axis=1, keepdims=True), 1))
    return np.concatenate([pts, np.round(pts[: n // 5], 1), verts, mids, verts + 1e-9, mids - 1e-12, ring,
                           [[np.nan, 0.0], [0.0, np.inf]]])


@pytest.mark.parametrize("map_id", ["face", "scalp"])
def test_region_raster_equals_polygon_tests(map_id):
    atlas = load_atlas(map_id)
    pts = awkward_points(atlas, 60000, 1)
    assert np.array_equal(atlas.region_index(pts), atlas.region_index_exact(pts))
    expected = atlas.region_index_exact(pts, mirrored=False)
    # one point at a time (the cursor, a click) and a few at a time before the raster exists
    fresh = RegionIndex([r.polygon for r in atlas.regions], atlas.snap_mm)
    few = np.concatenate([fresh.lookup(pts[i:i + 3]) for i in range(0, 3000, 3)])
    assert np.array_equal(few, expected[:3000])
    assert not fresh.built  # small lookups did not need it
    assert np.array_equal(fresh.lookup(pts), expected)
    assert np.array_equal(np.concatenate([fresh.lookup(pts[i:i + 2]) for i in range(0, 2000, 2)]), expected[:2000])
    assert 0 < fresh.mixed_fraction < 0.05


def test_region_raster_overlaps_and_no_snap():
    """Earlier polygons win; without snap nothing outside belongs anywhere."""
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], dtype=float)
    inner = np.array([[2, 2], [6, 2], [6, 6], [2, 6]], dtype=float)
    index = RegionIndex([inner, square], 0.0)
    rng = np.random.default_rng(4)
    pts = rng.uniform(-3, 13, (20000, 2))
    inside_inner = points_in_polygon(pts, inner)
    inside_square = points_in_polygon(pts, square)
    expected = np.where(inside_inner, 0, np.where(inside_square, 1, -1))
    assert np.array_equal(index.lookup(pts), expected)


@pytest.mark.parametrize("map_id,seed", [("face", None), ("face", 11), ("scalp", None), ("scalp", 3)])
def test_danger_index_equals_every_structure(map_id, seed):
    atlas = load_atlas(map_id, seed=seed)
    rng = np.random.default_rng(7)
    b = atlas.bounds_mm
    pts = np.stack([rng.uniform(b[0], b[2], 40000), rng.uniform(b[1], b[3], 40000)], axis=1)
    ends = np.concatenate([np.concatenate([s.a, s.b]) for s in atlas.structures])
    pts = np.concatenate([pts, ends, ends + 0.01])
    depth = rng.uniform(0, 15, len(pts))
    hits = DangerIndex(atlas.structures).hits(pts, depth)
    rows = []
    for k, s in enumerate(atlas.structures):
        hit, dist, sdepth = s.hits(pts, depth)
        rows += [(int(i), k, float(dist[i]), float(sdepth[i])) for i in np.nonzero(hit)[0]]
    rows.sort()
    got = list(zip(hits.point.tolist(), hits.structure.tolist(), hits.distance.tolist(), hits.depth.tolist()))
    assert got == rows
    assert len(rows) > 1000
    i = rows[0][0]
    assert [hits.structure[h] for h in hits.of(i)] == [k for p, k, _, _ in rows if p == i]
    # a click or two at a time takes another path: the same hits
    index = DangerIndex(atlas.structures)
    few = []
    for start in range(0, 6000, 3):
        h = index.hits(pts[start:start + 3], depth[start:start + 3])
        few += [(int(p) + start, int(k), float(d), float(s)) for p, k, d, s in
                zip(h.point, h.structure, h.distance, h.depth)]
    assert few == [r for r in rows if r[0] < 6000]


def test_danger_index_with_no_go_spots(library):
    scn = load_scenario("screening-few-moles", library)
    assert scn.spec.no_go
    index = scn.danger_index
    spot = index.structures[-1]
    at = spot.a[0]
    hits = index.hits(np.array([at, at + [0.1, 0.0], at + [50.0, 0.0]]), np.array([0.5, 0.5, 0.5]))
    assert len(scn.atlas.structures) + len(scn.spec.no_go) == len(index.structures)
    assert {(int(p), int(s)) for p, s in zip(hits.point, hits.structure)} >= {(0, len(index.structures) - 1),
                                                                             (1, len(index.structures) - 1)}
    assert 2 not in hits.point.tolist()


def brute_nearest(xy, group):
    out = np.full(len(xy), np.nan)
    for g in np.unique(group):
        idx = np.nonzero(group == g)[0]
        if len(idx) < 2:
            continue
        d = np.sqrt(((xy[idx, None, :] - xy[None, idx, :]) ** 2).sum(axis=2))
        np.fill_diagonal(d, np.inf)
        out[idx] = d.min(axis=1)
    return out


@pytest.fixture(params=["numpy", "compiled"])
def search(request, monkeypatch):
    """Run the neighbour search in numpy, or in the compiled loop (sim/core/spatial/kernels.py) for any number of
    points."""
    import sim.core.spatial.neighbours as neighbours

    monkeypatch.setattr(neighbours, "COMPILED_MIN", 10**12 if request.param == "numpy" else 0)
    if request.param == "compiled":
        assert neighbours.compiled("ring_search") is not None, "numba is a dependency: pip install -e ."
    return request.param


@pytest.mark.parametrize("layout", ["uniform", "clustered", "duplicates", "sparse"])
def test_nearest_neighbours_equal_all_pairs(layout, search):
    rng = np.random.default_rng(3)
    n = 1500
    if layout == "uniform":
        xy = rng.uniform(-60, 60, (n, 2))
    elif layout == "clustered":  # dense clusters and a few far-flung points
        xy = np.concatenate([rng.normal(0, 0.5, (n - 20, 2)) + rng.integers(0, 4, (n - 20, 1)) * 40,
                             rng.uniform(-400, 400, (20, 2))])
    elif layout == "duplicates":
        xy = np.repeat(rng.uniform(-30, 30, (n // 3, 2)), 3, axis=0)
    else:
        xy = rng.uniform(-400, 400, (40, 2))
    group = rng.integers(0, 5, len(xy))
    group[0] = 99  # a group of one: no neighbour
    got = nearest_same_technique(xy, group)
    expected = brute_nearest(xy, group)
    assert np.isnan(got[0]) and np.isnan(expected[0])
    assert np.allclose(got, expected, equal_nan=True, rtol=0, atol=1e-12)
    # with a cap: exact within it, +inf beyond it
    cap = np.full(len(xy), 3.0)
    capped = nearest_same_technique(xy, group, cap)
    within = expected <= 3.0
    assert np.array_equal(capped[within], got[within])
    assert np.all(np.isinf(capped[expected > 3.0]))


def test_compiled_search_equals_numpy_to_the_bit(monkeypatch):
    """The compiled ring search and the numpy one give the same numbers, bit for bit: random layouts with
    duplicates, points on a lattice (ties), groups of one, caps that stop the search early or never."""
    import sim.core.spatial.neighbours as neighbours

    rng = np.random.default_rng(11)
    for trial in range(120):
        n = int(rng.integers(2, 600))
        xy = np.round(rng.uniform(-80, 80, (n, 2)), int(rng.integers(0, 3)))  # rounding makes ties and twins
        if trial % 5 == 0:
            xy[: n // 2] = xy[0]
        group = rng.integers(0, int(rng.integers(1, 6)), n)
        cap = None if trial % 3 == 0 else rng.choice([0.5, 3.0, 12.0, np.inf], n)
        monkeypatch.setattr(neighbours, "COMPILED_MIN", 10**12)
        plain = nearest_same_technique(xy, group, cap)
        monkeypatch.setattr(neighbours, "COMPILED_MIN", 0)
        fast = nearest_same_technique(xy, group, cap)
        assert np.array_equal(plain, fast, equal_nan=True), trial


@pytest.mark.parametrize("scenario_id", ["forehead-nappage", "scalp-diffuse-thinning"])
def test_reports_do_not_depend_on_the_search_used(scenario_id, library, config, monkeypatch):
    import sim.core.spatial.neighbours as neighbours

    scn = load_scenario(scenario_id, library)
    attempts = [Injections.from_records(random_records(scn, library, n, seed), library.ids)
                for seed, n in enumerate([300, 2, 450])]
    monkeypatch.setattr(neighbours, "COMPILED_MIN", 10**12)
    plain = [to_json(build_report(ev)) for ev in evaluate_many(scn, attempts, library, config)]
    monkeypatch.setattr(neighbours, "COMPILED_MIN", 0)
    assert [to_json(build_report(ev)) for ev in evaluate_many(scn, attempts, library, config)] == plain


def test_without_numba_the_numpy_search_answers(monkeypatch):
    import sim.core.spatial.neighbours as neighbours

    rng = np.random.default_rng(12)
    xy, group = rng.uniform(-50, 50, (3000, 2)), rng.integers(0, 3, 3000)
    expected = nearest_same_technique(xy, group)
    monkeypatch.setattr(neighbours, "COMPILED_MIN", 0)
    monkeypatch.setattr(neighbours, "compiled", lambda name: None)
    assert np.array_equal(nearest_same_technique(xy, group), expected)


def test_coverage_runs_equal_cell_by_cell():
    poly = np.array([[0, 0], [40, 0], [50, 30], [10, 35]], dtype=float)
    grid = CoverageGrid([poly], 0.5)
    rng = np.random.default_rng(5)
    xy = rng.uniform(-5, 55, (300, 2))
    reach = rng.choice([2.0, 3.5, 7.071067811865475], 300)
    covered = grid.empty()
    grid.cover(covered, xy, reach)
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    expected = np.zeros(gx.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for (px, py), r in zip(xy, reach):
            half = np.sqrt(r * r - (gy - py) ** 2)
            expected |= (px - half <= gx) & (gx <= px + half)
    assert np.array_equal(covered, expected)
    # the same disc as the squared distance says, but for float rounding on its very edge
    disc = np.zeros(gx.shape, dtype=bool)
    for (px, py), r in zip(xy, reach):
        disc |= (gx - px) ** 2 + (gy - py) ** 2 <= r * r
    assert np.count_nonzero(disc != expected) <= 3
    one_by_one = grid.empty()
    for k in range(len(xy)):
        grid.cover(one_by_one, xy[k:k + 1], reach[k:k + 1])
    assert np.array_equal(one_by_one, expected)
    stacked = np.zeros((3,) + grid.inside.shape, dtype=bool)
    grid.cover(stacked, xy, reach, np.arange(300) % 3)
    assert np.array_equal(stacked.any(axis=0), expected)


def random_records(scn, library, n, seed):
    rng = np.random.default_rng(seed)
    b = scn.atlas.bounds_mm
    techs = list(scn.technique_ids) + ["median-nappage", "micro-papule"]
    return [{"x_mm": float(rng.uniform(b[0] * 0.6, b[2] * 0.6)), "y_mm": float(rng.uniform(b[1] * 0.6, b[3] * 0.6)),
             "depth_mm": float(rng.choice([0.5, 1.5, 2.5, 4.2])), "angle_deg": float(rng.choice([10, 45])),
             "volume_ml": float(rng.choice([0.003, 0.02, 0.3])), "technique": str(rng.choice(techs)),
             "t_s": float(i), "bevel": "down" if rng.random() < 0.1 else "up",
             "device": "gun" if rng.random() < 0.2 else "hand"} for i in range(n)]


@pytest.mark.parametrize("scenario_id", ["forehead-nappage", "scalp-diffuse-thinning", "screening-few-moles"])
def test_evaluate_many_equals_one_by_one(scenario_id, library, config):
    scn = load_scenario(scenario_id, library)
    attempts = [Injections.from_records(random_records(scn, library, n, seed), library.ids)
                for seed, n in enumerate([300, 0, 1, 57, 900, 2])]
    answers = [None, ScreeningAnswer("go"), None, ScreeningAnswer("no-go", "x"), None, None]
    together = evaluate_many(scn, attempts, library, config, answers)
    for inj, answer, ev in zip(attempts, answers, together):
        alone = evaluate(scn, inj, library, config, answer)
        assert to_json(build_report(ev)) == to_json(build_report(alone))


def test_evaluate_many_in_chunks(library, config, monkeypatch):
    import sim.core.scoring.batch as engine

    scn = load_scenario("forehead-nappage", library)
    attempts = [Injections.from_records(random_records(scn, library, 40, seed), library.ids) for seed in range(7)]
    expected = [to_json(build_report(ev)) for ev in evaluate_many(scn, attempts, library, config)]
    monkeypatch.setattr(engine, "CHUNK_INJECTIONS", 100)
    assert [to_json(build_report(ev)) for ev in evaluate_many(scn, attempts, library, config, workers=1)] == expected


@pytest.mark.parametrize("workers", [2, 3, 8])
def test_evaluate_many_in_threads_equals_one_thread(workers, library, config, monkeypatch):
    """Chunks shared among threads give the same reports, in the same order, as one thread doing them all."""
    import sim.core.scoring.batch as engine

    scn = load_scenario("forehead-nappage", library)
    attempts = [Injections.from_records(random_records(scn, library, n, seed), library.ids)
                for seed, n in enumerate([40, 0, 75, 3, 40, 120, 1, 60, 33, 90, 41, 5])]
    monkeypatch.setattr(engine, "CHUNK_INJECTIONS", 64)  # a dozen chunks
    expected = [to_json(build_report(ev)) for ev in evaluate_many(scn, attempts, library, config, workers=1)]
    for _ in range(3):
        threaded = evaluate_many(scn, attempts, library, config, workers=workers)
        assert [to_json(build_report(ev)) for ev in threaded] == expected


@pytest.mark.parametrize("scenario_id", ["forehead-nappage", "cheek-medium-papules", "scalp-crown"])
def test_extended_click_by_click_equals_whole(scenario_id, library, config):
    scn = load_scenario(scenario_id, library)
    records = random_records(scn, library, 150, 9)
    records += [dict(records[3]), dict(records[3], x_mm=records[3]["x_mm"] + 0.3)]  # a double puncture
    whole = Injections.from_records(records, library.ids)
    ev = evaluate(scn, whole.take(np.arange(0)), library, config)
    for k in range(len(records)):
        ev = ev.extended(whole.take([k]))
        if k in (0, 40, 99, len(records) - 1):
            fresh = evaluate(scn, whole.take(np.arange(k + 1)), library, config)
            assert to_json(build_report(ev)) == to_json(build_report(fresh))
    assert len(ev.parts) < 70  # recomputed whole now and then, not a part per click for ever


def test_attempt_scores_each_click_as_the_whole(library, config):
    scn = load_scenario("forehead-nappage", library)
    records = random_records(scn, library, 30, 2)
    attempt = Attempt(scn, library, config, "practice")
    for rec in records:
        i = attempt.add(**rec)
        fresh = evaluate(scn, Injections.from_records(attempt.records, library.ids), library, config)
        assert attempt.evaluation.findings(i) == fresh.findings(i)
        assert attempt.evaluation.verdict.tolist() == fresh.verdict.tolist()
        assert attempt.evaluation.score() == fresh.score()
    attempt.undo()
    fresh = evaluate(scn, Injections.from_records(attempt.records, library.ids), library, config)
    assert to_json(build_report(attempt.evaluation)) == to_json(build_report(fresh))


def test_far_neighbour_is_measured_when_explained(library, config):
    """Beyond the spacing cap the distance is not needed for the verdict, but the finding still states it."""
    scn = load_scenario("forehead-nappage", library)
    records = [{"x_mm": 0.0, "y_mm": 45.0, "depth_mm": 0.5, "angle_deg": 10.0, "volume_ml": 0.02,
                "technique": "superficial-nappage"},
               {"x_mm": 30.0, "y_mm": 45.0, "depth_mm": 0.5, "angle_deg": 10.0, "volume_ml": 0.02,
                "technique": "superficial-nappage"}]
    inj = Injections.from_records(records, library.ids)
    ev = evaluate(scn, inj, library, config)
    cap = spacing_cap(technique_table(library, inj.technique_ids), inj.technique)
    assert cap[0] < 30 and np.isinf(ev.nearest_mm[0])
    (finding,) = [f for f in ev.findings(0) if f.rule == "spacing"]
    assert finding.measured == 30.0 and finding.verdict == "fail" and "30 mm" in finding.message


def test_kd_tree_agrees_on_library_like_attempts():
    """The grid's answer matches a k-d tree's on attempts shaped like real ones (points on partings)."""
    rng = np.random.default_rng(8)
    lines = np.concatenate([np.column_stack([np.arange(-60, 60, 12.5) + rng.normal(0, 0.3, 10),
                                             np.full(10, y)]) for y in range(-80, 80, 15)])
    group = np.zeros(len(lines), dtype=np.int64)
    got = nearest_same_technique(lines, group)
    d, _ = cKDTree(lines).query(lines, k=2)
    assert np.allclose(got, d[:, 1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("map_id, variant", [("face", None), ("face", "female"), ("scalp", None)])
def test_mirror_image_points_belong_to_mirror_image_regions(map_id, variant):
    # a point on an edge two regions share goes to the same region on both sides of the face (issue: (-45, 56)
    # was frontal and (45, 56) temporal-left on the scalp)
    from sim.core.anatomy.atlas import load_atlas

    atlas = load_atlas(map_id, variant)
    assert atlas.mirror_regions is not None
    ids = atlas.region_ids()
    edges = np.concatenate([r.polygon for r in atlas.regions])  # every vertex lies on an edge
    rng = np.random.default_rng(7)
    pts = np.concatenate([edges, np.column_stack([rng.uniform(0, 100, 5000), rng.uniform(-190, 125, 5000)])])
    pts = pts[pts[:, 0] > 0]
    left, right = atlas.region_index(pts), atlas.region_index(pts * [-1, 1])

    def side(i):
        return "off" if i < 0 else ids[i].removesuffix("-left").removesuffix("-right")

    assert [side(i) for i in left] == [side(i) for i in right]
    assert (atlas.region_index_exact(pts * [-1, 1]) == right).all()
    if map_id == "scalp":
        assert [ids[i] for i in atlas.region_index(np.array([[-45.0, 56.0], [45.0, 56.0]]))] == \
            ["temporal-right", "temporal-left"]
