"""Golden score reports: every shipped solution, scored through `mesosim score`, gives the report kept in
tests/golden/ byte for byte (JSON and text). A change that moves a score shows here first.

Regenerate after an intended change with `MESOSIM_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`, and read
the diff before committing it."""

import os
from pathlib import Path

import pytest

from sim.cli import main
from sim.paths import builtin_scenarios_dir
from sim.core.exercise.scenario import load_scenario_file, scenario_files

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("MESOSIM_UPDATE_GOLDEN") == "1"


def _cases():
    for path in scenario_files():
        if builtin_scenarios_dir() in path.parents:
            continue
        scn = load_scenario_file(path)
        sol = scn.spec.solutions
        for entry in [sol.reference, *sol.flawed]:
            yield pytest.param(path, entry.log, entry.screening, id=f"{scn.id}/{Path(entry.log).stem}")


@pytest.mark.parametrize("path, log, screening", list(_cases()))
@pytest.mark.parametrize("fmt", ["json", "text"])
def test_score_report_is_unchanged(path, log, screening, fmt, capsys):
    args = ["score", str(path), str(Path(path).parent / log), "--format", fmt]
    if screening:
        args += ["--screening", screening]
    assert main(args) == 0
    out = capsys.readouterr().out
    golden = GOLDEN / Path(path).stem / f"{Path(log).stem}.{fmt}"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert golden.exists(), f"no golden report {golden}: run with MESOSIM_UPDATE_GOLDEN=1"
    assert out == golden.read_text(encoding="utf-8")
