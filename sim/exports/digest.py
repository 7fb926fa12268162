"""What the report of one attempt says, in the order an assessor reads it, for the PDF and the HTML alike: the
verdict with why, the signature, the screening decision, the criteria as bars, the findings grouped by rule and
verdict with the injections they concern (numbered from 1, as the window numbers them), and the exercise for the
map, or the sentence saying it is gone."""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field

from sim.core.exercise.scenario import LoadedScenario
from sim.errors import InputError
from sim.session import LoadedRecord, find_exercise, record_date

VERDICT_ORDER = ("critical", "fail", "warn", "ok")
GONE = ("The exercise file of this record is no longer here (nor a shipped exercise of its id), so the map cannot "
        "be drawn; the findings below are the record's own.")


@dataclass(frozen=True)
class Bar:
    """One criterion as a bar."""

    rule: str
    score: float
    """0-1."""
    weight: float
    part: bool
    """A part of the score (injections and the attempt criteria, with a weight); else a per-injection criterion."""
    significant: bool
    blocking: bool
    """An attempt that does not meet it cannot pass (scoring.yaml `blocking`)."""
    not_met: bool
    """It stands in the way of a pass (a blocking criterion not met, or a criterion failed throughout)."""
    failed: int
    """Injections (or, for an attempt criterion, 1) that failed it."""

    @property
    def words(self) -> str:
        return self.rule.replace("_", " ")

    @property
    def status(self) -> str:
        """ok, warn or fail: the colour of its bar."""
        return "fail" if self.not_met else "warn" if self.failed or self.score < 0.999 else "ok"

    @property
    def note(self) -> str:
        parts = []
        if self.not_met:
            parts.append("NOT MET")
        if self.blocking:
            parts.append("blocking")
        if self.part:
            parts.append(f"weight {self.weight:g}")
        elif not self.significant:
            parts.append("advice only")
        if self.failed and not self.part:
            parts.append(f"{self.failed} failed")
        return " · ".join(parts)


@dataclass(frozen=True)
class Group:
    """One line of findings: a rule and a verdict (and, for a danger structure, which), the injections it concerns."""

    rule: str
    verdict: str
    structure: str
    """The danger structure's or no-go spot's name, or ""."""
    injections: tuple[int, ...]
    """1-based; empty for a finding of the attempt as a whole."""
    message: str
    """The first injection's message (the others differ only in their numbers)."""
    source: str
    measured: str = ""
    """The range measured across the injections, e.g. "3-4.5 mm", with what was expected."""

    @property
    def head(self) -> str:
        what = self.rule.replace("_", " ") + (f": {self.structure}" if self.structure else "")
        if not self.injections:
            return f"{self.verdict} · {what} (the attempt)"
        n = len(self.injections)
        return f"{self.verdict} · {what} · {n} injection{'s' if n != 1 else ''}: {runs(self.injections)}"


@dataclass(frozen=True)
class Digest:
    item: LoadedRecord
    title: str
    scenario_id: str
    trainee: str
    mode: str
    date: str
    """The attempt's time as the assessor reads it (2026-05-09 14:30), or "date unknown"."""
    date_iso: str | None
    passed: bool
    score: float
    pass_mark: float
    critical: int
    reasons: list[str]
    """Why it did not pass (or, when it passed, what a pass took)."""
    screening: str
    screening_verdict: str | None
    bars: list[Bar]
    groups: list[Group]
    exercise: LoadedScenario | None
    gone: str | None
    """The sentence that replaces the map when the exercise cannot be found."""
    entries: list[dict] = field(repr=False)

    @property
    def verdict(self) -> str:
        if self.passed and getattr(self.item, "exam", None) is False:
            return "PASSED, NOT AN EXAM RESULT"
        return "PASSED" if self.passed else "NOT PASSED"

    @property
    def signature_ok(self) -> bool:
        return self.item.verified

    @property
    def signature(self) -> str:
        """The verification status, and for an exam record whether it counts as an exam result."""
        standing = getattr(self.item, "standing", "")
        return self.item.status + (f"; {standing}" if standing else "")


def runs(numbers, limit: int = 40) -> str:
    """1-based injection numbers as runs: "#1-#5, #8, #10-#12"; past `limit` runs, how many more."""
    out: list[str] = []
    nums = list(numbers)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(f"#{nums[i]}" if i == j else f"#{nums[i]}-#{nums[j]}")
        i = j + 1
    if len(out) > limit:
        rest = len(out) - limit
        return ", ".join(out[:limit]) + f" and {rest} more run{'s' if rest != 1 else ''} (every injection is listed below)"
    return ", ".join(out)


def short_time(stamp: str | None) -> str:
    """2026-05-09T14:30:05+02:00 as 2026-05-09 14:30 (the time where the attempt was made)."""
    return (stamp or "")[:16].replace("T", " ") or "date unknown"


@functools.lru_cache(maxsize=1)
def _blocking() -> tuple[str, ...]:
    from sim.core.scoring.config import load_config

    return tuple(load_config().scoring.blocking)


def _bars(rep: dict) -> list[Bar]:
    blocked = set(rep.get("blocking_failures") or ())
    out = []
    for c in rep.get("criteria") or ():
        counts = c.get("counts") or {}
        part = c["weight"] > 0 or c["rule"] == "injections"
        out.append(Bar(c["rule"], float(c["score"]), float(c["weight"]), part, bool(c.get("significant", part)),
                       c["rule"] in _blocking(), c["rule"] in blocked,
                       int(counts.get("fail", 0)) + int(counts.get("critical", 0))))
    return out


def _names(exercise: LoadedScenario | None) -> dict[str, str]:
    if exercise is None:
        return {}
    return {s.id: s.name for s in exercise.structures}


def _measured(found: list[dict]) -> str:
    values = [f["measured"] for f in found if isinstance(f.get("measured"), (int, float))
              and not isinstance(f.get("measured"), bool)]
    unit = found[0].get("unit") or ""
    expected = found[0].get("expected")
    if not values:
        return f"expected {expected}" if expected else ""
    lo, hi = round(min(values), 2), round(max(values), 2)
    got = f"{lo:g}" if lo == hi else f"{lo:g}-{hi:g}"
    return f"measured {got}{' ' + unit if unit else ''}" + (f", expected {expected}" if expected else "")


def group_findings(rep: dict, names: dict[str, str] | None = None) -> list[Group]:
    """The findings of a report, one Group per rule, verdict and structure: critical first, then the ones that
    concern most injections; the attempt's own findings among them by their verdict."""
    names = names or {}
    found: dict[tuple[str, str, str], tuple[list[int], list[dict]]] = {}
    for e in rep.get("injections") or ():
        for f in e.get("findings") or ():
            key = (f["rule"], f["verdict"], f.get("structure") or "")
            nums, fs = found.setdefault(key, ([], []))
            if not nums or nums[-1] != e["index"] + 1:
                nums.append(e["index"] + 1)
            fs.append(f)
    groups = []
    for (rule, verdict, structure), (nums, fs) in found.items():
        name = names.get(structure) or structure.replace("-", " ")
        groups.append(Group(rule, verdict, name, tuple(nums), fs[0]["message"], fs[0].get("source", ""),
                            _measured(fs)))
    for f in rep.get("attempt_findings") or ():
        groups.append(Group(f["rule"], f["verdict"], "", (), f["message"], f.get("source", ""), ""))
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    groups.sort(key=lambda g: (rank.get(g.verdict, 9), bool(g.injections), -len(g.injections), g.rule, g.structure))
    return groups


def _reasons(rep: dict) -> list[str]:
    out = []
    crit = int(rep.get("critical_findings") or 0)
    blocked = list(rep.get("blocking_failures") or ())
    right, needed = rep.get("done_right"), rep.get("competence_threshold")
    if rep["passed"]:
        out.append("No critical finding, every blocking criterion met" + (
            f", {100 * right:.0f} % of the injections done right ({100 * needed:.0f} % needed)"
            if right is not None and needed is not None else "") + ", a score at or above the pass mark.")
        return out
    if crit:
        out.append(f"{crit} critical finding{'s' if crit != 1 else ''}: an attempt with one does not pass, whatever "
                   "its score.")
    blocking = [b for b in blocked if b in _blocking()]
    throughout = [b for b in blocked if b not in _blocking()]
    if blocking:
        out.append("Blocking criteria not met: " + ", ".join(b.replace("_", " ") for b in blocking) + ".")
    if throughout:
        out.append("Failed by every injection: " + ", ".join(throughout) + ".")
    if right is not None and needed is not None and right < needed:
        out.append(f"{100 * right:.0f} % of the injections done right; {100 * needed:.0f} % needed.")
    if rep["score"] < rep["pass_mark"]:
        out.append(f"The score is under the pass mark ({rep['score']:.1f} < {rep['pass_mark']:g}).")
    return out


def _screening(rec: dict, rep: dict, exercise: LoadedScenario | None) -> tuple[str, str | None]:
    from sim.core.exercise.screening import load_reasons

    answer = rec.get("screening")
    finding = next((f for f in rep.get("attempt_findings") or () if f["rule"] == "screening"), None)
    criterion = next((c for c in rep.get("criteria") or () if c["rule"] == "screening"), None)
    expected = None
    if exercise is not None and exercise.spec.patient is not None and exercise.spec.patient.screening is not None:
        expected = exercise.spec.patient.screening.expected
    if answer is None and finding is None and criterion is None:
        return "No screening decision was asked in this exercise.", None
    if isinstance(answer, dict) and answer.get("decision"):
        reason = answer.get("reason")
        said = answer["decision"] + (f", because: {load_reasons().label(reason)}" if reason else "")
        text = f"The trainee decided {said}."
    else:
        text = "The trainee gave no screening decision."
    if expected:
        text += f" This patient called for {expected}."
    verdict = finding["verdict"] if finding else "ok"
    if finding:
        text += " " + finding["message"]
    else:
        text += " Right."
    return text, verdict


def digest(item: LoadedRecord) -> Digest:
    rec, rep = item.record, item.record["report"]
    try:
        exercise, gone = find_exercise(rec), None
    except InputError:
        exercise, gone = None, GONE
    stamp = record_date(item)
    screening, screening_verdict = _screening(rec, rep, exercise)
    return Digest(item=item, title=rep.get("title") or rep["scenario"], scenario_id=rep["scenario"],
                  trainee=_one_line_name(rec.get("trainee")), mode=str(rec.get("mode") or rep.get("mode") or ""),
                  date=_local(stamp), date_iso=stamp, passed=bool(rep["passed"]), score=float(rep["score"]),
                  pass_mark=float(rep["pass_mark"]), critical=int(rep.get("critical_findings") or 0),
                  reasons=_reasons(rep), screening=screening, screening_verdict=screening_verdict, bars=_bars(rep),
                  groups=group_findings(rep, _names(exercise)), exercise=exercise, gone=gone,
                  entries=rep.get("injections") or [])


def _local(stamp: str | None) -> str:
    if not stamp:
        return "date unknown"
    try:
        return _dt.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return short_time(stamp)


def failed_rules(entry: dict) -> str:
    """An injection's findings in a few words for a table row: "danger (critical), depth, layer"."""
    rank = {v: i for i, v in enumerate(VERDICT_ORDER)}
    fs = sorted(entry.get("findings") or (), key=lambda f: rank.get(f["verdict"], 9))
    return ", ".join(f["rule"] + (f" ({f['verdict']})" if f["verdict"] != entry["verdict"] else "") for f in fs)


def _one_line_name(name) -> str:
    """A trainee's name as a report shows it: one line (a line break in a name cannot push the real result to
    another page), control characters escaped, at most 100 characters."""
    from sim.errors import one_line

    text = one_line(str(name or "")).strip() or "(no name)"
    return text if len(text) <= 100 else text[:100] + "..."
