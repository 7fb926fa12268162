"""The workspace's panels, each drawn onto its own picture: the top bar, the needle panel, the findings, the tooltip
and the help; `ws` is the WorkspaceScreen whose state they show."""

from __future__ import annotations

import math

import numpy as np
import pygame

from sim.core.vocabulary import VERDICTS
from sim.ui import crosssection, style, words
from sim.ui.screens.base import PAD, TOP_BAR, _clock
from sim.ui.needle import volume_text
from sim.ui.settings import ui_settings


PENDING = "pending, judged at submit"


def finding_line(f, pending: bool, atlas=None) -> str:
    """A finding as the workspace words it: a gap still open while the trainee works says so."""
    if pending and f.rule == "spacing":
        return f"spacing ({PENDING}): {words.plain(f.message, atlas)}"
    return f"{f.rule}: {words.plain(f.message, atlas)}"


def tooltip_lines(ws, i: int) -> list[str]:
    """The verdict and findings of injection i in words (the first line is its heading)."""
    findings = ws.attempt.evaluation.findings(i)
    verdict, pending = ws.shown()
    lines = [f"#{i + 1} {ws.app.library.get(ws.attempt.records[i]['technique']).name}: "
             f"{style.VERDICT_WORDS[VERDICTS[int(verdict[i])]]}" + (f" (spacing {PENDING})" if pending[i] else "")]
    return lines + ([finding_line(f, bool(pending[i]), ws.scenario.atlas) for f in findings] or ["Within the spec."])


def tooltip(ws, i: int) -> pygame.Surface:
    """The verdict and findings of injection i, in a box drawn next to the cursor."""
    lines = tooltip_lines(ws, i)
    width = 420
    wrapped = [(k == 0, line) for k, text_ in enumerate(lines) for line in style.wrap(text_, width - 16, 17)]
    surf = pygame.Surface((width, len(wrapped) * 18 + 12), pygame.SRCALPHA)
    rect = surf.get_rect()
    pygame.draw.rect(surf, (255, 255, 255), rect, border_radius=4)
    pygame.draw.rect(surf, style.PANEL_EDGE, rect, 1, border_radius=4)
    for k, (bold, line) in enumerate(wrapped):
        style.text(surf, line, (8, 6 + 18 * k), 17, style.INK, bold)
    return surf


def top_bar(ws, surf) -> None:
    spec = ws.scenario.spec
    limit = spec.time_limit_s
    if limit and ws.exam:  # an exam counts down; the last minute is red
        left = max(0.0, limit - ws.elapsed)
        timer, urgent = f"Time left {_clock(left)} of {_clock(limit)}", left <= 60
    else:
        timer = f"Time {_clock(ws.elapsed)}" + (f" / {_clock(limit)}" if limit else "")
        urgent = limit is not None and ws.elapsed > limit
    if ws.paused:
        timer += " (paused)"
    count = f"{len(ws.attempt)}" + (f" / {spec.count.min}-{spec.count.max}" if spec.count else "")
    cov = None
    if ws.scenario.target_polygons:
        cov = (ws.attempt.evaluation.measures.get("coverage") if len(ws.attempt) else 0.0) or 0.0
    key = (surf.get_width(), ws.bar_left, urgent, timer, count, cov)
    surf.blit(ws._top_pic.get(key, lambda: _draw_top_bar(ws, *key)), (0, 0))


def _draw_top_bar(ws, w: int, right: int, urgent: bool, timer: str, count: str, cov: float | None) \
        -> pygame.Surface:
    """The title, then the clock, the count and the coverage, all kept left of the buttons (x < right)."""
    surf = pygame.Surface((w, TOP_BAR))
    surf.fill(style.PANEL)
    pygame.draw.line(surf, style.PANEL_EDGE, (0, TOP_BAR - 1), (w, TOP_BAR - 1), 1)
    spec = ws.scenario.spec
    room = right - 2 * PAD
    title = style.fit(spec.title + ("" if not ws.exam or "exam" in spec.title.lower() else "  (exam)"), room, 22,
                      True)
    style.text(surf, title, (PAD, 6), 22, style.INK, True)
    x = PAD
    y = 31
    x = style.text(surf, timer, (x, y), 18, style.VERDICT["fail"] if urgent else style.MUTED, urgent).right + 16
    x = style.text(surf, f"Injections {count}", (x, y), 18, style.MUTED).right + 16
    if cov is not None:
        label = style.text(surf, "Coverage", (x, y), 18, style.MUTED)
        pct = f"{cov:.0%}"
        bar_w = max(40, min(120, right - PAD - (label.right + 6) - style.font(18).size(pct)[0] - 6))
        bar = pygame.Rect(label.right + 6, y + 3, bar_w, 12)
        pygame.draw.rect(surf, (220, 224, 230), bar)
        pygame.draw.rect(surf, style.TARGET, (bar.left, bar.top, bar.width * min(1.0, cov), bar.height))
        ok = (spec.coverage.ok if spec.coverage else ws.app.config.scoring.coverage.ok)
        pygame.draw.line(surf, style.INK, (bar.left + bar.width * ok, bar.top - 2),
                         (bar.left + bar.width * ok, bar.bottom + 2), 2)
        style.text(surf, pct, (bar.right + 6, y), 18, style.MUTED)
    return surf


def needle_panel(ws, here: tuple[str, tuple[int, int, int]] | None) -> pygame.Surface:
    """The technique, depth, angle and volume with the technique's bands, how the needle is held, and what lies
    under the cursor (here_line)."""
    surf = pygame.Surface(ws.panel_rect.size)
    p = surf.get_rect()
    pygame.draw.rect(surf, style.PANEL, p)
    pygame.draw.rect(surf, style.PANEL_EDGE, p, 1)
    style.text(surf, "Needle", (p.left + 8, p.top + 6), 21, style.INK, True)
    t = ws.tech
    n = ws.needle
    rows = [("depth", 74, f"Depth {n.depth_mm:.2f} mm" if not n.hand_held else "Depth: hold to advance",
             f"technique: {t.depth_mm.describe('mm')}"),
            ("angle", 108, f"Angle {n.angle_deg:.0f} deg", f"technique: {t.angle_deg.describe('deg')}"),
            ("volume", 142, f"Volume {volume_text(n.volume_ml)} ml", f"technique: {t.volume_ml.describe('ml')}")]
    for _key, y, value, spec in rows:
        style.text(surf, value, (p.left + 10, p.top + y), 19, style.INK, True)
        style.text(surf, spec, (p.left + 10, p.top + y + 16), 15, style.MUTED)
    mode = "hold mode: hold the button to advance" if n.control == "hand" and n.device == "hand" else \
        "set mode: the depth set above"
    state = f"Bevel {n.bevel}, {mode}, {'mesoinjector' if n.device == 'gun' else 'by hand'}"
    style.text(surf, style.fit(state, p.width - 20, 16), (p.left + 10, p.top + 176), 16, style.INK)
    if here is not None:
        text_, colour = here
        style.paragraph(surf, text_, pygame.Rect(p.left + 10, p.top + 236, p.width - 20, 40), 16, colour, True, 0)
    style.text(surf, "F1: keys", (p.right - 8, p.top + 8), 16, style.MUTED, anchor="topright")
    return surf


def here_line(ws) -> tuple[str, tuple[int, int, int]] | None:
    """What limits the depth under the cursor, in a line: the shallowest danger structure there ("here: the
    orbital septum at 2.5 mm"), in practice, or the skin's layers; None off the map."""
    xy = ws.cursor_mm
    if xy is None:
        return None
    r = ws.region_at(xy)
    if r < 0:
        eye = ws.eye_at(xy)
        return ("Here: the eye - no needle at any depth", style.SEVERITY["critical"]) if eye is not None else None
    if not ws.exam:
        beneath = ws.beneath(xy)
        if beneath:
            b = beneath[0]
            name = b.name[:1].lower() + b.name[1:].removesuffix(" (left)").removesuffix(" (right)")
            colour = style.SEVERITY[b.severity] if ws.needle.depth_mm < b.depth_mm else style.SEVERITY["critical"]
            return f"Here: the {name} at {b.depth_mm:.1f}\u00a0mm", colour
    epi, derm, fat = (float(v) for v in ws.scenario.skin[r])
    return f"Here: dermis {epi:.1f}-{epi + derm:.1f} mm, fat to {epi + derm + fat:.1f} mm", style.MUTED


def findings(ws) -> pygame.Surface:
    surf = pygame.Surface(ws.list_rect.size)
    r = surf.get_rect()
    pygame.draw.rect(surf, style.PANEL, r)
    pygame.draw.rect(surf, style.PANEL_EDGE, r, 1)
    inner = r.inflate(-16, -12)
    if ws.exam:
        style.text(surf, "Exam", (inner.left, inner.top), 21, style.INK, True)
        style.paragraph(surf, "Findings are shown after you submit. Marks are neutral and there is no undo.",
                        pygame.Rect(inner.left, inner.top + 26, inner.width, 80), 18, style.MUTED)
        return surf
    style.text(surf, "Findings (newest first)", (inner.left, inner.top), 21, style.INK, True)
    if not len(ws.attempt):
        style.paragraph(surf, "Place an injection: its findings appear here at once, with the rule and its "
                        "source. Hover a mark to see them again.",
                        pygame.Rect(inner.left, inner.top + 26, inner.width, 120), 18, style.MUTED)
        return surf
    ev = ws.attempt.evaluation
    shown, pending = ws.shown()
    y = inner.top + 26
    for i in range(len(ws.attempt) - 1, -1, -1):
        if y > inner.bottom - 20:
            break
        v = VERDICTS[int(shown[i])]
        wait = bool(pending[i])
        style.mark(surf, v, (inner.left + 7, y + 8), 5)
        tech = ws.app.library.get(ws.attempt.records[i]["technique"]).name
        head = f"#{i + 1} {tech}: {style.VERDICT_WORDS[v]}" + (", spacing pending" if wait else "")
        style.text(surf, style.fit(head, inner.width - 20, 18, True), (inner.left + 20, y), 18, style.INK, True)
        y += 19
        findings = ev.findings(i)
        if i == len(ws.attempt) - 1:
            for f in findings:
                colour = style.MUTED if wait and f.rule == "spacing" else style.text_colour(f.verdict)
                y = style.paragraph(surf, finding_line(f, wait, ws.scenario.atlas),
                                    pygame.Rect(inner.left + 20, y, inner.width - 20, inner.bottom - y), 16, colour)
                y = style.paragraph(surf, f"Source: {words.source_line(f.source)}",
                                    pygame.Rect(inner.left + 20, y, inner.width - 20, inner.bottom - y), 14,
                                    style.MUTED) + 2
        elif findings:
            first = finding_line(findings[0], wait, ws.scenario.atlas)
            lines = style.wrap(first, inner.width - 20, 16)
            style.text(surf, lines[0] + (" ..." if len(lines) > 1 else ""), (inner.left + 20, y), 16,
                       style.MUTED)
            y += 18
        y += 4
    return surf


def help_overlay(surf) -> None:
    """The keys and the mouse (assets/ui.yaml `help`), in a box over the shaded window."""
    rows = ui_settings().help_rows()
    w, h = surf.get_size()
    rect = pygame.Rect(0, 0, 640, 60 + 26 * len(rows))
    rect.center = (w // 2, h // 2)
    shade = pygame.Surface((w, h), pygame.SRCALPHA)
    shade.fill((0, 0, 0, 110))
    surf.blit(shade, (0, 0))
    pygame.draw.rect(surf, (255, 255, 255), rect, border_radius=8)
    style.text(surf, "Keys and mouse", (rect.left + 20, rect.top + 16), 26, style.INK, True)
    for k, (keys, does) in enumerate(rows):
        y = rect.top + 52 + 26 * k
        style.text(surf, keys, (rect.left + 20, y), 20, style.ACCENT, True)
        style.text(surf, does, (rect.left + 200, y), 20)


def cursor(ws, surf) -> None:
    if ws.cursor_mm is None:
        return
    p = ws.view.to_px(ws.cursor_mm)
    colour = style.VERDICT["critical"] if ws.pressing else style.INK
    if ws.in_danger:  # the tip has reached a structure under the cursor: a red ring that cannot be missed
        pygame.draw.circle(surf, style.SEVERITY["critical"], p, 22, 4)
    pygame.draw.line(surf, colour, (p[0] - 12, p[1]), (p[0] - 4, p[1]), 2)
    pygame.draw.line(surf, colour, (p[0] + 4, p[1]), (p[0] + 12, p[1]), 2)
    pygame.draw.line(surf, colour, (p[0], p[1] - 12), (p[0], p[1] - 4), 2)
    pygame.draw.line(surf, colour, (p[0], p[1] + 4), (p[0], p[1] + 12), 2)
    lines = [(f"({ws.cursor_mm[0]:.1f}, {ws.cursor_mm[1]:.1f}) mm  {ws.place_name(ws.cursor_mm)}", style.INK)]
    lines += spacing_aid(ws, surf)
    f = style.font(18)
    rect = pygame.Rect(ws.view.rect.left + 10, ws.view.rect.top + 10,
                       max(f.size(t)[0] for t, _c in lines) + 16, 22 * len(lines) + 6)
    pygame.draw.rect(surf, style.PANEL, rect, border_radius=4)
    pygame.draw.rect(surf, style.PANEL_EDGE, rect, 1, border_radius=4)
    for k, (text_, colour) in enumerate(lines):
        style.text(surf, text_, (rect.left + 8, rect.top + 4 + 22 * k), 18, colour)
    hover = ws.hovered()
    if hover is not None and not ws.exam:
        tip = ws._tooltip_pic.get((hover, ws._state), lambda: tooltip(ws, hover))
        x = min(p[0] + 16, ws.view.rect.right - tip.get_width() - 4)
        y = min(p[1] + 16, ws.view.rect.bottom - tip.get_height() - 4)
        surf.blit(tip, (x, y))


def spacing_aid(ws, surf) -> list[tuple[str, tuple[int, int, int]]]:
    """Spacing on the map: in practice a dashed ring at each end of the technique's spacing band around its last
    injection; the distance from the cursor to the nearest one, and while the mesoinjector is dragged, how far
    apart its shots land at that speed. Returns the readout's lines (judged by colour in practice only)."""
    t = ws.tech
    lo, hi, wlo, whi = t.spacing_mm.bounds()

    def judged(d: float) -> tuple[int, int, int]:
        if ws.exam:
            return style.INK
        return style.text_colour("ok" if lo <= d <= hi else "warn" if wlo <= d <= whi else "fail")

    out = []
    now = ws.spacing_now() if ws.hovered() is None else None  # over a mark its own findings say it
    if now is not None:
        nearest, last = now
        if not ws.exam:
            centre = ws.view.to_px(last)
            for radius_mm in (lo, hi):
                if np.isfinite(radius_mm) and radius_mm > 0:
                    _dashed_circle(surf, style.ACCENT, centre, radius_mm * ws.view.scale)
        out.append((f"nearest {t.name.lower()}: {nearest:.1f} mm (technique {t.spacing_mm.describe('mm')})",
                    judged(nearest)))
    gap = ws.gun_spacing()
    if gap is not None:
        out.append((f"at this drag speed: shots {gap:.1f} mm apart", judged(gap)))
    return out


def _dashed_circle(surf, colour, centre, r: float, dashes: int = 24) -> None:
    if r < 3:
        return
    x, y = float(centre[0]), float(centre[1])
    for k in range(0, dashes, 2):
        a0, a1 = 2 * math.pi * k / dashes, 2 * math.pi * (k + 1) / dashes
        pygame.draw.line(surf, colour, (x + r * math.cos(a0), y + r * math.sin(a0)),
                         (x + r * math.cos(a1), y + r * math.sin(a1)), 1)


def cross_section(ws, surf) -> None:
    xy = ws.cursor_mm
    if xy is None and ws.selected is not None and ws.selected < len(ws.attempt):
        xy = ws.positions()[ws.selected]
    n = ws.needle
    eye = ws.eye_at(xy) if xy is not None and ws.region_at(xy) < 0 else None
    if eye is not None:
        key = (ws.xs_rect.size, "eye", eye.name)

        def render_eye() -> pygame.Surface:
            pic = pygame.Surface(ws.xs_rect.size)
            crosssection.draw_eye(pic, pic.get_rect(), eye.name, eye.consequence)
            return pic

        surf.blit(ws._xs_pic.get(key, render_eye), ws.xs_rect)
        return
    if xy is None:
        args = (None, None, n.depth_mm, n.angle_deg, [])
    else:
        r = ws.region_at(xy)
        skin = tuple(ws.scenario.skin[r]) if r >= 0 else None
        name = ws.scenario.atlas.regions[r].name if r >= 0 else None
        beneath = ws.beneath(xy) if ws.view.show_danger or not ws.exam else []
        hand = n.hand_held
        depth = ws.press_depth if hand else n.depth_mm
        args = (name, skin, depth, n.angle_deg, beneath, ws.pressing, n.depth_mm if hand else None)
    # the picture shows a structure's name, depth and severity, not how far the cursor is from its axis
    shown = tuple((b.name, b.depth_mm, b.severity) for b in args[4])
    key = (ws.xs_rect.size, args[:4], shown, args[5:])

    def render() -> pygame.Surface:
        pic = pygame.Surface(ws.xs_rect.size)
        crosssection.draw(pic, pic.get_rect(), *args)
        return pic

    surf.blit(ws._xs_pic.get(key, render), ws.xs_rect)
