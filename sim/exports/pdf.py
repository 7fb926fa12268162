"""The score report as PDF (A4): for several attempts a summary page first; for each attempt the verdict, score and
pass mark first, then the criteria as bars, the map zoomed to the worked area (vectors) with its legend, the
screening decision, the findings grouped by rule and verdict, and every injection in a table. The signature status
stands in every page's header.

Text is set in the shipped Noto Sans as plain text (nothing a trainee typed is interpreted). It is wrapped once,
by measuring each word once (fpdf2's multi_cell measures every line again, character by character), and set with
FPDF.text, so that 10,000 injections take seconds, not minutes.
"""

from __future__ import annotations

import io

from sim.exports.digest import Digest, digest, failed_rules
from sim.exports.mapsvg import SEVERITY, VERDICT, map_svg, place_numbers, worked_frame
from sim.paths import font_file
from sim.session import LoadedRecord

INK = (33, 37, 41)
MUTED = (108, 117, 125)
TEXT_RGB = {"ok": (30, 150, 80), "warn": (176, 120, 0), "fail": (215, 60, 40), "critical": (150, 20, 120)}
"""Verdicts in text (darker than the marks, so that they read on white)."""
BAND_RGB = {True: (227, 244, 234), False: (251, 229, 225)}
"""The verdict band's background: passed, not passed."""
PT = 0.3528
"""One typographic point [mm]."""
LEFT, WIDTH = 15.0, 180.0
"""The text column [mm] on A4."""
MARK_R = 1.25
"""Half a mark's size on paper [mm]."""
NUMBER_PT = 5.5
"""The size of the injection numbers on the map [pt]: readable in print."""


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def new_pdf(cls=None):
    """An A4 PDF in mm with the shipped fonts as "Noto" (regular, bold)."""
    from fpdf import FPDF

    pdf = (cls or FPDF)(format="A4", unit="mm")
    pdf.add_font("Noto", "", str(font_file()))
    pdf.add_font("Noto", "B", str(font_file(bold=True)))
    pdf.set_margins(LEFT, 15, 15)
    return pdf


class Writer:
    """Text on a PDF, each word measured once: wrapped paragraphs and single lines at a position, page breaks
    taken by hand (FPDF.text does not break pages)."""

    def __init__(self, pdf):
        self.pdf = pdf
        self._widths: dict[tuple, float] = {}

    def font(self, size: float, bold: bool = False, colour=INK) -> None:
        self.pdf.set_font("Noto", "B" if bold else "", size)
        self.pdf.set_text_color(*colour)

    def width(self, text: str) -> float:
        """The width of `text` in the current font [mm]: the sum of its characters' widths, each measured once
        (the fonts are set without kerning or shaping, so this is what fpdf2 measures)."""
        style, size = self.pdf.font_style, self.pdf.font_size_pt
        key = (style, size, text)
        w = self._widths.get(key)
        if w is None:
            w = 0.0
            for ch in text:
                c = self._widths.get((style, size, ch))
                if c is None:
                    c = self._widths[(style, size, ch)] = self.pdf.get_string_width(ch)
                w += c
            self._widths[key] = w
        return w

    def wrap(self, text: str, width: float) -> list[str]:
        lines, line, used = [], [], 0.0
        space = self.width(" ")
        for word in text.split():
            w = self.width(word)
            if line and used + space + w > width:
                lines.append(" ".join(line))
                line, used = [], 0.0
            while w > width and len(word) > 1:  # a word longer than the line: cut it
                cut = max(1, int(len(word) * width / w))
                lines.append(word[:cut])
                word = word[cut:]
                w = self.width(word)
            used += (space if line else 0.0) + w
            line.append(word)
        if line:
            lines.append(" ".join(line))
        return lines

    def room(self, height: float) -> None:
        """A new page unless `height` fits under the current position."""
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    def para(self, text: str, size: float = 9.5, bold: bool = False, colour=INK, x: float = LEFT,
             width: float = WIDTH, leading: float = 1.3, after: float = 0.0) -> None:
        self.font(size, bold, colour)
        h = size * PT * leading
        for line in self.wrap(text, width):
            self.room(h)
            y = self.pdf.get_y()
            self.pdf.text(x, y + h * 0.76, line)
            self.pdf.set_y(y + h)
        self.pdf.set_y(self.pdf.get_y() + after)

    def at(self, x: float, y: float, text: str, right: float | None = None) -> None:
        """One line with its top at y; right-aligned to `right` when given."""
        if right is not None:
            x = right - self.width(text)
        self.pdf.text(x, y + self.pdf.font_size * 0.95, text)

    def clip(self, text: str, width: float) -> str:
        if self.width(text) <= width:
            return text
        while text and self.width(text + "…") > width:
            text = text[:-1]
        return text + "…"


def _document():
    from fpdf import FPDF

    class Document(FPDF):
        running: tuple[str, str, bool] = ("", "", True)
        """The header: what this page is about, the signature sentence, whether it verified."""

        def header(self):
            left, status, ok = self.running
            self.set_font("Noto", "", 7.5)
            self.set_text_color(*MUTED)
            self.text(LEFT, 9, left)
            if status:
                self.set_font("Noto", "B", 7.5)
                self.set_text_color(*(TEXT_RGB["ok"] if ok else TEXT_RGB["critical"]))
                self.text(LEFT + WIDTH - self.get_string_width(status), 9, status)
            self.set_draw_color(210, 214, 218)
            self.set_line_width(0.2)
            self.line(LEFT, 10.5, LEFT + WIDTH, 10.5)
            self.set_y(14)

        def footer(self):
            self.set_font("Noto", "", 7)
            self.set_text_color(*MUTED)
            self.set_xy(LEFT, 286)
            self.cell(WIDTH, 4, f"page {self.page_no()} of {{nb}}", align="R")

    return Document


def to_pdf(items: list[LoadedRecord]) -> bytes:
    pdf = new_pdf(_document())
    pdf.set_auto_page_break(True, margin=14)
    pdf.alias_nb_pages()
    w = Writer(pdf)
    digests = [digest(it) for it in items]
    # named destinations: a summary row links to a report whose page is not known yet
    links = [pdf.get_named_destination(f"attempt-{k + 1}") for k in range(len(digests))] if len(digests) > 1 else []
    if links:
        _summary(pdf, w, digests, links)
    for k, d in enumerate(digests):
        _attempt(pdf, w, d, links[k] if links else None)
    return bytes(pdf.output())


def _summary(pdf, w: Writer, digests: list[Digest], links: list[str]) -> None:
    """The first page of several reports: one row per attempt (trainee, exercise, date, score, passed, signature),
    each a link to its report."""
    bad = sum(not d.signature_ok for d in digests)
    pdf.running = (f"mesosim score reports · {len(digests)} attempts", f"{bad} NOT verified" if bad else
                   "every signature verified", not bad)
    pdf.add_page()
    w.para(f"Score reports: {len(digests)} attempts", 16, True, after=1)
    passed = sum(d.passed for d in digests)
    w.para(f"{passed} passed, {len(digests) - passed} not passed; "
           + (f"{bad} record(s) whose signature is NOT verified." if bad else "every signature verified.")
           + " Each row opens its report.", 9.5, colour=MUTED, after=3)
    cols = [("#", 8), ("trainee", 36), ("exercise", 50), ("date", 26), ("score", 14), ("passed", 20),
            ("signature", 26)]

    def head():
        w.font(8, True, MUTED)
        x, y = LEFT, pdf.get_y()
        for name, cw in cols:
            w.at(x, y, name, right=x + cw - 2 if name == "score" else None)
            x += cw
        pdf.set_y(y + 5)

    head()
    h = 4.6
    for k, (d, link) in enumerate(zip(digests, links)):
        if pdf.get_y() + h > pdf.page_break_trigger:
            pdf.add_page()
            head()
        y = pdf.get_y()
        if k % 2 == 0:
            pdf.set_fill_color(244, 246, 248)
            pdf.rect(LEFT, y - 0.4, WIDTH, h, style="F")
        w.font(8.5)
        cells = [str(k + 1), w.clip(d.trainee, 33), w.clip(d.title, 47), d.date, f"{d.score:.1f}"]
        x = LEFT
        for (name, cw), text in zip(cols, cells):
            w.at(x, y, text, right=x + cw - 2 if name == "score" else None)
            x += cw
        w.font(8.5, True, TEXT_RGB["ok"] if d.passed else TEXT_RGB["fail"])
        w.at(x, y, "passed" if d.passed else "NOT passed")
        x += cols[5][1]
        w.font(8.5, False, TEXT_RGB["ok"] if d.signature_ok else TEXT_RGB["critical"])
        w.at(x, y, "verified" if d.signature_ok else "NOT verified")
        pdf.link(LEFT, y - 0.4, WIDTH, h, link)
        pdf.set_y(y + h)


def _attempt(pdf, w: Writer, d: Digest, link: str | None) -> None:
    pdf.running = (f"{d.trainee} · {d.title} · {d.date}", d.signature,
                   d.signature_ok)
    pdf.add_page()
    if link is not None:
        pdf.set_link(name=link.lstrip("#"), page=pdf.page_no())
    w.para(d.title, 16, True)
    w.para(f"Trainee {d.trainee} · exercise {d.scenario_id} ({d.mode}) · {d.date} · record {d.item.path}", 8.5,
           colour=MUTED, after=2)
    _verdict_band(pdf, w, d)
    _screening(pdf, w, d)
    _bars(pdf, w, d)
    w.room(60)
    bottom = _map(pdf, w, d, LEFT, pdf.get_y() + 1, WIDTH, min(150.0, pdf.page_break_trigger - pdf.get_y() - 30))
    pdf.set_y(bottom + 3)
    _groups(pdf, w, d)
    _table(pdf, w, d)


def _verdict_band(pdf, w: Writer, d: Digest) -> None:
    w.font(9)
    lines = [line for r in d.reasons for line in w.wrap("• " + r, WIDTH - 8)]
    height = 15 + 4.2 * (len(lines) + 1) + 2  # the verdict and score, the reasons, the signature
    w.room(height)
    y0 = pdf.get_y()
    pdf.set_fill_color(*BAND_RGB[d.passed])
    pdf.rect(LEFT, y0, WIDTH, height, style="F")
    colour = TEXT_RGB["ok"] if d.passed else TEXT_RGB["fail"]
    w.font(20, True, colour)
    w.at(LEFT + 4, y0 + 3, d.verdict)
    w.font(13, True)
    w.at(0, y0 + 4.2, f"Score {d.score:.1f} / 100 · pass mark {d.pass_mark:g}", right=LEFT + WIDTH - 4)
    y = y0 + 14
    w.font(9)
    for line in lines:
        w.at(LEFT + 4, y, line)
        y += 4.2
    w.font(9, True, TEXT_RGB["ok"] if d.signature_ok else TEXT_RGB["critical"])
    w.at(LEFT + 4, y, d.signature + ("" if d.signature_ok else
                                                                   ": this record may have been changed"))
    pdf.set_y(y0 + height + 2)


def _screening(pdf, w: Writer, d: Digest) -> None:
    colour = TEXT_RGB.get(d.screening_verdict or "", INK)
    w.room(5)
    w.font(9.5, True, colour)
    w.at(LEFT, pdf.get_y(), "Screening")
    w.para(d.screening, 9.5, x=LEFT + 20, width=WIDTH - 20, after=1)


def _map(pdf, w: Writer, d: Digest, x: float, y: float, width: float, height: float) -> float:
    """The map zoomed to the worked area in (x, y, width, height) [mm], the marks and numbers on it, its legend
    under it; returns the bottom [mm]. Without the exercise, the sentence that says so."""
    if d.exercise is None:
        pdf.set_y(y)
        w.para(d.gone or "", 9.5, colour=TEXT_RGB["fail"], x=x, width=width)
        return pdf.get_y()
    frame = worked_frame(d.exercise, d.entries, width / height)
    k = width / frame.width
    h = frame.height * k
    svg = map_svg(d.exercise, [], numbers=False, frame=frame)
    with pdf.rect_clip(x, y, width, h):
        pdf.image(io.BytesIO(svg.encode("utf-8")), x=x, y=y, w=width)
        shown = _marks(pdf, w, d, frame, x, y, k, width, h)
    pdf.set_draw_color(190, 196, 202)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, width, h)
    return _legend(pdf, w, d, x, y + h + 1.5, width, shown)


def _marks(pdf, w: Writer, d: Digest, frame, x0: float, y0: float, k: float, width: float, height: float) -> int:
    """Every injection's mark (colour and shape by verdict) and, where it has room, its number; returns how many
    numbers were placed."""
    import numpy as np

    if not d.entries:
        return 0
    uv = np.array([frame.point(e["x_mm"], e["y_mm"]) for e in d.entries], dtype=float)
    xy = np.column_stack([x0 + (uv[:, 0] - frame.x0) * k, y0 + (uv[:, 1] - frame.y0) * k])
    inside = (xy[:, 0] > x0 - 2) & (xy[:, 0] < x0 + width + 2) & (xy[:, 1] > y0 - 2) & (xy[:, 1] < y0 + height + 2)
    r = mark_radius(xy[inside])
    pdf.set_line_width(0.18)
    for (px, py), e, ok in zip(xy, d.entries, inside):
        if not ok:
            continue
        verdict = e["verdict"]
        c = _rgb(VERDICT[verdict])
        if verdict == "critical":
            pdf.set_fill_color(255, 255, 255)
            pdf.set_draw_color(*c)
            pdf.set_line_width(0.35)
            pdf.circle(px, py, r, style="DF")
            a = r * 0.6
            pdf.line(px - a, py - a, px + a, py + a)
            pdf.line(px - a, py + a, px + a, py - a)
            pdf.set_line_width(0.18)
            continue
        pdf.set_fill_color(*c)
        pdf.set_draw_color(255, 255, 255)
        if verdict == "ok":
            pdf.circle(px, py, r * 0.8, style="DF")
        elif verdict == "warn":
            pdf.polygon([(px, py - r), (px + r, py + r * 0.8), (px - r, py + r * 0.8)], style="DF")
        else:
            pdf.rect(px - r * 0.8, py - r * 0.8, r * 1.6, r * 1.6, style="DF")
    labels = [str(e["index"] + 1) for e in d.entries]
    keep = np.flatnonzero(inside)
    placed = place_numbers(xy[keep], [labels[i] for i in keep], r, NUMBER_PT * PT / 0.75)
    w.font(NUMBER_PT, False, INK)
    th = NUMBER_PT * PT * 0.75
    with pdf.local_context(fill_opacity=0.7):  # a light ground keeps a number readable over a vessel's line
        pdf.set_fill_color(255, 255, 255)
        for j, (tx, ty) in placed:
            pdf.rect(tx - 0.2, ty - th - 0.15, w.width(labels[keep[j]]) + 0.4, th + 0.45, style="F")
    for j, (tx, ty) in placed:
        pdf.text(tx, ty, labels[keep[j]])
    return len(placed)


def mark_radius(xy) -> float:
    """Half a mark's size on paper [mm]: MARK_R, smaller where the injections lie closer than four marks apart
    (the median distance to the nearest one, from a sample), never under 0.5 mm."""
    import numpy as np

    if len(xy) < 2:
        return MARK_R
    rng = np.random.default_rng(0)
    sample = xy if len(xy) <= 400 else xy[rng.choice(len(xy), 400, replace=False)]
    d = np.sqrt(((sample[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    d[d == 0] = np.inf
    nearest = float(np.median(d.min(axis=1)))
    return float(min(MARK_R, max(0.5, nearest / 4))) if np.isfinite(nearest) else MARK_R


def _legend(pdf, w: Writer, d: Digest, x: float, y: float, width: float, shown: int) -> float:
    """The legend of the map: the marks, the target area, the danger colours; how many numbers are shown."""
    from sim.exports.mapsvg import MARK_WORDS, PALETTE, SEVERITY_WORDS

    r = MARK_R
    items = [("mark", v, MARK_WORDS[v]) for v in ("ok", "warn", "fail", "critical")]
    if d.exercise.target_polygons:
        items.append(("area", PALETTE["target"], "target area"))
    severities = [s for s in ("critical", "high", "moderate", "low")
                  if any(st.severity == s for st in d.exercise.atlas.structures)]
    items += [("area", SEVERITY[s], SEVERITY_WORDS[s]) for s in severities]
    w.font(7)
    col, row_h = width / 2, 3.6
    for n, (kind, key, words) in enumerate(items):
        cx, cy = x + (n % 2) * col + r + 0.5, y + (n // 2) * row_h + r
        if kind == "mark":
            c = _rgb(VERDICT[key])
            pdf.set_line_width(0.18)
            if key == "critical":
                pdf.set_fill_color(255, 255, 255)
                pdf.set_draw_color(*c)
                pdf.circle(cx, cy, r, style="DF")
                a = r * 0.6
                pdf.line(cx - a, cy - a, cx + a, cy + a)
                pdf.line(cx - a, cy + a, cx + a, cy - a)
            else:
                pdf.set_fill_color(*c)
                pdf.set_draw_color(*c)
                if key == "ok":
                    pdf.circle(cx, cy, r * 0.8, style="F")
                elif key == "warn":
                    pdf.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], style="F")
                else:
                    pdf.rect(cx - r * 0.8, cy - r * 0.8, r * 1.6, r * 1.6, style="F")
        else:
            c = _rgb(key)
            pdf.set_fill_color(*[int(255 - (255 - v) * 0.3) for v in c])
            pdf.set_draw_color(*c)
            pdf.rect(cx - r, cy - r * 0.8, 2 * r, 1.6 * r, style="DF")
        w.font(7, False, INK)
        w.at(cx + r + 1.5, cy - 1.4, words)
    y = y + ((len(items) + 1) // 2) * row_h + 1
    total = len(d.entries)
    note = (f"Injections numbered as in the window; {shown} of {total} numbers shown where they fit"
            + ("" if shown == total else " (every injection is in the table)") + ". Drawn to scale, zoomed to the "
            "worked area.")
    pdf.set_y(y)
    w.para(note, 6.8, colour=MUTED, x=x, width=width)
    return pdf.get_y()


def _bars(pdf, w: Writer, d: Digest) -> None:
    """The criteria as bars in two columns: the parts of the score (with their weights), and what every injection
    is checked for; a blocking criterion's bar is framed, and one that stands in the way of a pass says NOT MET."""
    top, bottoms = pdf.get_y() + 1, []
    col = (WIDTH - 8) / 2
    for x, (title, bars) in zip((LEFT, LEFT + col + 8),
                                (("Parts of the score", [b for b in d.bars if b.part]),
                                 ("Checked for every injection", [b for b in d.bars if not b.part]))):
        pdf.set_y(top)
        if bars:
            _bar_column(pdf, w, title, bars, x, col)
        bottoms.append(pdf.get_y())
    pdf.set_y(max(bottoms) + 1)
    w.para("A framed bar is a blocking criterion: an attempt that does not meet it cannot pass. NOT MET: it stands "
           "in the way of a pass. Advice only: it does not count towards an injection done right here.", 6.8,
           colour=MUTED, after=2)


def _bar_column(pdf, w: Writer, title: str, bars, x: float, width: float) -> None:
    label_w, bar_w, pct_w = 21.0, 22.0, 10.0
    w.font(9.5, True)
    w.at(x, pdf.get_y(), title)
    pdf.set_y(pdf.get_y() + 5)
    for b in bars:
        y = pdf.get_y()
        colour = TEXT_RGB[b.status]
        w.font(8, b.not_met, colour if b.not_met else INK)
        w.at(x, y, w.clip(b.words, label_w - 1))
        bx = x + label_w
        pdf.set_fill_color(233, 236, 239)
        pdf.rect(bx, y + 0.7, bar_w, 2.6, style="F")
        pdf.set_fill_color(*_rgb(VERDICT[b.status]))
        if b.score > 0:
            pdf.rect(bx, y + 0.7, bar_w * min(1.0, b.score), 2.6, style="F")
        if b.blocking:
            pdf.set_draw_color(*INK)
            pdf.set_line_width(0.3)
            pdf.rect(bx, y + 0.7, bar_w, 2.6)
        w.font(8, b.not_met, colour if b.status != "ok" else INK)
        w.at(0, y, f"{100 * b.score:.0f} %", right=bx + bar_w + pct_w)
        if b.note:
            w.font(6.8, b.not_met, colour if b.not_met else MUTED)
            w.at(bx + bar_w + pct_w + 2, y + 0.4, w.clip(b.note, width - label_w - bar_w - pct_w - 2))
        pdf.set_y(y + 4.3)


def _groups(pdf, w: Writer, d: Digest) -> None:
    w.room(14)
    w.para("Findings", 12, True, after=0.5)
    if not d.groups:
        w.para("No finding: every injection passed every check.", 9.5, after=2)
        return
    w.para(f"{len(d.groups)} kind(s), critical first; each line names the injections it concerns "
           "(numbered as on the map).", 8, colour=MUTED, after=1.5)
    for g in d.groups:
        w.room(14)
        w.para(g.head, 9.5, True, TEXT_RGB.get(g.verdict, INK))
        w.para(g.message, 9, x=LEFT + 4, width=WIDTH - 4)
        tail = "; ".join(p for p in (g.measured, f"source: {g.source}" if g.source else "") if p)
        if tail:
            w.para(tail, 7.5, colour=MUTED, x=LEFT + 4, width=WIDTH - 4)
        pdf.set_y(pdf.get_y() + 1.8)


TABLE = [("#", 9, "r"), ("technique", 29, ""), ("x, y mm", 22, "r"), ("depth mm", 14, "r"), ("angle °", 12, "r"),
         ("volume ml", 15, "r"), ("region", 31, ""), ("verdict", 13, ""), ("findings", 35, "")]


def _table(pdf, w: Writer, d: Digest) -> None:
    """Every injection, one row each."""
    if not d.entries:
        return
    w.room(24)
    pdf.set_y(pdf.get_y() + 2)
    w.para(f"Every injection ({len(d.entries)})", 12, True, after=1)
    h = 3.5

    def head():
        w.font(7, True, MUTED)
        x, y = LEFT, pdf.get_y()
        for name, cw, align in TABLE:
            w.at(x, y, name, right=x + cw - 1.5 if align else None)
            x += cw
        pdf.set_y(y + 4)

    head()
    trigger = pdf.page_break_trigger
    widths = [cw for _n, cw, _a in TABLE]
    for e in d.entries:
        y = pdf.get_y()
        if y + h > trigger:
            pdf.add_page()
            head()
            y = pdf.get_y()
        if (e["index"] % 2) == 1:
            pdf.set_fill_color(244, 246, 248)
            pdf.rect(LEFT, y, WIDTH, h, style="F")
        cells = (str(e["index"] + 1), e["technique"], f"{e['x_mm']:g}, {e['y_mm']:g}", f"{e['depth_mm']:g}",
                 f"{e['angle_deg']:g}", f"{e['volume_ml']:g}", e.get("region") or "off the map")
        w.font(7)
        x = LEFT
        for (name, cw, align), text in zip(TABLE, cells):
            if align:
                pdf.text(x + cw - 1.5 - w.width(text), y + 2.6, text)
            else:
                pdf.text(x, y + 2.6, w.clip(text, cw - 1.5))
            x += cw
        verdict = e["verdict"]
        if verdict != "ok":
            w.font(7, True, TEXT_RGB[verdict])
        pdf.text(x, y + 2.6, verdict)
        x += widths[7]
        if verdict != "ok":
            w.font(7, False, INK)
            pdf.text(x, y + 2.6, w.clip(failed_rules(e), widths[8]))
        pdf.set_y(y + h)


def shown_name(name) -> str:
    """A trainee's name as a report prints it: on one line (a line break cannot push the real result to another
    page), control characters escaped, at most 100 characters."""
    from sim.errors import one_line

    text = one_line(str(name or "")).strip() or "(no name)"
    return text if len(text) <= 100 else text[:100] + "..."
