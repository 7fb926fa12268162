"""Screening: the go / postpone / no-go decisions of contraindications.md ("Screening decisions"), the accepted
second answers (a warning, never full credit) and the consistency of a decision with its reason, in an answer
and in a scenario file."""

import textwrap

import pytest

from sim.errors import InputError
from sim.core.exercise.scenario import load_scenario_file
from sim.core.exercise.screening import load_reasons
from sim.core.scoring import ScreeningAnswer, evaluate
from sim.core.scoring.injections import Injections

# contraindications.md, "Screening decisions": reason id -> (right, accepted with a warning)
TABLE = {
    "pregnancy": ("no-go", ["postpone"]),
    "breastfeeding": ("no-go", ["postpone"]),
    "coagulation-disorder": ("no-go", []),
    "anticoagulants": ("no-go", ["postpone"]),
    "allergy": ("no-go", []),
    "acute-infection": ("postpone", ["no-go"]),
    "skin-infection-at-site": ("postpone", ["no-go"]),
    "oncological-disease": ("no-go", []),
    "neurological-disease": ("no-go", []),
    "cardiovascular-disease": ("no-go", []),
    "decompensated-diabetes": ("no-go", []),
    "kidney-or-gallbladder-disease": ("no-go", []),
    "systemic-disease": ("no-go", []),
    "keloid-tendency": ("no-go", []),
    "recent-surgery": ("postpone", ["no-go"]),
    "many-moles": ("no-go", []),
    "few-moles": ("go", []),
    "menstruation": ("postpone", []),
    "herpes": ("postpone", []),
    "chronic-exacerbation": ("postpone", []),
    "reduced-immunity": ("postpone", []),
    "age-limit": ("no-go", []),
    "low-pain-threshold": ("go", []),
    "pacemaker": ("go", []),
    "no-contraindication": ("go", []),
}


def test_the_catalogue_follows_the_decision_table():
    catalogue = load_reasons()
    assert {r.id: (r.decision, r.accepted) for r in catalogue.reasons} == TABLE


SCENARIO = """\
id: screening-test
title: Test
objective: Test objective.
map: face
techniques: [superficial-nappage]
targets: [{{region: forehead}}]
product: {{name: cocktail, form: liquid}}
devices: [hand]
mode: practice
pass_mark: 80
patient:
  name: A. Patient
  age_years: 31
  complaint: fine lines
  history: [{history}]
  screening:
    expected: {expected}
    reasons: [{reasons}]
    explanation: {explanation}
    source: contraindications.md
"""


def case(tmp_path, expected, reasons, history="see the case", explanation="Because."):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.format(expected=expected, reasons=", ".join(reasons), history=history,
                                    explanation=explanation))
    return path


def judge(path, library, config, answer, injections=None):
    scn = load_scenario_file(path, library)
    inj = injections if injections is not None else Injections.from_records([], library.ids)
    ev = evaluate(scn, inj, library, config, answer)
    return ev, [f for f in ev.attempt_findings if f.rule == "screening"]


@pytest.mark.parametrize("reason_id", sorted(TABLE))
def test_every_condition_right_accepted_and_wrong(tmp_path, library, config, reason_id):
    right, accepted = TABLE[reason_id]
    path = case(tmp_path, right, [reason_id])
    ev, found = judge(path, library, config, ScreeningAnswer(right, reason_id))
    assert ev.attempt_verdicts["screening"] == 0 and not found
    for decision in ("go", "postpone", "no-go"):
        if decision == right:
            continue
        ev, found = judge(path, library, config, ScreeningAnswer(decision, reason_id))
        if decision in accepted:  # defensible: a warning and part of the credit, never full marks
            assert ev.attempt_verdicts["screening"] == 1, decision
            assert "right decision is " + right in found[0].message
            assert ev.score() < 100
        else:  # the reason given does not fit the decision taken: an error in the answer
            assert ev.attempt_verdicts["screening"] == 2, decision
            assert "must agree" in found[0].message


def test_fever_postpone_is_right_and_no_go_is_accepted(tmp_path, library, config):
    path = case(tmp_path, "postpone", ["acute-infection"], history="flu, 38.4 degrees")
    right, _ = judge(path, library, config, ScreeningAnswer("postpone", "acute-infection"))
    accepted, found = judge(path, library, config, ScreeningAnswer("no-go", "acute-infection"))
    assert right.score() == 100.0 and right.passed()
    assert accepted.attempt_verdicts["screening"] == 1 and accepted.passed()  # defensible: it still passes
    assert accepted.score() < right.score()
    assert "no-go can be defended" in found[0].message
    # a decision no listed reason supports is wrong, whatever its reason
    wrong, found = judge(path, library, config, ScreeningAnswer("go", "no-contraindication"))
    assert wrong.attempt_verdicts["screening"] == 2 and not wrong.passed()
    assert "this patient calls for postpone" in found[0].message


def test_the_right_decision_with_another_reason_or_none_warns(tmp_path, library, config):
    path = case(tmp_path, "no-go", ["pregnancy"])
    other, found = judge(path, library, config, ScreeningAnswer("no-go", "allergy"))
    assert other.attempt_verdicts["screening"] == 1 and "not for the reason given" in found[0].message
    bare, found = judge(path, library, config, ScreeningAnswer("no-go", None))
    assert bare.attempt_verdicts["screening"] == 1 and "no reason was given" in found[0].message


def test_an_answer_whose_reason_contradicts_its_decision_fails(tmp_path, library, config):
    # a patient who may be treated, "go" taken, but with a contraindication as the reason
    path = case(tmp_path, "go", ["pacemaker"])
    ev, found = judge(path, library, config, ScreeningAnswer("go", "pregnancy"))
    assert ev.attempt_verdicts["screening"] == 2 and not ev.passed()
    assert "(Pregnancy) calls for no-go or postpone" in found[0].message


def test_a_pacemaker_is_no_contraindication_to_needle_mesotherapy(tmp_path, library, config):
    path = case(tmp_path, "go", ["pacemaker"], history="pacemaker since 2019")
    inj = Injections.from_records([dict(x_mm=0, y_mm=45, depth_mm=0.5, angle_deg=45, volume_ml=0.01,
                                        technique="superficial-nappage")], library.ids)
    ev, found = judge(path, library, config, ScreeningAnswer("go", "pacemaker"), inj)
    assert ev.attempt_verdicts["screening"] == 0 and not found


@pytest.mark.parametrize("expected, reason, calls_for", [
    ("go", "pregnancy", "calls for no-go (postpone accepted with a warning)"),
    ("go", "many-moles", "calls for no-go"),
    ("no-go", "acute-infection", "calls for postpone (no-go accepted with a warning)"),
    ("no-go", "pacemaker", "calls for go"),
])
def test_a_scenario_whose_expected_decision_does_not_fit_its_reason_is_an_error(tmp_path, library, expected,
                                                                                reason, calls_for):
    path = case(tmp_path, expected, [reason])
    with pytest.raises(InputError) as err:
        load_scenario_file(path, library)
    text = str(err.value)
    assert "s.yaml" in text and "patient.screening.reasons" in text.replace("[0]", "").replace(".0", "")
    assert calls_for in text
    line = textwrap.dedent(path.read_text()).splitlines().index(f"    reasons: [{reason}]") + 1
    assert f":{line}:" in text
