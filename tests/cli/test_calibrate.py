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


def test_a_patient_sent_home_is_not_simulated(tmp_path, capsys):
    assert main(["calibrate", "screening-pregnancy", "--format", "json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["scenario"] == "screening-pregnancy" and "screening decision alone" in r["note"]
    assert main(["calibrate", "screening-pregnancy", "--plot", str(tmp_path / "p.png")]) == 2
    assert "nothing to plot" in capsys.readouterr().err and not (tmp_path / "p.png").exists()


def test_labelled_real_attempts_set_the_proposal_when_there_are_enough(library, config):
    from pathlib import Path

    import numpy as np

    from sim.core.exercise.scenario import load_scenario
    from sim.core.scoring.calibration import calibrate, load_calibration, real_groups
    from sim.core.scoring.injections import read_log

    scn = load_scenario("forehead-nappage", library)
    ref = read_log(Path(scn.file).parent / scn.spec.solutions.reference.log, library.ids, scn.technique_ids)
    cal = load_calibration().model_copy(update={"attempts": 20})

    def deeper(by):
        return type(ref)(ref.xy, ref.depth_mm + by, ref.angle_deg, ref.volume_ml, ref.technique, ref.technique_ids,
                         ref.t_s, ref.bevel_down, ref.gun)

    # an instructor's labels: these "competent" attempts work 0.3-0.45 mm deep, which the simulated novices do too
    labelled = [(deeper(0.3 + 0.015 * k), None, "competent") for k in range(10)]
    labelled += [(deeper(1.0 + 0.1 * k), None, "not-competent") for k in range(10)]
    few = real_groups(scn, labelled[:9] + labelled[10:], library, config, cal.labelled.min_per_group)
    enough = real_groups(scn, labelled, library, config, cal.labelled.min_per_group, left_out=2)
    simulated = calibrate(scn, ref, None, library, config, cal, with_sweep=False, real=few)
    real = calibrate(scn, ref, None, library, config, cal, with_sweep=False, real=enough)
    assert not few.enough and enough.enough
    assert simulated.as_dict()["proposed_from"] == "simulated"
    assert real.as_dict()["proposed_from"] == "labelled"
    assert real.as_dict()["labelled"] == {"competent": 10, "not_competent": 10, "left_out": 2, "min_per_group": 10,
                                          "used": True, "competent_pass_rate": enough.competent.pass_rate,
                                          "not_competent_pass_rate": 0.0}
    # the mark falls between the two labelled groups, not where the simulated ones meet
    assert np.max(enough.not_competent.scores) < real.proposed_pass_mark <= np.min(enough.competent.scores)
    assert real.proposed_pass_mark != simulated.proposed_pass_mark


def test_calibrate_runs_the_validity_checks_on_an_instructors_exercise(tmp_path, capsys):
    import shutil

    from sim.paths import scenarios_dir

    src = scenarios_dir() / "face"
    shutil.copytree(src / "solutions" / "forehead-nappage", tmp_path / "solutions" / "forehead-nappage")
    text = (src / "forehead-nappage.yaml").read_text()
    lenient = text.replace("id: forehead-nappage\n", "id: lenient-forehead\n")
    lenient = "\n".join("pass_mark: 30" if line.startswith("pass_mark:") else line for line in lenient.splitlines())
    (tmp_path / "lenient.yaml").write_text(lenient + "\ncompetence_threshold: 0.2\n")
    assert main(["calibrate", str(tmp_path / "lenient.yaml"), "--attempts", "40", "--no-sweep",
                 "--format", "json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["checks"]["novice_fail"] is False and r["checks"]["competent_pass"] is True
    assert r["checks"]["too_deep_fails"] is True  # a depth wrong throughout still fails: every point is wrong
    assert main(["calibrate", str(tmp_path / "lenient.yaml"), "--attempts", "40", "--no-sweep"]) == 0
    out = capsys.readouterr().out
    assert "validity: NOT MET: simulated novice attempts pass at 10% or less" in out


def test_calibrate_apply_writes_the_proposed_mark_and_keeps_the_file(tmp_path, capsys):
    import shutil

    from sim.paths import scenarios_dir

    src = scenarios_dir() / "face"
    shutil.copytree(src / "solutions" / "forehead-nappage", tmp_path / "solutions" / "forehead-nappage")
    text = (src / "forehead-nappage.yaml").read_text().replace("id: forehead-nappage\n", "id: my-forehead\n")
    lines = ["pass_mark: 50  # to be set by standard setting" if ln.startswith("pass_mark:") else ln
             for ln in text.splitlines()]
    path = tmp_path / "my-forehead.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert main(["calibrate", str(path), "--attempts", "40", "--no-sweep", "--apply"]) == 0
    err = capsys.readouterr().err
    after = path.read_text().splitlines()
    changed = [(a, b) for a, b in zip(lines, after) if a != b]
    assert len(after) == len(lines) and len(changed) == 1  # only the pass mark moved; comments kept
    new = changed[0][1]
    assert new.startswith("pass_mark: ") and "# to be set by standard setting" in new
    mark = float(new.split()[1])
    assert 50 < mark <= 100 and f"pass_mark 50 -> {mark:g}" in err


def test_calibrate_reads_the_instructors_labels_from_the_gradebook(tmp_path, capsys):
    # real attempts saved and labelled as an instructor does (score --save, gradebook label), then calibrate
    import csv

    from sim.paths import scenarios_dir

    db = f"sqlite:///{tmp_path / 'book.db'}"
    ref = scenarios_dir() / "face" / "solutions" / "forehead-nappage" / "reference.csv"
    with ref.open() as f:
        rows = list(csv.DictReader(f))
    labels = []
    for k in range(12):
        competent = k % 2 == 0
        depth = 0.5 + 0.02 * k if competent else 2.0 + 0.1 * k
        log = tmp_path / f"a{k}.csv"
        with log.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows({**r, "depth_mm": f"{depth:g}"} for r in rows)
        assert main(["score", "forehead-nappage", str(log), "--save", str(tmp_path / f"a{k}.json"), "--trainee",
                     f"T{k}", "--db", db]) == 0
        labels.append("competent" if competent else "not-competent")
    capsys.readouterr()
    for k, label in enumerate(labels, start=1):
        assert main(["gradebook", "label", str(k), label, "--by", "Dr Rey", "--db", db]) == 0
    capsys.readouterr()
    assert main(["calibrate", "forehead-nappage", "--attempts", "20", "--no-sweep", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "real attempts: 6 labelled competent, 6 not competent; fewer than 10 in a group" in out
    assert main(["calibrate", "forehead-nappage", "--attempts", "20", "--no-sweep", "--db", db,
                 "--format", "json"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert r["labelled"]["competent"] == 6 and r["labelled"]["not_competent"] == 6
    assert r["labelled"]["competent_pass_rate"] == 1.0 and r["labelled"]["not_competent_pass_rate"] == 0.0
    assert r["proposed_from"] == "simulated"
