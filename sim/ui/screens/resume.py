"""The question after a crash: resume the unfinished attempt its journal holds, or discard it."""

from __future__ import annotations

import pygame
import pygame_gui

from sim.errors import InputError
from sim.ui import style
from sim.ui.screens.base import Screen, _button


class ResumeScreen(Screen):
    """After a crash: offer to go on with the unfinished attempt its journal holds, or to discard it."""

    def __init__(self, app, pending, then):
        super().__init__(app)
        self.pending = pending
        self.then = then  # a callable that opens what would have opened without the question
        from sim.core.exercise.scenario import load_scenario

        self.scenario = None
        self.problem = ""
        ref = pending.header.get("scenario", {})
        try:
            self.scenario = load_scenario(ref.get("file") or ref.get("id", ""), app.library)
            if self.scenario.digest != ref.get("sha256"):
                self.problem = "The exercise file has changed since; the attempt resumes with the new version."
        except InputError as exc:
            self.problem = "The exercise cannot be opened any more: " + str(exc.problems[0])

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.b_resume = _button("Resume", (w // 2 - 210, h // 2 + 60, 200, 46), m, "#primary")
        self.b_discard = _button("Discard it", (w // 2 + 10, h // 2 + 60, 200, 46), m)
        if self.scenario is None:
            self.b_resume.disable()

    def resume(self) -> None:
        h = self.pending.header
        ws = self.app.open("workspace", self.scenario, h.get("mode", self.scenario.spec.mode), None, self.pending)
        if self.app.options.replay:
            ws.begin_replay(self.app.options.replay)

    def discard(self) -> None:
        self.pending.path.unlink(missing_ok=True)
        self.then()

    def handle(self, event) -> None:
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.b_resume:
                self.resume()
            elif event.ui_element is self.b_discard:
                self.discard()

    def draw(self, surf) -> None:
        w, h = surf.get_size()
        box = pygame.Rect(0, 0, 640, 300)
        box.center = (w // 2, h // 2)
        pygame.draw.rect(surf, style.PANEL, box, border_radius=8)
        pygame.draw.rect(surf, style.PANEL_EDGE, box, 1, border_radius=8)
        inner = box.inflate(-40, -40)
        title = self.scenario.spec.title if self.scenario else self.pending.scenario_id
        y = style.paragraph(surf, "An attempt was not finished", inner, 28, style.INK, True) + 8
        lines = [f"{title}, started {self.pending.header.get('started', '?')}",
                 f"{len(self.pending.records)} injection(s) kept in its journal."] + self.pending.warnings
        if self.problem:
            lines.append(self.problem)
        for line in lines:
            y = style.paragraph(surf, line, pygame.Rect(inner.left, y, inner.width, inner.bottom - y), 19,
                                style.MUTED) + 2
