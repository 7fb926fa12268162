"""Write the shipped exercise library: scenarios/face/*.yaml, scenarios/scalp/*.yaml and their solutions.

    python scripts/make_library.py

Each exercise is written from the text below; its reference solution is planned on the atlas (a grid at the
technique's nominal spacing inside the target areas, leaving out every point where the needle would reach a
danger structure or a patient's no-go spot at the planned depth), and its flawed solutions change the reference
in the one way their names give. The count range is set from the reference. Every solution is then scored, and
the script stops if a reference scores under 90 or a flawed one does not fail for its reason. Deterministic: the
same run writes the same files.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.core.spatial.geometry import points_in_polygon  # noqa: E402
from sim.core.scoring.injections import Injections, write_log  # noqa: E402
from sim.core.exercise.scenario import load_scenario_file  # noqa: E402
from sim.core.scoring.config import load_config  # noqa: E402
from sim.core.scoring.solutions import check_solutions, failed_on, score_solution  # noqa: E402
from sim.core.exercise.techniques import load_library  # noqa: E402

LIB, CFG = load_library(), load_config()
HEADER = "# yaml-language-server: $schema=../../assets/schema/scenario.schema.json\n"


# ------------------------------------------------------------------ planning


CLEARANCE_MM = 2.0
"""How far a reference point keeps from a danger margin: two and a half times a competent hand's scatter
(assets/calibration.yaml, position_sd_mm 0.8)."""
INSET_MM = 1.5
"""How far a reference point keeps inside its target's edge (narrow targets, the folds and the lids, allow no
more)."""


def plan(scn, technique, depth, angle, volume, spacing=None, partings=None, along=None, hex_grid=True,
         device="hand", margin_depth=0.5):
    """Reference injections inside the scenario's targets, clear of every danger structure at depth+margin."""
    tech = LIB.get(technique)
    spacing = spacing or tech.spacing_mm.nominal
    polys = [p for _n, p in scn.target_polygons]
    allp = np.concatenate(polys)
    (x0, y0), (x1, y1) = allp.min(axis=0), allp.max(axis=0)
    if partings is not None:
        pts = [(x, y) for x in partings for y in np.arange(y1 - along / 2, y0, -along)]
    else:
        dy = spacing * (math.sqrt(3) / 2 if hex_grid else 1.0)
        pts = []
        for k, y in enumerate(np.arange(y0 + dy / 2, y1, dy)):
            off = spacing / 2 if hex_grid and k % 2 else 0.0
            pts += [(x, y) for x in np.arange(x0 + spacing / 2 + off, x1, spacing)]
    xy = np.asarray(pts, dtype=float).reshape(-1, 2)
    inside = np.zeros(len(xy), dtype=bool)
    for p in polys:
        inside |= points_in_polygon(xy, p)
    xy = xy[inside]
    # A reference is what a competent injector does: every point inside the target (by INSET_MM) and well clear of
    # every danger margin (CLEARANCE_MM all round), so that a hand's usual scatter never turns a right point wrong.
    ring = np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)
    safe = np.ones(len(xy), dtype=bool)
    for off in INSET_MM * ring:
        moved = xy + off
        within = np.zeros(len(xy), dtype=bool)
        for p in polys:
            within |= points_in_polygon(moved, p)
        safe &= within
    structures = list(scn.structures)
    for s in structures:
        for off in np.vstack([[0.0, 0.0], CLEARANCE_MM * ring]):
            hit, dist, _ = s.hits(xy + off, np.full(len(xy), depth + margin_depth))
            safe &= ~hit
        if s.kind == "spot":
            safe &= ~(dist <= float(s.margin_a[0]) + CLEARANCE_MM)
    if device == "gun":
        region = scn.atlas.region_index(xy)
        tags = [set(scn.atlas.regions[r].tags) if r >= 0 else set() for r in region]
        refused = set(LIB.limits.gun.refused_tags)
        safe &= np.array([not (t & refused) for t in tags], dtype=bool)
    xy = xy[safe]
    return [{"x_mm": round(float(x), 1), "y_mm": round(float(y), 1), "depth_mm": depth, "angle_deg": angle,
             "volume_ml": volume, "technique": technique, "t_s": float(3 * i), "bevel": "up", "device": device}
            for i, (x, y) in enumerate(xy)]


def retime(rows):
    return [{**r, "t_s": float(3 * i)} for i, r in enumerate(rows)]


def with_(rows, **changes):
    return [{**r, **changes} for r in rows]


def sparse(rows, keep=4):
    return retime(rows[::keep])


def doubled(rows):
    out = []
    for r in rows:
        out += [r, {**r, "x_mm": r["x_mm"] + 0.4}]
    return retime(out)


def plus(rows, *extra):
    return retime(rows + [dict(rows[0] if rows else {}, **e) for e in extra])


# ------------------------------------------------------------------ the exercises

FACE_SN = "superficial-nappage"
EX: list[dict] = []


def exercise(folder, sid, text, reference, flawed, screening_ref=None):
    EX.append({"folder": folder, "id": sid, "text": text, "reference": reference, "flawed": flawed,
               "screening": screening_ref})


MOLES = """no_go:  # for this exercise an injured mole fails the attempt (seed 001: they must not be injured)
  - {{name: mole above the left brow, at_mm: [22, 38], radius_mm: 2.5, severity: critical}}
  - {{name: mole on the right forehead, at_mm: [-30, 48], radius_mm: 2.5, severity: critical}}
  - {{name: mole near the midline, at_mm: [4, 58], radius_mm: 2, severity: critical}}
"""

exercise("face", "forehead-nappage", """\
# Forehead fine lines with superficial nappage (seed 004: 0.5 mm, bevel up, less than 1 cm apart).
id: forehead-nappage
title: Forehead lines - superficial nappage
objective: >-
  Treat fine forehead lines with superficial nappage: even points 0.5 mm deep over the whole forehead, never
  deep enough to reach the supratrochlear and supraorbital vessels (3.4-3.5 mm down).
instructions: >-
  Cover the forehead from the brows to the hairline. Superficial nappage, 0.5 mm deep, 45 degrees, bevel up,
  0.01 ml a point, points 4-6 mm apart. Mesoinjector allowed.
map: face
techniques: [superficial-nappage]
targets:
  - region: forehead
product: {{name: Hyaluronic acid and vitamin cocktail, form: liquid}}
devices: [hand, gun]
mode: {mode}
count: {{min: {cmin}, max: {cmax}}}
{time}pass_mark: 80
weights: {{coverage: 4}}  # the objective: even cover at the right depth (depth is significant for every technique)
""", lambda s: plan(s, FACE_SN, 0.5, 45, 0.01, spacing=5.0),
    [("too-deep", "depth", lambda r, s: with_(r, depth_mm=3.0)),
     ("too-sparse", "coverage", lambda r, s: sparse(r, 12))])

exercise("face", "glabella-frown-lines", """\
# The frown area over the supratrochlear vessels (anatomy.md B: 4.45 mm at the glabella, 3.5 above the brow).
id: glabella-frown-lines
title: Glabella - frown lines over the supratrochlear vessels
objective: >-
  Work the frown area where the supratrochlear arteries rise from the orbit: superficial points only, so that
  the needle never reaches vessels that connect with the eye's artery.
instructions: >-
  Superficial nappage over the glabella, 0.5 mm deep, 45 degrees, points about 4 mm apart, by hand. Switch the
  danger structures on (V) and look at the cross-section: the vessels lie 3.5-4.5 mm down.
map: face
techniques: [superficial-nappage]
targets:
  - region: glabella
product: {{name: Peptide cocktail, form: liquid}}
devices: [hand]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
""", lambda s: plan(s, FACE_SN, 0.5, 45, 0.01, spacing=4.0),
    [("danger-supratrochlear", "danger", lambda r, s: plus(r, {"x_mm": 17.0, "y_mm": 22.0, "depth_mm": 4.5}))])

exercise("face", "periorbital-micro-papules", """\
# Crow's feet and lower lid with micro papules, by hand only (seed 000: no mesoinjector around the eyes).
# Inside the orbital rim micro papules stay above the septum (about 2.5 mm), and nothing goes within 2 mm of the
# lid margin (anatomy.md B); seed 004 places micro papules 1.5 mm deep, on the eyelids too.
id: periorbital-micro-papules
title: Crow's feet and lower lid - micro papules
objective: >-
  Place micro papules on the thin periorbital skin by hand: about 1.5 mm deep (1.4 mm on the thin lids), above
  the orbital septum, never near the lid margin, small volumes.
instructions: >-
  Micro papules 1.4 mm deep, needle almost flat (12 degrees), bevel up, 0.005 ml, points 6-7 mm apart over the
  crow's feet and the lower lids. Keep 2 mm from the lid margin. By hand only.
map: face
variant: female
techniques: [micro-papule]
targets:
  - region: crows-feet
  - region: lower-eyelid
product: {{name: Eye-area cocktail, form: liquid}}
devices: [hand]
mode: {mode}
count: {{min: {cmin}, max: {cmax}}}
{time}pass_mark: 80
coverage: {{ok: 0.8, warn: 0.65}}
significant: [device]  # by hand only around the eyes
""", lambda s: plan(s, "micro-papule", 1.4, 12, 0.005, spacing=6.5),
    [("too-deep-inside-the-rim", "danger", lambda r, s: with_(r, depth_mm=3.0)),
     ("mesoinjector-near-the-eye", "device", lambda r, s: with_(r, device="gun"))])

exercise("face", "malar-pigmentation", """\
# Pigmentation on the cheekbones with median nappage (seed 004: 1.5 mm, for pigmentation).
id: malar-pigmentation
title: Cheekbones - median nappage for pigmentation
objective: >-
  Treat pigmentation over the cheekbones with median nappage in the dermis, and stay out of the orbit: below the
  orbital rim only.
instructions: >-
  Median nappage 1.5 mm deep, 45 degrees, 0.02 ml, points about 7 mm apart over both cheekbones, below the
  orbital rim (inside the rim nothing deeper than 1 mm).
map: face
techniques: [median-nappage]
targets:
  - region: malar
product: {{name: Depigmenting cocktail, form: liquid}}
devices: [hand, gun]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
coverage: {{ok: 0.7, warn: 0.55}}
""", lambda s: plan(s, "median-nappage", 1.5, 45, 0.02, spacing=7.0),
    [("too-deep", "depth", lambda r, s: with_(r, depth_mm=3.2))])

exercise("face", "cheek-medium-papules", """\
# Medium papules where the fat is thicker (seed 004).
id: cheek-medium-papules
title: Cheeks - medium papules
objective: >-
  Place medium papules in the deep dermis about 1 cm apart over both cheeks, with papules of the right size.
instructions: >-
  Medium papules 2.25 mm deep (the cheek's dermis ends at about 2.5 mm), 45 degrees, bevel up, 0.01 ml (about a
  3.7 mm papule), 10 mm apart.
map: face
techniques: [medium-papule]
targets:
  - region: cheeks
product: {{name: Revitalising cocktail, form: liquid}}
devices: [hand, gun]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
significant: [spacing]  # the objective: spacing and papule size (volume is significant for papules)
""", lambda s: plan(s, "medium-papule", 2.25, 45, 0.01, spacing=10.0),
    [("double-punctures", "spacing", lambda r, s: doubled(r))])

exercise("face", "nasolabial-folds", """\
# Nasolabial folds, by hand only (seed 000), over the facial and angular arteries (anatomy.md B).
id: nasolabial-folds
title: Nasolabial folds - medium papules by hand
objective: >-
  Treat the nasolabial folds by hand with medium papules in the deep dermis over the thick fat of the fold, far
  above the facial and angular arteries.
instructions: >-
  Medium papules 2.1 mm deep (the fold's dermis ends at about 2.2 mm), 45 degrees, 0.01 ml, 8-9 mm apart along
  both folds. No mesoinjector here.
map: face
techniques: [medium-papule]
targets:
  - region: nasolabial-folds
product: {{name: Hyaluronic acid cocktail, form: liquid}}
devices: [hand]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
coverage: {{ok: 0.8, warn: 0.6}}
competence_threshold: 0.8  # six papules: one may miss (set with mesosim calibrate, docs/scoring.md)
significant: [device]
""", lambda s: plan(s, "medium-papule", 2.1, 45, 0.01, spacing=8.5),
    [("mesoinjector", "device", lambda r, s: with_(r, device="gun")),
     ("too-deep-facial-artery", "danger", lambda r, s: with_(r, depth_mm=12.0))])

exercise("face", "perioral-lines", """\
# Perioral lines with superficial nappage; the labial arteries run 4.2-5.6 mm deep (anatomy.md B).
id: perioral-lines
title: Perioral lines - superficial nappage
objective: >-
  Soften the fine lines around the mouth with superficial nappage on the skin of the upper lip and below the lower
  lip, far above the labial arteries.
instructions: >-
  Superficial nappage 0.5 mm deep, 45 degrees, 0.01 ml, points about 4 mm apart; not on the red of the lips.
map: face
techniques: [superficial-nappage]
targets:
  - region: perioral
product: {{name: Hyaluronic acid cocktail, form: liquid}}
devices: [hand, gun]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
""", lambda s: plan(s, FACE_SN, 0.5, 45, 0.01, spacing=4.0),
    [("too-deep-labial-arteries", "danger", lambda r, s: with_(r, depth_mm=6.0))])

exercise("face", "neck-nappage", """\
# Neck rejuvenation with superficial nappage (seed 004: face and neck).
id: neck-nappage
title: Neck - superficial nappage
objective: >-
  Cover the front of the neck evenly with superficial nappage.
instructions: >-
  Superficial nappage 0.5 mm deep, 45 degrees, 0.01 ml, points about 7 mm apart over the whole neck.
  Mesoinjector allowed.
map: face
techniques: [superficial-nappage]
targets:
  - region: neck
product: {{name: Firming cocktail, form: liquid}}
devices: [hand, gun]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
weights: {{coverage: 4}}
""", lambda s: plan(s, FACE_SN, 0.5, 45, 0.01, spacing=7.0, device="gun"),
    [("too-sparse", "coverage", lambda r, s: sparse(r, 6))])

exercise("face", "submental-fat-infiltration", """\
# Local fat: infiltration only where the fat is thick enough (seed 004: at least 1 cm, 90 degrees, 1.5 cm apart).
id: submental-fat-infiltration
title: Submental fat - infiltration where the fat is thick
objective: >-
  Reduce a double chin with infiltration into the thick submental fat, and recognise that the same 10 mm
  injection elsewhere (the chin, the jawline) goes below the fat.
instructions: >-
  Infiltration 11.5 mm deep, perpendicular, 0.1 ml a point, 12 mm apart, under the chin only, and never within
  15 mm below the jaw's lower border (the marginal mandibular nerve). This patient's submental fat is 18 mm thick,
  so the tip sits in its middle; the chin's is 5 mm.
map: face
techniques: [infiltration]
targets:
  - region: submental
product: {{name: Lipolytic cocktail, form: liquid}}
devices: [hand]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
coverage: {{ok: 0.4, warn: 0.3}}  # the band below the jaw (the marginal mandibular nerve) stays untreated
patient:
  name: Mr D.
  age_years: 48
  sex: male
  complaint: fullness under the chin
  history: [no chronic disease]
  skin_overrides:
    submental: {{epidermis_mm: 0.21, dermis_mm: 1.96, fat_mm: 18}}  # marked fullness (proposal: no published
                                                                     # submental thickness in the seeds)
""", lambda s: plan(s, "infiltration", 11.5, 90, 0.1, spacing=12.0, hex_grid=True, margin_depth=0.0),
    [("thin-fat-of-the-chin", "layer", lambda r, s: [{**x, "y_mm": x["y_mm"] + 20} for x in r])])

exercise("face", "choose-the-technique", """\
# Choose the technique: melasma on the cheekbones calls for median nappage (seed 004: pigmentation).
id: choose-the-technique
title: Choose the technique - pigmentation on the cheekbones
objective: >-
  Read the indication and choose the technique yourself: every technique is offered, only the right one scores.
instructions: >-
  The patient has pigmentation (melasma) over both cheekbones. Choose the technique, its depth and spacing, and
  treat the cheekbones below the orbital rim.
map: face
techniques: all
targets:
  - region: malar
product: {{name: Depigmenting cocktail, form: liquid}}
devices: [hand]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
coverage: {{ok: 0.7, warn: 0.55}}
indication:
  techniques: [median-nappage]
  explanation: Pigmentation is treated with median nappage, 1.5 mm into the dermis (seed 004).
  source: seed 004
""", lambda s: plan(s, "median-nappage", 1.5, 45, 0.02, spacing=7.0),
    [("superficial-instead", "technique", lambda r, s: with_(r, technique=FACE_SN, depth_mm=0.5, volume_ml=0.01))])


def screening_case(sid, title, objective, patient, expected, reasons, explanation, source, answer, wrong):
    text = f"""\
# Patient screening: {title.lower()} (contraindications.md).
id: {sid}
title: "Screening - {title}"
objective: >-
  {objective}
instructions: >-
  Read the history before anything else and decide: go, postpone or no-go, and why.
map: face
techniques: [superficial-nappage]
targets:
  - region: forehead
product: {{{{name: Hyaluronic acid cocktail, form: liquid}}}}
devices: [hand]
mode: practice
count: {{{{min: {{cmin}}, max: {{cmax}}}}}}
pass_mark: 80
patient:
{patient}
  screening:
    expected: {expected}
    reasons: [{", ".join(reasons)}]
    explanation: "{explanation}"
    source: "{source}"
"""
    treat = lambda s: plan(s, FACE_SN, 0.5, 45, 0.01, spacing=5.0)  # noqa: E731
    if expected == "go":  # treated after the screening; the flawed answer sends the patient home
        text = text.replace("Read the history before anything else and decide: go, postpone or no-go, and why.",
                            "Read the history and decide first: go, postpone or no-go, and why. If you go ahead: "
                            "superficial nappage 0.5 mm deep over the forehead, points about 5 mm apart.")
        exercise("face", sid, text, treat, [("sends-home", "screening", lambda r, s: [])], screening_ref=(answer, wrong))
    else:
        exercise("face", sid, text, lambda s: [], [("goes-ahead", "screening", lambda r, s: treat(s))],
                 screening_ref=(answer, wrong))


screening_case("screening-pregnancy", "pregnancy", "Recognise a pregnancy as a contraindication and decline.",
               "  name: Ms A.\n  age_years: 31\n  sex: female\n  complaint: fine forehead lines\n"
               "  history: [pregnant, 20 weeks]\n  medications: [folic acid]",
               "no-go", ["pregnancy"], "Pregnancy is a contraindication to mesotherapy.", "seeds 000-003",
               "no-go:pregnancy", "go:no-contraindication")
screening_case("screening-anticoagulants", "anticoagulants",
               "Recognise blood thinners as a contraindication and decline.",
               "  name: Mr B.\n  age_years: 67\n  sex: male\n  complaint: forehead lines\n"
               "  history: [atrial fibrillation]\n  medications: [warfarin 5 mg daily]",
               "no-go", ["anticoagulants", "coagulation-disorder"],
               "Anticoagulants make bleeding and bruising likely; mesotherapy is not done.", "seeds 000, 002, 003",
               "no-go:anticoagulants", "go:no-contraindication")
screening_case("screening-skin-infection", "active skin infection",
               "Recognise an active infection at the site as a reason to postpone.",
               "  name: Ms C.\n  age_years: 29\n  sex: female\n  complaint: dull skin\n"
               "  history: [impetigo crusts on the forehead since last week]\n  medications: []",
               "postpone", ["skin-infection-at-site"],
               "Never inject through infected or inflamed skin: postpone until it has healed (no-go is accepted).",
               "seeds 000-003; contraindications.md: postpone while active", "postpone:skin-infection-at-site",
               "go:no-contraindication")
screening_case("screening-fever", "fever", "Recognise an acute infection with fever and postpone.",
               "  name: Ms E.\n  age_years: 38\n  sex: female\n  complaint: fine lines\n"
               "  history: [flu since yesterday, 38.4 degrees this morning]\n  medications: [paracetamol]",
               "postpone", ["acute-infection"],
               "Acute infection and fever pass: postpone until recovered (no-go is accepted).",
               "seeds 000-002", "postpone:acute-infection", "go:no-contraindication")
screening_case("screening-menstruation", "menstruation", "Recognise menstruation as a reason to postpone.",
               "  name: Ms F.\n  age_years: 33\n  sex: female\n  complaint: forehead lines\n"
               "  history: [menstruating, day 2]\n  medications: []",
               "postpone", ["menstruation"], "During menstruation the procedure is postponed.", "seeds 002, 003",
               "postpone:menstruation", "go:no-contraindication")

screening_case("screening-many-moles", "many moles", "Recognise many moles on the face as a contraindication.",
               "  name: Ms G.\n  age_years: 45\n  sex: female\n  complaint: forehead lines\n"
               "  history: [dozens of moles over the forehead and cheeks, some raised]\n  medications: []",
               "no-go", ["many-moles"],
               "With many moles on the face they cannot all be kept clear of the needle; they must not be injured.",
               "seed 001", "no-go:many-moles", "go:few-moles")
screening_case("screening-pacemaker", "pacemaker", "Know which contraindications belong to hardware methods only.",
               "  name: Mr H.\n  age_years: 58\n  sex: male\n  complaint: forehead lines\n"
               "  history: [pacemaker since 2019, cardiologist checks yearly]\n  medications: []",
               "go", ["pacemaker"],
               "A pacemaker rules out electrical and needle-free (hardware) methods, not needle mesotherapy.",
               "seed 004", "go:pacemaker", "no-go:cardiovascular-disease")

exercise("face", "screening-few-moles", """\
# Go with care: a few moles at the site (seeds 001, 003: they must not be injured). They are drawn on the map.
id: screening-few-moles
title: "Screening - a few moles: treat around them"
objective: >-
  Recognise a few moles as no contraindication but as spots to avoid, then treat the forehead without touching them.
instructions: >-
  Decide first. Then superficial nappage 0.5 mm deep over the forehead, points about 5 mm apart, at least 1 mm
  clear of every mole.
map: face
techniques: [superficial-nappage]
targets:
  - region: forehead
product: {{name: Hyaluronic acid cocktail, form: liquid}}
devices: [hand]
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
patient:
  name: Ms G.
  age_years: 45
  sex: female
  complaint: forehead lines
  history: [three small moles on the forehead, checked by a dermatologist]
  medications: []
  screening:
    expected: go
    reasons: [few-moles]
    explanation: A few moles are no contraindication, but they must not be injured; inject around them.
    source: seed 001
""" + MOLES, lambda s: plan(s, FACE_SN, 0.5, 45, 0.01, spacing=5.0),
    [("punctures-a-mole", "danger", lambda r, s: plus(r, {"x_mm": 22.0, "y_mm": 38.5}))],
    screening_ref=("go:few-moles", "go:few-moles"))

# ------------------------------------------------------------------ scalp

PARTINGS = [-67.5, -52.5, -37.5, -22.5, -7.5, 7.5, 22.5, 37.5, 52.5, 67.5]


def _hair_span(x: float) -> tuple[float, float]:
    """Where a parting at this x runs inside the hair-bearing scalp (atlas drawing 'hair')."""
    from sim.core.anatomy.atlas import load_atlas

    draw = {d[0]: d[3] for d in load_atlas("scalp").drawing}
    hair = np.concatenate([draw["hair-left"], draw["hair-right"][::-1]])
    ys = np.arange(95, -96, -0.5)
    inside = points_in_polygon(np.c_[np.full(len(ys), x), ys], hair)
    return float(ys[inside].max()) - 1, float(ys[inside].min()) + 1


def partings_yaml(xs):
    lines = ["partings:  # every 15 mm (seed 003: 10-20 mm apart)"]
    for x in xs:
        y0, y1 = (round(v, 1) for v in _hair_span(x))
        lines.append(f"  - {{{{name: 'x {x:g}', points_mm: [[{x:g}, {y0}], [{x:g}, {y1}]]}}}}")
    return "\n".join(lines) + "\n"


SCALP_TEXT = """\
# {comment}
id: {sid}
title: {title}
objective: >-
  {objective}
instructions: >-
  Scalp microinjection 2 mm deep, 45 degrees, bevel up, 0.02 ml a point, on the partings (drawn 15 mm apart)
  with points 12 mm apart along them. The clinic text says "0.4-0.8 inch from the parting": here that means
  partings 10-20 mm apart with the points on them, within 3 mm of the line (seed 003).
map: scalp
techniques: [scalp-microinjection]
targets:
{targets}product: {{{{name: Hair-loss cocktail, form: liquid}}}}
devices: [hand, gun]
mode: {{mode}}
count: {{{{min: {{cmin}}, max: {{cmax}}}}}}
{{time}}pass_mark: 80
weights: {{{{coverage: 4}}}}  # the objective: the follicle depth, evenly over the area
"""


def scalp(sid, title, comment, objective, regions, xs=PARTINGS, flawed=None, exam=False):
    targets = "".join(f"  - region: {r}\n" for r in regions)
    text = SCALP_TEXT.format(comment=comment, sid=sid, title=title, objective=objective, targets=targets)
    text += partings_yaml(xs)
    exercise("scalp", sid, text,
             lambda s: plan(s, "scalp-microinjection", 2.0, 45, 0.02, partings=xs, along=12.0),
             flawed or [("too-deep", "depth", lambda r, s: with_(r, depth_mm=6.5)),
                        ("too-far-apart", "coverage", lambda r, s: sparse(r, 5)),
                        ("beside-the-partings", "parting", lambda r, s: [{**x, "x_mm": x["x_mm"] + 6} for x in r])])


scalp("scalp-diffuse-thinning", "Diffuse thinning - the whole scalp",
      "Diffuse thinning over the whole scalp: 100-120 points along partings (seed 003).",
      "Treat diffuse thinning over the whole scalp with 100-120 microinjections along partings 10-20 mm apart.",
      ["frontal", "midscalp", "crown", "temporal", "parietal", "occipital"])
scalp("scalp-temples", "Focal thinning at the temples", "Focal thinning: both temporal areas (seed 003).",
      "Treat receding temples: both temporal areas, evenly, above the superficial temporal vessels.",
      ["temporal"], xs=[-77, -62, -47, 47, 62, 77])
scalp("scalp-crown", "Focal thinning at the crown", "Focal thinning: the crown (seed 003).",
      "Treat thinning at the crown (vertex) evenly.", ["crown"], xs=[-30, -15, 0, 15, 30])
scalp("scalp-occipital", "The back of the head", "Focal thinning: the occipital area (seed 003).",
      "Treat the back of the head, above the occipital arteries and nerves.", ["occipital"],
      xs=[-60, -45, -30, -15, 0, 15, 30, 45, 60])

PASS_MARKS = {  # set with mesosim calibrate (contrasting groups, docs/scoring.md); the others keep 80
    "cheek-medium-papules": 73.4,
    "choose-the-technique": 88.4,
    "forehead-nappage-exam": 90.3,
    "forehead-nappage": 90,
    "glabella-frown-lines": 88.4,
    "malar-pigmentation": 88.4,
    "nasolabial-folds": 69.4,
    "neck-nappage": 90,
    "perioral-lines": 88.4,
    "periorbital-micro-papules-exam": 70.4,
    "periorbital-micro-papules": 69.3,
    "screening-few-moles": 90.6,
    "screening-pacemaker": 90.6,
    "submental-fat-infiltration": 84,
    "scalp-crown": 90,
    "scalp-diffuse-thinning-exam": 90.3,
    "scalp-diffuse-thinning": 90,
    "scalp-occipital": 90,
    "scalp-temples": 90,
}


EXAMS = {"forehead-nappage": 900, "periorbital-micro-papules": 900, "scalp-diffuse-thinning": 1800}


# ------------------------------------------------------------------ writing


def write_all() -> int:
    bad = 0
    for ex in EX:
        for exam in ([False, True] if ex["id"] in EXAMS else [False]):
            bad += write_one(ex, exam)
    return bad


def write_one(ex, exam: bool) -> int:
    sid = ex["id"] + ("-exam" if exam else "")
    folder = ROOT / "scenarios" / ex["folder"]
    sol_dir = folder / "solutions" / sid
    sol_dir.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sid}.yaml"
    mode = "exam" if exam else "practice"
    time = f"time_limit_s: {EXAMS[ex['id']]}\n" if exam else ""
    text = ex["text"].replace(f"id: {ex['id']}\n", f"id: {sid}\n", 1)
    if exam:
        text = text.replace("title: ", "title: EXAM - ", 1)
    text = text.replace("mode: practice", "mode: {mode}") if "{mode}" not in text else text
    body = text.format(mode=mode, time=time, cmin=0, cmax=100000)
    # a first version with an open count lets the atlas-based planner see the targets
    path.write_text(HEADER + body, encoding="utf-8")
    scn = load_scenario_file(path, LIB)
    ref = ex["reference"](scn)
    n = len(ref)
    cmin, cmax = (0, 0) if n == 0 else (max(1, math.floor(n * 0.85)), math.ceil(n * 1.15))
    if ex["id"] == "scalp-diffuse-thinning":
        cmin, cmax = 100, 120  # seed 003: 100-120 injections for the whole scalp
    body = text.format(mode=mode, time=time, cmin=cmin, cmax=cmax)
    if sid in PASS_MARKS:
        body = body.replace("pass_mark: 80\n", f"pass_mark: {PASS_MARKS[sid]:g}  # set with mesosim calibrate "
                                                 "(docs/scoring.md)\n")
    if n == 0:  # a patient who must not be treated: no count to meet
        body = body.replace("count: {min: 0, max: 0}\n", "")
    answer, wrong = ex["screening"] or (None, None)
    sol = ["solutions:", f"  reference: {{log: solutions/{sid}/reference.csv"
           + (f", screening: '{answer}'" if answer else "") + "}", "  flawed:"]
    for name, rule, _fn in ex["flawed"]:
        sol.append(f"    - {{log: solutions/{sid}/{name}.csv, fails_on: {rule}"
                   + (f", screening: '{wrong}'" if wrong else "") + "}")
    write_log(Injections.from_records(ref, LIB.ids), sol_dir / "reference.csv")
    for name, _rule, fn in ex["flawed"]:
        write_log(Injections.from_records(fn(ref, scn), LIB.ids), sol_dir / f"{name}.csv")
    path.write_text(HEADER + body + "\n".join(sol) + "\n", encoding="utf-8")
    scn = load_scenario_file(path, LIB)
    problems = check_solutions(scn, LIB, CFG)
    ev = score_solution(scn, f"solutions/{sid}/reference.csv", answer, LIB, CFG)
    flawed = []
    for name, rule, _fn in ex["flawed"]:
        fe = score_solution(scn, f"solutions/{sid}/{name}.csv", wrong, LIB, CFG)
        flawed.append(f"{name} {fe.score():g}{'' if failed_on(fe, rule) and not fe.passed() else ' (!)'}")
    print(f"{sid:34s} n={n:4d} reference {ev.score():5.1f} {'pass' if ev.passed() else 'FAIL'}; "
          + ", ".join(flawed))
    for p in problems:
        print("   ", p)
    return len(problems)


if __name__ == "__main__":
    sys.exit(1 if write_all() else 0)
