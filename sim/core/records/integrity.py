"""Exam integrity: where a record's injections came from (its provenance), whether their timing is one a person at
the station could have made, and whether the record stands as an exam result.

Only a live session in the trainer window yields an exam result: a replayed log, a scored log and a re-scored
record are marked as such and never reported as an exam pass. Timing is checked on the station's clock that the
program itself stamps on every injection (`wall_s`), not on the timer a log can carry (`t_s`). Thresholds are data:
assets/integrity.yaml.
"""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from pydantic import Field

from sim.core.files.model import FileModel, validate
from sim.core.files.yamlio import load_yaml_file
from sim.paths import assets_dir

Provenance = Literal["live", "replay", "scored-log", "rescore"]
PROVENANCE_WORDS = {
    "live": "a live session in the trainer window",
    "replay": "a replay of an injection log through the window",
    "scored-log": "an injection log scored by mesosim score",
    "rescore": "a re-scored record",
}


class IntegritySpec(FileModel):
    hand_interval_s: Annotated[float, Field(gt=0, le=10)]
    gun_interval_s: Annotated[float, Field(gt=0, le=10)]
    fast_run: Annotated[int, Field(ge=1, le=1000)]
    timer_drift_fraction: Annotated[float, Field(gt=0, le=10)]
    timer_drift_min_s: Annotated[float, Field(ge=0, le=86400)]
    gap_s: Annotated[float, Field(gt=0, le=86400)]


@functools.lru_cache(maxsize=1)
def integrity_spec() -> IntegritySpec:
    return validate(IntegritySpec, load_yaml_file(assets_dir() / "integrity.yaml"))


def provenance_of(record: dict) -> str | None:
    """The record's provenance; records saved before they stated it: a scored log when their `source` says so,
    else None (not known)."""
    p = record.get("provenance")
    if isinstance(p, dict) and p.get("kind") in PROVENANCE_WORDS:
        return p["kind"]
    source = record.get("source")
    if isinstance(source, dict) and source.get("kind") == "injection log":
        return "scored-log"
    if isinstance(record.get("rescored_from"), dict):
        return "rescore"
    return None


def timing_findings(record: dict, spec: IntegritySpec | None = None) -> list[dict]:
    """Findings on the timing of a record's injections (rule "timing"): faster than a hand, a clock that stopped or
    ran backwards, a timer that disagrees with the clock, a gap while the program was not running. Verdict "fail"
    withholds an exam result; "warn" is for a person to look at."""
    spec = spec or integrity_spec()
    inj = record.get("injections") or []
    out: list[dict] = []
    walls = [r.get("wall_s") if isinstance(r, dict) else None for r in inj]
    if not inj:
        return out
    if any(not isinstance(w, (int, float)) or isinstance(w, bool) for w in walls):
        missing = sum(not isinstance(w, (int, float)) or isinstance(w, bool) for w in walls)
        out.append(_finding("fail", f"{missing} of {len(inj)} injections carry no time from the station's clock "
                                    "(wall_s): their timing cannot be checked"))
        return out
    steps = [b - a for a, b in zip(walls, walls[1:])]
    back = [i + 1 for i, d in enumerate(steps) if d < 0]
    if back:
        out.append(_finding("fail", f"the station's clock ran backwards at injection #{back[0] + 1}"
                                    + (f" and {len(back) - 1} more" if len(back) > 1 else "")))
    run, worst, at = 0, 0, 0
    for i, d in enumerate(steps):
        device = inj[i + 1].get("device", "hand")
        limit = spec.gun_interval_s if device == "gun" else spec.hand_interval_s
        run = run + 1 if 0 <= d < limit else 0
        if run > worst:
            worst, at = run, i + 2 - run
    if worst >= spec.fast_run:
        span = walls[-1] - walls[0]
        out.append(_finding("fail", f"{worst + 1} injections in a row from #{at} were placed less than "
                                    f"{spec.hand_interval_s:g} s apart, faster than a hand ({len(inj)} injections "
                                    f"in {span:.1f} s of the station's clock)"))
    timers = [r.get("t_s") for r in inj]
    if all(isinstance(t, (int, float)) and not isinstance(t, bool) for t in timers) and len(inj) > 1:
        # Only a timer ahead of the clock claims time that did not pass (a log's times, a timer set forward); one
        # behind it is a window that stalled (frames are counted at most 0.1 s each), which costs the trainee.
        timer_span, wall_span = timers[-1] - timers[0], walls[-1] - walls[0]
        ahead = timer_span - wall_span
        if ahead > max(spec.timer_drift_min_s, spec.timer_drift_fraction * max(timer_span, wall_span)):
            out.append(_finding("fail", f"the attempt's timer says {timer_span:.0f} s from the first injection to "
                                        f"the last, the station's clock {wall_span:.0f} s: a clock that stopped "
                                        "or was set"))
    for g in _resumes(record):
        if isinstance(g.get("gap_s"), (int, float)) and g["gap_s"] > spec.gap_s:
            out.append(_finding("warn", f"the program was not running for {g['gap_s']:.0f} s (resumed at "
                                        f"{g.get('at', '?')} after injection #{g.get('after', 0)}); the time limit "
                                        "counted that time"))
    return out


def _resumes(record: dict) -> list[dict]:
    p = record.get("provenance")
    found = p.get("resumed") if isinstance(p, dict) else None
    return [g for g in found if isinstance(g, dict)] if isinstance(found, list) else []


def _finding(verdict: str, message: str) -> dict:
    return {"rule": "timing", "verdict": verdict, "message": message, "source": "assets/integrity.yaml"}


def exam_standing(record: dict, verified: bool, timing: list[dict]) -> tuple[bool | None, str]:
    """(whether this is an exam result, the sentence to show). None for a practice attempt (nothing to say); an
    exam result needs a verified record of a live session whose timing holds."""
    if record.get("mode") != "exam":
        return None, ""
    kind = provenance_of(record)
    if kind != "live":
        what = PROVENANCE_WORDS.get(kind or "", "of unknown provenance (saved before records stated it)")
        return False, f"NOT an exam result: {what}"
    if not verified:
        return False, "NOT an exam result: the record is not verified"
    bad = [f for f in timing if f["verdict"] == "fail"]
    if bad:
        return False, f"NOT an exam result: implausible timing ({bad[0]['message']})"
    return True, "exam result: a live session" + (" (see the timing findings)" if timing else "")
