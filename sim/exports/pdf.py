"""The score report as PDF: a page (or more) per attempt, the map embedded as vectors, text in the shipped Noto
Sans (set as plain text: nothing a trainee typed is interpreted)."""

from __future__ import annotations

import io

from sim.exports.mapsvg import MARK_MM, frame_of, map_svg
from sim.paths import font_file
from sim.session import LoadedRecord, find_exercise
from sim.errors import InputError

VERDICT_HEX = {"ok": "#1E9650", "warn": "#B07800", "fail": "#D73C28", "critical": "#961478"}


def new_pdf():
    """An A4 PDF in mm with the shipped fonts as "Noto" (regular, bold)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("Noto", "", str(font_file()))
    pdf.add_font("Noto", "B", str(font_file(bold=True)))
    return pdf


def to_pdf(items: list[LoadedRecord]) -> bytes:
    pdf = new_pdf()
    pdf.set_auto_page_break(True, margin=15)
    rgb = {k: tuple(int(v[i:i + 2], 16) for i in (1, 3, 5)) for k, v in VERDICT_HEX.items()}
    width = 180
    for it in items:
        rec, rep = it.record, it.record["report"]
        pdf.add_page()
        pdf.set_font("Noto", "B", 16)
        pdf.multi_cell(width, 8, rep.get("title", rep["scenario"]), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Noto", "", 10)
        pdf.multi_cell(width, 5, f"Trainee: {shown_name(rec.get('trainee'))}   Mode: {rec.get('mode')}   "
                                 f"Started: {rec.get('started') or '-'}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(*(rgb["ok"] if it.verified else rgb["critical"]))
        pdf.multi_cell(width, 5, it.status[:1].upper() + it.status[1:] + (f". {it.standing}" if it.standing else ""),
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Noto", "B", 14)
        verdict = "PASSED" if rep["passed"] else "NOT PASSED"
        if it.exam is False and rep["passed"]:
            verdict = "PASSED, NOT AN EXAM RESULT"
        pdf.multi_cell(width, 8, f"{it.marker}: Score {rep['score']:.1f} / 100 - {verdict} (pass mark "
                                 f"{rep['pass_mark']:g}; {rep['critical_findings']} critical finding(s))",
                       new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        top = pdf.get_y()
        drawn = _map(pdf, rec, 15, top, 95)
        y_after_map = top + drawn if drawn else pdf.get_y()
        pdf.set_xy(115, top if drawn else pdf.get_y())
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


def shown_name(name) -> str:
    """A trainee's name as a report prints it: on one line (a line break cannot push the real result to another
    page), control characters escaped, at most 100 characters."""
    from sim.errors import one_line

    text = one_line(str(name or "")).strip() or "(no name)"
    return text if len(text) <= 100 else text[:100] + "..."


def _map(pdf, record: dict, left: float, top: float, width: float) -> float:
    """The attempt's map as vectors at (left, top), `width` wide, each injection numbered (up to 150 of them);
    returns its height [mm], 0 when the exercise cannot be found any more (a sentence says so)."""
    try:
        scenario = find_exercise(record)
    except InputError:
        pdf.set_font("Noto", "", 10)
        pdf.multi_cell(width, 5, "The map cannot be drawn: the exercise file of this record is no longer here.",
                       new_x="LMARGIN", new_y="NEXT")
        return 0.0
    entries = record["report"]["injections"]
    frame = frame_of(scenario)
    pdf.image(io.BytesIO(map_svg(scenario, entries, numbers=False).encode("utf-8")), x=left, y=top, w=width)
    if len(entries) <= 150:
        pdf.set_font("Noto", "", 5)
        for e in entries:
            x, y = frame.on_page(e["x_mm"], e["y_mm"], left, top, width)
            k = width / frame.width
            pdf.text(x + (MARK_MM + 0.3) * k, y - MARK_MM * k, str(e["index"] + 1))
    return width * frame.height / frame.width
