"""The shipped exercise library: every scenario validates, its reference solution passes with at least 90, and
each flawed solution fails, on the criterion its name gives."""

import re
from collections import Counter
from pathlib import Path

import pytest

from sim.core.vocabulary import SLUG_PATTERN
from sim.paths import builtin_scenarios_dir
from sim.core.exercise.scenario import load_scenario_file, scenario_files
from sim.core.scoring.solutions import REFERENCE_MIN, check_solutions, failed_on, score_solution

FILES = [p for p in scenario_files() if builtin_scenarios_dir() not in p.parents]


@pytest.fixture(scope="module")
def loaded():
    return {p: load_scenario_file(p) for p in FILES}


def test_the_library_is_big_enough_and_covers_the_curriculum(loaded, library):
    scns = list(loaded.values())
    assert len(scns) >= 14
    maps = Counter(s.spec.map for s in scns)
    assert maps["face"] >= 10 and maps["scalp"] >= 4
    used = {(s.spec.map, t) for s in scns for t in (s.spec.indication.techniques if s.spec.indication
                                                      else s.technique_ids)}
    for tech in library.techniques.values():
        if tech.id == "deep-nappage":
            continue  # named by seed 004 for cellulite of the body; no face exercise calls for it
        assert (tech.maps[0], tech.id) in used, tech.id
    assert sum(s.spec.mode == "exam" for s in scns) >= 3
    assert all(s.spec.time_limit_s for s in scns if s.spec.mode == "exam")
    decisions = Counter(s.spec.patient.screening.expected for s in scns
                        if s.spec.patient and s.spec.patient.screening)
    assert decisions["no-go"] >= 3 and decisions["postpone"] >= 1 and decisions["go"] >= 1
    ids = [s.id for s in scns]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_reference_passes_and_flawed_ones_fail_for_their_reason(path, loaded, library, config):
    scn = loaded[path]
    sol = scn.spec.solutions
    assert sol is not None and sol.flawed, "every exercise ships a reference and at least one flawed solution"
    ev = score_solution(scn, sol.reference.log, sol.reference.screening, library, config)
    assert ev.score() >= REFERENCE_MIN and ev.passed(), (ev.score(), [f.message for f in ev.attempt_findings])
    logs = [Path(f.log) for f in sol.flawed]
    assert len(set(logs)) == len(logs), "each flawed solution is a different log"
    for flawed, log in zip(sol.flawed, logs):
        # beside the reference, named by its flaw in words: solutions/<id>/<flaw>.csv
        assert log.parent == Path("solutions", scn.id) and log.suffix == ".csv", flawed.log
        assert re.fullmatch(SLUG_PATTERN, log.stem) and log.stem != Path(sol.reference.log).stem, flawed.log
        fe = score_solution(scn, flawed.log, flawed.screening, library, config)
        assert not fe.passed(), f"{flawed.log} passes with {fe.score()}"
        assert failed_on(fe, flawed.fails_on), f"{flawed.log} does not fail on {flawed.fails_on}"
    assert check_solutions(scn, library, config) == []


def test_validate_reports_a_failing_reference_and_a_passing_flawed_one(tmp_path, capsys):
    from sim.cli import EXIT_INPUT, main

    src = FILES[0]
    scn = load_scenario_file(src)
    text = src.read_text()
    (tmp_path / "solutions" / scn.id).mkdir(parents=True)
    ref = Path(src.parent, scn.spec.solutions.reference.log).read_text()
    header, *rows = ref.splitlines()
    (tmp_path / "solutions" / scn.id / "reference.csv").write_text(header + "\n" + rows[0] + "\n")  # far too few
    for f in scn.spec.solutions.flawed:
        Path(tmp_path, f.log).write_text(ref)  # "flawed" ones that are in fact the model answer
    copy = tmp_path / src.name
    copy.write_text(text)
    assert main(["validate", str(copy)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "the reference solution scores" in err and "the flawed solution passes" in err
