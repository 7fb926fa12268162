"""mesosim preview: the millimetre grid and its axes, labels that do not overlap, the patient's case, the legend as
drawn, and a picture even while the solution logs are still to be written."""

from pathlib import Path

import numpy as np
import pygame
import pytest

from sim.cli import main
from sim.core.exercise.scenario import load_scenario, load_scenario_file, scenario_files
from sim.ui import preview
from sim.ui.mapview import MapView

ROOT = Path(__file__).resolve().parents[2]
SIZE = (1200, 900)


@pytest.fixture(scope="module", autouse=True)
def fonts():
    pygame.font.init()


@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: p.stem)
def test_every_target_spot_parting_and_danger_structure_is_labelled_without_overlap(path):
    scn = load_scenario_file(path)
    for size in (SIZE, (900, 700)):
        overlay = preview.plan(scn, size)
        rects = [label.rect for label in overlay.labels]
        for i, r in enumerate(rects):
            assert overlay.map_rect.contains(r)
            assert r.collidelist(rects[i + 1:]) < 0, overlay.labels[i].text
    overlay = preview.plan(scn, SIZE)
    kinds = [label.kind for label in overlay.labels]
    assert not overlay.unplaced
    assert kinds.count("target") == len(scn.target_polygons)
    assert kinds.count("no-go") == len(scn.spec.no_go)
    assert kinds.count("parting") == len(scn.spec.partings)
    assert kinds.count("danger") == len(scn.atlas.structures)


def test_the_grid_is_in_millimetres_with_labelled_axes():
    scn = load_scenario("face-free")
    overlay = preview.plan(scn, SIZE)
    view = MapView(scn, overlay.map_rect)
    assert overlay.grid_step_mm == 10
    assert [v for v, _px in overlay.ticks_x] == list(range(-140, 141, 20))
    assert [v for v, _px in overlay.ticks_y] == list(range(-180, 121, 20))
    for v, px in overlay.ticks_x:
        assert px == pytest.approx(view.to_px((v, 0))[0])
    for v, py in overlay.ticks_y:
        assert py == pytest.approx(view.to_px((0, v))[1])
    # the scalp, seen from above, has +x (the subject's left) on the viewer's left
    scalp = preview.plan(load_scenario("scalp-free"), SIZE)
    leftmost, rightmost = min(scalp.ticks_x, key=lambda t: t[1]), max(scalp.ticks_x, key=lambda t: t[1])
    assert leftmost[0] > 0 > rightmost[0]
    # a grid line is drawn: darker on the line than beside it, off the face (x = -130 mm, y = -150 mm)
    surf = preview.render(scn, SIZE)
    x, y = (int(round(c)) for c in view.to_px((-130, -150)))
    beside = sum(tuple(surf.get_at((x + 6, y + 6)))[:3])
    assert min(sum(tuple(surf.get_at((x + d, y + 6)))[:3]) for d in (-1, 0, 1)) < beside  # the line x = -130
    assert min(sum(tuple(surf.get_at((x + 6, y + d)))[:3]) for d in (-1, 0, 1)) < beside  # the line y = -150


def test_labels_name_what_they_point_at():
    scn = load_scenario("screening-few-moles")
    overlay = preview.plan(scn, SIZE)
    texts = {label.text for label in overlay.labels if label.kind != "danger"}
    assert texts == {"forehead", "mole near the midline (critical)", "mole on the right forehead (critical)",
                     "mole above the left brow (critical)"}
    assert [(k.number, k.name, k.severity) for k in overlay.danger_key[:2]] == [
        (1, "Supratrochlear artery and nerve", "critical"), (2, "Supraorbital artery and nerve", "critical")]
    assert overlay.danger_key[0].depth_mm == pytest.approx(3.4)
    assert overlay.patient == ["Patient: Ms G., 45, female", "Complaint: forehead lines",
                               "History: three small moles on the forehead; checked by a dermatologist",
                               "Screening: expected go (few-moles)"]
    assert not [k for k in preview.plan(scn, SIZE, danger=False).labels if k.kind == "danger"]


def test_the_legend_shows_a_parting_in_the_colour_it_is_drawn(tmp_path):
    from sim.core.spatial.geometry import points_in_polygon

    scn = load_scenario("scalp-temples")
    surf = preview.render(scn, SIZE, danger=False)
    view = MapView(scn, preview.map_rect(SIZE))
    drawn = set()
    for parting in scn.spec.partings:
        line = np.asarray(parting.points_mm, dtype=float)
        points = np.array([line[0] + t * (line[-1] - line[0]) for t in np.linspace(0.05, 0.95, 60)])
        outside = ~np.any([points_in_polygon(points, poly) for _n, poly in scn.target_polygons], axis=0)
        for x, y in view.to_px(points[outside]):
            drawn.add(tuple(surf.get_at((int(round(x)), int(round(y)))))[:3])
    assert preview.PARTING_COLOUR in drawn
    panel = pygame.Rect(SIZE[0] - preview.panel_width(SIZE[0]), 0, preview.panel_width(SIZE[0]), SIZE[1])
    legend = {tuple(surf.get_at((x, y)))[:3] for x in range(panel.left + 14, panel.left + 38)
              for y in range(0, SIZE[1], 1)}
    assert preview.PARTING_COLOUR in legend


def test_preview_draws_an_exercise_whose_solutions_are_not_written_yet(tmp_path, capsys):
    scn = tmp_path / "new.yaml"
    scn.write_text("id: new-one\ntitle: New\nobjective: O\nmap: face\ntechniques: [superficial-nappage]\n"
                   "targets: [{region: forehead}]\nproduct: {name: x, form: liquid}\ndevices: [hand]\n"
                   "mode: practice\npass_mark: 80\nsolutions:\n  reference: {log: solutions/new-one/reference.csv}\n"
                   "  flawed:\n    - {log: solutions/new-one/too-deep.csv, fails_on: depth}\n")
    out = tmp_path / "p.png"
    assert main(["preview", str(scn), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"wrote {out}\n"
    assert captured.err == (f"note: {scn}: solution logs not written yet: solutions/new-one/reference.csv, "
                            "solutions/new-one/too-deep.csv (mesosim validate needs them)\n")
    assert pygame.image.load(str(out)).get_size() == SIZE
    overlay = preview.plan(load_scenario(str(scn), solutions_needed=False), SIZE)
    assert overlay.notes == ["Solution logs not written yet: solutions/new-one/reference.csv, "
                             "solutions/new-one/too-deep.csv. The preview is drawn without them; mesosim validate "
                             "needs them."]
    # validate still asks for them
    assert main(["validate", str(scn)]) == 2
    assert 'no such injection log "solutions/new-one/reference.csv"' in capsys.readouterr().err
