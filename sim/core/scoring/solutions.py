"""Scoring a scenario's own solutions: the reference must pass with at least REFERENCE_MIN, each flawed one must
fail, and fail on the criterion it names."""

from __future__ import annotations

from pathlib import Path

from sim.errors import InputError, Problem
from sim.core.scoring.injections import read_log
from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring.config import Config
from sim.core.scoring.evaluation import evaluate
from sim.core.scoring.findings import ScreeningAnswer
from sim.core.vocabulary import CODE
from sim.core.exercise.techniques import Library
from sim.core.files.yamlio import load_yaml_file

REFERENCE_MIN = 90.0


def parse_answer(text: str | None) -> ScreeningAnswer | None:
    if not text:
        return None
    decision, _, reason = text.partition(":")
    return ScreeningAnswer(decision, reason or None)


def score_solution(scn: LoadedScenario, log: str, screening: str | None, library: Library, config: Config):
    inj = read_log(Path(scn.file).parent / log, library.ids, scn.technique_ids)
    return evaluate(scn, inj, library, config, parse_answer(screening))


def failed_on(ev, rule: str) -> bool:
    """Did the attempt get a fail (or critical) on this criterion?"""
    if rule in ev.rules:
        return bool((ev.rules[rule].verdict >= CODE["fail"]).any())
    return ev.attempt_verdicts.get(rule, 0) >= CODE["fail"]


def check_solutions(scn: LoadedScenario, library: Library, config: Config) -> list[Problem]:
    sol = scn.spec.solutions
    if sol is None:
        return []
    doc = load_yaml_file(scn.file)
    problems: list[Problem] = []
    refs = [(("solutions", "reference", "log"), sol.reference.log)]
    refs += [(("solutions", "flawed", i, "log"), f.log) for i, f in enumerate(sol.flawed)]
    missing = [doc.problem(where, f'no such injection log "{rel}" beside the scenario file'
                           + (" (mesosim plan --write writes the planned ones)" if scn.spec.instructed else ""))
               for where, rel in refs if not (Path(scn.file).parent / rel).is_file()]
    if missing:  # a file that is only being written is checked once its logs are there
        return missing
    try:
        ev = score_solution(scn, sol.reference.log, sol.reference.screening, library, config)
        score, passed = ev.score(), ev.passed()
        if score < REFERENCE_MIN or not passed:
            worst = sorted({f"{r}" for r in ev.rules if (ev.rules[r].verdict >= CODE["fail"]).any()}
                           | {r for r, v in ev.attempt_verdicts.items() if v >= CODE["fail"]})
            problems.append(doc.problem(("solutions", "reference", "log"),
                                        f"the reference solution scores {score:g}"
                                        f"{'' if passed else ' and does not pass'}; it needs at least "
                                        f"{REFERENCE_MIN:g} and a pass" + (f" (fails on: {', '.join(worst)})"
                                                                           if worst else "")))
    except InputError as exc:
        problems.extend(exc.problems)
    for i, flawed in enumerate(sol.flawed):
        try:
            ev = score_solution(scn, flawed.log, flawed.screening, library, config)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        if ev.passed():
            problems.append(doc.problem(("solutions", "flawed", i, "log"),
                                        f"the flawed solution passes (score {ev.score():g}); it should fail on "
                                        f"{flawed.fails_on}"))
        elif not failed_on(ev, flawed.fails_on):
            problems.append(doc.problem(("solutions", "flawed", i, "fails_on"),
                                        f"the flawed solution does not fail on {flawed.fails_on}"))
    return problems
