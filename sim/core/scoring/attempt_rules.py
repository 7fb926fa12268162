"""The per-attempt rules: each judges the attempt as a whole (how many injections, how much of the target they
cover, the total volume, the time, the screening decision) and records its verdict, findings and measures."""

from __future__ import annotations

import numpy as np

from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring.config import Config
from sim.core.scoring.context import RuleContext
from sim.core.scoring.findings import FAIL, OK, WARN, Finding, ScreeningAnswer
from sim.core.scoring.injections import Injections
from sim.core.scoring.table import TechniqueTable, allowed_by
from sim.core.scoring.text import fmt
from sim.core.vocabulary import VERDICTS


def attempt_rules(ctx: RuleContext, screening: ScreeningAnswer | None, coverage: float | None,
                  verdicts: dict[str, int], findings: list[Finding], measures: dict[str, float | None],
                  credit: dict[str, float]) -> None:
    """Run every applicable attempt rule into `verdicts`, `findings`, `measures` and `credit` (where a
    criterion's credit is not its verdict's). A patient sent home (a
    screening decision other than go, where the patient case has one) is judged on the decision alone."""
    patient = ctx.scenario.spec.patient
    declined = (screening is not None and screening.decision != "go" and patient is not None
                and patient.screening is not None)
    if not declined:
        attempt_count(ctx, verdicts, findings, measures)
        attempt_coverage(ctx, verdicts, findings, measures, coverage)
        attempt_total_volume(ctx, verdicts, findings, measures)
        attempt_time(ctx, verdicts, findings, measures)
    attempt_screening(ctx, screening, verdicts, findings, credit)


def fraction_verdict(value: float, lo: float, hi: float, warn_fraction: float) -> tuple[int, str]:
    """OK inside [lo, hi]; WARN within warn_fraction outside it; else FAIL. Compared at 1e-9 so that sums of
    decimal volumes (6 x 0.02 = 0.12000000000000001) land where a person would put them."""
    value, lo, hi = round(value, 9), round(lo, 9), round(hi, 9)
    if lo <= value <= hi:
        return OK, ""
    if value < lo:
        return (WARN if value >= round(lo * (1 - warn_fraction), 9) else FAIL), "low"
    return (WARN if value <= round(hi * (1 + warn_fraction), 9) else FAIL), "high"


def attempt_count(ctx: RuleContext, verdicts, findings, measures) -> None:
    """count: the number of injections against the scenario's `count` range (min, max); within scoring.yaml
    count.warn_fraction outside it warns, farther fails. Source: the scenario file."""
    spec = ctx.scenario.spec.count
    if spec is None:
        return
    n = len(ctx.inj)
    v, side = fraction_verdict(n, spec.min, spec.max, ctx.config.scoring.count.warn_fraction)
    verdicts["count"] = v
    if v > OK:
        expected = f"{spec.min}-{spec.max}" if spec.min != spec.max else f"{spec.min}"
        findings.append(Finding("count", VERDICTS[v], ctx.text("count", "too_few" if side == "low" else "too_many",
                                                               measured=n, expected=expected),
                                f"scenario {ctx.scenario.id}", float(n), expected))


def cover(scenario: LoadedScenario, table: TechniqueTable, config: Config, covered: np.ndarray,
          inj: Injections) -> None:
    """Mark the coverage grid cells (scoring.yaml coverage.cell_mm) within reach (the technique's reach_mm) of
    injections of a technique the scenario allows."""
    use = allowed_by(scenario.technique_ids, table)[inj.technique] if len(inj) else np.zeros(0, dtype=bool)
    grid = scenario.coverage_grid(config.scoring.coverage.cell_mm)
    grid.cover(covered, inj.xy[use], table.reach_mm[inj.technique[use]])


def attempt_coverage(ctx: RuleContext, verdicts, findings, measures, value: float | None) -> None:
    """coverage: the share of the target area within reach of a puncture (`value`, from the coverage grid; the
    technique's reach_mm) against the scenario's `coverage` ok and warn, or scoring.yaml coverage.ok and
    coverage.warn. Not applicable without target areas. Source: techniques.md spacing specs."""
    if not ctx.scenario.target_polygons:
        return
    cfg = ctx.config.scoring.coverage
    spec = ctx.scenario.spec.coverage
    ok, warn = (spec.ok, spec.warn) if spec else (cfg.ok, cfg.warn)
    value = value if len(ctx.inj) and value is not None else 0.0
    measures["coverage"] = value
    v = OK if value >= ok else (WARN if value >= warn else FAIL)
    verdicts["coverage"] = v
    if v > OK:
        reach = sorted({fmt(float(ctx.table.reach_mm[ctx.table.ids.index(t)]), "mm")
                        for t in ctx.scenario.technique_ids})
        findings.append(Finding("coverage", VERDICTS[v],
                                ctx.text("coverage", "low", measured=fmt(100 * value, "%"), expected=fmt(100 * ok, "%"),
                                         reach=" or ".join(reach)),
                                "techniques.md spacing specs; scoring.yaml coverage", value, f"at least {ok:g}"))


def attempt_total_volume(ctx: RuleContext, verdicts, findings, measures) -> None:
    """total_volume: the volume of the whole attempt against the scenario's total_volume_ml range (min_ml,
    max_ml); within scoring.yaml total_volume.warn_fraction outside it warns. Source: the scenario file."""
    spec = ctx.scenario.spec.total_volume_ml
    if spec is None:
        return
    total = measures["total_volume_ml"]
    v, side = fraction_verdict(total, spec.min_ml, spec.max_ml, ctx.config.scoring.total_volume.warn_fraction)
    verdicts["total_volume"] = v
    if v > OK:
        expected = f"{spec.min_ml:g}-{spec.max_ml:g} ml"
        findings.append(Finding("total_volume", VERDICTS[v],
                                ctx.text("total_volume", "too_little" if side == "low" else "too_much",
                                         measured=fmt(total, "ml"), expected=expected),
                                f"scenario {ctx.scenario.id}", total, expected, "ml"))


def attempt_time(ctx: RuleContext, verdicts, findings, measures) -> None:
    """time: the attempt's duration (last t_s) against the scenario's time_limit_s; in exam mode any overrun
    fails, in practice up to scoring.yaml time.warn_fraction over warns. Not applicable when the log carries no
    times. Source: the scenario file."""
    limit = ctx.scenario.spec.time_limit_s
    duration = measures["duration_s"]
    if limit is None or duration is None:
        return
    if duration <= limit:
        v = OK
    elif ctx.scenario.spec.mode == "practice" and duration <= limit * (1 + ctx.config.scoring.time.warn_fraction):
        v = WARN
    else:
        v = FAIL
    verdicts["time"] = v
    if v > OK:
        findings.append(Finding("time", VERDICTS[v], ctx.text("time", "over", measured=fmt(duration, "s"),
                                                              expected=fmt(limit, "s")),
                                f"scenario {ctx.scenario.id}", duration, f"at most {limit:g} s", "s"))


def attempt_screening(ctx: RuleContext, answer: ScreeningAnswer | None, verdicts, findings, credit) -> None:
    """screening: the go / postpone / no-go decision and its reason against the patient case (screening
    expected, reasons) and the catalogue of reasons (assets/screening.yaml). None fails; a reason that does not fit
    the decision taken takes verdicts.screening_inconsistent; the right decision with a listed reason is ok, with
    another reason or none it warns; a decision the catalogue accepts for a listed reason (postpone for a pregnancy)
    warns with scoring.yaml screening.accepted_credit, never full credit; any other decision takes verdicts.screening_wrong_decision. Injecting a patient who
    should not be treated today takes verdicts.screening_treated. Source: the patient case's screening.source
    (contraindications.md)."""
    patient = ctx.scenario.spec.patient
    if patient is None or patient.screening is None:
        return
    from sim.core.exercise.screening import load_reasons  # only a patient to screen needs the catalogue

    catalogue = load_reasons()
    spec = patient.screening
    source = spec.source
    reason = catalogue.get(answer.reason) if answer is not None else None
    right_reasons = " or ".join(catalogue.label(r) for r in spec.reasons)
    if answer is None:
        v = FAIL
        findings.append(Finding("screening", "fail", ctx.text("screening", "missing", expected=spec.expected),
                                source, None, spec.expected))
    elif reason is not None and not reason.fits(answer.decision):
        v = ctx.verdict_name("screening_inconsistent")
        fits = " or ".join([reason.decision, *reason.accepted])
        findings.append(Finding("screening", VERDICTS[v],
                                ctx.text("screening", "inconsistent", measured=answer.decision, reason=reason.label,
                                         fits=fits, expected=spec.expected, explanation=spec.explanation),
                                f"assets/screening.yaml: {reason.source}", f"{answer.decision}: {reason.label}",
                                fits))
    elif answer.decision == spec.expected:
        if answer.reason in spec.reasons:
            v = OK
        else:
            v = WARN
            case = "no_reason" if answer.reason is None else "wrong_reason"
            findings.append(Finding("screening", "warn", ctx.text("screening", case, measured=answer.decision,
                                                                  explanation=spec.explanation),
                                    source, catalogue.label(answer.reason), right_reasons))
    elif answer.reason in spec.reasons:  # the reason fits this decision as a second, defensible one
        v = WARN
        credit["screening"] = ctx.config.scoring.screening.accepted_credit
        findings.append(Finding("screening", "warn", ctx.text("screening", "accepted", measured=answer.decision,
                                                              expected=spec.expected, explanation=spec.explanation),
                                source, answer.decision, spec.expected))
    else:
        v = ctx.verdict_name("screening_wrong_decision")
        findings.append(Finding("screening", VERDICTS[v], ctx.text("screening", "wrong_decision", measured=answer.decision,
                                                              expected=spec.expected, explanation=spec.explanation),
                                source, answer.decision, spec.expected))
    if spec.expected != "go" and len(ctx.inj):
        v = max(v, ctx.verdict_name("screening_treated"))
        findings.append(Finding("screening", VERDICTS[ctx.verdict_name("screening_treated")],
                                ctx.text("screening", "treated", expected=spec.expected,
                                                              count=len(ctx.inj)),
                                source, float(len(ctx.inj)), "no injections"))
        credit.pop("screening", None)
    verdicts["screening"] = v
