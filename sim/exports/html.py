"""The score report as one HTML page per attempt, the map inlined as SVG. Text a trainee typed is escaped."""

from __future__ import annotations

import html

from sim.exports.mapsvg import map_svg
from sim.session import LoadedRecord, find_exercise
from sim.errors import InputError


def to_html(items: list[LoadedRecord]) -> str:
    e = html.escape
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'><title>mesosim score report</title>",
             "<style>body{font-family:'Noto Sans',sans-serif;max-width:60em;margin:2em auto;color:#212529}figure svg{width:100%;max-width:600px;height:auto}"
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
        if it.exam is False and rep["passed"]:
            verdict = "PASSED, NOT AN EXAM RESULT"
        if it.standing:
            parts.append(f"<p class='{'ok' if it.exam else 'critical'}'>{e(it.standing)}</p>")
        parts.append(f"<h2><span class='{'ok' if it.verified else 'critical'}'>{it.marker}</span> &middot; "
                     f"{rep['score']:.1f} / 100 &middot; <span class='{'ok' if rep['passed'] else 'fail'}'>"
                     f"{verdict}</span> <span class='muted'>(pass mark {rep['pass_mark']:g}; "
                     f"{rep['critical_findings']} critical finding(s))</span></h2>")
        try:
            parts.append(f"<figure>{map_svg(find_exercise(rec), rep['injections'])}</figure>")
        except InputError:
            parts.append("<p class='muted'>The map cannot be drawn: the exercise file of this record is no longer "
                         "here.</p>")
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
