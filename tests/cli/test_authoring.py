"""The instructors' tools: mesosim new, preview, the schema comment, seeded anatomy and the authoring guide."""

import re
from pathlib import Path

import numpy as np
import pygame
import pytest

from sim.cli import main
from sim.core.exercise.scenario import load_scenario_file, scenario_files
from sim.core.exercise.techniques import load_library

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "assets" / "schema" / "scenario.schema.json"
PAIRS = [(m, t.id) for t in load_library().techniques.values() for m in t.maps]


def _schema_target(path: Path) -> Path:
    first = path.read_text().splitlines()[0]
    m = re.fullmatch(r"# yaml-language-server: \$schema=(.+)", first)
    assert m, f"{path} does not start with the schema comment"
    return (path.parent / m[1]).resolve()


@pytest.mark.parametrize("map_id,technique", PAIRS)
def test_new_template_validates_as_it_is(tmp_path, capsys, map_id, technique):
    out = tmp_path / "sub" / "my-exercise.yaml"
    out.parent.mkdir()
    assert main(["new", "--map", map_id, "--technique", technique, "-o", str(out)]) == 0
    assert main(["validate", str(out)]) == 0, capsys.readouterr().err
    scn = load_scenario_file(out)
    assert scn.id == "my-exercise" and scn.technique_ids == (technique,) and scn.target_polygons
    assert _schema_target(out) == SCHEMA.resolve()


def test_new_refuses_a_technique_of_the_other_map_and_an_existing_file(tmp_path, capsys):
    out = tmp_path / "x.yaml"
    assert main(["new", "--map", "scalp", "--technique", "infiltration", "-o", str(out)]) == 2
    assert "Infiltration is not a scalp technique" in capsys.readouterr().err
    assert main(["new", "--map", "face", "--technique", "median-napage", "-o", str(out)]) == 2
    assert 'did you mean "median-nappage"' in capsys.readouterr().err
    out.write_text("keep me")
    assert main(["new", "--map", "face", "--technique", "median-nappage", "-o", str(out)]) == 2
    assert out.read_text() == "keep me"


def _not_blank(png: Path) -> None:
    img = pygame.image.load(str(png))
    w, h = img.get_size()
    colours = {tuple(img.get_at((x, y)))[:3] for x in range(0, w, 9) for y in range(0, h, 9)}
    assert len(colours) > 25, png


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_every_shipped_scenario_previews(tmp_path, capsys, path):
    out = tmp_path / "p.png"
    assert main(["preview", str(path), "-o", str(out), "--size", "900x700"]) == 0
    _not_blank(out)
    assert _schema_target(path) == SCHEMA.resolve()


def test_preview_shows_targets_no_go_and_danger(tmp_path):
    scn = tmp_path / "s.yaml"
    scn.write_text("id: s\ntitle: T\nobjective: O\nmap: face\ntechniques: all\ntargets: [{region: forehead}]\n"
                   "product: {name: x, form: liquid}\ndevices: [hand]\nmode: practice\npass_mark: 80\n"
                   "no_go: [{name: mole, at_mm: [40, 40], radius_mm: 4, severity: high}]\n")
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert main(["preview", str(scn), "-o", str(a)]) == 0
    assert main(["preview", str(scn), "-o", str(b), "--no-danger"]) == 0
    ia, ib = pygame.image.load(str(a)), pygame.image.load(str(b))
    from sim.ui.mapview import MapView
    from sim.ui.preview import map_rect

    view = MapView(load_scenario_file(scn), map_rect((1200, 900)))
    x, y = (int(v) for v in view.to_px((0, 45)))  # forehead: target green over skin
    r, g, bl = tuple(ia.get_at((x, y)))[:3]
    assert g > r  # green tint of the target area
    x, y = (int(v) for v in view.to_px((17, 40)))  # the supratrochlear artery: drawn only with danger
    assert tuple(ia.get_at((x, y))) != tuple(ib.get_at((x, y)))


def test_preview_bad_size(tmp_path, capsys):
    assert main(["preview", "face-free", "-o", str(tmp_path / "p.png"), "--size", "big"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_scenario_asks_for_seeded_anatomy(tmp_path):
    text = ("id: s\ntitle: T\nobjective: O\nmap: face\ntechniques: all\nproduct: {name: x, form: liquid}\n"
            "devices: [hand]\nmode: practice\npass_mark: 80\n")
    plain = tmp_path / "plain.yaml"
    plain.write_text(text)
    varied = tmp_path / "varied.yaml"
    varied.write_text(text + "variation: {seed: 3}\n")
    a, b = load_scenario_file(plain).atlas, load_scenario_file(varied).atlas
    assert a.seed is None and b.seed == 3
    sa = {s.id: s for s in a.structures}["supratrochlear-artery-left"]
    sb = {s.id: s for s in b.structures}["supratrochlear-artery-left"]
    assert not np.allclose(sa.points, sb.points)


def test_authoring_guide_example_validates(tmp_path, capsys):
    text = (ROOT / "docs" / "scenario-authoring.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.S)
    examples = [b for b in blocks if b.startswith("# yaml-language-server")]
    assert examples
    for k, block in enumerate(examples):
        path = tmp_path / f"doc-example-{k}.yaml"
        path.write_text(block)
        if "solutions:" in block:  # the walk-through: plan, validate, preview, calibrate, as the guide says
            assert main(["plan", "--write", str(path)]) == 0, capsys.readouterr().err
            assert "reference.csv: 97 injections" in capsys.readouterr().out
        assert main(["validate", str(path)]) == 0, capsys.readouterr().err
        if "solutions:" in block:
            assert main(["preview", str(path), "-o", str(tmp_path / "preview.png")]) == 0
            assert (tmp_path / "preview.png").stat().st_size > 10_000
            capsys.readouterr()
            assert main(["calibrate", str(path), "--attempts", "40", "--no-sweep"]) == 0
            out = capsys.readouterr().out
            assert "validity: all checks met" in out and "proposed pass mark" in out


def test_authoring_guide_documents_every_field():
    from sim.core.exercise.scenario import Scenario

    text = (ROOT / "docs" / "scenario-authoring.md").read_text()
    missing = [name for name in Scenario.model_fields if f"`{name}`" not in text]
    assert not missing


def test_infiltration_needs_a_target_whose_fat_holds_the_tip(tmp_path, capsys):
    # techniques.md: on the face the infiltration tip belongs at mid-depth of the fat; the jawline's 4 mm of fat
    # cannot hold a 10-13 mm tip, a patient's 18 mm submental pad can
    base = """\
id: fat-check
title: Fat check
objective: Infiltrate.
map: face
techniques: [infiltration]
targets: [{region: %s}]
product: {name: Lipolytic cocktail, form: liquid}
devices: [hand]
mode: practice
pass_mark: 80
%s"""
    thick = ("patient: {name: Mr D., age_years: 48, complaint: fullness, skin_overrides: "
             "{submental: {epidermis_mm: 0.21, dermis_mm: 1.96, fat_mm: 18}}}\n")
    cases = {"jawline": ("jawline", ""), "thin-submental": ("submental", ""), "thick": ("submental", thick)}
    for name, (region, patient) in cases.items():
        (tmp_path / f"{name}.yaml").write_text(base % (region, patient))
    assert main(["validate", str(tmp_path / "thick.yaml")]) == 0
    capsys.readouterr()
    assert main(["validate", str(tmp_path / "jawline.yaml"), str(tmp_path / "thin-submental.yaml")]) == 2
    err = capsys.readouterr().err
    assert "jawline.yaml:6:" in err and "targets[0].region: infiltration puts its tip at 10-13 mm" in err
    assert "jawline-left (fat 2.1-6.1 mm, middle 4.1)" in err
    assert "thin-submental.yaml:6:" in err and "submental (fat 2.2-8.2 mm, middle 5.2)" in err


PASSABLE = """\
id: {id}
title: Passable check
objective: Check.
map: face
techniques: [superficial-nappage]
targets: [{target}]
product: {{name: cocktail, form: liquid}}
devices: {devices}
mode: practice
count: {{min: {cmin}, max: {cmax}}}
pass_mark: 80
instructed: {{technique: superficial-nappage, depth_mm: 0.5, angle_deg: 45, volume_ml: 0.01, spacing_mm: 4,
             device: {device}}}
"""


def _passable(tmp_path, name, **kw):
    values = {"id": name, "target": "{region: forehead}", "devices": "[hand]", "device": "hand", "cmin": 200,
              "cmax": 270} | kw
    path = tmp_path / f"{name}.yaml"
    path.write_text(PASSABLE.format(**values))
    return path


def test_validate_proves_an_exercise_can_be_passed(tmp_path, capsys):
    good = _passable(tmp_path, "good")
    beside = _passable(tmp_path, "beside", target="{name: beside the head, polygon_mm: [[80, 0], [95, 0], [95, 20], "
                                                  "[80, 20]]}", cmin=1, cmax=5)
    gun = _passable(tmp_path, "gun", target="{region: crows-feet}", devices="[gun]", device="gun", cmin=1, cmax=30)
    few = _passable(tmp_path, "few", cmin=15, cmax=40)
    assert main(["validate", str(good)]) == 0
    capsys.readouterr()
    assert main(["validate", str(beside), str(gun), str(few)]) == 2
    err = capsys.readouterr().err
    assert ("beside.yaml:6:11: targets[0]: 100 % of the target beside the head lies off the face (the map spans "
            "x -100 to 100 mm, y -190 to 125 mm)") in err
    assert "every injection there would be off the map" in err
    assert ("gun.yaml:8:10: devices: the mesoinjector is the only device allowed, but it is refused everywhere in "
            "target 1") in err
    assert "few.yaml:10:8: count: count asks for 15-40 injections but the planned reference has" in err
    assert "a complete, right attempt would fail on count" in err
    assert "3 of 3 scenario file(s) have problems" in err


def test_validate_refuses_two_exercises_with_one_id(tmp_path, capsys):
    a = _passable(tmp_path / "a" if (tmp_path / "a").mkdir() is None else tmp_path, "same")
    (tmp_path / "b").mkdir()
    b = tmp_path / "b" / "same.yaml"
    b.write_text(a.read_text())
    assert main(["validate", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert f'{a}:1:5: id: "same" is also the id of {b}; an id names one exercise: rename one of them' in err


def test_an_off_map_point_gives_the_maps_extent_and_new_needs_its_folder(tmp_path, capsys):
    path = _passable(tmp_path, "offmap", target="{name: square, polygon_mm: [[10, 30], [300, 30], [20, 50]]}")
    assert main(["validate", str(path)]) == 2
    assert ("offmap.yaml:6:49: targets[0].polygon_mm[1]: point (300, 30) is off the face map (it spans x -100 to "
            "100 mm, y -190 to 125 mm)") in capsys.readouterr().err
    assert main(["new", "--map", "face", "--technique", "superficial-nappage", "-o",
                 str(tmp_path / "missing" / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert f"the folder {tmp_path / 'missing'} does not exist; create it first" in err and "1 of 0" not in err
