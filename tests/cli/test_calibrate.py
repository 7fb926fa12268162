"""`mesosim calibrate` as an instructor runs it: figures per exercise in text or JSON, and a plot."""

import json

from sim.cli import main


def test_calibrate_reports_both_groups_and_draws_the_plot(tmp_path, capsys):
    png = tmp_path / "cal.png"
    assert main(["calibrate", "forehead-nappage", "scalp-crown", "--attempts", "20", "--format", "json",
                 "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in out] == ["forehead-nappage", "scalp-crown"]
    for r in out:
        assert r["competent"]["attempts"] == r["novice"]["attempts"] == 20
        assert r["competent"]["pass_rate"] > r["novice"]["pass_rate"] and r["auc"] > 0.9
        assert 0 < r["proposed_pass_mark"] <= 100
        throughout = {(s["error"], s["size"]): s["throughout_passed"] for s in r["sweep"]}
        assert throughout[("depth_mm", 2.0)] is False and throughout[("depth_mm", 0.1)] is True
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibrate_text_and_bad_input(capsys):
    assert main(["calibrate", "forehead-nappage", "--attempts", "20", "--no-sweep"]) == 0
    out = capsys.readouterr().out
    assert "competent:" in out and "novice:" in out and "proposed pass mark" in out
    assert main(["calibrate", "forehead-nappage", "--attempts", "3"]) == 2
    assert "--attempts" in capsys.readouterr().err
    assert main(["calibrate", "face-free"]) == 2
    assert "reference solution" in capsys.readouterr().err
