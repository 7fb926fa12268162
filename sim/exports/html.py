"""The score report as one self-contained HTML page: for several attempts an index first; for each attempt the
same reading order as the PDF (sim/exports/digest.py): the verdict, score and pass mark, the signature, the
screening decision, the criteria as bars, the map zoomed to the worked area (inline SVG, vectors) with its
legend, the findings grouped, every injection. Everything a trainee typed, and every message, is escaped."""

from __future__ import annotations

import html

from sim.exports.digest import Digest, digest, failed_rules
from sim.exports.mapsvg import MARK_WORDS, frame_of, legend_svg, map_svg, worked_frame
from sim.session import LoadedRecord

STYLE = """
body{font-family:'Noto Sans',sans-serif;max-width:62em;margin:1.5em auto;padding:0 1em;color:#212529;line-height:1.4}
.running{display:flex;justify-content:space-between;font-size:.8em;color:#6c757d;border-bottom:1px solid #d2d6da;
 padding-bottom:.2em}
h1{font-size:1.6em;margin:.4em 0 .1em}h2{font-size:1.25em;margin:1.2em 0 .3em}h3{font-size:1em;margin:.6em 0 .2em}
.meta,.muted{color:#6c757d}.meta{font-size:.85em;margin:0 0 .8em}
.band{padding:.6em 1em;border-radius:4px}.band.passed{background:#e3f4ea}.band.failed{background:#fbe5e1}
.band .top{display:flex;justify-content:space-between;align-items:baseline;flex-wrap:wrap}
.verdict{font-size:2em;font-weight:bold}.passed .verdict{color:#1e9650}.failed .verdict{color:#d73c28}
.score{font-size:1.3em;font-weight:bold}.band ul{margin:.3em 0;padding-left:1.2em}
.sig{font-weight:bold}.sig.ok{color:#1e9650}.sig.bad{color:#961478}
.screening{margin:.8em 0}.screening b{margin-right:.6em}
.bars{display:flex;gap:2em;flex-wrap:wrap}.bars table{border-collapse:collapse;font-size:.85em}
.bars td{padding:1px 4px;white-space:nowrap}.track{width:9em;height:.7em;background:#e9ecef;position:relative}
.track.blocking{outline:1.5px solid #212529}.fill{height:100%}.fill.ok{background:#1e9650}.fill.warn{background:#e6a000}
.fill.fail{background:#d73c28}.note{color:#6c757d;font-size:.9em}.note.notmet{color:#d73c28;font-weight:bold}
tr.notmet td:first-child{color:#d73c28;font-weight:bold}
figure.map{margin:1em 0}figure.map svg.map{width:100%;height:auto;border:1px solid #d2d6da}
figcaption{display:flex;gap:1.5em;align-items:flex-start;font-size:.8em;color:#6c757d}
figcaption svg.legend{width:16em;height:auto;flex:none}
.gone{color:#d73c28;font-weight:bold}
.group{margin:.5em 0 .8em}.group h3{margin:0}.group p{margin:.1em 0 0 1.2em}.group .muted{font-size:.85em}
.ok{color:#1e9650}.warn{color:#b07800}.fail{color:#d73c28}.critical{color:#961478}
table.injections,table.index{border-collapse:collapse;font-size:.8em;width:100%}
table.injections th,table.injections td,table.index th,table.index td{padding:1px 6px;text-align:left}
table.injections tr:nth-child(even),table.index tr:nth-child(even){background:#f4f6f8}
table td.n,table th.n{text-align:right;font-variant-numeric:tabular-nums}
@media print{section.attempt{page-break-before:always}}
"""

MAP_WIDTH_MM = 180.0
"""The width the map is drawn for [mm]: marks and numbers are sized as on the PDF's page."""


def to_html(items: list[LoadedRecord]) -> str:
    digests = [digest(it) for it in items]
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             f"<title>mesosim score report{'s' if len(digests) > 1 else ''}</title><style>{STYLE}</style></head><body>"]
    if len(digests) > 1:
        parts.append(_index(digests))
    for k, d in enumerate(digests):
        parts.append(_attempt(d, k))
    parts.append("</body></html>\n")
    return "".join(parts)


def _sig(d: Digest) -> str:
    e = html.escape
    return f"<span class='sig {'ok' if d.signature_ok else 'bad'}'>{e(d.signature)}</span>"


def _index(digests: list[Digest]) -> str:
    e = html.escape
    bad = sum(not d.signature_ok for d in digests)
    passed = sum(d.passed for d in digests)
    rows = "".join(
        f"<tr><td class='n'>{k + 1}</td><td><a href='#attempt-{k + 1}'>{e(d.trainee)}</a></td><td>{e(d.title)}</td>"
        f"<td>{e(d.date)}</td><td class='n'>{d.score:.1f}</td>"
        f"<td class='{'ok' if d.passed else 'fail'}'>{'passed' if d.passed else 'NOT passed'}</td>"
        f"<td class='{'ok' if d.signature_ok else 'critical'}'>{'verified' if d.signature_ok else 'NOT verified'}</td></tr>"
        for k, d in enumerate(digests))
    return (f"<section class='index'><h1>Score reports: {len(digests)} attempts</h1>"
            f"<p class='meta'>{passed} passed, {len(digests) - passed} not passed; "
            + (f"{bad} record(s) whose signature is NOT verified." if bad else "every signature verified.")
            + "</p><table class='index'><tr><th class='n'>#</th><th>trainee</th><th>exercise</th><th>date</th>"
            f"<th class='n'>score</th><th>passed</th><th>signature</th></tr>{rows}</table></section>")


def _attempt(d: Digest, k: int) -> str:
    e = html.escape
    out = [f"<section class='attempt' id='attempt-{k + 1}'>",
           f"<div class='running'><span>{e(d.trainee)} · {e(d.title)} · {e(d.date)}</span>{_sig(d)}</div>",
           f"<h1>{e(d.title)}</h1>",
           f"<p class='meta'>Trainee {e(d.trainee)} · exercise {e(d.scenario_id)} ({e(d.mode)}) · {e(d.date)} · "
           f"record {e(d.item.path)}</p>",
           f"<div class='band {'passed' if d.passed else 'failed'}'><div class='top'><span class='verdict'>{d.verdict}"
           f"</span><span class='score'>Score {d.score:.1f} / 100 · pass mark {d.pass_mark:g}</span></div><ul>"
           + "".join(f"<li>{e(r)}</li>" for r in d.reasons) + f"</ul>{_sig(d)}"
           + ("" if d.signature_ok else " <span class='sig bad'>: this record may have been changed</span>")
           + "</div>",
           f"<p class='screening {e(d.screening_verdict or '')}'><b>Screening</b>{e(d.screening)}</p>",
           _bars(d), _map(d), _groups(d), _table(d), "</section>"]
    return "".join(out)


def _bars(d: Digest) -> str:
    e = html.escape
    cols = []
    for title, bars in (("Parts of the score", [b for b in d.bars if b.part]),
                        ("Checked for every injection", [b for b in d.bars if not b.part])):
        if not bars:
            continue
        rows = "".join(
            f"<tr class='{'notmet' if b.not_met else ''}'><td>{e(b.words)}</td>"
            f"<td><div class='track{' blocking' if b.blocking else ''}'><div class='fill {b.status}' "
            f"style='width:{100 * min(1.0, b.score):.1f}%'></div></div></td><td class='n'>{100 * b.score:.0f} %</td>"
            f"<td class='note{' notmet' if b.not_met else ''}'>{e(b.note)}</td></tr>" for b in bars)
        cols.append(f"<div><h3>{title}</h3><table>{rows}</table></div>")
    return ("<h2>Criteria</h2><div class='bars'>" + "".join(cols) + "</div><p class='muted' style='font-size:.8em'>"
            "A framed bar is a blocking criterion: an attempt that does not meet it cannot pass. NOT MET: it stands "
            "in the way of a pass. Advice only: it does not count towards an injection done right here.</p>")


def _map(d: Digest) -> str:
    import numpy as np

    from sim.exports.pdf import NUMBER_PT, PT, mark_radius

    if d.exercise is None:
        return f"<p class='gone'>{html.escape(d.gone or '')}</p>"
    frame = worked_frame(d.exercise, d.entries, MAP_WIDTH_MM / 150.0)
    k = MAP_WIDTH_MM / frame.width  # page mm per map mm, as on the PDF
    full = frame_of(d.exercise)
    xy = np.array([full.point(e["x_mm"], e["y_mm"]) for e in d.entries], dtype=float).reshape(-1, 2) * k
    svg = map_svg(d.exercise, d.entries, numbers=True, frame=frame, mark_mm=mark_radius(xy) / k,
                  font_mm=NUMBER_PT * PT / 0.75 / k)
    svg = svg.replace("<svg ", "<svg class='map' role='img' aria-label='the map of the attempt' ", 1)
    shown = svg.count("</text>")
    severities = [s for s in ("critical", "high", "moderate", "low")
                  if any(st.severity == s for st in d.exercise.atlas.structures)]
    legend = legend_svg(tuple(MARK_WORDS), severities, bool(d.exercise.target_polygons))
    total = len(d.entries)
    note = (f"Injections numbered as in the window; {shown} of {total} numbers shown where they fit"
            + ("" if shown == total else " (every injection is in the table)") + ". Drawn to scale, zoomed to the "
            "worked area.")
    return f"<h2>The map</h2><figure class='map'>{svg}<figcaption>{legend}<span>{html.escape(note)}</span></figcaption></figure>"


def _groups(d: Digest) -> str:
    e = html.escape
    if not d.groups:
        return "<h2>Findings</h2><p>No finding: every injection passed every check.</p>"
    out = [f"<h2>Findings</h2><p class='muted'>{len(d.groups)} kind(s), critical first; each line names the "
           "injections it concerns (numbered as on the map).</p>"]
    for g in d.groups:
        tail = "; ".join(p for p in (g.measured, f"source: {g.source}" if g.source else "") if p)
        out.append(f"<div class='group'><h3 class='{e(g.verdict)}'>{e(g.head)}</h3><p>{e(g.message)}</p>"
                   + (f"<p class='muted'>{e(tail)}</p>" if tail else "") + "</div>")
    return "".join(out)


def _table(d: Digest) -> str:
    e = html.escape
    if not d.entries:
        return ""
    rows = []
    for x in d.entries:
        rows.append(f"<tr><td class='n'>{x['index'] + 1}</td><td>{e(x['technique'])}</td>"
                    f"<td class='n'>{x['x_mm']:g}, {x['y_mm']:g}</td><td class='n'>{x['depth_mm']:g}</td>"
                    f"<td class='n'>{x['angle_deg']:g}</td><td class='n'>{x['volume_ml']:g}</td>"
                    f"<td>{e(str(x.get('region') or 'off the map'))}</td><td class='{x['verdict']}'>{x['verdict']}</td>"
                    f"<td>{e(failed_rules(x))}</td></tr>")
    return (f"<h2>Every injection ({len(d.entries)})</h2><table class='injections'><tr><th class='n'>#</th>"
            "<th>technique</th><th class='n'>x, y mm</th><th class='n'>depth mm</th><th class='n'>angle °</th>"
            "<th class='n'>volume ml</th><th>region</th><th>verdict</th><th>findings</th></tr>"
            + "".join(rows) + "</table>")
