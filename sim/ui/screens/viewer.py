"""The record viewer: a saved attempt, injection by injection."""

from __future__ import annotations

import numpy as np
import pygame
import pygame_gui

from sim.errors import InputError
from sim.ui import style, words
from sim.ui.settings import ui_settings
from sim.ui.layers import Cached, MarkLayer
from sim.ui.legend import legend
from sim.ui.mapview import MapView
from sim.ui.screens.base import PAD, SIDE, TOP_BAR, Screen, _button


class RecordViewerScreen(Screen):
    """A saved attempt, injection by injection: Right / Left step, Space plays and pauses, Home / End."""

    PERIOD = 0.6

    def __init__(self, app, record: dict, path: str = ""):
        super().__init__(app)
        from sim.core.records.model import normalized
        from sim.session import find_exercise, verify_records

        raw, record = record, normalized(record)
        self.record = record
        self.report = record["report"]
        scn = find_exercise(record, app.library, path or "record")
        self.scenario = scn
        checked = verify_records([(path or "record", raw, app.options.view_record_form)], app.library,
                                 app.config)[0]
        self.verified = bool(checked.verified)
        self.status = checked.status + (f"; {checked.standing}" if checked.standing else "")
        self.view = MapView(scn, pygame.Rect(0, TOP_BAR, 800, 600))
        self.view.show_danger = True
        self.view.label_danger = False
        self.marks = MarkLayer(self.view)
        self._legend = Cached()
        xy = np.array([[e["x_mm"], e["y_mm"]] for e in self.report["injections"]], dtype=float).reshape(-1, 2)
        self._xy = xy
        if len(xy) > 1:  # the typical distance between neighbours: numbers only where they have room
            d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
            np.fill_diagonal(d, np.inf)
            self._spacing_mm = float(np.median(d.min(axis=1)))
        else:
            self._spacing_mm = np.inf
        self.shown = 0
        self.playing = False
        self.clock = 0.0

    @property
    def total(self) -> int:
        return len(self.report["injections"])

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.view.set_rect(pygame.Rect(0, TOP_BAR, w - SIDE, h - TOP_BAR))
        pts = [self._xy] + [p for _n, p in self.scenario.target_polygons]
        pts = np.concatenate(pts)
        if len(pts):
            (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
            self.view.fit_to((float(x0), float(y0), float(x1), float(y1)))
        self.side = pygame.Rect(w - SIDE + PAD, TOP_BAR + PAD, SIDE - 2 * PAD, h - TOP_BAR - 2 * PAD)
        x = w - SIDE + PAD
        self.b_prev = _button("< Step", (x, 8, 100, 36), m)
        self.b_play = _button("Pause" if self.playing else "Play", (x + 110, 8, 100, 36), m, "#primary")
        self.b_next = _button("Step >", (x + 220, 8, 100, 36), m)

    def step(self, delta: int) -> None:
        self.shown = int(np.clip(self.shown + delta, 0, self.total))

    def toggle_play(self) -> None:
        self.playing = not self.playing
        if self.playing and self.shown >= self.total:
            self.shown = 0
        self.app.manager.clear_and_reset()
        self.layout(self.app.size)

    def handle(self, event) -> None:
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.b_prev:
                self.step(-1)
            elif event.ui_element is self.b_next:
                self.step(1)
            elif event.ui_element is self.b_play:
                self.toggle_play()
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_RIGHT:
                self.step(1)
            elif event.key == pygame.K_LEFT:
                self.step(-1)
            elif event.key == pygame.K_SPACE:
                self.toggle_play()
            elif event.key == pygame.K_HOME:
                self.shown = 0
            elif event.key == pygame.K_END:
                self.shown = self.total
            elif event.key == pygame.K_ESCAPE:
                self.app.quit(0)
        elif event.type == pygame.MOUSEWHEEL:
            pos = pygame.mouse.get_pos()
            if self.view.rect.collidepoint(pos):
                self.view.zoom_at(pos, ui_settings().pointer.zoom_per_notch ** event.y)

    def update(self, dt: float) -> None:
        if self.playing:
            self.clock += dt
            while self.clock >= self.PERIOD:
                self.clock -= self.PERIOD
                self.step(1)
                if self.shown >= self.total:
                    self.playing = False
                    self.app.manager.clear_and_reset()
                    self.layout(self.app.size)
                    break

    def _paint_marks(self, surf: pygame.Surface, start: int) -> None:
        entries = self.report["injections"][start:self.shown]
        pts = self.view.to_local(np.array([[e["x_mm"], e["y_mm"]] for e in entries]))
        numbered = self._spacing_mm * self.view.scale >= 22
        for e, p in zip(entries, pts):
            style.mark(surf, e["verdict"], p, style.mark_radius(self.view.scale), e["index"] + 1 if numbered else None)

    def draw(self, surf) -> None:
        entries = self.report["injections"][:self.shown]
        self.marks.draw(surf, tuple(entries), b"", self._paint_marks)  # a saved report's entries do not change
        if entries:
            at = self.view.to_px((entries[-1]["x_mm"], entries[-1]["y_mm"]))
            pygame.draw.circle(surf, style.ACCENT, at, style.mark_radius(self.view.scale) + 7, 3)
            label = style.font(18, True).render(f"#{entries[-1]['index'] + 1}", True, style.ACCENT)
            box = label.get_rect(bottomleft=(at[0] + 14, at[1] - 12))
            pygame.draw.rect(surf, (255, 255, 255), box.inflate(8, 2), border_radius=3)
            surf.blit(label, box)
        v = self.view
        pic = self._legend.get(v.rect.width, lambda: legend(True, False, True, bool(self.scenario.target_polygons),
                                                            bool(self.scenario.spots), max_width=v.rect.width - 40))
        surf.blit(pic, (v.rect.left + 10, v.rect.bottom - 34 - pic.get_height()))
        w = surf.get_width()
        pygame.draw.rect(surf, style.PANEL, (0, 0, w - SIDE, TOP_BAR))
        rep = self.report
        style.text(surf, f"{rep.get('title', rep['scenario'])} - {self.record.get('trainee') or '(no name)'}",
                   (PAD, 8), 22, style.INK, True)
        # the record's standing beside its score, as large: a record that is not verified must not pass for one
        x = style.text(surf, f"Score {rep['score']:.1f}, {'passed' if rep['passed'] else 'not passed'}",
                       (PAD, 30), 20, style.INK, True).right
        bad = not self.verified
        step = f"   injection {self.shown} of {self.total}"
        room = w - SIDE - PAD - x - style.font(18).size(step)[0]
        x = style.text(surf, style.fit(f"  {self.status}", room, 20, True), (x, 30), 20,
                       style.VERDICT["fail"] if bad else style.VERDICT["ok"], True).right
        style.text(surf, step, (x, 32), 18, style.MUTED)
        r = self.side
        pygame.draw.rect(surf, style.PANEL, r)
        pygame.draw.rect(surf, style.PANEL_EDGE, r, 1)
        inner = r.inflate(-16, -16)
        if not entries:
            style.paragraph(surf, "Right arrow or Step shows the first injection; Space plays the attempt.", inner,
                            18, style.MUTED)
            return
        e = entries[-1]
        lib = self.app.library
        tech = lib.get(e["technique"]).name if e["technique"] in lib.ids else e["technique"]
        regions = {r.id: r.name for r in self.scenario.atlas.regions}
        where = regions.get(e.get("region") or "", None) or "off the map"
        y = style.paragraph(surf, f"#{e['index'] + 1} {tech}: {style.VERDICT_WORDS[e['verdict']]}", inner, 21,
                            style.INK, True) + 2
        y = style.paragraph(surf, f"({e['x_mm']:.1f}, {e['y_mm']:.1f}) mm, {e['depth_mm']:g} mm deep, "
                                  f"{e['angle_deg']:g} deg, {e['volume_ml']:g} ml; {where}"
                                  f", {e.get('layer') or '-'}", pygame.Rect(inner.left, y, inner.width, 60), 17,
                            style.MUTED) + 6
        for f in e["findings"] or [{"rule": "ok", "verdict": "ok", "message": "Within the spec.", "source": ""}]:
            y = style.paragraph(surf, f"{f['rule']}: {words.plain(f['message'], self.scenario.atlas)}",
                                pygame.Rect(inner.left, y, inner.width, inner.bottom - y), 17,
                                style.text_colour(f["verdict"])) + 2
            if f["source"]:
                y = style.paragraph(surf, "Source: " + words.source_line(f["source"]),
                                    pygame.Rect(inner.left, y, inner.width, inner.bottom - y), 14, style.MUTED) + 6
