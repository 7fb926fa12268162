"""The briefing: objective, instructions, the patient case and the screening decision."""

from __future__ import annotations

import pygame
import pygame_gui
from pygame_gui.elements import UIDropDownMenu

from sim.core.records.attempt import Attempt
from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring import ScreeningAnswer
from sim.ui import style
from sim.ui.submit import submit
from sim.ui.screens.base import PAD, Screen, _button, _clock


class BriefingScreen(Screen):
    """Objective, instructions, the patient case and, when the scenario has one, the screening decision."""

    def __init__(self, app, scenario: LoadedScenario, mode: str):
        super().__init__(app)
        self.scenario = scenario
        self.mode = mode
        self.decision: str | None = None
        self.reason: str | None = None
        patient = scenario.spec.patient
        self.screening = patient.screening if patient else None

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.col = pygame.Rect(PAD * 3, 30, (w - 8 * PAD) // 2, h - 120)
        self.col2 = pygame.Rect(self.col.right + 2 * PAD, 30, w - self.col.right - 5 * PAD, h - 120)
        self.decision_buttons = {}
        self.reason_menu = None
        if self.screening:
            x, y = self.col2.left + 16, self.col2.bottom - 150
            for k, (key, label) in enumerate((("go", "Go"), ("postpone", "Postpone"), ("no-go", "No-go"))):
                oid = "#toggle_on" if self.decision == key else None
                self.decision_buttons[key] = _button(label, (x + k * 130, y, 120, 40), m, oid)
            from sim.core.exercise.screening import load_reasons  # only a patient to screen needs the catalogue

            reasons = load_reasons()
            options = [("Choose the reason...", "")] + [(r.label, r.id) for r in reasons.reasons]
            start = next((o for o in options if o[1] == self.reason), options[0])
            self.reason_menu = UIDropDownMenu(options, start, pygame.Rect(x, y + 52, self.col2.width - 32, 36), m,
                                              expansion_height_limit=320)
        label = "Continue" if self.screening else "Start"
        self.b_start = _button(label, (w - 3 * PAD - 180, h - 70, 180, 46), m, "#primary")
        self.b_back = _button("Back", (3 * PAD, h - 70, 120, 46), m)
        self._refresh()

    def _refresh(self) -> None:
        if self.screening:
            ready = self.decision is not None
            self.b_start.enable() if ready else self.b_start.disable()

    def answer(self) -> ScreeningAnswer | None:
        if not self.screening:
            return None
        return ScreeningAnswer(self.decision, self.reason or None) if self.decision else None

    def proceed(self) -> None:
        answer = self.answer()
        if self.screening and self.decision is None:
            return
        if answer is not None and answer.decision != "go":
            attempt = Attempt(self.scenario, self.app.library, self.app.config, self.mode, self.app.options.trainee,
                              answer)
            self.app.open("summary", attempt, submit(attempt, self.app.options.save))
            return
        self.app.open("workspace", self.scenario, self.mode, answer)

    def handle(self, event) -> None:
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            for key, button in self.decision_buttons.items():
                if event.ui_element is button:
                    self.decision = key
                    self.app.manager.clear_and_reset()
                    self.layout(self.app.size)
                    return
            if event.ui_element is self.b_start:
                self.proceed()
            elif event.ui_element is self.b_back:
                self.app.open("picker", self.scenario.id)
        elif event.type == pygame_gui.UI_DROP_DOWN_MENU_CHANGED and event.ui_element is self.reason_menu:
            self.reason = event.selected_option_id or None
        elif event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.proceed()
            elif event.key == pygame.K_ESCAPE:
                self.app.open("picker", self.scenario.id)

    def draw(self, surf) -> None:
        spec = self.scenario.spec
        lib = self.app.library
        for r in (self.col, self.col2):
            pygame.draw.rect(surf, style.PANEL, r)
            pygame.draw.rect(surf, style.PANEL_EDGE, r, 1)
        inner = self.col.inflate(-32, -32)
        y = style.paragraph(surf, spec.title, inner, 32, style.INK, True) + 4
        mode = "Exam: no feedback until you submit, no undo." if self.mode == "exam" else \
            "Practice: every injection is marked and explained at once."
        y = style.paragraph(surf, mode, pygame.Rect(inner.left, y, inner.width, 60), 19,
                            style.VERDICT["fail"] if self.mode == "exam" else style.ACCENT, True) + 10
        blocks = [("Objective", spec.objective)]
        if spec.instructions:
            blocks.append(("Instructions", spec.instructions))
        facts = ["Techniques: " + ", ".join(lib.get(t).name for t in self.scenario.technique_ids),
                 f"Product: {spec.product.name} ({spec.product.form})",
                 "Devices: " + ", ".join("mesoinjector" if d == "gun" else "by hand" for d in spec.devices)]
        if spec.targets:
            facts.append("Target areas: " + ", ".join(dict.fromkeys(t.region or t.name or "" for t in spec.targets)))
        if spec.count:
            facts.append(f"Injections expected: {spec.count.min}-{spec.count.max}")
        if spec.time_limit_s:
            facts.append(f"Time limit: {_clock(spec.time_limit_s)}")
        facts.append(f"Pass mark: {spec.pass_mark:g} / 100, and no critical finding")
        blocks.append(("The exercise", "\n".join(facts)))
        for head, body in blocks:
            style.text(surf, head, (inner.left, y), 22, style.INK, True)
            y = style.paragraph(surf, body, pygame.Rect(inner.left, y + 24, inner.width, inner.bottom - y - 24),
                                19) + 12
        inner2 = self.col2.inflate(-32, -32)
        p = spec.patient
        if p is None:
            style.text(surf, "No patient case", (inner2.left, inner2.top), 24, style.INK, True)
            style.paragraph(surf, "This is a practice exercise on the map alone. Press Start (or Enter).",
                            pygame.Rect(inner2.left, inner2.top + 32, inner2.width, 80), 19, style.MUTED)
            return
        style.text(surf, "Patient", (inner2.left, inner2.top), 24, style.INK, True)
        lines = [f"{p.name}, {p.age_years} years" + (f", {p.sex}" if p.sex else ""),
                 f"Complaint: {p.complaint}"]
        if p.history:
            lines.append("History: " + "; ".join(p.history))
        if p.medications:
            lines.append("Medications: " + "; ".join(p.medications))
        if spec.no_go:
            lines.append("Marked on the map: " + "; ".join(s.name for s in spec.no_go))
        y = inner2.top + 32
        for line in lines:
            y = style.paragraph(surf, line, pygame.Rect(inner2.left, y, inner2.width, inner2.bottom - y), 19) + 4
        if self.screening:
            y = self.col2.bottom - 196
            style.text(surf, "Screening: may this patient be treated today?", (inner2.left, y), 21, style.INK, True)
            style.text(surf, "Decide, choose the reason, then Continue.", (inner2.left, y + 22), 18, style.MUTED)
