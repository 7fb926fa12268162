"""The crash journal read back: a journal edited into something that cannot be resumed is a FILE:LINE:COL error
with exit 2, never a traceback, and the file is left as it was."""

import json

from sim.cli import main
from sim.core.records.journal import read_journal

REC = {"x_mm": 0, "y_mm": 40, "depth_mm": 0.5, "angle_deg": 45, "volume_ml": 0.01, "technique": "superficial-nappage"}
HEADER = {"journal": 1, "scenario": {"id": "face-free"}, "mode": "practice", "trainee": "", "started": None}


def _journal(folder, *events):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "20260101-000000-000000-face-free.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in (HEADER, *events)) + "\n")
    return path


def test_an_unknown_technique_in_a_journal_is_named_with_its_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    path = _journal(tmp_path / "data" / "mesosim" / "journal", {"add": REC},
                    {"add": {**REC, "technique": "superficial-nappag"}})
    before = path.read_bytes()
    log = tmp_path / "log.csv"
    log.write_text("x_mm,y_mm,depth_mm,angle_deg,volume_ml,technique\n0,40,0.5,45,0.01,superficial-nappage\n")
    assert main(["run", "face-free", "--replay", str(log), "--resume"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f'{path}:3:{json.dumps({"add": {**REC, "technique": "x"}}).index(chr(34) + "technique") + 1}: '
                   'add.technique: unknown technique "superficial-nappag" (did you mean "superficial-nappage"?)']
    assert path.read_bytes() == before


def test_a_value_out_of_range_in_a_journal_names_the_field(tmp_path):
    path = _journal(tmp_path, {"add": {**REC, "depth_mm": 900}})
    try:
        read_journal(path)
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        from sim.errors import InputError

        assert isinstance(exc, InputError)
        (problem,) = exc.problems
        assert (problem.line, problem.path) == (2, "add.depth_mm") and "60" in problem.message
    else:
        raise AssertionError("a depth of 900 mm was resumed")
