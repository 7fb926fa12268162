"""What an assessor reads first, in the PDF and the HTML: the verdict, score and pass mark on top, the signature
in every page's header, criteria as bars, findings grouped by rule and verdict with the injections they concern
(numbered from 1, as the window numbers them), the screening decision, the map zoomed to the worked area with
readable numbers and a legend, a summary page for several attempts, and a sentence when the exercise is gone."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.core.exercise.scenario import load_scenario
from sim.exports.digest import group_findings, runs
from sim.exports.mapsvg import frame_of, place_numbers, worked_frame

ROOT = Path(__file__).resolve().parents[2]
HEAD = "x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
# 30 injections over the left supratrochlear artery at 4 mm: one critical finding, thirty times
CRITICAL = HEAD + "".join(f"17,{30 + k * 0.2:.1f},4.0,45,0.01,medium-papule,{k}\n" for k in range(30))
MIXED = HEAD + ("-4,40,0.5,45,0.01,superficial-nappage,1\n"
                "0,40,3.5,45,0.01,superficial-nappage,2\n"
                "4,40,0.5,45,0.01,superficial-nappage,3\n"
                "8,40,3.5,45,0.01,superficial-nappage,4\n")


def _text(pdf: Path) -> list[str]:
    """The PDF's pages as text (pdftotext, as an assessor's viewer would find it)."""
    if not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("pdftotext is required in CI (.ci/run installs poppler-utils)")
        pytest.skip("pdftotext is not installed (apt-get install poppler-utils)")
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True,
                         timeout=60).stdout
    return out.split("\f")


def _save(tmp_path, capsys, text, name, trainee="Ann Lee", scenario="face-free", *extra):
    log = tmp_path / f"{name}.csv"
    log.write_text(text)
    out = tmp_path / f"{name}.json"
    assert main(["score", scenario, str(log), "--save", str(out), "--trainee", trainee, *extra]) == 0
    capsys.readouterr()
    return out


def test_numbers_run_from_one_and_groups_name_their_injections():
    assert runs([1, 2, 3, 5, 7, 8]) == "#1-#3, #5, #7-#8"
    assert runs(range(1, 200, 2), limit=3).startswith("#1, #3, #5 and 97 more runs")
    rep = {"injections": [{"index": i, "findings": ([{"rule": "depth", "verdict": "fail", "message": f"{i} deep",
                                                      "source": "s", "measured": 3.0 + i, "unit": "mm",
                                                      "expected": "0.3-1 mm"}] if i % 2 else [])}
                          for i in range(6)]
           + [{"index": 6, "findings": [{"rule": "danger", "verdict": "critical", "message": "artery",
                                         "source": "a", "structure": "supratrochlear-artery-left"}]}],
           "attempt_findings": [{"rule": "count", "verdict": "fail", "message": "too few", "source": "c"}]}
    groups = group_findings(rep, {"supratrochlear-artery-left": "Supratrochlear artery (left)"})
    assert [(g.rule, g.verdict, g.injections) for g in groups] == [("danger", "critical", (7,)),
                                                                   ("count", "fail", ()), ("depth", "fail", (2, 4, 6))]
    assert groups[0].head == "critical · danger: Supratrochlear artery (left) · 1 injection: #7"
    assert groups[2].message == "1 deep" and groups[2].measured == "measured 4-8 mm, expected 0.3-1 mm"


def test_the_pdf_reads_at_a_glance(tmp_path, capsys):
    rec = _save(tmp_path, capsys, CRITICAL, "crit")
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(rec), "--format", "pdf", "-o", str(pdf)]) == 0
    pages = _text(pdf)
    first = pages[0]
    lines = [line.strip() for line in first.splitlines() if line.strip()]
    assert "signature verified" in lines[0]  # the header of the page
    top = "\n".join(lines[:6])
    assert "NOT PASSED" in top and "Score" in top and "pass mark" in top
    everything = "\f".join(pages)
    assert everything.index("NOT PASSED") < everything.index("Parts of the score") < everything.index("Findings") \
        < everything.index("Every injection")
    assert "30 critical findings" in first
    # the critical finding: one line naming its injections, not thirty paragraphs
    assert everything.count("critical · danger") == 1 and "30 injections: #1-#30" in everything
    assert everything.count("Intra-arterial injection can embolise") == 1
    assert all("signature verified" in p.splitlines()[0] for p in pages if p.strip())
    assert "Screening" in first and "No screening decision was asked in this exercise." in first
    for word in ("done right (disc)", "failed (square)", "critical (X in a ring)", "danger: vision or occlusion"):
        assert word in everything
    assert "Every injection (30)" in everything and "danger" in everything


def test_the_text_report_numbers_injections_as_the_others_do(tmp_path, capsys):
    log = tmp_path / "m.csv"
    log.write_text(MIXED)
    assert main(["score", "face-free", str(log), "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "  #2 at (0, 40) mm" in text and "  #4 at (8, 40) mm" in text and "#0 " not in text
    rec = _save(tmp_path, capsys, MIXED, "m")
    html = tmp_path / "m.html"
    assert main(["report", str(rec), "--format", "html", "-o", str(html)]) == 0
    assert "2 injections: #2, #4" in html.read_text()


def test_a_screening_decision_is_reported(tmp_path, capsys):
    rec = _save(tmp_path, capsys, MIXED, "s", "Ann Lee", "screening-pregnancy", "--screening", "go")
    html = tmp_path / "s.html"
    assert main(["report", str(rec), "--format", "html", "-o", str(html)]) == 0
    text = html.read_text()
    assert "The trainee decided go. This patient called for no-go." in text
    assert "Blocking criteria not met: coverage, screening." in text


def test_the_map_is_zoomed_to_the_worked_area_with_numbers_that_never_overlap():
    scn = load_scenario("glabella-frown-lines")
    entries = [{"index": i, "x_mm": x, "y_mm": y, "verdict": "ok"}
               for i, (x, y) in enumerate((x, y) for y in np.arange(6, 24, 3.5) for x in np.arange(-16, 17, 4))]
    full, zoomed = frame_of(scn), worked_frame(scn, entries, 1.2)
    assert zoomed.width < full.width / 2 and zoomed.height < full.height / 2
    for e in entries:  # every injection inside the picture
        u, v = zoomed.point(e["x_mm"], e["y_mm"])
        assert zoomed.x0 < u < zoomed.x0 + zoomed.width and zoomed.y0 < v < zoomed.y0 + zoomed.height
    k = 180 / zoomed.width  # on a page 180 mm wide
    uv = np.array([zoomed.point(e["x_mm"], e["y_mm"]) for e in entries]) * k
    labels = [str(e["index"] + 1) for e in entries]
    font_mm, r = 5.5 * 0.3528 / 0.75, 1.25
    placed = place_numbers(uv, labels, r, font_mm)
    assert len(placed) == len(entries)  # at 4 mm spacing and this zoom every number has room
    boxes = [(x, y - 0.75 * font_mm, x + 0.58 * font_mm * len(labels[i]), y) for i, (x, y) in placed]
    boxes += [(u - r, v - r, u + r, v + r) for u, v in uv]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 1e-9 and b[0] < a[2] - 1e-9 and a[1] < b[3] - 1e-9 and b[1] < a[3] - 1e-9)


def test_several_attempts_open_with_a_summary(tmp_path, capsys):
    a = _save(tmp_path, capsys, MIXED, "a", "Ann Lee")
    b = _save(tmp_path, capsys, CRITICAL, "b", "Bob Ray")
    tampered = tmp_path / "t.json"
    rec = json.loads(b.read_text())
    rec["report"]["score"] = 99.0
    tampered.write_text(json.dumps(rec))
    pdf, html = tmp_path / "all.pdf", tmp_path / "all.html"
    assert main(["report", str(a), str(b), str(tampered), "--format", "pdf", "-o", str(pdf)]) == 0
    first = _text(pdf)[0]
    assert "Score reports: 3 attempts" in first and "1 record(s) whose signature is NOT verified" in first
    rows = [line.split() for line in first.splitlines() if line.strip()[:2] in ("1 ", "2 ", "3 ")]
    assert [r[1:3] for r in rows] == [["Ann", "Lee"], ["Bob", "Ray"], ["Bob", "Ray"]]
    assert rows[2][-2:] == ["NOT", "verified"] and "NOT passed" in " ".join(rows[1])
    assert main(["report", str(a), str(b), "--format", "html", "-o", str(html)]) == 0
    text = html.read_text()
    assert text.index("Score reports: 2 attempts") < text.index("id='attempt-1'")
    assert "href='#attempt-2'" in text


def test_a_record_whose_exercise_is_gone_says_so(tmp_path, capsys):
    scn = tmp_path / "mine.yaml"
    assert main(["new", "--map", "face", "--technique", "superficial-nappage", "-o", str(scn)]) == 0
    capsys.readouterr()
    rec = _save(tmp_path, capsys, MIXED.replace("superficial-nappage,", ","), "g", "Ann Lee", str(scn))
    scn.unlink()
    pdf, html = tmp_path / "g.pdf", tmp_path / "g.html"
    assert main(["report", str(rec), "--format", "pdf", "-o", str(pdf)]) == 0
    assert main(["report", str(rec), "--format", "html", "-o", str(html)]) == 0
    sentence = "The exercise file of this record is no longer here"
    assert sentence in " ".join(_text(pdf)[0].split()) and sentence in html.read_text()


def test_no_report_command_prints_pygames_greeting(tmp_path, capsys):
    rec = _save(tmp_path, capsys, MIXED, "p")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYGAME_HIDE_SUPPORT_PROMPT", None)
    for args in (["report", str(rec), "--format", "json"], ["report", str(rec), "--format", "cohort-csv"],
                 ["cohort", "--format", "csv", "--db", f"sqlite:///{tmp_path / 'g.sqlite'}"]):
        done = subprocess.run([sys.executable, "-m", "sim", *args], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        assert "pygame" not in done.stdout.lower() and done.stdout[:1] in ("{", "t")
