"""The summary: score, pass or not, the criteria, the numbered map and every finding."""

from __future__ import annotations

import sys

import numpy as np
import pygame
import pygame_gui

from sim.core.records.attempt import Attempt
from sim.ui import style
from sim.ui.layers import MarkLayer
from sim.ui.mapview import MapView
from sim.ui.textview import Run, TextView
from sim.ui.submit import Submitted
from sim.ui.screens.base import PAD, Screen, _button, _tag


class SummaryScreen(Screen):
    """Score, pass or not, the per-criterion breakdown, critical findings first, the numbered map, every finding."""

    def __init__(self, app, attempt: Attempt, submitted: Submitted):
        super().__init__(app)
        self.attempt = attempt
        self.report = attempt.finish()
        self.saved, self.gradebook_note, self.save_error = submitted.path, submitted.note, submitted.error
        self.view = MapView(attempt.scenario, pygame.Rect(0, 0, 100, 100))
        self.view.show_danger = True
        self.marks = MarkLayer(self.view)
        self._findings = self._findings_text()
        self._shot_pending = bool(app.options.replay or app.options.screenshot)

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        left_w = int(w * 0.46)
        self.view.set_rect(pygame.Rect(0, 0, left_w, h))
        self.right = pygame.Rect(left_w + PAD, PAD, w - left_w - 2 * PAD, h - 2 * PAD)
        top = self.right.top + 120 + 22 * len(self.report["criteria"]) // 2 + 30
        self.findings = TextView(pygame.Rect(self.right.left, top, self.right.width, self.right.bottom - top - 56),
                                 self._findings)
        by = self.right.bottom - 46
        self.b_again = _button("Try again", (self.right.left, by, 140, 42), m, "#primary")
        self.b_picker = _button("Exercises", (self.right.left + 150, by, 140, 42), m)
        self.b_quit = _button("Quit", (self.right.right - 100, by, 100, 42), m)

    def _findings_text(self) -> list[list[Run]]:
        """Critical findings first, then the attempt's, then every injection with its own: paragraphs of runs."""
        rep = self.report
        ink, grey = style.INK, style.MUTED
        out: list[list[Run]] = []
        if self.attempt.mode == "exam" and self.attempt.provenance != "live":
            from sim.core.records.integrity import PROVENANCE_WORDS

            what = PROVENANCE_WORDS.get(self.attempt.provenance or "", "not a live session")
            out.append([("NOT an exam result: ", style.VERDICT["critical"], True), (what, ink, False)])
            out.append([])
        crit = [(e, f) for e in rep["injections"] for f in e["findings"] if f["verdict"] == "critical"]
        crit += [(None, f) for f in rep["attempt_findings"] if f["verdict"] == "critical"]
        if crit:
            out.append([("Critical findings", style.VERDICT["critical"], True)])
            for e, f in crit:
                out.append([(f"#{e['index'] + 1}: " if e else "", ink, True), (f["message"], ink, False)])
                out.append([(f["source"], grey, False)])
            out.append([])
        if rep["attempt_findings"]:
            out.append([("The attempt", ink, True)])
            for f in rep["attempt_findings"]:
                out.append([_tag(f["verdict"]), (" ", ink, False), (f["rule"], ink, True),
                            (f": {f['message']}", ink, False)])
                out.append([(f.get("source", ""), grey, False)])
            out.append([])
        out.append([("Every injection", ink, True)])
        for e in rep["injections"]:
            head = (f"#{e['index'] + 1} {e['technique']} at ({e['x_mm']:g}, {e['y_mm']:g}) mm, {e['depth_mm']:g} mm, "
                    f"{e['angle_deg']:g} deg, {e['volume_ml']:g} ml")
            out.append([_tag(e["verdict"]), (" ", ink, False), (head, ink, True),
                        (f" - {e.get('region') or 'off the map'}", ink, False)])
            for f in e["findings"]:
                out.append([("  ", ink, False), _tag(f["verdict"]), (f" {f['rule']}: {f['message']} ", ink, False),
                            (f"({f['source']})", grey, False)])
        if not rep["injections"]:
            out.append([("No injections were made.", ink, False)])
        return out

    def handle(self, event) -> None:
        if self.findings.handle(event):
            return
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.b_again:
                a = self.attempt
                self.app.open("briefing", a.scenario, a.mode)
            elif event.ui_element is self.b_picker:
                self.app.open("picker", self.attempt.scenario.id)
            elif event.ui_element is self.b_quit:
                self.app.quit(0)
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
            self.app.quit(0)

    def _paint_marks(self, surf: pygame.Surface, start: int) -> None:
        """The numbered marks (numbers up to 150 marks), each in its verdict's colour and shape."""
        recs = self.attempt.records
        pts = self.view.to_local(np.array([[r["x_mm"], r["y_mm"]] for r in recs[start:]]))
        for i, (p, e) in enumerate(zip(pts, self.report["injections"][start:]), start):
            style.mark(surf, e["verdict"], p, 5, i + 1 if len(recs) <= 150 else None)

    def draw(self, surf) -> None:
        self.marks.draw(surf, tuple(self.attempt.records), b"", self._paint_marks)  # a finished attempt's verdicts
        rep = self.report
        r = self.right
        pygame.draw.rect(surf, style.PANEL, r)
        pygame.draw.rect(surf, style.PANEL_EDGE, r, 1)
        passed = rep["passed"]
        style.text(surf, rep["title"], (r.left + 14, r.top + 10), 24, style.INK, True)
        style.text(surf, f"{rep['score']:.1f}", (r.left + 14, r.top + 38), 56, style.INK, True)
        colour = style.VERDICT["ok"] if passed else style.VERDICT["fail"]
        style.text(surf, "PASSED" if passed else "NOT PASSED", (r.left + 140, r.top + 42), 32, colour, True)
        note = f"pass mark {rep['pass_mark']:g}"
        if rep["critical_findings"]:
            note += f"; {rep['critical_findings']} critical finding(s): not passed whatever the score"
        if rep.get("blocking_failures"):
            note += f"; not met: {', '.join(rep['blocking_failures'])}"
        style.text(surf, note, (r.left + 140, r.top + 72), 18, style.MUTED)
        saved = (f"Saved: {self.saved}" if self.saved else self.save_error) or ""
        if self.saved and self.gradebook_note:
            saved = self.gradebook_note
        style.text(surf, saved if len(saved) < 90 else "..." + saved[-87:], (r.left + 14, r.top + 96), 15,
                   style.MUTED)
        y = r.top + 120
        col_w = (r.width - 28) // 2
        for k, c in enumerate(rep["criteria"]):
            x = r.left + 14 + (k % 2) * col_w
            yy = y + (k // 2) * 22
            style.text(surf, c["rule"], (x, yy), 18)
            bar = pygame.Rect(x + 100, yy + 3, col_w - 170, 12)
            pygame.draw.rect(surf, (222, 226, 232), bar)
            share = c["score"]
            pygame.draw.rect(surf, style.VERDICT["ok"] if share >= 0.9 else style.VERDICT["warn"]
                             if share >= 0.5 else style.VERDICT["fail"], (bar.left, bar.top, bar.width * share, 12))
            style.text(surf, f"{share * 100:.0f}%", (bar.right + 6, yy), 17, style.MUTED)
        self.findings.draw(surf)

    def after_frame(self) -> None:
        if self._shot_pending:
            self._shot_pending = False
            if self.app.options.screenshot:
                self.app.screenshot(self.app.options.screenshot)
            if self.app.options.replay:  # no one reads the window: what went wrong goes to stderr and the status
                problem = self.save_error or self.gradebook_note
                if problem:
                    print(problem, file=sys.stderr)
                self.app.quit(2 if self.save_error else 1 if self.gradebook_note else 0)
