"""Reports for assessors: every format, hostile trainee names, signature status, xAPI to a local record store."""

import csv
import io
import json
import os
import shutil
import subprocess

import pytest

from sim.cli import main

HOSTILE = '=HYPERLINK("http://x") <script>alert(1)</script> Zoë'
LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
       "-4,40,0.5,45,0.01,superficial-nappage,1\n"
       "0,40,0.5,45,0.01,superficial-nappage,2\n"
       "17,30,4.0,45,0.01,medium-papule,3\n")


@pytest.fixture
def record(tmp_path, capsys):
    log = tmp_path / "a.csv"
    log.write_text(LOG)
    out = tmp_path / "attempt.json"
    assert main(["score", "face-free", str(log), "--save", str(out), "--trainee", HOSTILE]) == 0
    capsys.readouterr()
    return out


def report(capsys, *args):
    code = main(["report", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_is_the_records_score_report_with_who_when_and_the_signature(record, capsys):
    code, out, _ = report(capsys, record, "--format", "json")
    data, rec = json.loads(out), json.loads(record.read_text())
    about = data.pop("record")
    assert data.pop("verification") == {"verified": True, "status": "signature verified", "report_checked": True,
                                        "exam_result": None, "standing": ""}
    assert code == 0 and data == rec["report"]
    assert about == {"file": str(record), "attempt_id": rec["attempt_id"], "trainee": HOSTILE, "date": rec["saved"],
                     "signature": "verified", "signature_status": "signature verified"}
    code, out, _ = report(capsys, record, record, "--format", "json")
    assert [r["record"]["trainee"] for r in json.loads(out)] == [HOSTILE, HOSTILE]


def test_csv_parses_back_and_neutralises_formulas(record, capsys):
    code, out, _ = report(capsys, record, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 3
    assert rows[0]["trainee"] == "'" + HOSTILE
    assert rows[0]["x_mm"] == "-4.0" and rows[0]["signature"] == "verified"  # numbers stay numbers
    assert rows[2]["verdict"] == "critical" and "danger (critical)" in rows[2]["findings"]
    code, out, _ = report(capsys, record, record, "--format", "cohort-csv")
    cohort = list(csv.DictReader(io.StringIO(out)))
    assert len(cohort) == 2 and cohort[0]["passed"] == "False" and cohort[0]["trainee"].startswith("'=")


def test_html_escapes_what_a_trainee_typed(record, capsys, tmp_path):
    out = tmp_path / "r.html"
    assert report(capsys, record, "--format", "html", "-o", out)[0] == 0
    text = out.read_text()
    assert "<script>alert" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "signature verified" in text and "NOT PASSED" in text and "<svg" in text and "data:image" not in text


def test_tampered_record_is_reported_as_not_verified(record, capsys, tmp_path):
    rec = json.loads(record.read_text())
    rec["report"]["score"] = 100.0
    record.write_text(json.dumps(rec))
    out = tmp_path / "r.html"
    report(capsys, record, "--format", "html", "-o", out)
    assert "signature NOT verified: the content was changed after signing" in out.read_text()
    code, out_csv, _ = report(capsys, record, "--format", "csv")
    assert "NOT verified" in out_csv


def test_pdf_renders(record, capsys, tmp_path):
    out = tmp_path / "r.pdf"
    assert report(capsys, record, "--format", "pdf", "-o", out)[0] == 0
    assert out.read_bytes().startswith(b"%PDF")
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is required in CI (.ci/run installs poppler-utils)")
        pytest.skip("pdftoppm is not installed (apt-get install poppler-utils)")
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(out), str(tmp_path / "page")], check=True, timeout=60)
    import pygame

    page = pygame.image.load(str(tmp_path / "page-1.png"))
    w, h = page.get_size()
    assert abs(w / h - 210 / 297) < 0.01  # A4
    colours = {tuple(page.get_at((x, y)))[:3] for x in range(0, w, 5) for y in range(0, h, 5)}
    assert len(colours) > 30


def test_pdf_needs_a_file(record, capsys):
    code, _, err = report(capsys, record, "--format", "pdf")
    assert code == 2 and "needs an output file" in err
