"""The scoring engine, rule by rule, with expectations computed by hand from the data files.

Anatomy used (male face, assets/atlas/face): forehead skin 0.22 + 2.23 mm, fat 2 mm (anatomy.md D);
the left supratrochlear artery passes (17, 30) at 3.53 mm depth with a 5 mm margin (anatomy.md B).
"""

import math
import textwrap

import numpy as np
import pytest

from sim.core.scoring.injections import Injections
from sim.core.exercise.scenario import load_scenario, load_scenario_file
from sim.core.scoring import ScreeningAnswer, bleb_diameter_mm, evaluate
from sim.core.scoring.report import build_report

BASE = """\
id: test-scenario
title: Test
objective: Test objective.
map: {map}
techniques: {techniques}
product: {{name: cocktail, form: {form}}}
devices: {devices}
mode: {mode}
pass_mark: 80
"""


def scenario(tmp_path, extra="", map="face", techniques="all", form="liquid", devices="[hand, gun]",
             mode="practice"):
    path = tmp_path / "s.yaml"
    path.write_text(BASE.format(map=map, techniques=techniques, form=form, devices=devices, mode=mode)
                    + textwrap.dedent(extra))
    return load_scenario_file(path)


def inj(library, *rows):
    """rows: (x, y, depth, angle, volume, technique[, extra dict])."""
    records = []
    for r in rows:
        rec = dict(x_mm=r[0], y_mm=r[1], depth_mm=r[2], angle_deg=r[3], volume_ml=r[4], technique=r[5])
        if len(r) > 6:
            rec.update(r[6])
        records.append(rec)
    return Injections.from_records(records, library.ids)


def run(scn, injections, library, config, screening=None):
    return evaluate(scn, injections, library, config, screening)


def rules_of(ev, i):
    return {(f.rule, f.verdict) for f in ev.findings(i)}


SN = "superficial-nappage"
MN = "median-nappage"
MP = "micro-papule"
INF = "infiltration"


@pytest.fixture
def free(tmp_path):
    return load_scenario("face-free")


# ------------------------------------------------------------------ per injection


def test_good_superficial_nappage_on_the_forehead_has_no_findings(free, library, config):
    ev = run(free, inj(library, (0, 45, 0.5, 45, 0.01, SN)), library, config)
    assert ev.findings(0) == []
    assert ev.verdict.tolist() == [0]
    assert ev.layer.tolist() == [1]  # 0.5 mm: below the 0.22 mm epidermis, in the dermis (bottom at 2.45 mm)


def test_depth_bands(free, library, config):
    # superficial nappage: ok 0.3-1.0, warn 0.1-1.5
    ev = run(free, inj(library, (0, 45, 1.2, 45, 0.01, SN), (0, 55, 2.0, 45, 0.01, SN),
                       (0, 35, 0.2, 45, 0.01, SN)), library, config)
    assert ev.rules["depth"].verdict.tolist() == [1, 2, 1]
    (f,) = [f for f in ev.findings(1) if f.rule == "depth"]
    assert f.verdict == "fail" and f.measured == 2.0 and f.expected == "0.3-1 mm" and f.source.startswith("seed 004")
    assert "bruising" in f.message
    (f,) = [f for f in ev.findings(2) if f.rule == "depth"]
    assert "thickening" in f.message  # too superficial (seed 000)


def test_face_depth_cap_applies_outside_infiltration(free, library, config):
    # medium papule 4.2 mm: outside its warn band (1.5-3.5) -> fail, and over the 4 mm facial cap -> fail too
    ev = run(free, inj(library, (0, 45, 4.2, 45, 0.01, "medium-papule"), (0, -130, 11, 90, 0.1, INF)),
             library, config)
    depth_findings = [f for f in ev.findings(0) if f.rule == "depth"]
    assert len(depth_findings) == 2 and {f.verdict for f in depth_findings} == {"fail"}
    assert not [f for f in ev.findings(1) if f.rule == "depth"]


def test_layer_is_anatomical_the_same_depth_differs_by_region(free, library, config):
    atlas = free.atlas
    cheek = atlas.region("cheek-left")
    eyelid = atlas.region("upper-eyelid-left")
    assert cheek.epidermis_mm + cheek.dermis_mm > 1.5 > eyelid.epidermis_mm + eyelid.dermis_mm
    cheek_pt = cheek.polygon.mean(axis=0)
    assert atlas.region_index(cheek_pt[None])[0] == atlas.region_ids().index("cheek-left")
    lid_pt = (32.0, 9.0)
    assert atlas.region_index(np.array([lid_pt]))[0] == atlas.region_ids().index("upper-eyelid-left")
    ev = run(free, inj(library, (*cheek_pt, 1.5, 45, 0.02, MN), (*lid_pt, 1.5, 45, 0.02, MN)), library, config)
    assert ev.rules["layer"].verdict.tolist() == [0, 2]
    (f,) = [f for f in ev.findings(1) if f.rule == "layer"]
    assert "upper eyelid" in f.message and f.expected == "dermis"


def test_infiltration_needs_thick_fat(free, library, config):
    # forehead fat is 2 mm: 10 mm is below it; a patient with 14 mm of submental fat takes it
    ev = run(free, inj(library, (0, 45, 10, 90, 0.1, INF)), library, config)
    assert ev.rules["layer"].verdict.tolist() == [2]
    assert "below the subcutaneous fat" in [f for f in ev.findings(0) if f.rule == "layer"][0].message


def test_medium_papules_belong_in_the_dermis_and_credit_falls_with_the_distance(free, library, config):
    # cheek (male): dermis from 0.19 to 2.53 mm, fat to 4.80. Medium papule ok 2-3 mm, the dermis alone ok.
    cheek = free.atlas.region("cheek-left").polygon.mean(axis=0)
    ev = run(free, inj(library, *[(*cheek, d, 45, 0.01, "medium-papule") for d in (2.25, 2.63, 3.0)]), library,
             config)
    assert ev.rules["layer"].verdict.tolist() == [0, 1, 1]  # in the fat: a finding (seed 004: the middle layer)
    (f,) = [f for f in ev.findings(2) if f.rule == "layer"]
    assert f.verdict == "warn" and "fat" in f.message and f.expected == "dermis"
    # how far past the dermis counts: 0.1 mm is almost right, 0.47 mm about half (layer_half_credit_mm 0.5)
    assert ev.credit.tolist() == pytest.approx([1.0, 0.9, 1 - 0.5 * 0.47 / 0.5], abs=1e-6)
    assert ev.done_right.tolist() == [True, True, True]  # a warning is still done right


def test_deep_nappage_stays_within_the_seeds_five_millimetres(free, library, config):
    cheek = free.atlas.region("cheek-left").polygon.mean(axis=0)
    ev = run(free, inj(library, *[(*cheek, d, 60, 0.05, "deep-nappage") for d in (4.0, 4.8, 5.3)]), library,
             config)
    assert ev.rules["depth"].verdict.tolist() == [0, 1, 2]


def test_micro_papule_volume_follows_the_syringe(free, library, config):
    # half a unit of a 0.3 ml U-100 insulin syringe, 0.005 ml, is the nominal dose: a 2.9 mm papule in the model
    tech = library.get(MP)
    assert tech.volume_ml.nominal == 0.005 and tech.volume_ml.ok[0] <= 0.005 <= tech.volume_ml.ok[1]
    assert bleb_diameter_mm(tech.volume_ml.ok[1], config) < bleb_diameter_mm(
        library.get("medium-papule").volume_ml.nominal, config) <= 4.0


def test_patient_skin_overrides_change_the_layer(tmp_path, library, config):
    extra = """\
    patient:
      name: Test patient
      age_years: 45
      complaint: submental fullness
      skin_overrides:
        submental: {epidermis_mm: 0.2, dermis_mm: 1.0, fat_mm: 14}
    """
    scn = scenario(tmp_path, extra)
    sub = (0.0, -126.0)
    assert scn.atlas.regions[scn.atlas.region_index(np.array([sub]))[0]].id == "submental"
    free = load_scenario("face-free")
    point = inj(library, (*sub, 11, 90, 0.1, INF))
    assert run(free, point, library, config).rules["layer"].verdict.tolist() == [2]
    assert run(scn, point, library, config).rules["layer"].verdict.tolist() == [0]


def test_angle_band(free, library, config):
    # micro papule: ok 5-20, warn 3-30
    ev = run(free, inj(library, (0, 45, 1.5, 25, 0.003, MP), (0, 60, 1.5, 45, 0.003, MP)), library, config)
    assert ev.rules["angle"].verdict.tolist() == [1, 2]
    (f,) = [f for f in ev.findings(1) if f.rule == "angle"]
    assert f.expected == "5-20°" and f.measured == 45


def test_spacing_double_puncture_and_gap(free, library, config):
    # superficial nappage ok 2-10, warn 1.5-12; double puncture under 1 mm
    rows = [(0, 40, 0.5, 45, 0.01, SN), (0.5, 40, 0.5, 45, 0.01, SN),  # 0.5 mm apart: double puncture
            (0, 50, 0.5, 45, 0.01, SN), (0, 61, 0.5, 45, 0.01, SN)]     # 10 mm from #0; 11 mm from #2
    ev = run(free, inj(library, *rows), library, config)
    assert ev.rules["spacing"].verdict.tolist() == [2, 2, 0, 1]
    assert "punctured twice" in [f for f in ev.findings(0) if f.rule == "spacing"][0].message
    (f,) = [f for f in ev.findings(3) if f.rule == "spacing"]
    assert f.measured == pytest.approx(11.0) and "gap" in f.message


def test_spacing_counts_only_the_same_technique(free, library, config):
    ev = run(free, inj(library, (0, 40, 0.5, 45, 0.01, SN), (0.3, 40, 1.5, 45, 0.02, MN)), library, config)
    assert ev.rules["spacing"].verdict.tolist() == [0, 0]


def test_volume_band_maximum_and_papule_size(free, library, config):
    # micro papule ok 0.004-0.008, warn 0.003-0.01; 0.25 ml is over the 0.2 ml maximum (seed 004)
    ev = run(free, inj(library, (0, 40, 1.5, 10, 0.02, MP), (0, 60, 12, 90, 0.25, INF)), library, config)
    (f,) = [f for f in ev.findings(0) if f.rule == "volume"]
    assert f.verdict == "fail"
    assert bleb_diameter_mm(0.02, config) == pytest.approx(8 * 0.2 ** (1 / 3))  # 4.68 mm
    assert "about 4.7 mm across" in f.message
    over = [f for f in ev.findings(1) if f.rule == "volume"]
    assert [f.verdict for f in over] == ["fail"] and "0.2 ml" in over[0].message


def test_bevel_down_warns(free, library, config):
    ev = run(free, inj(library, (0, 45, 0.5, 45, 0.01, SN, {"bevel": "down"})), library, config)
    assert rules_of(ev, 0) == {("bevel", "warn")}


def test_gel_is_not_for_nappage(tmp_path, library, config):
    scn = scenario(tmp_path, form="gel")
    ev = run(scn, inj(library, (0, 45, 0.5, 45, 0.01, SN), (0, 45, 1.5, 10, 0.003, MP)), library, config)
    assert ev.rules["product"].verdict.tolist() == [2, 0]


def test_gun_is_refused_around_the_eyes_and_by_hand_only_scenarios(tmp_path, free, library, config):
    lid = (32.0, 9.0)
    ev = run(free, inj(library, (*lid, 0.5, 45, 0.01, SN, {"device": "gun"}),
                       (0, 45, 0.5, 45, 0.01, SN, {"device": "gun"})), library, config)
    assert ev.rules["device"].verdict.tolist() == [2, 0]
    assert "by hand" in [f for f in ev.findings(0) if f.rule == "device"][0].message
    hand_only = scenario(tmp_path, devices="[hand]")
    ev = run(hand_only, inj(library, (0, 45, 0.5, 45, 0.01, SN, {"device": "gun"})), library, config)
    assert ev.rules["device"].verdict.tolist() == [2]


def test_technique_not_allowed_and_wrong_map(tmp_path, free, library, config):
    scn = scenario(tmp_path, techniques="[superficial-nappage]")
    ev = run(scn, inj(library, (0, 45, 1.5, 45, 0.02, MN)), library, config)
    assert rules_of(ev, 0) >= {("technique", "fail")}
    ev = run(free, inj(library, (0, 45, 2.0, 45, 0.02, "scalp-microinjection")), library, config)
    assert "not a face technique" in [f for f in ev.findings(0) if f.rule == "technique"][0].message


def test_target_and_off_map(tmp_path, library, config):
    scn = scenario(tmp_path, "targets:\n  - region: forehead\n")
    ev = run(scn, inj(library, (0, 45, 0.5, 45, 0.01, SN), (0, -100, 0.5, 45, 0.01, SN),
                      (300, 300, 0.5, 45, 0.01, SN)), library, config)
    assert ev.rules["target"].verdict.tolist() == [0, 2, 2]
    assert ev.region[2] == -1
    assert "off the face" in ev.findings(2)[0].message


def test_danger_is_depth_aware(free, library, config):
    # The left supratrochlear artery at (17, 30) lies 3.53 mm deep: 0.5 mm nappage above it is safe,
    # 4 mm at the same point reaches it (critical: blindness, necrosis).
    ev = run(free, inj(library, (17, 30, 0.5, 45, 0.01, SN), (17, 30, 4.0, 45, 0.01, "medium-papule"),
                       (23, 30, 4.0, 45, 0.01, "medium-papule")), library, config)
    assert ev.rules["danger"].verdict.tolist()[:2] == [0, 3]
    (f,) = [f for f in ev.findings(1) if f.rule == "danger"]
    assert f.verdict == "critical" and f.structure == "supratrochlear-artery-left"
    assert "3.5 mm deep" in f.message and "Scheuer" in f.source
    # 6 mm lateral of the path: outside its 5 mm margin (but 6 mm from the supraorbital? it runs at x 27-28)
    sup = [f.structure for f in ev.findings(2) if f.rule == "danger"]
    assert "supratrochlear-artery-left" not in sup


def test_danger_depth_interpolates_along_the_path(free, library):
    s = {x.id: x for x in free.atlas.structures}["supratrochlear-artery-left"]
    hit, dist, depth = s.hits(np.array([[17.5, 22.5]]), np.array([3.9]))
    assert depth[0] == pytest.approx((4.45 + 3.53) / 2)
    assert not hit[0]
    hit, _, _ = s.hits(np.array([[17.5, 22.5]]), np.array([4.0]))
    assert hit[0]


def test_no_go_spot(tmp_path, library, config):
    scn = scenario(tmp_path, "no_go:\n  - {name: Mole, at_mm: [40, -50], radius_mm: 3, severity: high}\n")
    ev = run(scn, inj(library, (41, -50, 0.5, 45, 0.01, SN), (44, -50, 0.5, 45, 0.01, SN)), library, config)
    assert ev.rules["danger"].verdict.tolist() == [2, 0]
    assert "mole" in [f for f in ev.findings(0) if f.rule == "danger"][0].message


# ------------------------------------------------------------------ per attempt


def test_count_bands(tmp_path, library, config):
    scn = scenario(tmp_path, "count: {min: 10, max: 20}\n")
    for n, verdict in ((10, 0), (20, 0), (9, 1), (22, 1), (8, 2), (23, 2)):
        rows = [(0, 30 + i, 0.5, 45, 0.01, SN) for i in range(n)]
        ev = run(scn, inj(library, *rows), library, config)
        assert ev.attempt_verdicts["count"] == verdict, n


def test_coverage_of_an_own_target_area(tmp_path, library, config):
    # A 40 x 40 mm square on the forehead, one median nappage at its centre: reach = 15 / sqrt 2 = 10.61 mm,
    # so coverage = pi * 10.61^2 / 1600 = 0.2209 (sampled on the 0.5 mm grid of scoring.yaml: within 2 %)
    extra = """\
    targets:
      - name: square
        polygon_mm: [[-20, 25], [20, 25], [20, 65], [-20, 65]]
    """
    scn = scenario(tmp_path, extra, techniques="[median-nappage]")
    ev = run(scn, inj(library, (0, 45, 1.5, 45, 0.02, MN)), library, config)
    assert ev.measures["coverage"] == pytest.approx(math.pi * (15 / math.sqrt(2)) ** 2 / 1600, rel=0.02)
    assert ev.attempt_verdicts["coverage"] == 2
    # a 10 mm grid covers it all
    rows = [(x, y, 1.5, 45, 0.02, MN) for x in range(-15, 16, 10) for y in range(30, 61, 10)]
    ev = run(scn, inj(library, *rows), library, config)
    assert ev.measures["coverage"] == pytest.approx(1.0)
    assert ev.attempt_verdicts["coverage"] == 0


def test_total_volume_and_time(tmp_path, library, config):
    scn = scenario(tmp_path, "total_volume_ml: {min_ml: 0.05, max_ml: 0.1}\ntime_limit_s: 60\n", mode="exam")
    rows = [(0, 30 + 5 * i, 0.5, 45, 0.02, SN, {"t_s": 30.0 * i}) for i in range(3)]  # 0.06 ml, 60 s
    ev = run(scn, inj(library, *rows), library, config)
    assert ev.attempt_verdicts == {"total_volume": 0, "time": 0}
    rows = [(0, 30 + 5 * i, 0.5, 45, 0.02, SN, {"t_s": 31.0 * i}) for i in range(6)]  # 0.12 ml, 155 s
    ev = run(scn, inj(library, *rows), library, config)
    assert ev.attempt_verdicts == {"total_volume": 1, "time": 2}


def test_screening(tmp_path, library, config):
    extra = """\
    patient:
      name: A. Patient
      age_years: 31
      complaint: fine lines
      history: [pregnant, 20 weeks]
      screening:
        expected: no-go
        reasons: [pregnancy]
        explanation: Pregnancy is a contraindication.
        source: seed 000, seed 001
    """
    scn = scenario(tmp_path, extra)
    none = inj(library)
    assert run(scn, none, library, config).attempt_verdicts["screening"] == 2
    assert run(scn, none, library, config, ScreeningAnswer("go")).attempt_verdicts["screening"] == 2
    assert run(scn, none, library, config, ScreeningAnswer("no-go", "fever")).attempt_verdicts["screening"] == 1
    ev = run(scn, none, library, config, ScreeningAnswer("no-go", "pregnancy"))
    assert ev.attempt_verdicts["screening"] == 0 and ev.score() == 100.0 and ev.passed()
    treated = run(scn, inj(library, (0, 45, 0.5, 45, 0.01, SN)), library, config, ScreeningAnswer("no-go", "pregnancy"))
    assert treated.attempt_verdicts["screening"] == 3 and not treated.passed()  # injecting her is critical
    # a patient sent home is judged on the decision alone: no count or coverage for the injections not made
    counted = scenario(tmp_path, textwrap.dedent(extra) + "count: {min: 10, max: 20}\ntargets: [{region: forehead}]\n")
    ev = run(counted, none, library, config, ScreeningAnswer("no-go", "pregnancy"))
    assert set(ev.attempt_verdicts) == {"screening"} and ev.passed()
    ev = run(counted, none, library, config, ScreeningAnswer("go", "no-contraindication"))
    assert ev.attempt_verdicts["count"] == 2 and ev.attempt_verdicts["screening"] == 2


# ------------------------------------------------------------------ score


def test_the_score_is_how_right_each_injection_was(free, library, config):
    # Free practice: the score is the injections' mean credit. Bevel is not significant: a bevel-down point
    # keeps full credit (with its finding). A depth in the warn band halfway to its edge earns 0.75:
    # superficial nappage ok 0.3-1.0 mm, warn to 1.5 mm, so 1.25 mm is 0.25 beyond ok over a 0.5 margin.
    ev = run(free, inj(library, (0, 40, 0.5, 45, 0.01, SN), (0, 48, 0.5, 45, 0.01, SN, {"bevel": "down"}),
                       (0, 56, 1.25, 45, 0.01, SN)), library, config)
    assert ev.credit.tolist() == pytest.approx([1.0, 1.0, 0.75])
    assert ev.done_right.tolist() == [True, True, True]
    assert ev.score() == round(100 * 2.75 / 3, 1)
    assert ev.passed()
    assert ("bevel", "warn") in rules_of(ev, 1)


def test_how_far_off_counts_and_a_fail_is_not_done_right(free, library, config):
    # 1.75 mm: 0.75 beyond ok over a 0.5 margin: credit 1 - 0.5 * 1.5 = 0.25; 2.0 mm and deeper: 0.
    ev = run(free, inj(library, (0, 40, 1.75, 45, 0.01, SN), (0, 48, 2.0, 45, 0.01, SN),
                       (0, 56, 3.0, 45, 0.01, SN)), library, config)
    assert ev.credit.tolist() == pytest.approx([0.25, 0.0, 0.0])
    assert not ev.done_right.any() and ev.share_right() == 0.0
    assert not ev.passed()


def test_a_criterion_failed_throughout_fails_the_attempt(free, library, config):
    # bevel down at every point: not significant for one point, but a systematic error
    rows = [(0, 30 + 4 * i, 0.5, 45, 0.01, SN, {"bevel": "down"}) for i in range(6)]
    cfg = config.scoring.model_copy(update={"verdicts": config.scoring.verdicts.model_copy(
        update={"bevel_wrong": "fail"})})
    from sim.core.scoring.config import Config

    ev = run(free, inj(library, *rows), library, Config(cfg, config.messages, config.digest))
    assert ev.score() == 100.0 and ev.share_right() == 1.0
    assert ev.failed_throughout() == ["bevel"] and "bevel" in ev.blocking_failures() and not ev.passed()


def test_too_few_injections_done_right_fail_the_attempt(free, library, config):
    # 8 of 10 right (80 %) is under the default competence threshold (85 %), whatever the score
    rows = ([(0, 30 + 4 * i, 0.5, 45, 0.01, SN) for i in range(8)]
            + [(-20, 30 + 4 * i, 1.6, 45, 0.01, SN) for i in range(2)])
    ev = run(free, inj(library, *rows), library, config)
    assert ev.share_right() == 0.8 and config.scoring.competence.threshold == 0.85
    assert ev.blocking_failures() == [] and ev.critical_count() == 0 and ev.score() >= 80
    assert not ev.passed()


def test_a_critical_finding_fails_whatever_the_score(free, library, config):
    rows = [(0, 30 + 3 * i, 0.5, 45, 0.01, SN) for i in range(12)] + [(17, 30, 4.0, 45, 0.01, "medium-papule")]
    ev = run(free, inj(library, *rows), library, config)
    assert ev.score() >= 80 and ev.critical_count() == 1 and not ev.passed()


def test_scenario_weights_override(tmp_path, library, config):
    rows = [(0, 45, 0.5, 45, 0.01, SN)]
    base = run(scenario(tmp_path, "targets: [{region: forehead}]\ncount: {min: 5, max: 10}\n"),
               inj(library, *rows), library, config)
    assert base.attempt_verdicts["count"] == 2  # too few
    heavy = run(scenario(tmp_path, "targets: [{region: forehead}]\ncount: {min: 5, max: 10}\n"
                                   "weights: {count: 20}\n"), inj(library, *rows), library, config)
    assert heavy.score() < base.score()


def test_a_per_injection_criterion_is_not_a_weight(tmp_path, library):
    from sim.errors import InputError

    with pytest.raises(InputError) as err:
        scenario(tmp_path, "weights: {bevel: 0}\n")
    (problem,) = err.value.problems
    assert problem.path == "weights.bevel"
    assert "bevel is a per-injection criterion: name it under significant: to make it count" in problem.message


def test_a_scenario_makes_a_criterion_significant(tmp_path, library, config):
    rows = [(0, 45, 0.5, 45, 0.01, SN, {"bevel": "down"})]
    ev = run(scenario(tmp_path, "significant: [bevel]\n"), inj(library, *rows), library, config)
    assert ev.credit.tolist() == [0.5]  # a warning's credit, now that bevel counts


def test_report_is_deterministic_and_follows_the_contract(free, library, config):
    rows = [(0, 40, 0.5, 45, 0.01, SN), (17, 30, 4.0, 45, 0.01, "medium-papule")]
    a = build_report(run(free, inj(library, *rows), library, config))
    b = build_report(run(load_scenario("face-free"), inj(library, *rows), library, config))
    assert a == b
    assert a["scenario"] == "face-free" and a["passed"] is False
    assert [e["index"] for e in a["injections"]] == [0, 1]
    assert a["injections"][1]["verdict"] == "critical"
    for f in a["injections"][1]["findings"]:
        assert set(f) >= {"rule", "verdict", "message", "source"}
    assert a["attempt_findings"] == []


def test_indicated_technique(tmp_path, library, config):
    extra = """\
    indication:
      techniques: [median-nappage]
      explanation: Pigmentation is treated with median nappage.
      source: seed 004
    """
    scn = scenario(tmp_path, extra)
    ev = run(scn, inj(library, (0, 45, 1.5, 45, 0.02, MN), (0, 55, 0.5, 45, 0.01, SN)), library, config)
    assert ev.rules["technique"].verdict.tolist() == [0, 2]
    (f,) = [f for f in ev.findings(1) if f.rule == "technique"]
    assert "Median nappage is" in f.message and f.source == "seed 004"
