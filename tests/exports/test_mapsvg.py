"""The report's map is an SVG in millimetres: it parses, its viewBox is the atlas's extent in mm, it carries one
mark per injection numbered as the window numbers them, and the PDF embeds it as vectors, not as a picture."""

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from sim.cli import main
from sim.core.exercise.scenario import load_scenario
from sim.exports.mapsvg import frame_of, map_svg

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_the_map_is_an_svg_in_mm_with_a_mark_per_injection():
    scn = load_scenario("forehead-nappage")
    entries = [{"index": i, "x_mm": x, "y_mm": 40.0, "verdict": v}
               for i, (x, v) in enumerate([(-20, "ok"), (0, "warn"), (20, "fail"), (30, "critical")])]
    root = ET.fromstring(map_svg(scn, entries))
    x0, y0, w, h = (float(v) for v in root.get("viewBox").split())
    bx0, by0, bx1, by1 = scn.atlas.bounds_mm
    assert w > bx1 - bx0 and h > by1 - by0 and root.get("width").endswith("mm")
    marks = root.findall("svg:g[@class='mark']", NS)
    assert len(marks) == 4
    assert [m.find("svg:text", NS).text for m in marks] == ["1", "2", "3", "4"]
    shapes = [m[0].tag.split("}")[1] for m in marks]
    assert shapes == ["circle", "polygon", "rect", "circle"]  # disc, triangle, square, ring with an X
    assert marks[3].find("svg:path", NS) is not None


def test_the_top_view_shows_the_patients_left_on_the_viewers_left():
    scn = load_scenario("scalp-free")
    frame = frame_of(scn)
    assert frame.point(30, 0)[0] < frame.point(-30, 0)[0]
    assert frame_of(load_scenario("face-free")).point(30, 0)[0] > 0


def test_the_pdf_map_is_vectors(tmp_path, capsys):
    log = Path(__file__).resolve().parents[2] / "scenarios/face/solutions/forehead-nappage/too-deep.csv"
    rec, pdf = tmp_path / "a.json", tmp_path / "a.pdf"
    assert main(["score", "forehead-nappage", str(log), "--save", str(rec), "--db",
                 f"sqlite:///{tmp_path / 'g.db'}"]) == 0
    assert main(["report", str(rec), "--format", "pdf", "-o", str(pdf)]) == 0
    data = pdf.read_bytes()
    assert b"/Subtype /Image" not in data and b"/Subtype/Image" not in data
    assert np.frombuffer(data, dtype=np.uint8).size > 5000
