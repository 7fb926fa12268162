"""`mesosim new`: a commented scenario template that validates as it is."""

from __future__ import annotations

import re

from sim.errors import InputError
from sim.core.files.model import suggest
from sim.core.exercise.techniques import Library

# A sensible first target for each technique (an instructor changes it).
DEFAULT_TARGET = {
    ("face", "superficial-nappage"): "forehead",
    ("face", "median-nappage"): "malar",
    ("face", "deep-nappage"): "submental",
    ("face", "micro-papule"): "neck",
    ("face", "medium-papule"): "cheeks",
    ("face", "infiltration"): "submental",
    ("scalp", "scalp-microinjection"): "crown",
    ("scalp", "medium-papule"): "crown",
    ("scalp", "median-nappage"): "crown",
}

# A technique whose tip belongs at mid-depth of the fat needs a patient whose fat is that thick (mesosim validate).
THICK_FAT = """\
patient:                          # infiltration puts its tip in the middle of the fat: this patient's submental
  name: Mr D.                     # fat is thick enough for it (the atlas's 6 mm is not)
  age_years: 48
  complaint: fullness under the chin
  skin_overrides:
    submental: {epidermis_mm: 0.21, dermis_mm: 1.96, fat_mm: 18}
"""

TEMPLATE = """\
# yaml-language-server: $schema={schema}
# A mesosim exercise. Every field is explained in docs/scenario-authoring.md; check the file with
#   mesosim validate {filename}
# and look at it with
#   mesosim preview {filename} -o preview.png

id: {id}                     # lower-case words joined by '-'; unique among the scenarios
title: {title}
objective: >-
  What the trainee should be able to do after this exercise, in one or two sentences.
instructions: >-
  What to do, in the words you would use at the chair: where, how deep, how far apart.

map: {map}                        # face (frontal) or scalp (top view)
# variant: female                 # an atlas variant; the canonical adult when left out
# variation: {{seed: 1}}           # a seeded anatomical variant: vessels move within their published ranges

techniques: [{technique}]         # technique ids (mesosim techniques), or: all
targets:                          # region names (docs/atlas.md) or your own polygons in mm
  - region: {target}
  # - name: lateral forehead
  #   polygon_mm: [[20, 30], [45, 30], [45, 55], [20, 55]]

product:
  name: {product}
  form: liquid                    # liquid or gel (no gels with superficial or median nappage)
devices: [hand]                   # hand and/or gun (mesoinjector)
mode: practice                    # practice (feedback at once) or exam (feedback after submit)

count: {{min: {count_min}, max: {count_max}}}          # expected number of injections
# time_limit_s: 600
pass_mark: 80                     # 0-100; a critical finding fails whatever the score
# weights: {{danger: 5, depth: 3}}  # replace the default weights of assets/scoring.yaml
# coverage: {{ok: 0.9, warn: 0.75}}  # share of the target area within reach of a puncture
# total_volume_ml: {{min_ml: 0.5, max_ml: 2.0}}

{patient}# patient:                        # an optional case; with `screening` the trainee decides go / postpone / no-go
#   name: Ms A.
#   age_years: 42
#   sex: female
#   complaint: fine lines of the forehead
#   history: [no chronic disease]
#   medications: []
#   screening:
#     expected: go
#     reasons: [no-contraindication]   # ids from assets/screening.yaml
#     explanation: No contraindication was found in the history.
#     source: contraindications.md
# no_go:                          # the patient's moles or lesions, never to be punctured
#   - {{name: mole, at_mm: [30, 40], radius_mm: 3, severity: high}}
# partings:                       # scalp: parting lines to inject along
#   - {{name: midline, points_mm: [[0, 78], [0, -15]]}}

instructed:                       # the values your instructions ask for: the trainer's needle starts here, and
  technique: {technique}          # mesosim plan lays out the reference solution with them
  depth_mm: {depth:g}
  angle_deg: {angle:g}
  volume_ml: {volume:g}
  spacing_mm: {spacing:g}
# solutions:                      # injection logs beside this file; mesosim plan --write writes them and
#   reference: {{log: solutions/{id}/reference.csv}}      # mesosim validate scores them
#   flawed:
#     - {{log: solutions/{id}/too-deep.csv, fails_on: depth, plan: {{depth_mm: {too_deep:g}}}}}
"""


def render_template(map_id: str, technique: str, scenario_id: str, library: Library, schema: str) -> str:
    if technique not in library.techniques:
        raise InputError.one("--technique", f'unknown technique "{technique}"' + suggest(technique, library.ids)
                             + f"; techniques: {', '.join(library.ids)}")
    tech = library.get(technique)
    if map_id not in tech.maps:
        raise InputError.one("--technique", f'{tech.name} is not a {map_id} technique (it belongs on: '
                             f'{", ".join(tech.maps)})')
    sid = re.sub(r"[^a-z0-9]+", "-", scenario_id.lower()).strip("-") or f"{map_id}-{technique}"
    target = DEFAULT_TARGET.get((map_id, technique), "crown" if map_id == "scalp" else "forehead")
    product = "Hair cocktail" if map_id == "scalp" else "Hyaluronic acid cocktail"
    count = (15, 40)
    patient = THICK_FAT if tech.layer.fat_middle else ""
    return TEMPLATE.format(schema=schema, filename=f"{sid}.yaml", id=sid, title=f"{tech.name} - {target}",
                           map=map_id, technique=technique, target=target, product=product, count_min=count[0],
                           count_max=count[1], patient=patient, depth=tech.depth_mm.nominal,
                           angle=tech.angle_deg.nominal, volume=tech.volume_ml.nominal,
                           spacing=tech.spacing_mm.nominal, too_deep=round(tech.depth_mm.bounds()[3] + 1.0, 1))
