"""The score report of contract.md: a plain, deterministic dict, and its JSON and text forms."""

from __future__ import annotations

import json
import math

import numpy as np

from sim import __version__
from sim.core.scoring.config import VERDICTS
from sim.core.scoring.evaluation import Evaluation
from sim.core.scoring.text import rounded as _round
from sim.core.vocabulary import LAYERS

REPORT_VERSION = 1


def injection_entry(ev: Evaluation, i: int, verdict: int | None = None) -> dict:
    """One injection's settings, where it landed, its verdict and its findings."""
    inj = ev.injections
    region = int(ev.region[i])
    layer = int(ev.layer[i])
    entry = {
        "index": i,
        "x_mm": _round(inj.xy[i, 0]),
        "y_mm": _round(inj.xy[i, 1]),
        "depth_mm": _round(inj.depth_mm[i]),
        "angle_deg": _round(inj.angle_deg[i]),
        "volume_ml": _round(inj.volume_ml[i]),
        "technique": inj.technique_ids[int(inj.technique[i])],
        "bevel": "down" if inj.bevel_down[i] else "up",
        "device": "gun" if inj.gun[i] else "hand",
        "t_s": None if math.isnan(inj.t_s[i]) else _round(inj.t_s[i]),
        "region": ev.scenario.atlas.regions[region].id if region >= 0 else None,
        "layer": LAYERS[layer] if layer >= 0 else None,
        "verdict": VERDICTS[int(ev.verdict[i] if verdict is None else verdict)],
        "findings": [f.as_dict() for f in ev.findings(i)],
    }
    return entry


def build_report(ev: Evaluation) -> dict:
    scn = ev.scenario
    verdict = ev.verdict
    counts = np.bincount(verdict, minlength=4) if len(verdict) else np.zeros(4, dtype=int)
    criteria = [{**c, "score": _round(c["score"])} for c in ev.criteria()]
    attempt = sorted(ev.attempt_findings, key=lambda f: -VERDICTS.index(f.verdict))
    return {
        "report_version": REPORT_VERSION,
        "scenario": scn.id,
        "title": scn.spec.title,
        "map": scn.atlas.map,
        "variant": scn.atlas.variant,
        "mode": scn.spec.mode,
        "score": ev.score(),
        "pass_mark": scn.spec.pass_mark,
        "passed": ev.passed(),
        "done_right": _round(ev.share_right()),
        "competence_threshold": ev.competence_threshold(),
        "critical_findings": ev.critical_count(),
        "blocking_failures": ev.blocking_failures(),
        "summary": {
            "injections": len(ev.injections),
            "verdicts": {name: int(counts[k]) for k, name in enumerate(VERDICTS)},
            "total_volume_ml": _round(ev.measures["total_volume_ml"] or 0.0),
            "coverage": None if ev.measures["coverage"] is None else _round(ev.measures["coverage"]),
            "duration_s": None if ev.measures["duration_s"] is None else _round(ev.measures["duration_s"]),
        },
        "criteria": criteria,
        "injections": [injection_entry(ev, i, int(verdict[i])) for i in range(len(ev.injections))],
        "attempt_findings": [f.as_dict() for f in attempt],
        "specs": {
            "scenario_sha256": scn.digest,
            "atlas_sha256": scn.atlas.digest,
            "techniques_sha256": ev.library.digest,
            "scoring_sha256": ev.config.digest,
        },
        "scorer": {"name": "mesosim", "version": __version__},
    }


def to_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_text(report: dict) -> str:
    """A report a trainee or assessor reads in a terminal: the verdict first, critical findings first."""
    lines = []
    status = "PASSED" if report["passed"] else "NOT PASSED"
    lines.append(f"{report['title']} ({report['scenario']}, {report['map']}, {report['mode']})")
    lines.append(f"Score {report['score']:.1f} / 100, pass mark {report['pass_mark']:g}: {status}")
    if "done_right" in report:
        lines.append(f"{100 * report['done_right']:.0f} % of the injections done right; "
                     f"{100 * report['competence_threshold']:.0f} % needed")
    s = report["summary"]
    v = s["verdicts"]
    parts = [f"{s['injections']} injections", f"{v['ok']} ok, {v['warn']} warn, {v['fail']} fail, "
             f"{v['critical']} critical", f"{s['total_volume_ml']:g} ml in all"]
    if s["coverage"] is not None:
        parts.append(f"coverage {100 * s['coverage']:.0f} %")
    if s["duration_s"] is not None:
        parts.append(f"{s['duration_s']:.0f} s")
    lines.append("; ".join(parts))
    if report["critical_findings"]:
        lines.append(f"{report['critical_findings']} critical finding(s): the attempt does not pass, whatever its score.")
    if report.get("blocking_failures"):
        lines.append(f"Not met: {', '.join(report['blocking_failures'])}: the attempt does not pass, whatever its "
                     "score.")
    if "done_right" in report and report["done_right"] < report["competence_threshold"]:
        lines.append("Too few injections done right: the attempt does not pass, whatever its score.")
    lines.append("")
    lines.append("Criteria:")
    for c in report["criteria"]:
        how = (f"weight {c['weight']:g}" if c["weight"] else
               "significant" if c.get("significant") else "advice only")
        lines.append(f"  {c['rule']:<13} {100 * c['score']:5.1f} %  ({how})")
    rank = {name: i for i, name in enumerate(VERDICTS)}
    if report["attempt_findings"]:
        lines.append("")
        lines.append("Attempt:")
        for f in report["attempt_findings"]:
            lines.append(f"  [{f['verdict']}] {f['rule']}: {f['message']} ({f['source']})")
    flagged = [e for e in report["injections"] if e["findings"]]
    if flagged:
        lines.append("")
        lines.append("Injections (worst first):")
        flagged.sort(key=lambda e: (-rank[e["verdict"]], e["index"]))
        for e in flagged:
            where = e["region"] or "off the map"
            lines.append(f"  #{e['index'] + 1} at ({e['x_mm']:g}, {e['y_mm']:g}) mm, {where}, {e['technique']}: "
                         f"{e['verdict']}")
            for f in sorted(e["findings"], key=lambda f: -rank[f["verdict"]]):
                lines.append(f"      [{f['verdict']}] {f['rule']}: {f['message']} ({f['source']})")
    return "\n".join(lines) + "\n"
