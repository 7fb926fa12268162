"""A pass means competent, for every shipped exercise: simulated competent attempts (assets/calibration.yaml, a
fixed seed) pass at 95 % or more, novice ones at 10 % or less; a depth beyond the technique's warn band at every
point fails; and no single small change of one injection turns the passing reference into a fail."""

from pathlib import Path

import numpy as np
import pytest

from sim.core.exercise.scenario import load_scenario_file, scenario_files
from sim.core.scoring import evaluate
from sim.core.scoring.calibration import calibrate, load_calibration, sweep
from sim.core.scoring.injections import read_log
from sim.core.scoring.solutions import parse_answer
from sim.paths import builtin_scenarios_dir


def _exercises():
    for path in scenario_files():
        if builtin_scenarios_dir() in path.parents:
            continue
        scn = load_scenario_file(path)
        answer = parse_answer(scn.spec.solutions.reference.screening)
        if answer is None or answer.decision == "go":  # a declined patient is judged on the decision alone
            yield pytest.param(path, id=scn.id)


def _reference(scn, library):
    sol = scn.spec.solutions
    return (read_log(Path(scn.file).parent / sol.reference.log, library.ids, scn.technique_ids),
            parse_answer(sol.reference.screening))


@pytest.mark.parametrize("path", list(_exercises()))
def test_competent_attempts_pass_and_novice_ones_do_not(path, library, config):
    scn = load_scenario_file(path)
    reference, answer = _reference(scn, library)
    result = calibrate(scn, reference, answer, library, config, load_calibration(), with_sweep=False)
    assert result.competent.pass_rate >= 0.95, (scn.id, result.competent.pass_rate)
    assert result.novice.pass_rate <= 0.10, (scn.id, result.novice.pass_rate)
    assert result.auc >= 0.95


@pytest.mark.parametrize("path", list(_exercises()))
@pytest.mark.parametrize("side", ["too deep", "too shallow"])
def test_a_wrong_depth_throughout_fails(path, side, library, config):
    scn = load_scenario_file(path)
    reference, answer = _reference(scn, library)
    bounds = np.asarray([library.get(reference.technique_ids[t]).depth_mm.bounds() for t in reference.technique])
    depth = bounds[:, 3] + 0.5 if side == "too deep" else bounds[:, 2] - 0.3
    if side == "too shallow" and (depth <= 0).any():
        depth = np.maximum(depth, 0.0)
        if (bounds[:, 2] <= 0).all():
            pytest.skip("the technique's warn band starts at the surface: no depth is too shallow")
    wrong = type(reference)(reference.xy, depth, reference.angle_deg, reference.volume_ml, reference.technique,
                            reference.technique_ids, reference.t_s, reference.bevel_down, reference.gun)
    ev = evaluate(scn, wrong, library, config, answer)
    assert not ev.passed(), (scn.id, side, ev.score())


@pytest.mark.parametrize("path", list(_exercises()))
def test_one_small_error_of_one_injection_never_fails_the_reference(path, library, config):
    scn = load_scenario_file(path)
    reference, answer = _reference(scn, library)
    assert evaluate(scn, reference, library, config, answer).passed()
    plan = load_calibration().sweep.model_copy(update={"depth_mm": [-0.1, 0.1], "position_mm": [0.5, 1.0],
                                                       "angle_deg": [-5, 5], "volume_factor": [0.8, 1.25]})
    for row in sweep(scn, reference, answer, library, config, plan):
        assert row.single_flips == 0, (scn.id, row)
