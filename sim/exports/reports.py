"""Score reports for assessors: PDF, HTML, CSV (per injection, and a cohort row per attempt), JSON and xAPI.

Every report says whether each record's signature was verified. Text a trainee typed (the name) is escaped in
HTML, neutralised in CSV (a cell a spreadsheet would execute gets a leading apostrophe), and set as plain text in
the PDF. The map picture is drawn with pygame off-screen, so this module is on the user-interface side of sim/.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError
from sim.core.records.model import normalized
from sim.core.records.signing import read_record, verify

VERDICT_HEX = {"ok": "#1E9650", "warn": "#B07800", "fail": "#D73C28", "critical": "#961478"}
XAPI_VERSION = "1.0.3"
VERBS = {
    "attempted": "http://adlnet.gov/expapi/verbs/attempted",
    "completed": "http://adlnet.gov/expapi/verbs/completed",
    "passed": "http://adlnet.gov/expapi/verbs/passed",
    "failed": "http://adlnet.gov/expapi/verbs/failed",
}


@dataclass
class Loaded:
    path: str
    record: dict
    verified: bool
    why: str

    @property
    def status(self) -> str:
        return "signature verified" if self.verified else f"signature NOT verified: {self.why}"


def load(paths) -> list[Loaded]:
    out, problems = [], []
    for p in paths:
        try:
            rec = read_record(p)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        try:
            ok, why = verify(rec)
        except InputError as exc:
            ok, why = False, exc.problems[0].message
        out.append(Loaded(str(p), normalized(rec), ok, why))
    if problems:
        raise InputError(problems)
    return out


# ---------------------------------------------------------------- CSV

def safe_cell(value):
    """A cell a spreadsheet will show, never run: text starting with = + - @ (or a tab / carriage return) gets a
    leading apostrophe. Numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


INJECTION_COLUMNS = ["record", "signature", "trainee", "scenario", "mode", "started", "index", "x_mm", "y_mm",
                     "depth_mm", "angle_deg", "volume_ml", "technique", "bevel", "device", "t_s", "region", "layer",
                     "verdict", "findings", "sources"]
COHORT_COLUMNS = ["record", "signature", "trainee", "scenario", "title", "mode", "started", "ended", "score",
                  "pass_mark", "passed", "critical_findings", "injections"]


def _csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: safe_cell(row.get(k)) for k in columns})
    return buf.getvalue()


def to_csv(items: list[Loaded]) -> str:
    rows = []
    for it in items:
        rec, rep = it.record, it.record["report"]
        for e in rep["injections"]:
            rows.append({"record": it.path, "signature": "verified" if it.verified else "NOT verified",
                         "trainee": rec.get("trainee", ""), "scenario": rep["scenario"], "mode": rec.get("mode"),
                         "started": rec.get("started"), **{k: e.get(k) for k in INJECTION_COLUMNS[6:19]},
                         "findings": " | ".join(f"{f['rule']} ({f['verdict']}): {f['message']}"
                                                for f in e["findings"]),
                         "sources": " | ".join(f["source"] for f in e["findings"])})
    return _csv(rows, INJECTION_COLUMNS)


def cohort_rows(items: list[Loaded]) -> list[dict]:
    rows = []
    for it in items:
        rec, rep = it.record, it.record["report"]
        rows.append({"record": it.path, "signature": "verified" if it.verified else "NOT verified",
                     "trainee": rec.get("trainee", ""), "scenario": rep["scenario"], "title": rep.get("title"),
                     "mode": rec.get("mode"), "started": rec.get("started"), "ended": rec.get("ended"),
                     "score": rep["score"], "pass_mark": rep["pass_mark"], "passed": rep["passed"],
                     "critical_findings": rep["critical_findings"], "injections": len(rep["injections"])})
    return rows


def to_cohort_csv(items: list[Loaded]) -> str:
    return _csv(cohort_rows(items), COHORT_COLUMNS)


# ---------------------------------------------------------------- JSON and xAPI

def to_json(items: list[Loaded]) -> str:
    reports = [it.record["report"] for it in items]
    return json.dumps(reports[0] if len(reports) == 1 else reports, indent=2, ensure_ascii=False) + "\n"


def _duration(rep: dict) -> str | None:
    d = (rep.get("summary") or {}).get("duration_s")
    return None if d is None else f"PT{round(float(d), 2):g}S"


def xapi_statements(items: list[Loaded]) -> list[dict]:
    """xAPI 1.0.3 statements for each attempt: attempted, completed, then passed or failed."""
    out = []
    for it in items:
        rec, rep = it.record, it.record["report"]
        name = rec.get("trainee") or "(no name)"
        actor = {"objectType": "Agent", "name": name, "account": {"homePage": "urn:mesosim", "name": name}}
        activity = {"objectType": "Activity", "id": f"urn:mesosim:scenario:{rep['scenario']}",
                    "definition": {"name": {"en-US": rep.get("title", rep["scenario"])},
                                   "type": "http://adlnet.gov/expapi/activities/simulation"}}
        seed = (rec.get("signature") or {}).get("value") or json.dumps(rec, sort_keys=True)
        result = {"score": {"scaled": round(rep["score"] / 100.0, 4), "raw": rep["score"], "min": 0, "max": 100},
                  "success": bool(rep["passed"]), "completion": True,
                  "extensions": {f"urn:mesosim:criterion:{c['rule']}": c["score"] for c in rep["criteria"]}}
        if _duration(rep):
            result["duration"] = _duration(rep)
        stamp = rec.get("ended") or rec.get("started")
        for verb in ("attempted", "completed", "passed" if rep["passed"] else "failed"):
            st = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"urn:mesosim:{seed}:{verb}")), "version": XAPI_VERSION,
                  "actor": actor, "verb": {"id": VERBS[verb], "display": {"en-US": verb}}, "object": activity,
                  "context": {"extensions": {"urn:mesosim:signature": "verified" if it.verified else "not verified",
                                             "urn:mesosim:mode": rec.get("mode")}}}
            if verb != "attempted":
                st["result"] = result
            if stamp:
                st["timestamp"] = stamp
            out.append(st)
    return out


def post_statements(statements: list[dict], lrs: str, auth: str | None, timeout: float = 30.0) -> int:
    """POST the statements to a Learning Record Store (`lrs` is its endpoint, `auth` is "user:password").
    Returns the HTTP status."""
    import urllib.error
    import urllib.request

    url = lrs.rstrip("/") + "/statements"
    if not url.startswith(("http://", "https://")):
        raise InputError.one("--lrs", f'"{lrs}" is not an http(s) address')
    req = urllib.request.Request(url, data=json.dumps(statements).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    req.add_header("X-Experience-API-Version", XAPI_VERSION)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        raise InputError.one("--lrs", f"the record store refused the statements: HTTP {exc.code} {exc.reason}") \
            from None
    except (urllib.error.URLError, OSError) as exc:
        raise InputError.one("--lrs", f"cannot reach the record store at {url}: {exc}") from None


# ---------------------------------------------------------------- the map picture

def attempt_png(record: dict, size=(900, 900)) -> bytes | None:
    """The scenario's map with every injection numbered and marked by verdict (colour and shape), and the danger
    structures; None when the scenario cannot be found any more."""
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import numpy as np
    import pygame

    from sim.core.exercise.scenario import load_scenario
    from sim.ui import style
    from sim.ui.mapview import MapView

    ref = record.get("scenario", {})
    scn = None
    for candidate in (ref.get("file"), ref.get("id")):
        if candidate:
            try:
                scn = load_scenario(candidate)
                break
            except InputError:
                continue
    if scn is None:
        return None
    pygame.font.init()
    surf = pygame.Surface(size)
    view = MapView(scn, pygame.Rect(0, 0, *size))
    view.show_danger = True
    view.draw(surf)
    entries = record["report"]["injections"]
    if entries:
        pts = view.to_px(np.array([[e["x_mm"], e["y_mm"]] for e in entries]))
        for e, p in zip(entries, pts):
            style.mark(surf, e["verdict"], p, 5, e["index"] + 1 if len(entries) <= 150 else None)
    buf = io.BytesIO()
    pygame.image.save(surf, buf, "png")
    return buf.getvalue()


# ---------------------------------------------------------------- HTML

def to_html(items: list[Loaded]) -> str:
    e = html.escape
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>mesosim score report</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#212529}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
             ".ok{color:#1E9650}.warn{color:#B07800}.fail{color:#D73C28}.critical{color:#961478;font-weight:bold}"
             ".muted{color:#6C757D}@media print{section{page-break-after:always}}</style></head><body>"]
    for it in items:
        rec, rep = it.record, it.record["report"]
        parts.append("<section>")
        parts.append(f"<h1>{e(rep.get('title', rep['scenario']))}</h1>")
        parts.append(f"<p>Trainee: <b>{e(rec.get('trainee') or '(no name)')}</b> &middot; mode {e(str(rec.get('mode')))}"
                     f" &middot; {e(str(rec.get('started') or ''))} &middot; "
                     f"<span class='{'ok' if it.verified else 'critical'}'>{e(it.status)}</span></p>")
        verdict = "PASSED" if rep["passed"] else "NOT PASSED"
        parts.append(f"<h2>{rep['score']:.1f} / 100 &middot; <span class='{'ok' if rep['passed'] else 'fail'}'>"
                     f"{verdict}</span> <span class='muted'>(pass mark {rep['pass_mark']:g}; "
                     f"{rep['critical_findings']} critical finding(s))</span></h2>")
        png = attempt_png(rec)
        if png:
            parts.append(f"<p><img alt='map with numbered injections' width='600' "
                         f"src='data:image/png;base64,{base64.b64encode(png).decode()}'></p>")
        parts.append("<h3>Criteria</h3><table><tr><th>criterion</th><th>weight</th><th>score</th></tr>")
        for c in rep["criteria"]:
            parts.append(f"<tr><td>{e(c['rule'])}</td><td>{c['weight']:g}</td><td>{c['score'] * 100:.0f} %</td></tr>")
        parts.append("</table>")
        crit = [(x["index"], f) for x in rep["injections"] for f in x["findings"] if f["verdict"] == "critical"]
        if crit or any(f["verdict"] == "critical" for f in rep["attempt_findings"]):
            parts.append("<h3 class='critical'>Critical findings</h3><ul>")
            for i, f in crit:
                parts.append(f"<li>#{i + 1}: {e(f['message'])} <span class='muted'>({e(f['source'])})</span></li>")
            parts.append("</ul>")
        if rep["attempt_findings"]:
            parts.append("<h3>The attempt</h3><ul>")
            for f in rep["attempt_findings"]:
                parts.append(f"<li class='{f['verdict']}'>{e(f['rule'])}: {e(f['message'])} "
                             f"<span class='muted'>({e(f.get('source', ''))})</span></li>")
            parts.append("</ul>")
        parts.append("<h3>Every injection</h3><table><tr><th>#</th><th>technique</th><th>at (mm)</th><th>depth</th>"
                     "<th>angle</th><th>volume</th><th>region</th><th>verdict</th><th>findings</th></tr>")
        for x in rep["injections"]:
            fs = "<br>".join(f"<span class='{f['verdict']}'>{e(f['rule'])}</span>: {e(f['message'])} "
                             f"<span class='muted'>({e(f['source'])})</span>" for f in x["findings"])
            parts.append(f"<tr><td>{x['index'] + 1}</td><td>{e(x['technique'])}</td><td>({x['x_mm']:g}, "
                         f"{x['y_mm']:g})</td><td>{x['depth_mm']:g} mm</td><td>{x['angle_deg']:g}&deg;</td>"
                         f"<td>{x['volume_ml']:g} ml</td><td>{e(str(x.get('region') or 'off the map'))}</td>"
                         f"<td class='{x['verdict']}'>{x['verdict']}</td><td>{fs}</td></tr>")
        parts.append("</table></section>")
    parts.append("</body></html>\n")
    return "".join(parts)


# ---------------------------------------------------------------- PDF

def _fonts():
    from importlib.resources import files

    data = files("pygame_gui") / "data"
    return str(data / "NotoSans-Regular.ttf"), str(data / "NotoSans-Bold.ttf")


def to_pdf(items: list[Loaded]) -> bytes:
    from fpdf import FPDF

    regular, bold = _fonts()
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_font("Noto", "", regular)
    pdf.add_font("Noto", "B", bold)
    rgb = {k: tuple(int(v[i:i + 2], 16) for i in (1, 3, 5)) for k, v in VERDICT_HEX.items()}
    width = 180
    for it in items:
        rec, rep = it.record, it.record["report"]
        pdf.add_page()
        pdf.set_font("Noto", "B", 16)
        pdf.multi_cell(width, 8, rep.get("title", rep["scenario"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Noto", "", 10)
        pdf.multi_cell(width, 5, f"Trainee: {rec.get('trainee') or '(no name)'}   Mode: {rec.get('mode')}   "
                                 f"Started: {rec.get('started') or '-'}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*(rgb["ok"] if it.verified else rgb["critical"]))
        pdf.multi_cell(width, 5, it.status.capitalize(), new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.set_font("Noto", "B", 14)
        verdict = "PASSED" if rep["passed"] else "NOT PASSED"
        pdf.multi_cell(width, 8, f"Score {rep['score']:.1f} / 100 - {verdict} (pass mark {rep['pass_mark']:g}; "
                                 f"{rep['critical_findings']} critical finding(s))", new_x="LMARGIN", new_y="NEXT")
        png = attempt_png(rec, (800, 800))
        if png:
            pdf.image(io.BytesIO(png), x=15, w=95)
        y_after_map = pdf.get_y()
        pdf.set_xy(115, y_after_map - 95 if png else pdf.get_y())
        pdf.set_font("Noto", "B", 11)
        pdf.cell(80, 6, "Criteria", new_x="LEFT", new_y="NEXT")
        pdf.set_font("Noto", "", 10)
        for c in rep["criteria"]:
            pdf.set_x(115)
            pdf.cell(40, 5, c["rule"])
            pdf.cell(20, 5, f"x{c['weight']:g}")
            pdf.cell(20, 5, f"{c['score'] * 100:.0f} %", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y_after_map) + 4)
        crit = [(x["index"], f) for x in rep["injections"] for f in x["findings"] if f["verdict"] == "critical"]
        crit += [(None, f) for f in rep["attempt_findings"] if f["verdict"] == "critical"]
        if crit:
            pdf.set_font("Noto", "B", 12)
            pdf.set_text_color(*rgb["critical"])
            pdf.multi_cell(width, 7, "Critical findings", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Noto", "", 10)
            for i, f in crit:
                where = f"#{i + 1}: " if i is not None else ""
                pdf.multi_cell(width, 5, f"{where}{f['message']} ({f['source']})", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
        if rep["attempt_findings"]:
            pdf.set_font("Noto", "B", 12)
            pdf.multi_cell(width, 7, "The attempt", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("Noto", "", 10)
            for f in rep["attempt_findings"]:
                pdf.multi_cell(width, 5, f"[{f['verdict']}] {f['rule']}: {f['message']}", new_x="LMARGIN",
                               new_y="NEXT")
        pdf.set_font("Noto", "B", 12)
        pdf.multi_cell(width, 7, "Every injection", new_x="LMARGIN", new_y="NEXT")
        for x in rep["injections"]:
            pdf.set_font("Noto", "B", 10)
            pdf.set_text_color(*rgb[x["verdict"]])
            pdf.multi_cell(width, 5, f"#{x['index'] + 1} {x['verdict']}: {x['technique']} at ({x['x_mm']:g}, "
                                     f"{x['y_mm']:g}) mm, {x['depth_mm']:g} mm, {x['angle_deg']:g} deg, "
                                     f"{x['volume_ml']:g} ml, {x.get('region') or 'off the map'}",
                           new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
            pdf.set_font("Noto", "", 9)
            for f in x["findings"]:
                pdf.set_x(20)
                pdf.multi_cell(width - 5, 4.5, f"{f['rule']} ({f['verdict']}): {f['message']} Source: {f['source']}",
                               new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def write(items: list[Loaded], fmt: str, out: str | None) -> None:
    import sys

    if fmt == "pdf":
        data: bytes | str = to_pdf(items)
    elif fmt == "html":
        data = to_html(items)
    elif fmt == "csv":
        data = to_csv(items)
    elif fmt == "cohort-csv":
        data = to_cohort_csv(items)
    elif fmt == "json":
        data = to_json(items)
    else:
        data = json.dumps(xapi_statements(items), indent=2, ensure_ascii=False) + "\n"
    if out in (None, "-"):
        if isinstance(data, bytes):
            raise InputError.one("-o", "a PDF needs an output file: -o REPORT.pdf")
        sys.stdout.write(data)
        return
    try:
        Path(out).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    except OSError as exc:
        raise InputError.one(out, f"cannot write: {exc.strerror or exc}") from None


__all__ = ["load", "write", "to_csv", "to_cohort_csv", "to_html", "to_pdf", "to_json", "xapi_statements",
           "post_statements", "safe_cell"]


# ---------------------------------------------------------------- cohort

def cohort_summary(rows: list[dict], records: list[dict]) -> dict:
    """Per trainee: attempts over time; per scenario: pass rate; and the most common findings."""
    from collections import Counter, defaultdict

    by_trainee: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_trainee[r["trainee"]].append(r)
    by_scenario: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        by_scenario[r["scenario"]].append(bool(r["passed"]))
    findings: Counter = Counter()
    for rec in records:
        for e in rec["report"]["injections"]:
            for f in e["findings"]:
                findings[(f["rule"], f["verdict"], f.get("structure") or "")] += 1
        for f in rec["report"]["attempt_findings"]:
            findings[(f["rule"], f["verdict"], "")] += 1
    return {
        "trainees": {t: [{"when": r.get("ended") or r.get("started") or r.get("added"), "scenario": r["scenario"],
                          "score": r["score"], "passed": bool(r["passed"])} for r in rs]
                     for t, rs in sorted(by_trainee.items())},
        "pass_rates": {s: {"attempts": len(v), "passed": sum(v), "rate": round(sum(v) / len(v), 4)}
                       for s, v in sorted(by_scenario.items())},
        "common_findings": [{"rule": k[0], "verdict": k[1], "structure": k[2], "count": n}
                            for k, n in sorted(findings.items(), key=lambda kv: (-kv[1], kv[0]))[:15]],
    }


def cohort_csv(rows: list[dict]) -> str:
    cols = ["trainee", "scenario", "title", "mode", "started", "ended", "score", "passed", "critical", "injections",
            "signed"]
    return _csv(rows, cols)


def cohort_pdf(summary: dict) -> bytes:
    from fpdf import FPDF

    regular, bold = _fonts()
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("Noto", "", regular)
    pdf.add_font("Noto", "B", bold)
    pdf.add_page()
    pdf.set_font("Noto", "B", 16)
    pdf.cell(0, 9, "Cohort report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "B", 12)
    pdf.cell(0, 8, "Pass rate per exercise", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 10)
    for sid, pr in summary["pass_rates"].items():
        pdf.cell(90, 5, sid)
        pdf.cell(40, 5, f"{pr['passed']} of {pr['attempts']}")
        pdf.cell(30, 5, f"{pr['rate'] * 100:.0f} %", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Noto", "B", 12)
    pdf.cell(0, 8, "Most common findings", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Noto", "", 10)
    for f in summary["common_findings"]:
        what = f"{f['rule']} ({f['verdict']})" + (f" - {f['structure']}" if f["structure"] else "")
        pdf.cell(130, 5, what)
        pdf.cell(30, 5, str(f["count"]), new_x="LMARGIN", new_y="NEXT")
    for trainee, attempts in summary["trainees"].items():
        pdf.add_page()
        pdf.set_font("Noto", "B", 14)
        pdf.multi_cell(0, 8, f"Learning curve: {trainee}", new_x="LMARGIN", new_y="NEXT")
        x0, y0, w, h = 25, pdf.get_y() + 4, 165, 80
        pdf.set_draw_color(120, 120, 120)
        pdf.rect(x0, y0, w, h)
        pdf.set_font("Noto", "", 8)
        for score in (0, 50, 100):
            y = y0 + h - h * score / 100
            pdf.text(x0 - 8, y + 1, str(score))
            pdf.set_draw_color(225, 225, 225)
            pdf.line(x0, y, x0 + w, y)
        n = len(attempts)
        pts = [(x0 + (w * (i + 0.5) / n), y0 + h - h * a["score"] / 100) for i, a in enumerate(attempts)]
        pdf.set_draw_color(36, 99, 171)
        pdf.set_line_width(0.6)
        for a, b in zip(pts, pts[1:]):
            pdf.line(*a, *b)
        pdf.set_line_width(0.2)
        for (x, y), a in zip(pts, attempts):
            pdf.set_fill_color(*((30, 150, 80) if a["passed"] else (215, 60, 40)))
            pdf.ellipse(x - 1.2, y - 1.2, 2.4, 2.4, style="F")
        pdf.set_y(y0 + h + 6)
        pdf.set_font("Noto", "", 9)
        for i, a in enumerate(attempts):
            pdf.cell(10, 5, str(i + 1))
            pdf.cell(55, 5, str(a["when"] or "")[:19])
            pdf.cell(70, 5, a["scenario"])
            pdf.cell(20, 5, f"{a['score']:.1f}")
            pdf.cell(20, 5, "passed" if a["passed"] else "not passed", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
