"""The summary: score, pass or not, the criteria, the numbered map and every finding, in words a trainee reads."""

from __future__ import annotations

import sys

import numpy as np
import pygame
import pygame_gui

from sim.core.records.attempt import Attempt
from sim.ui import style, words
from sim.ui.layers import Cached, MarkLayer
from sim.ui.legend import legend
from sim.ui.mapview import MapView
from sim.ui.settings import ui_settings
from sim.ui.textview import Run, TextView
from sim.ui.submit import Submitted
from sim.ui.screens.base import PAD, Screen, _button, _tag

NUMBERED_UP_TO = 150  # marks carry their numbers up to this many injections


class SummaryScreen(Screen):
    """Score, pass or not, the screening decision explained, the criteria, critical findings first, the findings
    by kind, then every injection; the map zoomed to the worked area with the uncovered target hatched. A mark and
    its entry in the list show each other: hover or click either."""

    def __init__(self, app, attempt: Attempt, submitted: Submitted):
        super().__init__(app)
        self.attempt = attempt
        self.report = attempt.finish()
        self.saved, self.gradebook_note, self.save_error = submitted.path, submitted.note, submitted.error
        self.view = MapView(attempt.scenario, pygame.Rect(0, 0, 100, 100))
        self.view.show_danger = True
        self.view.label_danger = False
        ev = attempt.evaluation
        grid_cell = app.config.scoring.coverage.cell_mm
        if ev.covered is not None and attempt.scenario.target_polygons:
            grid = attempt.scenario.coverage_grid(grid_cell)
            gx, gy = np.meshgrid(grid.xs, grid.ys)
            open_ = grid.inside & ~ev.covered
            self.view.uncovered = np.stack([gx[open_], gy[open_]], axis=1)
            self.view.cell_mm = grid_cell
        self.marks = MarkLayer(self.view)
        self._entry_of: dict[int, tuple[int, int]] = {}  # injection -> its paragraphs in the list [first, end)
        self._findings = self._findings_text()
        self._injection_of = {p: i for i, (a, b) in self._entry_of.items() for p in range(a, b)}
        nn = ev.nearest_mm
        self._spacing_mm = float(np.nanmedian(nn)) if nn is not None and np.isfinite(nn).any() else np.inf
        self._shot_pending = bool(app.options.replay or app.options.screenshot)
        self.hover: int | None = None  # the injection shown on both sides
        self._legend = Cached()
        self._zoomed = False

    # ------------------------------------------------------------ layout

    def worked_bounds(self) -> tuple[float, float, float, float]:
        """The box [mm] around the injections and the target areas: what the map is zoomed to."""
        pts = [np.array([[r["x_mm"], r["y_mm"]] for r in self.attempt.records]).reshape(-1, 2)]
        pts += [p for _n, p in self.attempt.scenario.target_polygons]
        pts = np.concatenate(pts) if any(len(p) for p in pts) else np.zeros((0, 2))
        if not len(pts):
            return self.view.atlas.bounds_mm
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        return float(x0), float(y0), float(x1), float(y1)

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        left_w = int(w * 0.46)
        self.view.set_rect(pygame.Rect(0, 0, left_w, h))
        self.view.fit_to(self.worked_bounds())
        self.right = pygame.Rect(left_w + PAD, PAD, w - left_w - 2 * PAD, h - 2 * PAD)
        r = self.right
        self.note_lines = style.wrap(self._note(), r.width - 154, 18)
        y = r.top + max(96, 74 + 20 * len(self.note_lines))
        self.saved_y = y
        self.criteria = self._criteria_shown()
        self.criteria_top = y + 22
        rows = (len(self.criteria) + 1) // 2
        top = self.criteria_top + 22 * rows + 8
        self.findings = TextView(pygame.Rect(r.left, top, r.width, r.bottom - top - 56), self._findings)
        by = r.bottom - 46
        self.b_again = _button("Try again", (r.left, by, 140, 42), m, "#primary", "Enter: the briefing again")
        self.b_picker = _button("Exercises", (r.left + 150, by, 140, 42), m, None, "Back to the exercises")
        self.b_quit = _button("Quit", (r.right - 100, by, 100, 42), m, None, "Esc")

    def _note(self) -> str:
        rep = self.report
        note = f"pass mark {rep['pass_mark']:g}"
        if rep["critical_findings"]:
            note += f"; {rep['critical_findings']} critical finding(s): not passed whatever the score"
        if rep.get("blocking_failures"):
            note += f"; not met: {', '.join(rep['blocking_failures'])}"
        return note

    def _criteria_shown(self) -> list[dict]:
        """The parts of the score and the criteria that count; advice-only criteria only where they fell short."""
        return [c for c in self.report["criteria"]
                if c.get("weight", 0) > 0 or c.get("significant") or c["score"] < 1]

    # ------------------------------------------------------------ the list

    def _findings_text(self) -> list[list[Run]]:
        """The screening decision, critical findings, the attempt's, the findings by kind, then every injection
        with its own: paragraphs of runs."""
        rep = self.report
        ink, grey = style.INK, style.MUTED
        lib = self.app.library
        atlas = self.attempt.scenario.atlas
        names = {r.id: r.name for r in atlas.regions}
        out: list[list[Run]] = []
        if self.attempt.mode == "exam" and self.attempt.provenance != "live":
            from sim.core.records.integrity import PROVENANCE_WORDS

            what = PROVENANCE_WORDS.get(self.attempt.provenance or "", "not a live session")
            out.append([("NOT an exam result: ", style.VERDICT["critical"], True), (what, ink, False)])
            out.append([])

        def source(f) -> None:
            line = words.source_line(f.get("source", ""))
            if line:
                out.append([("  Source: " + line, grey, False)])

        out += self._screening_text()
        crit = [(e, f) for e in rep["injections"] for f in e["findings"] if f["verdict"] == "critical"]
        crit += [(None, f) for f in rep["attempt_findings"] if f["verdict"] == "critical"]
        if crit:
            out.append([("Critical findings", style.VERDICT["critical"], True)])
            for e, f in crit:
                out.append([(f"#{e['index'] + 1}: " if e else "", ink, True),
                            (words.plain(f["message"], atlas), ink, False)])
                source(f)
            out.append([])
        attempt_findings = [f for f in rep["attempt_findings"] if f["rule"] != "screening"]
        if attempt_findings:
            out.append([("The attempt", ink, True)])
            for f in attempt_findings:
                out.append([_tag(f["verdict"]), (" ", ink, False), (f["rule"], ink, True),
                            (f": {words.plain(f['message'], atlas)}", ink, False)])
                source(f)
            out.append([])
        groups: dict[tuple[str, str], list[tuple[dict, dict]]] = {}
        for e in rep["injections"]:
            for f in e["findings"]:
                groups.setdefault((f["rule"], f["verdict"]), []).append((e, f))
        if groups:
            out.append([("Findings by kind", ink, True)])
            order = {"critical": 0, "fail": 1, "warn": 2}
            for (rule, verdict), items in sorted(groups.items(), key=lambda kv: (order[kv[0][1]], -len(kv[1]))):
                numbers = [f"#{e['index'] + 1}" for e, _f in items]
                shown = ", ".join(numbers[:12]) + (f" and {len(numbers) - 12} more" if len(numbers) > 12 else "")
                count = f"{len(items)} injection{'s' if len(items) > 1 else ''} ({shown})"
                out.append([_tag(verdict), (" ", ink, False), (rule, ink, True), (f": {count}. ", ink, False),
                            (("For example: " if len(items) > 1 else "") + words.plain(items[0][1]["message"], atlas),
                             ink, False)])
                source(items[0][1])
            out.append([])
        out.append([("Every injection (hover or click one, on the map or here)", ink, True)])
        for e in rep["injections"]:
            tech = lib.get(e["technique"]).name if e["technique"] in lib.ids else e["technique"]
            where = names.get(e.get("region") or "", None) or "off the map"
            head = (f"#{e['index'] + 1} {tech} at ({e['x_mm']:.1f}, {e['y_mm']:.1f}) mm, {e['depth_mm']:g} mm, "
                    f"{e['angle_deg']:g} deg, {e['volume_ml']:g} ml")
            first = len(out)
            out.append([_tag(e["verdict"]), (" ", ink, False), (head, ink, True), (f" - {where}", ink, False)])
            for f in e["findings"]:
                out.append([("    ", ink, False), _tag(f["verdict"]),
                            (f" {f['rule']}: {words.plain(f['message'], atlas)}", ink, False)])
            self._entry_of[e["index"]] = (first, len(out))
        if not rep["injections"]:
            out.append([("No injections were made.", ink, False)])
        return out

    def _screening_text(self) -> list[list[Run]]:
        """The decision taken and the right one, explained whichever it was; a screening case's objective."""
        spec = self.attempt.scenario.spec
        patient = spec.patient
        if patient is None or patient.screening is None:
            return []
        from sim.core.exercise.screening import load_reasons

        reasons = load_reasons()
        expected = patient.screening
        answer = self.attempt.screening
        ink, grey = style.INK, style.MUTED
        verdict = next((f for f in self.report["attempt_findings"] if f["rule"] == "screening"), None)
        out: list[list[Run]] = [[("Screening", ink, True)]]
        if answer is None:
            out.append([("No decision was given.", ink, False)])
        else:
            why = reasons.label(answer.reason) if answer.reason else "no reason given"
            out.append([_tag(verdict["verdict"] if verdict else "ok"), (" Your decision: ", ink, False),
                        (answer.decision, ink, True), (f" ({why}).", ink, False)])
        right = ", ".join(reasons.label(r) for r in expected.reasons)
        out.append([("The right decision: ", ink, False), (expected.expected, ink, True), (f" ({right}).", ink, False)])
        if verdict:
            out.append([(words.plain(verdict["message"], self.attempt.scenario.atlas), ink, False)])
        out.append([(words.plain(expected.explanation), ink, False)])
        line = words.source_line(expected.source)
        if line:
            out.append([("Source: " + line, grey, False)])
        out.append([("The exercise's objective: " + spec.objective, grey, False)])
        out.append([])
        return out

    # ------------------------------------------------------------ events

    def _mark_at(self, pos) -> int | None:
        if not self.view.rect.collidepoint(pos) or not self.attempt.records:
            return None
        xy = np.array([[r["x_mm"], r["y_mm"]] for r in self.attempt.records])
        d = np.hypot(*(self.view.to_px(xy) - np.asarray(pos, dtype=float)).T)
        i = int(np.argmin(d))
        return i if d[i] <= max(ui_settings().pointer.hover_px, style.mark_radius(self.view.scale) + 2) else None

    def show(self, i: int | None, scroll: bool = False) -> None:
        """Injection i on both sides: its mark ringed, its entry tinted (and scrolled into view on a click)."""
        self.hover = i
        para = self._entry_of.get(i) if i is not None else None
        self.findings.highlight = para
        if scroll and para is not None:
            self.findings.show_para(*para)

    def handle(self, event) -> None:
        if self.findings.handle(event):
            return
        if event.type == pygame.MOUSEMOTION:
            i = self._mark_at(event.pos)
            if i is None and self.findings.rect.collidepoint(event.pos):
                i = self._injection_of.get(self.findings.para_at(event.pos))
            self.show(i)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            i = self._mark_at(event.pos)
            if i is not None:
                self.show(i, scroll=True)
            elif self.findings.rect.collidepoint(event.pos):
                self.show(self._injection_of.get(self.findings.para_at(event.pos)))
        elif event.type == pygame.MOUSEWHEEL:
            pos = pygame.mouse.get_pos()
            if self.view.rect.collidepoint(pos):
                self.view.zoom_at(pos, ui_settings().pointer.zoom_per_notch ** event.y)
        elif event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.b_again:
                a = self.attempt
                self.app.open("briefing", a.scenario, a.mode)
            elif event.ui_element is self.b_picker:
                self.app.open("picker", self.attempt.scenario.id)
            elif event.ui_element is self.b_quit:
                self.app.quit(0)
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_ESCAPE:
                self.app.quit(0)
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.app.open("briefing", self.attempt.scenario, self.attempt.mode)
            elif event.key in (pygame.K_f, pygame.K_HOME):
                self.view.fit_to(self.worked_bounds())

    # ------------------------------------------------------------ drawing

    def _paint_marks(self, surf: pygame.Surface, start: int) -> None:
        """The numbered marks (numbers up to NUMBERED_UP_TO marks), each in its verdict's colour and shape."""
        recs = self.attempt.records
        pts = self.view.to_local(np.array([[r["x_mm"], r["y_mm"]] for r in recs[start:]]).reshape(-1, 2))
        size = style.mark_radius(self.view.scale)
        # numbers where there is room for them: a few marks, far enough apart at this zoom
        numbered = len(recs) <= NUMBERED_UP_TO and self._spacing_mm * self.view.scale >= 22
        for i, (p, e) in enumerate(zip(pts, self.report["injections"][start:]), start):
            style.mark(surf, e["verdict"], p, size, i + 1 if numbered else None)

    def draw(self, surf) -> None:
        self.marks.draw(surf, tuple(self.attempt.records), b"", self._paint_marks)  # a finished attempt's verdicts
        v = self.view
        if self.hover is not None and self.hover < len(self.attempt.records):
            rec = self.attempt.records[self.hover]
            at = v.to_px((rec["x_mm"], rec["y_mm"]))
            pygame.draw.circle(surf, style.ACCENT, at, style.mark_radius(v.scale) + 8, 3)
            label = style.font(18, True).render(f"#{self.hover + 1}", True, style.ACCENT)
            box = label.get_rect(bottomleft=(at[0] + 14, at[1] - 12))
            pygame.draw.rect(surf, (255, 255, 255), box.inflate(8, 2), border_radius=3)
            surf.blit(label, box)
        key = (v.rect.width, self.view.uncovered is not None and len(self.view.uncovered) > 0)
        pic = self._legend.get(key, lambda: self._legend_pic(key[1]))
        surf.blit(pic, (v.rect.left + 10, v.rect.bottom - 34 - pic.get_height()))
        rep = self.report
        r = self.right
        pygame.draw.rect(surf, style.PANEL, r)
        pygame.draw.rect(surf, style.PANEL_EDGE, r, 1)
        passed = rep["passed"]
        style.text(surf, style.fit(rep["title"], r.width - 28, 24, True), (r.left + 14, r.top + 10), 24, style.INK,
                   True)
        style.text(surf, f"{rep['score']:.1f}", (r.left + 14, r.top + 38), 56, style.INK, True)
        colour = style.VERDICT["ok"] if passed else style.VERDICT["fail"]
        style.text(surf, "PASSED" if passed else "NOT PASSED", (r.left + 140, r.top + 42), 32, colour, True)
        for k, line in enumerate(self.note_lines):
            style.text(surf, line, (r.left + 140, r.top + 72 + 20 * k), 18, style.MUTED)
        saved = (f"Saved: {self.saved}" if self.saved else self.save_error) or ""
        if self.saved and self.gradebook_note:
            saved = self.gradebook_note
        f = style.font(15)
        while len(saved) > 4 and f.size(saved)[0] > r.width - 28:  # the path's end is the part that tells
            saved = "..." + saved[4:]
        style.text(surf, saved, (r.left + 14, self.saved_y), 15, style.MUTED)
        col_w = (r.width - 28) // 2
        for k, c in enumerate(self.criteria):
            x = r.left + 14 + (k % 2) * col_w
            yy = self.criteria_top + (k // 2) * 22
            style.text(surf, c["rule"], (x, yy), 18)
            bar = pygame.Rect(x + 100, yy + 3, col_w - 170, 12)
            pygame.draw.rect(surf, (222, 226, 232), bar)
            share = c["score"]
            pygame.draw.rect(surf, style.VERDICT["ok"] if share >= 0.9 else style.VERDICT["warn"]
                             if share >= 0.5 else style.VERDICT["fail"], (bar.left, bar.top, bar.width * share, 12))
            style.text(surf, f"{share * 100:.0f}%", (bar.right + 6, yy), 17, style.MUTED)
        self.findings.draw(surf)

    def _legend_pic(self, uncovered: bool) -> pygame.Surface:
        pic = legend(True, False, True, bool(self.attempt.scenario.target_polygons),
                     bool(self.attempt.scenario.spots), max_width=self.view.rect.width - 40)
        if not uncovered:
            return pic
        extra = pygame.Surface((pic.get_width(), pic.get_height() + 22), pygame.SRCALPHA)
        extra.blit(pic, (0, 0))
        extra.fill((255, 255, 255, 225), (0, pic.get_height() - 1, pic.get_width(), 23))
        pygame.draw.rect(extra, style.PANEL_EDGE, extra.get_rect(), 1)
        swatch = pygame.Rect(9, pic.get_height() + 1, 14, 12)
        pygame.draw.rect(extra, (*style.VERDICT["fail"], 90), swatch)
        for k in range(0, 14, 4):
            pygame.draw.line(extra, style.VERDICT["fail"], (swatch.left + k, swatch.bottom), (swatch.left + k + 6,
                                                                                            swatch.top), 1)
        style.text(extra, "target not covered", (swatch.right + 6, swatch.centery), 16, style.INK, anchor="midleft")
        return extra

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
