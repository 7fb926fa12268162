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


def _column(values: np.ndarray) -> list:
    """A column of measured values as the report gives them (rounded; None for NaN), built at once."""
    return [None if v != v else _round(v) for v in np.asarray(values, dtype=np.float64).tolist()]


def injection_entries(ev: Evaluation) -> list[dict]:
    """Every injection's entry (injection_entry), column by column: the findings are explained only for the
    injections that have any."""
    inj = ev.injections
    n = len(inj)
    if not n:
        return []
    regions = ev.scenario.atlas.regions
    region_names = [r.id for r in regions] + [None]  # index -1: off the map
    layer_names = list(LAYERS) + [None]
    verdict = ev.verdict
    xs, ys = _column(inj.xy[:, 0]), _column(inj.xy[:, 1])
    depth, angle, volume, t_s = (_column(inj.depth_mm), _column(inj.angle_deg), _column(inj.volume_ml),
                                 _column(inj.t_s))
    technique = [inj.technique_ids[k] for k in inj.technique.tolist()]
    bevel = ["down" if b else "up" for b in inj.bevel_down.tolist()]
    device = ["gun" if g else "hand" for g in inj.gun.tolist()]
    region = [region_names[r] for r in ev.region.tolist()]
    layer = [layer_names[k] for k in ev.layer.tolist()]
    names = [VERDICTS[v] for v in verdict.tolist()]
    findings: list[list] = [[] for _ in range(n)]
    for i in np.flatnonzero(verdict > 0).tolist():
        findings[i] = [f.as_dict() for f in ev.findings(i)]
    return [{"index": i, "x_mm": xs[i], "y_mm": ys[i], "depth_mm": depth[i], "angle_deg": angle[i],
             "volume_ml": volume[i], "technique": technique[i], "bevel": bevel[i], "device": device[i],
             "t_s": t_s[i], "region": region[i], "layer": layer[i], "verdict": names[i], "findings": findings[i]}
            for i in range(n)]


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
        "injections": injection_entries(ev),
        "attempt_findings": [f.as_dict() for f in attempt],
        "specs": {
            "scenario_sha256": scn.digest,
            "atlas_sha256": scn.atlas.digest,
            "techniques_sha256": ev.library.digest,
            "scoring_sha256": ev.config.digest,
        },
        "scorer": {"name": "mesosim", "version": __version__},
    }


def to_json(report: dict | list) -> str:
    """The report (or a list of them) as JSON, indented by two spaces; orjson writes the same text as the standard library's encoder
    (indent=2, ensure_ascii=False) several times faster, which a report of 10^5 injections needs."""
    try:
        import orjson
    except ImportError:  # the standard library's encoder gives the same text, slower
        return json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return orjson.dumps(report, option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


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
