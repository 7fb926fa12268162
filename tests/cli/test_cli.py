"""The `mesosim` command as a user runs it: output, exit status, and one line per problem for bad input."""

import json
import subprocess
import sys

import jsonschema
import pytest

from sim.cli import main
from sim.core.exercise.schema import scenario_schema, scenario_schema_text
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GOOD_LOG = ("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique,t_s\n"
            "0,40,0.5,45,0.01,superficial-nappage,1\n"
            "0,46,0.5,45,0.01,superficial-nappage,2\n"
            "17,30,4.0,45,0.01,medium-papule,3\n")


def run_cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_json(tmp_path, capsys):
    log = tmp_path / "a.csv"
    log.write_text(GOOD_LOG)
    code, out, err = run_cli(capsys, "score", "face-free", str(log), "--format", "json")
    assert code == 0 and err == ""
    report = json.loads(out)
    assert report["scenario"] == "face-free"
    assert [e["verdict"] for e in report["injections"]] == ["ok", "ok", "critical"]
    assert report["passed"] is False and report["critical_findings"] == 1


def test_score_text(tmp_path, capsys):
    log = tmp_path / "a.csv"
    log.write_text(GOOD_LOG)
    code, out, _ = run_cli(capsys, "score", "face-free", str(log), "--format", "text")
    assert code == 0
    assert "NOT PASSED" in out and "critical finding" in out and "reaches the supratrochlear artery" in out


def test_score_is_byte_identical_across_processes(tmp_path):
    log = tmp_path / "a.csv"
    log.write_text(GOOD_LOG)
    cmd = [sys.executable, "-m", "sim", "score", "face-free", str(log)]
    a = subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT).stdout
    b = subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT).stdout
    assert a == b and len(a) > 100


def test_bad_log_exit_2_with_row_and_column(tmp_path, capsys):
    log = tmp_path / "bad.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n0,40,deep,45,0.01,superficial-nappage\n")
    code, out, err = run_cli(capsys, "score", "face-free", str(log))
    assert code == 2 and out == ""
    assert err == f"{log}:2:3: depth_mm: not a number: 'deep'\n"


def test_unknown_scenario_suggests(capsys, tmp_path):
    log = tmp_path / "a.csv"
    log.write_text(GOOD_LOG)
    code, _, err = run_cli(capsys, "score", "face-fre", str(log))
    assert code == 2
    assert err == ('face-fre:0:0: no scenario file, shipped scenario or scenario of your library with id "face-fre" '
                   '(did you mean "face-free"?)\n')


def test_validate_reports_every_problem_at_once(tmp_path, capsys):
    # the structure (an unknown field, a wrong type) and the names (a technique, a region) in one pass
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: forehead\ntitle: T\nobjective: O\nmap: face\ntechniques: [superficial-napage]\n"
                   "targets:\n  - region: forhead\n  - region: cheeks\n    colour: red\n"
                   "product: {name: x, form: liquid}\ndevices: [hand]\nmode: practice\npass_mark: \"80\"\n")
    code, _, err = run_cli(capsys, "validate", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f'{bad}:5:14: techniques[0]: unknown technique "superficial-napage" (did you mean "superficial-nappage"?); '
        "techniques: superficial-nappage, median-nappage, deep-nappage, micro-papule, medium-papule, infiltration, "
        "scalp-microinjection",
        f'{bad}:7:13: targets[0].region: unknown region "forhead" of the face map (did you mean "forehead"?)',
        f'{bad}:9:5: targets[1].colour: unknown field "colour"',
        f"{bad}:13:12: pass_mark: expected a number, got '80'; a number is written without quotes: pass_mark: 80",
        "1 of 1 scenario file(s) have problems"]


def test_validate_one_pass_names_what_is_left_at_its_own_place(tmp_path, capsys):
    # items with problems of structure are left out while the rest is checked; the rest keeps its index and line
    bad = tmp_path / "left.yaml"
    bad.write_text("id: e\ntitle: T\nobjective: O\nmap: face\ntechniques: all\nproduct: {name: x, form: liquid}\n"
                   "devices: [hand]\nmode: practice\npass_mark: 80\nno_go:\n"
                   "  - {at_mm: [1, 2], radius_mm: 2, severity: high}\n"
                   "  - {name: b, at_mm: [600, 2], radius_mm: 2, severity: high}\n"
                   "  - {name: c, at_mm: [400, 2], radius_mm: 2, severity: high}\n"
                   "patient: {name: A, age_years: 40, complaint: x, skin_overrides: {foreheed: "
                   "{epidermis_mm: 0.1, dermis_mm: 1, fat_mm: 2}}}\n"
                   "solutions: {reference: {log: r.csv, screening: maybe}}\n")
    code, _, err = run_cli(capsys, "validate", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f"{bad}:11:5: no_go[0].name: required field is missing",
        f"{bad}:12:23: no_go[1].at_mm[0]: must be at most 500, got 600",
        f"{bad}:13:22: no_go[2].at_mm: point (400, 2) is off the face map (it spans x -100 to 100 mm, y -190 to 125 mm)",
        f'{bad}:14:66: patient.skin_overrides.foreheed: unknown region "foreheed" (did you mean "forehead"?)',
        f'{bad}:15:30: solutions.reference.log: no such injection log "r.csv" beside the scenario file',
        f"{bad}:15:48: solutions.reference.screening: 'maybe' is not a screening answer: write DECISION or "
        'DECISION:REASON, the decision go, postpone or no-go (e.g. "no-go:pregnancy")',
        "1 of 1 scenario file(s) have problems"]


def test_validate_describes_a_union_in_words(tmp_path, capsys):
    bad = tmp_path / "u.yaml"
    base = ("id: u\ntitle: T\nobjective: O\nmap: face\ntechniques: {}\nproduct: {{name: x, form: liquid}}\n"
            "devices: [hand]\nmode: practice\npass_mark: 80\n")
    cases = {
        "micro-papule": "13: techniques: expected a list of technique ids, or \"all\", got 'micro-papule'; a list of "
                        "one is written [micro-papule]",
        "alll": "13: techniques: expected a list of technique ids, or \"all\", got 'alll' (did you mean \"all\"?)",
        "7": "13: techniques: expected a list of technique ids, or \"all\", got 7",
        "{a: 1}": "13: techniques: expected a list of technique ids, or \"all\", got a mapping",
        "[micro-papule, 7]": "28: techniques[1]: expected text, got 7",
    }
    for value, message in cases.items():
        bad.write_text(base.format(value))
        code, _, err = run_cli(capsys, "validate", str(bad))
        assert code == 2 and err.splitlines()[0] == f"{bad}:5:{message}"
        assert "list[str]" not in err and "literal" not in err


def test_validate_wrong_types(tmp_path, capsys):
    bad = tmp_path / "types.yaml"
    bad.write_text("id: t\ntitle: T\nobjective: O\nmap: face\ntechniques: all\nproduct: liquid\n"
                   "devices: hand\nmode: practice\npass_mark: high\ncount: {min: 1.5, max: 3}\n")
    code, _, err = run_cli(capsys, "validate", str(bad))
    assert code == 2
    lines = err.splitlines()
    assert f"{bad}:6:10: product: expected a mapping (key: value lines), got 'liquid'" in lines
    assert f"{bad}:7:10: devices: expected a list, got 'hand'" in lines
    assert f"{bad}:9:12: pass_mark: expected a number, got 'high'" in lines
    assert f"{bad}:10:14: count.min: expected a whole number, got 1.5" in lines


def test_validate_refuses_text_and_booleans_where_numbers_are_meant(tmp_path, capsys):
    # as the JSON Schema and an editor do: "80" in quotes is text
    bad = tmp_path / "strict.yaml"
    bad.write_text("id: t\ntitle: T\nobjective: O\nmap: face\ntechniques: all\nproduct: {name: x, form: liquid}\n"
                   "devices: [hand]\nmode: practice\npass_mark: '80'\ncount: {min: \"5\", max: true}\n"
                   "variation: {seed: 1.0}\n")
    code, _, err = run_cli(capsys, "validate", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f"{bad}:9:12: pass_mark: expected a number, got '80'; a number is written without quotes: pass_mark: 80",
        f"{bad}:10:14: count.min: expected a whole number, got '5'; a number is written without quotes: min: 5",
        f"{bad}:10:24: count.max: expected a whole number, got true",
        f"{bad}:11:19: variation.seed: expected a whole number, got 1.0",
        "1 of 1 scenario file(s) have problems"]


def test_validate_shipped_scenarios(capsys):
    code, out, err = run_cli(capsys, "validate", str(ROOT / "scenarios"))
    assert code == 0, err
    assert "valid" in out


def test_validate_missing_path(capsys, tmp_path):
    code, _, err = run_cli(capsys, "validate", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file or folder" in err


def test_techniques_json(capsys):
    code, out, _ = run_cli(capsys, "techniques", "--format", "json")
    data = json.loads(out)
    ids = [t["id"] for t in data["techniques"]]
    assert ids == ["superficial-nappage", "median-nappage", "deep-nappage", "micro-papule", "medium-papule",
                   "infiltration", "scalp-microinjection"]
    assert data["limits"]["max_volume_ml"]["value"] == 0.2
    sn = data["techniques"][0]
    assert sn["depth_mm"]["nominal"] == 0.5 and sn["depth_mm"]["source"].startswith("seed 004")


def test_schema_validates_shipped_and_rejects_unknown_keys(capsys):
    code, out, _ = run_cli(capsys, "schema")
    schema = json.loads(out)
    assert code == 0 and schema == scenario_schema()
    from sim.core.exercise.scenario import scenario_files
    from sim.core.files.yamlio import load_yaml_file

    for path in scenario_files():
        jsonschema.validate(load_yaml_file(path).data, schema)
    data = load_yaml_file(ROOT / "scenarios" / "builtin" / "face-free.yaml").data
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "colour": "red"}, schema)


def test_shipped_schema_file_is_current():
    assert (ROOT / "assets" / "schema" / "scenario.schema.json").read_text() == scenario_schema_text()


def test_argparse_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["score"])
    assert info.value.code == 2


def test_core_never_imports_pygame():
    code = ("import sys, sim.cli, sim.core.scoring.evaluation, sim.core.scoring.report, sim.core.exercise.scenario;"
            "sys.exit(1 if 'pygame' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
