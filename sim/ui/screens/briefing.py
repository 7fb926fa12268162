"""The briefing: objective, instructions, the patient case and the screening decision."""

from __future__ import annotations

import pygame
import pygame_gui

from sim.core.records.attempt import Attempt
from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring import ScreeningAnswer
from sim.ui import style, words
from sim.ui.choicelist import ChoiceList
from sim.ui.submit import submit
from sim.ui.screens.base import PAD, Screen, _button, _clock, map_techniques, objective_shown


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

    DECISIONS = (("go", "Go", pygame.K_g), ("postpone", "Postpone", pygame.K_p), ("no-go", "No-go", pygame.K_n))

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.col = pygame.Rect(PAD * 3, 30, (w - 8 * PAD) // 2, h - 120)
        self.col2 = pygame.Rect(self.col.right + 2 * PAD, 30, w - self.col.right - 5 * PAD, h - 120)
        inner2 = self.col2.inflate(-32, -32)
        self.patient_lines = self._patient_lines()
        y = inner2.top + 32
        for line in self.patient_lines:
            y += len(style.wrap(line, inner2.width, 19)) * (style.font(19).get_linesize() + 2) + 4
        self.decision_buttons = {}
        self.reasons = None
        if self.screening:
            # the patient's lines, the question, the decisions, then the reasons in the room that is left
            self.screening_top = y + 12
            x, by = inner2.left, self.screening_top + 48
            bw = min(130, (inner2.width - 20) // 3)
            for k, (key, label, _key) in enumerate(self.DECISIONS):
                oid = "#toggle_on" if self.decision == key else None
                self.decision_buttons[key] = _button(label, (x + k * (bw + 10), by, bw, 40), m, oid,
                                                     f"{pygame.key.name(_key).upper()}")
            from sim.core.exercise.screening import load_reasons  # only a patient to screen needs the catalogue

            items = [(r.id, r.label) for r in load_reasons().reasons]
            top = by + 40 + 34
            rect = pygame.Rect(inner2.left, top, inner2.width, max(120, inner2.bottom - top))
            offset = self.reasons_offset if hasattr(self, "reasons_offset") else 0
            self.reasons = ChoiceList(rect, items, self.reason, offset)
        label = "Continue" if self.screening else "Start"
        self.b_start = _button(label, (w - 3 * PAD - 180, h - 70, 180, 46), m, "#primary")
        self.b_back = _button("Back", (3 * PAD, h - 70, 120, 46), m, None, "Esc: back to the exercises")
        self._refresh()

    def _patient_lines(self) -> list[str]:
        spec = self.scenario.spec
        p = spec.patient
        if p is None:
            return []
        lines = [f"{p.name}, {p.age_years} years" + (f", {p.sex}" if p.sex else ""), f"Complaint: {p.complaint}"]
        if p.history:
            lines.append("History: " + "; ".join(p.history))
        if p.medications:
            lines.append("Medications: " + "; ".join(p.medications))
        if spec.no_go:
            lines.append("Marked on the map: " + "; ".join(s.name for s in spec.no_go))
        return lines

    def _refresh(self) -> None:
        if self.screening:
            ready = self.decision is not None and self.reason is not None
            self.b_start.enable() if ready else self.b_start.disable()

    def decide(self, key: str) -> None:
        self.decision = key
        self.reasons_offset = self.reasons.offset if self.reasons else 0
        self.app.manager.clear_and_reset()
        self.layout(self.app.size)

    def missing(self) -> str:
        """What is still to be chosen before Continue, in words ("" when nothing)."""
        if not self.screening:
            return ""
        if self.decision is None and self.reason is None:
            return "Choose a decision and its reason."
        if self.decision is None:
            return "Choose a decision: go, postpone or no-go."
        if self.reason is None:
            return "Choose the reason for your decision."
        return ""

    def answer(self) -> ScreeningAnswer | None:
        if not self.screening:
            return None
        return ScreeningAnswer(self.decision, self.reason or None) if self.decision else None

    def proceed(self) -> None:
        answer = self.answer()
        if self.missing():
            return
        if answer is not None and answer.decision != "go":
            attempt = Attempt(self.scenario, self.app.library, self.app.config, self.mode, self.app.options.trainee,
                              answer)
            self.app.open("summary", attempt, submit(attempt, self.app.options.save))
            return
        self.app.open("workspace", self.scenario, self.mode, answer)

    def handle(self, event) -> None:
        if self.reasons is not None and self.reasons.handle(event):
            self._reason_changed()
            return
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            for key, button in self.decision_buttons.items():
                if event.ui_element is button:
                    self.decide(key)
                    return
            if event.ui_element is self.b_start:
                self.proceed()
            elif event.ui_element is self.b_back:
                self.app.open("picker", self.scenario.id)
        elif event.type == pygame.KEYDOWN:
            decision = next((d for d, _label, k in self.DECISIONS if k == event.key), None)
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.proceed()
            elif event.key == pygame.K_ESCAPE:
                self.app.open("picker", self.scenario.id)
            elif self.screening and decision:
                self.decide(decision)
            elif self.reasons is not None and self.reasons.key(event.key):
                self._reason_changed()

    def _reason_changed(self) -> None:
        if self.reasons.changed:
            self.reasons.changed = False
            self.reason = self.reasons.selected
            self._refresh()

    def objective(self) -> str:
        return objective_shown(self.scenario)

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
        blocks = [("Objective", self.objective())]
        if spec.instructions:
            blocks.append(("Instructions", spec.instructions))
        facts = ["Techniques: " + ", ".join(t.name for t in map_techniques(self.scenario, lib)),
                 f"Product: {spec.product.name} ({spec.product.form})",
                 "Devices: " + ", ".join("mesoinjector" if d == "gun" else "by hand" for d in spec.devices)]
        if spec.targets:
            areas = (words.area_name(self.scenario.atlas, t.label).lower() for t in spec.targets)
            facts.append("Target areas: " + ", ".join(dict.fromkeys(areas)))
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
        if spec.patient is None:
            style.text(surf, "No patient case", (inner2.left, inner2.top), 24, style.INK, True)
            what = "an exam" if self.mode == "exam" else "a practice exercise"
            style.paragraph(surf, f"This is {what} on the map alone. Press Start (or Enter).",
                            pygame.Rect(inner2.left, inner2.top + 32, inner2.width, 80), 19, style.MUTED)
            return
        style.text(surf, "Patient", (inner2.left, inner2.top), 24, style.INK, True)
        y = inner2.top + 32
        for line in self.patient_lines:
            y = style.paragraph(surf, line, pygame.Rect(inner2.left, y, inner2.width, inner2.bottom - y), 19) + 4
        if self.screening:
            y = self.screening_top
            style.text(surf, "Screening: may this patient be treated today?", (inner2.left, y), 21, style.INK, True)
            style.text(surf, "Decide (G, P, N), choose the reason (Up / Down), then Continue (Enter).",
                       (inner2.left, y + 24), 17, style.MUTED)
            style.text(surf, "Reason", (inner2.left, self.reasons.rect.top - 26), 19, style.INK, True)
            self.reasons.draw(surf)
            missing = self.missing()
            if missing:
                style.text(surf, missing, (self.b_start.rect.left - 16, self.b_start.rect.centery), 18, style.MUTED,
                           anchor="midright")
