"""The four screens of a session: picker -> briefing -> workspace -> summary."""

from __future__ import annotations

import math
from pathlib import Path
from dataclasses import astuple, dataclass

import numpy as np
import pygame
import pygame_gui
from pygame_gui.elements import UIButton, UIDropDownMenu

from sim.core.records.attempt import Attempt
from sim.errors import InputError
from sim.core.scoring.injections import read_log
from sim.core.exercise.scenario import LoadedScenario, load_scenario_file, scenario_files
from sim.core.scoring import ScreeningAnswer, bleb_diameter_mm
from sim.core.vocabulary import VERDICTS
from sim.ui import crosssection, style
from sim.ui.app import REPLAY_INJECT, REPLAY_SUBMIT, ui_settings
from sim.ui.layers import Cached, MarkLayer
from sim.ui.mapview import MapView
from sim.ui.textview import Run, TextView

TOP_BAR = 52
SIDE = 380
PAD = 10


class Screen:
    def __init__(self, app):
        self.app = app

    def layout(self, size) -> None: ...

    def handle(self, event) -> None: ...

    def update(self, dt: float) -> None: ...

    def draw(self, surf: pygame.Surface) -> None: ...

    def draw_overlay(self, surf: pygame.Surface) -> None: ...

    def after_frame(self) -> None: ...

    def close(self) -> None: ...


def _button(text, rect, manager, object_id=None, tool_tip=None):
    return UIButton(pygame.Rect(rect), text, manager, object_id=object_id, tool_tip_text=tool_tip)


# ====================================================================== picker


@dataclass
class PickerItem:
    kind: str  # "header" | "scenario" | "problem"
    text: str
    detail: str = ""
    scenario: LoadedScenario | None = None


class PickerScreen(Screen):
    """Every scenario, grouped by map and technique, each with its objective; the default one selected."""

    ROW = 46

    def __init__(self, app, default_id: str):
        super().__init__(app)
        self.items: list[PickerItem] = []
        groups: dict[tuple[str, str], list[LoadedScenario]] = {}
        problems = []
        for path in scenario_files():
            try:
                scn = load_scenario_file(path, app.library)
            except InputError as exc:
                problems.append((path, exc.problems[0]))
                continue
            spec = scn.spec
            tech = ("any technique" if spec.techniques == "all" else
                    ", ".join(app.library.get(t).name.lower() for t in scn.technique_ids))
            groups.setdefault((spec.map, tech), []).append(scn)
        for (map_id, tech) in sorted(groups, key=lambda k: (k[0] != "face", k[0], k[1] != "any technique", k[1])):
            self.items.append(PickerItem("header", f"{map_id.capitalize()} - {tech}"))
            for scn in sorted(groups[(map_id, tech)], key=lambda s: (s.spec.mode, s.spec.title)):
                mode = " [exam]" if scn.spec.mode == "exam" else ""
                self.items.append(PickerItem("scenario", scn.spec.title + mode, scn.spec.objective, scn))
        for path, problem in problems:
            self.items.append(PickerItem("problem", f"{path.name}: cannot be opened", str(problem)))
        self.selected = next((i for i, it in enumerate(self.items)
                              if it.scenario is not None and it.scenario.id == default_id),
                             next((i for i, it in enumerate(self.items) if it.kind == "scenario"), 0))
        self.scroll = 0
        self.list_rect = pygame.Rect(0, 0, 0, 0)
        self._last_click = (-1, 0)

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.list_rect = pygame.Rect(PAD * 2, 90, w - 4 * PAD - 420, h - 90 - 2 * PAD)
        self.detail_rect = pygame.Rect(self.list_rect.right + 2 * PAD, 90, 420 - 2 * PAD, h - 170)
        bx = self.detail_rect.left
        by = h - 70
        self.b_practice = _button("Start (practice)", (bx, by, 190, 44), m, "#primary")
        self.b_exam = _button("Start as exam", (bx + 200, by, 180, 44), m)
        self._ensure_visible()

    def _ensure_visible(self) -> None:
        rows = max(1, self.list_rect.height // self.ROW)
        if self.selected < self.scroll:
            self.scroll = self.selected
        elif self.selected >= self.scroll + rows:
            self.scroll = self.selected - rows + 1

    def move(self, delta: int) -> None:
        i = self.selected
        while 0 <= i + delta < len(self.items):
            i += delta
            if self.items[i].kind == "scenario":
                self.selected = i
                break
        self._ensure_visible()

    @property
    def current(self) -> LoadedScenario | None:
        return self.items[self.selected].scenario if self.items else None

    def start(self, mode: str | None = None) -> None:
        scn = self.current
        if scn is not None:
            self.app.switch(BriefingScreen(self.app, scn, mode or self.app.options.mode or scn.spec.mode))

    def handle(self, event) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_DOWN, pygame.K_j):
                self.move(1)
            elif event.key in (pygame.K_UP, pygame.K_k):
                self.move(-1)
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.start("exam" if event.mod & pygame.KMOD_SHIFT else None)
            elif event.key == pygame.K_ESCAPE:
                self.app.quit(0)
        elif event.type == pygame.MOUSEWHEEL:
            self.scroll = int(np.clip(self.scroll - event.y, 0, max(0, len(self.items) - 1)))
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self.list_rect.collidepoint(event.pos):
            i = self.scroll + (event.pos[1] - self.list_rect.top) // self.ROW
            if 0 <= i < len(self.items) and self.items[i].kind == "scenario":
                now = pygame.time.get_ticks()
                double = self._last_click[0] == i and now - self._last_click[1] < 400
                self.selected = i
                self._last_click = (i, now)
                if double:
                    self.start()
        elif event.type == pygame_gui.UI_BUTTON_PRESSED:
            if event.ui_element is self.b_practice:
                self.start("practice")
            elif event.ui_element is self.b_exam:
                self.start("exam")

    def draw(self, surf) -> None:
        w, _h = surf.get_size()
        style.text(surf, "mesosim", (PAD * 2, 18), 40, style.ACCENT, True)
        style.text(surf, "Choose an exercise. Up/Down to move, Enter to start, Shift+Enter to start as an exam.",
                   (PAD * 2, 56), 20, style.MUTED)
        pygame.draw.rect(surf, style.PANEL, self.list_rect)
        pygame.draw.rect(surf, style.PANEL_EDGE, self.list_rect, 1)
        rows = self.list_rect.height // self.ROW
        clip = surf.get_clip()
        surf.set_clip(self.list_rect)
        for k, item in enumerate(self.items[self.scroll:self.scroll + rows + 1]):
            i = self.scroll + k
            r = pygame.Rect(self.list_rect.left, self.list_rect.top + k * self.ROW, self.list_rect.width, self.ROW)
            if item.kind == "header":
                pygame.draw.rect(surf, (226, 231, 238), r)
                style.text(surf, item.text, (r.left + 10, r.centery), 22, style.ACCENT, True, "midleft")
                continue
            if i == self.selected:
                pygame.draw.rect(surf, (214, 228, 246), r)
                pygame.draw.rect(surf, style.ACCENT, r, 2)
            colour = style.INK if item.kind == "scenario" else style.VERDICT["fail"]
            style.text(surf, item.text, (r.left + 22, r.top + 5), 21, colour, True)
            detail = style.wrap(item.detail, r.width - 40, 17)[0] if item.detail else ""
            if detail and len(style.wrap(item.detail, r.width - 40, 17)) > 1:
                detail = detail.rstrip(".,;") + " ..."
            style.text(surf, detail, (r.left + 22, r.top + 25), 17, style.MUTED)
        surf.set_clip(clip)
        scn = self.current
        d = self.detail_rect
        pygame.draw.rect(surf, style.PANEL, d)
        pygame.draw.rect(surf, style.PANEL_EDGE, d, 1)
        if scn is None:
            return
        spec = scn.spec
        inner = d.inflate(-24, -24)
        y = style.paragraph(surf, spec.title, inner, 26, style.INK, True) + 6
        facts = [f"{spec.map.capitalize()} map, {scn.atlas.variant_label.lower()}", f"Mode: {spec.mode}",
                 "Techniques: " + ", ".join(self.app.library.get(t).name for t in scn.technique_ids),
                 f"Pass mark: {spec.pass_mark:g}"]
        if spec.count:
            facts.append(f"Injections: {spec.count.min}-{spec.count.max}")
        if spec.time_limit_s:
            facts.append(f"Time limit: {_clock(spec.time_limit_s)}")
        if spec.patient:
            facts.append(f"Patient: {spec.patient.name}, {spec.patient.age_years}")
        for f in facts:
            y = style.paragraph(surf, f, pygame.Rect(inner.left, y, inner.width, inner.bottom - y), 19, style.MUTED)
        y += 10
        style.text(surf, "Objective", (inner.left, y), 20, style.INK, True)
        style.paragraph(surf, spec.objective, pygame.Rect(inner.left, y + 22, inner.width, inner.bottom - y - 22), 19)


# ====================================================================== briefing


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
            self.app.switch(SummaryScreen(self.app, attempt))
            return
        self.app.switch(WorkspaceScreen(self.app, self.scenario, self.mode, answer))

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
                self.app.switch(PickerScreen(self.app, self.scenario.id))
        elif event.type == pygame_gui.UI_DROP_DOWN_MENU_CHANGED and event.ui_element is self.reason_menu:
            self.reason = event.selected_option_id or None
        elif event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.proceed()
            elif event.key == pygame.K_ESCAPE:
                self.app.switch(PickerScreen(self.app, self.scenario.id))

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


# ====================================================================== workspace


@dataclass
class Needle:
    technique: str
    depth_mm: float
    angle_deg: float
    volume_ml: float
    bevel: str = "up"
    device: str = "hand"
    control: str = "set"  # set: depth from the panel; hand: press and hold advances the needle

    def from_technique(self, tech) -> None:
        self.technique = tech.id
        self.depth_mm = tech.depth_mm.nominal
        self.angle_deg = tech.angle_deg.nominal
        self.volume_ml = tech.volume_ml.nominal


HELP = [
    ("Click on the map", "place an injection (set mode)"),
    ("Hold, then release", "hand mode: the needle advances while held; release deposits"),
    ("Drag", "mesoinjector: fires at its rate while held"),
    ("1-7", "choose the technique"),
    ("Up / Down", "depth +/- 0.1 mm (Shift: 1 mm)"),
    ("Left / Right", "angle -/+ 5 deg (Shift: 50)"),
    ("[ / ]", "volume -/+ 0.001 ml (Shift: 0.01)"),
    ("B", "bevel up / down"),
    ("M", "set depth / hand mode"),
    ("G", "by hand / mesoinjector (where the exercise allows it)"),
    ("V", "danger structures on / off (practice)"),
    ("R", "region outlines on / off"),
    ("Wheel, right-drag", "zoom and pan; F fits the map"),
    ("Ctrl+Z", "undo the last injection (practice)"),
    ("Ctrl+Enter", "submit the attempt"),
    ("F1 or ?", "this help; Esc closes it"),
]


class WorkspaceScreen(Screen):
    def __init__(self, app, scenario: LoadedScenario, mode: str, screening: ScreeningAnswer | None = None,
                 resume=None):
        super().__init__(app)
        self.scenario = scenario
        self.mode = mode
        self.exam = mode == "exam"
        self.elapsed = 0.0
        if resume is not None:  # an attempt cut short by a crash: go on where its journal ends
            self.attempt = Attempt.resumed(scenario, app.library, app.config, mode, app.options.trainee, screening,
                                           resume)
            times = [r["t_s"] for r in resume.records if "t_s" in r]
            self.elapsed = max(times) if times else 0.0
        else:
            self.attempt = Attempt(scenario, app.library, app.config, mode, app.options.trainee, screening)
            self.attempt.open_journal()
        self.techs = [app.library.get(t) for t in scenario.technique_ids if scenario.spec.map in app.library.get(t).maps]
        if not self.techs:
            self.techs = [app.library.get(t) for t in scenario.technique_ids]
        # a technique made for this map first (scalp microinjection on the scalp), the library's order otherwise
        self.techs.sort(key=lambda t: t.maps[0] != scenario.spec.map)
        first = self.techs[0]
        self.needle = Needle(first.id, first.depth_mm.nominal, first.angle_deg.nominal, first.volume_ml.nominal)
        self.needle.device = "hand" if "hand" in scenario.spec.devices else "gun"
        settings = ui_settings()["needle"]
        self.hand_speed = float(settings["hand_speed_mm_per_s"])
        self.steps = (float(settings["depth_step_mm"]), float(settings["angle_step_deg"]),
                      float(settings["volume_step_ml"]))
        self.shift_factor = float(ui_settings()["steps_shift_factor"])
        self.view = MapView(scenario, pygame.Rect(0, TOP_BAR, 800, 600))
        self.view.show_danger = False
        self.marks = MarkLayer(self.view)
        self._state: tuple[tuple[dict, ...], bytes] = ((), b"")
        self._xy_of: tuple[dict, ...] = ()
        self._xy = np.empty((0, 2))
        self._top_pic, self._panel_pic, self._xs_pic = Cached(), Cached(), Cached()
        self._findings_pic, self._tooltip_pic = Cached(), Cached()
        self.cursor_mm: np.ndarray | None = None
        self.pressing = False
        self.press_depth = 0.0
        self.gun_timer = 0.0
        self.panning = False
        self.help = False
        self.toast = ("", 0.0)
        self.replay_queue: list[dict] | None = None
        self.replay_done = False
        self.selected: int | None = None
        self.spots = list(scenario.spots)
        self.gun_rate = app.library.limits.gun.rate_per_min
        self.refused_tags = set(app.library.limits.gun.refused_tags)
        self._skin = scenario.skin

    # ------------------------------------------------------------ layout and widgets

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.view.set_rect(pygame.Rect(0, TOP_BAR, w - SIDE, h - TOP_BAR))
        sx = w - SIDE + PAD
        self.side = pygame.Rect(w - SIDE, TOP_BAR, SIDE, h - TOP_BAR)
        self.panel_rect = pygame.Rect(sx, TOP_BAR + PAD, SIDE - 2 * PAD, 262)
        self.xs_rect = pygame.Rect(sx, self.panel_rect.bottom + PAD, SIDE - 2 * PAD, 230)
        self.list_rect = pygame.Rect(sx, self.xs_rect.bottom + PAD, SIDE - 2 * PAD, h - self.xs_rect.bottom - 2 * PAD)
        bw = 96
        x = w - PAD - bw
        self.b_submit = _button("Submit", (x, 8, bw, 36), m, "#primary", "Ctrl+Enter: finish and score")
        x -= bw + 6
        self.b_undo = None
        if not self.exam:
            self.b_undo = _button("Undo", (x, 8, bw, 36), m, None, "Ctrl+Z")
            x -= bw + 6
            self.b_danger = _button("Danger", (x, 8, bw, 36), m, "#toggle_on" if self.view.show_danger else None,
                                    "V: show the danger structures")
            x -= bw + 6
        else:
            self.b_danger = None
        self.b_help = _button("Help", (x, 8, 70, 36), m, None, "F1")
        options = [(f"{k + 1}  {t.name}", t.id) for k, t in enumerate(self.techs)]
        current = next(o for o in options if o[1] == self.needle.technique)
        p = self.panel_rect
        self.tech_menu = UIDropDownMenu(options, current, pygame.Rect(p.left + 8, p.top + 30, p.width - 16, 32), m)
        rows = [("depth", 74), ("angle", 108), ("volume", 142)]
        self.step_buttons = {}
        for key, y in rows:
            self.step_buttons[(key, -1)] = _button("-", (p.right - 84, p.top + y, 36, 30), m)
            self.step_buttons[(key, +1)] = _button("+", (p.right - 44, p.top + y, 36, 30), m)
        third = (p.width - 24) // 3
        self.b_bevel = _button(f"Bevel {self.needle.bevel}", (p.left + 8, p.top + 182, third, 32), m,
                               None if self.needle.bevel == "up" else "#toggle_on", "B")
        self.b_control = _button("Hand" if self.needle.control == "hand" else "Set depth",
                                 (p.left + 12 + third, p.top + 182, third, 32), m,
                                 "#toggle_on" if self.needle.control == "hand" else None, "M: set depth / hand")
        gun_ok = "gun" in self.scenario.spec.devices
        self.b_device = _button("Mesoinjector" if self.needle.device == "gun" else "By hand",
                                (p.left + 16 + 2 * third, p.top + 182, third, 32), m,
                                "#toggle_on" if self.needle.device == "gun" else None, "G")
        if not gun_ok or "hand" not in self.scenario.spec.devices:
            self.b_device.disable()

    def relayout(self) -> None:
        self.app.manager.clear_and_reset()
        self.layout(self.app.size)

    # ------------------------------------------------------------ needle settings

    @property
    def tech(self):
        return self.app.library.get(self.needle.technique)

    def choose_technique(self, tid: str) -> None:
        if tid != self.needle.technique and tid in [t.id for t in self.techs]:
            self.needle.from_technique(self.app.library.get(tid))
            self.relayout()

    def adjust(self, key: str, direction: int, big: bool = False) -> None:
        f = self.shift_factor if big else 1.0
        n = self.needle
        if key == "depth":
            n.depth_mm = round(float(np.clip(n.depth_mm + direction * self.steps[0] * f, 0.1, 20.0)), 2)
        elif key == "angle":
            n.angle_deg = float(np.clip(n.angle_deg + direction * self.steps[1] * f, 5, 90))
        elif key == "volume":
            n.volume_ml = round(float(np.clip(n.volume_ml + direction * self.steps[2] * f, 0.001, 0.5)), 4)

    def toggle(self, what: str) -> None:
        n = self.needle
        if what == "bevel":
            n.bevel = "down" if n.bevel == "up" else "up"
        elif what == "control":
            n.control = "hand" if n.control == "set" else "set"
        elif what == "device":
            devices = self.scenario.spec.devices
            if "gun" in devices and "hand" in devices:
                n.device = "gun" if n.device == "hand" else "hand"
        elif what == "danger" and not self.exam:
            self.view.show_danger = not self.view.show_danger
        elif what == "regions":
            self.view.show_regions = not self.view.show_regions
        self.relayout()

    # ------------------------------------------------------------ placing injections

    def region_at(self, xy) -> int:
        return int(self.scenario.atlas.region_index(np.asarray([xy]))[0])

    def gun_refused(self, xy) -> bool:
        r = self.region_at(xy)
        return r >= 0 and bool(self.refused_tags & set(self.scenario.atlas.regions[r].tags))

    def place(self, x_mm: float, y_mm: float, depth_mm: float | None = None, t_s: float | None = None) -> int | None:
        """Place one injection with the needle's settings; returns its index, or None if refused."""
        n = self.needle
        if n.device == "gun" and self.gun_refused((x_mm, y_mm)):
            self.say("The mesoinjector is not used around the eyes and the nasolabial folds: inject there by hand "
                     "(seed 000).")
            return None
        i = self.attempt.add(x_mm, y_mm, n.depth_mm if depth_mm is None else depth_mm, n.angle_deg, n.volume_ml,
                             n.technique, self.elapsed if t_s is None else t_s, n.bevel, n.device)
        self.selected = i
        return i

    def say(self, message: str, seconds: float = 4.0) -> None:
        self.toast = (message, seconds)

    def submit(self) -> None:
        self.pressing = False
        self.app.switch(SummaryScreen(self.app, self.attempt))

    def close(self) -> None:
        """Leaving without a saved record keeps the journal on disk, so that the attempt can be resumed."""
        if self.attempt.journal is not None:
            self.attempt.journal.close(remove=False)
            self.attempt.journal = None

    def begin_replay(self, log_path: str) -> None:
        inj = read_log(log_path, self.app.library.ids, self.scenario.technique_ids)
        self.replay_queue = inj.records()[len(self.attempt):]  # after a resume: what the journal does not hold

    def _post_next_replay(self) -> None:
        if self.replay_queue:
            pygame.event.post(pygame.event.Event(REPLAY_INJECT, record=self.replay_queue.pop(0)))
        elif self.replay_queue is not None and not self.replay_done:
            self.replay_done = True
            pygame.event.post(pygame.event.Event(REPLAY_SUBMIT))

    # ------------------------------------------------------------ events

    def handle(self, event) -> None:
        if event.type == REPLAY_INJECT:
            rec = event.record
            self.needle.technique = rec["technique"]
            self.needle.depth_mm = rec["depth_mm"]
            self.needle.angle_deg = rec["angle_deg"]
            self.needle.volume_ml = rec["volume_ml"]
            self.needle.bevel = rec.get("bevel", "up")
            self.needle.device = rec.get("device", "hand")
            self.attempt.add(rec["x_mm"], rec["y_mm"], rec["depth_mm"], rec["angle_deg"], rec["volume_ml"],
                             rec["technique"], rec.get("t_s"), self.needle.bevel, self.needle.device)
            self.selected = len(self.attempt) - 1
            return
        if event.type == REPLAY_SUBMIT:
            self.submit()
            return
        if event.type == pygame_gui.UI_BUTTON_PRESSED:
            self._button(event.ui_element)
            return
        if event.type == pygame_gui.UI_DROP_DOWN_MENU_CHANGED and event.ui_element is self.tech_menu:
            self.choose_technique(event.selected_option_id)
            return
        if event.type == pygame.KEYDOWN:
            self._key(event)
            return
        if self.help:
            if event.type == pygame.MOUSEBUTTONDOWN:
                self.help = False
            return
        if event.type == pygame.MOUSEMOTION:
            self._motion(event)
        elif event.type == pygame.MOUSEWHEEL:
            pos = pygame.mouse.get_pos()
            if self.view.rect.collidepoint(pos):
                self.view.zoom_at(pos, 1.15 ** event.y)
        elif event.type == pygame.MOUSEBUTTONDOWN:
            if not self.view.rect.collidepoint(event.pos):
                return
            if event.button in (2, 3):
                self.panning = True
            elif event.button == 1:
                self._press(event.pos)
        elif event.type == pygame.MOUSEBUTTONUP:
            if event.button in (2, 3):
                self.panning = False
            elif event.button == 1:
                self._release(event.pos)

    def _button(self, element) -> None:
        if element is self.b_submit:
            self.submit()
        elif element is self.b_undo:
            self.undo()
        elif element is self.b_danger:
            self.toggle("danger")
        elif element is self.b_help:
            self.help = not self.help
        elif element is self.b_bevel:
            self.toggle("bevel")
        elif element is self.b_control:
            self.toggle("control")
        elif element is self.b_device:
            self.toggle("device")
        else:
            for (key, direction), button in self.step_buttons.items():
                if element is button:
                    self.adjust(key, direction, bool(pygame.key.get_mods() & pygame.KMOD_SHIFT))

    def undo(self) -> None:
        if self.exam:
            return
        if self.attempt.undo():
            self.selected = len(self.attempt) - 1 if len(self.attempt) else None
            self.say("Last injection undone.", 2.0)

    def _key(self, event) -> None:
        k, mod = event.key, event.mod
        shift = bool(mod & pygame.KMOD_SHIFT)
        ctrl = bool(mod & pygame.KMOD_CTRL)
        if k == pygame.K_F1 or event.unicode == "?":
            self.help = not self.help
        elif k == pygame.K_ESCAPE:
            self.help = False
        elif ctrl and k in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.submit()
        elif ctrl and k == pygame.K_z:
            self.undo()
        elif pygame.K_1 <= k <= pygame.K_9 and not ctrl:
            idx = k - pygame.K_1
            if idx < len(self.techs):
                self.choose_technique(self.techs[idx].id)
        elif k == pygame.K_UP:
            self.adjust("depth", +1, shift)
        elif k == pygame.K_DOWN:
            self.adjust("depth", -1, shift)
        elif k == pygame.K_RIGHT:
            self.adjust("angle", +1, shift)
        elif k == pygame.K_LEFT:
            self.adjust("angle", -1, shift)
        elif k == pygame.K_RIGHTBRACKET:
            self.adjust("volume", +1, shift)
        elif k == pygame.K_LEFTBRACKET:
            self.adjust("volume", -1, shift)
        elif k == pygame.K_b:
            self.toggle("bevel")
        elif k == pygame.K_m:
            self.toggle("control")
        elif k == pygame.K_g:
            self.toggle("device")
        elif k == pygame.K_v:
            self.toggle("danger")
        elif k == pygame.K_r:
            self.toggle("regions")
        elif k in (pygame.K_f, pygame.K_HOME):
            self.view.fit()

    def _motion(self, event) -> None:
        if self.panning:
            self.view.pan_px(*event.rel)
        if self.view.rect.collidepoint(event.pos):
            self.cursor_mm = self.view.to_mm(np.asarray(event.pos, dtype=float))
        else:
            self.cursor_mm = None

    def _press(self, pos) -> None:
        self.cursor_mm = self.view.to_mm(np.asarray(pos, dtype=float))
        n = self.needle
        if n.device == "gun":
            self.pressing = True
            self.gun_timer = 0.0
            self._fire_gun()
        elif n.control == "hand":
            self.pressing = True
            self.press_depth = 0.0
        else:
            self.place(*self.cursor_mm)

    def _release(self, pos) -> None:
        if not self.pressing:
            return
        self.pressing = False
        if self.needle.device == "hand" and self.needle.control == "hand":
            xy = self.view.to_mm(np.asarray(pos, dtype=float))
            if self.press_depth > 0:
                self.place(xy[0], xy[1], depth_mm=round(self.press_depth, 2))

    def _fire_gun(self) -> None:
        if self.cursor_mm is not None and self.view.rect.collidepoint(pygame.mouse.get_pos()) or self.cursor_mm is not None:
            self.place(*self.cursor_mm)

    def update(self, dt: float) -> None:
        self.elapsed += dt
        msg, left = self.toast
        if left > 0:
            self.toast = (msg, left - dt)
        if self.pressing and self.needle.device == "hand" and self.needle.control == "hand":
            self.press_depth = min(20.0, self.press_depth + self.hand_speed * dt)
        if self.pressing and self.needle.device == "gun":
            self.gun_timer += dt
            period = 60.0 / self.gun_rate
            while self.gun_timer >= period:
                self.gun_timer -= period
                self._fire_gun()
        limit = self.scenario.spec.time_limit_s
        if self.exam and limit and self.elapsed >= limit and self.replay_queue is None:
            self.say("Time is up.")
            self.submit()

    def after_frame(self) -> None:
        if self.replay_queue is not None:
            self._post_next_replay()

    # ------------------------------------------------------------ drawing
    #
    # A frame blits pictures kept from the frames before (sim.ui.layers): the map with its marks, the top bar, the
    # needle panel, the cross-section, the findings and the tooltip are each drawn again only when what they show
    # changes; the cursor and the selection ring are drawn every frame.

    def draw(self, surf) -> None:
        recs, looks = self._state = self._mark_state()
        self.marks.draw(surf, recs, looks, self._paint_marks)
        clip = surf.get_clip()
        surf.set_clip(self.view.rect)
        if self.selected is not None and self.selected < len(recs):
            pygame.draw.circle(surf, style.ACCENT, self.view.to_px(self._positions()[self.selected]), 11, 2)
        self._cursor(surf)
        surf.set_clip(clip)
        self._top_bar(surf)
        pygame.draw.rect(surf, style.BG, self.side)
        pygame.draw.line(surf, style.PANEL_EDGE, self.side.topleft, self.side.bottomleft, 1)
        surf.blit(self._panel_pic.get((self.panel_rect.size, astuple(self.needle)), self._panel), self.panel_rect)
        self._cross_section(surf)
        key = (self.list_rect.size, self._state)
        surf.blit(self._findings_pic.get(key, self._findings), self.list_rect)

    def _mark_state(self) -> tuple[tuple[dict, ...], bytes]:
        """What the marks show: the records and, in practice, their verdicts (one byte each; none in an exam)."""
        recs = tuple(self.attempt.records)
        if self.exam or not recs:
            return recs, b""
        return recs, self.attempt.evaluation.verdict.tobytes()

    def _positions(self) -> np.ndarray:
        """The injections' (x, y) in mm, a row each; made again only when the records change."""
        recs = self._state[0]
        if recs != self._xy_of:
            self._xy = np.array([[r["x_mm"], r["y_mm"]] for r in recs], dtype=float).reshape(-1, 2)
            self._xy_of = recs
        return self._xy

    def _paint_marks(self, surf: pygame.Surface, start: int) -> None:
        """Paint the marks from `start` on, on the map's surface: a papule's bleb to scale, then the verdict's mark."""
        recs = self._state[0][start:]
        verdicts = ([None] * len(recs) if self.exam else
                    [VERDICTS[int(v)] for v in self.attempt.evaluation.verdict[start:]])
        pts = self.view.to_local(self._positions()[start:])
        blebs = bleb_diameter_mm(np.array([r["volume_ml"] for r in recs]), self.app.config) / 2 * self.view.scale
        for rec, p, v, bleb in zip(recs, pts, verdicts, blebs):
            r = 4.0
            if self.app.library.get(rec["technique"]).papule:
                r = max(3.0, float(bleb))
                pygame.draw.circle(surf, (255, 240, 230), p, r)
                pygame.draw.circle(surf, (200, 150, 130), p, r, 1)
                r = max(3.0, min(r * 0.5, 6.0))
            style.mark(surf, v, p, r)

    def _cursor(self, surf) -> None:
        if self.cursor_mm is None:
            return
        p = self.view.to_px(self.cursor_mm)
        colour = style.VERDICT["critical"] if self.pressing else style.INK
        pygame.draw.line(surf, colour, (p[0] - 12, p[1]), (p[0] - 4, p[1]), 2)
        pygame.draw.line(surf, colour, (p[0] + 4, p[1]), (p[0] + 12, p[1]), 2)
        pygame.draw.line(surf, colour, (p[0], p[1] - 12), (p[0], p[1] - 4), 2)
        pygame.draw.line(surf, colour, (p[0], p[1] + 4), (p[0], p[1] + 12), 2)
        r = self.region_at(self.cursor_mm)
        name = self.scenario.atlas.regions[r].name if r >= 0 else "off the map"
        label = f"({self.cursor_mm[0]:.1f}, {self.cursor_mm[1]:.1f}) mm  {name}"
        box = style.font(18).size(label)
        rect = pygame.Rect(self.view.rect.left + 10, self.view.rect.top + 10, box[0] + 16, box[1] + 10)
        pygame.draw.rect(surf, style.PANEL, rect, border_radius=4)
        pygame.draw.rect(surf, style.PANEL_EDGE, rect, 1, border_radius=4)
        style.text(surf, label, (rect.left + 8, rect.top + 5), 18)
        hover = self._hovered()
        if hover is not None and not self.exam:
            tip = self._tooltip_pic.get((hover, self._state), lambda: self._tooltip(hover))
            x = min(p[0] + 16, self.view.rect.right - tip.get_width() - 4)
            y = min(p[1] + 16, self.view.rect.bottom - tip.get_height() - 4)
            surf.blit(tip, (x, y))

    def _hovered(self) -> int | None:
        if self.cursor_mm is None or not self._state[0]:
            return None
        d = np.hypot(*(self._positions() - self.cursor_mm).T) * self.view.scale
        i = int(np.argmin(d))
        return i if d[i] <= 8 else None

    def _tooltip(self, i: int) -> pygame.Surface:
        """The verdict and findings of injection i, in a box drawn next to the cursor."""
        ev = self.attempt.evaluation
        findings = ev.findings(i)
        lines = [f"#{i + 1} {self.app.library.get(self.attempt.records[i]['technique']).name}: "
                 f"{style.VERDICT_WORDS[VERDICTS[int(ev.verdict[i])]]}"]
        lines += [f"{f.rule}: {f.message}" for f in findings] or ["Within the spec."]
        width = 420
        wrapped = [(k == 0, line) for k, text_ in enumerate(lines) for line in style.wrap(text_, width - 16, 17)]
        surf = pygame.Surface((width, len(wrapped) * 18 + 12), pygame.SRCALPHA)
        rect = surf.get_rect()
        pygame.draw.rect(surf, (255, 255, 255), rect, border_radius=4)
        pygame.draw.rect(surf, style.PANEL_EDGE, rect, 1, border_radius=4)
        for k, (bold, line) in enumerate(wrapped):
            style.text(surf, line, (8, 6 + 18 * k), 17, style.INK, bold)
        return surf

    def _top_bar(self, surf) -> None:
        spec = self.scenario.spec
        limit = spec.time_limit_s
        over = limit is not None and self.elapsed > limit
        timer = _clock(self.elapsed) + (f" / {_clock(limit)}" if limit else "")
        count = f"{len(self.attempt)}" + (f" / {spec.count.min}-{spec.count.max}" if spec.count else "")
        tool = f"{self.tech.name}, {'mesoinjector' if self.needle.device == 'gun' else 'by hand'}"
        cov = None
        if self.scenario.target_polygons:
            cov = (self.attempt.evaluation.measures.get("coverage") if len(self.attempt) else 0.0) or 0.0
        key = (surf.get_width(), over, timer, count, tool, cov)
        surf.blit(self._top_pic.get(key, lambda: self._draw_top_bar(*key)), (0, 0))

    def _draw_top_bar(self, w: int, over: bool, timer: str, count: str, tool: str, cov: float | None) \
            -> pygame.Surface:
        surf = pygame.Surface((w, TOP_BAR))
        surf.fill(style.PANEL)
        pygame.draw.line(surf, style.PANEL_EDGE, (0, TOP_BAR - 1), (w, TOP_BAR - 1), 1)
        spec = self.scenario.spec
        title = spec.title + ("  [EXAM]" if self.exam else "")
        style.text(surf, title, (PAD, 8), 22, style.INK, True)
        x = PAD
        y = 32
        x = style.text(surf, f"Time {timer}", (x, y), 18, style.VERDICT["fail"] if over else style.MUTED).right + 16
        x = style.text(surf, f"Injections {count}", (x, y), 18, style.MUTED).right + 16
        x = style.text(surf, tool, (x, y), 18, style.MUTED).right + 16
        if cov is not None:
            bar = pygame.Rect(x + 70, y + 2, 120, 12)
            style.text(surf, "Coverage", (x, y), 18, style.MUTED)
            pygame.draw.rect(surf, (220, 224, 230), bar)
            pygame.draw.rect(surf, style.TARGET, (bar.left, bar.top, bar.width * min(1.0, cov), bar.height))
            ok = (spec.coverage.ok if spec.coverage else self.app.config.scoring.coverage.ok)
            pygame.draw.line(surf, style.INK, (bar.left + bar.width * ok, bar.top - 2),
                             (bar.left + bar.width * ok, bar.bottom + 2), 2)
            style.text(surf, f"{cov:.0%}", (bar.right + 6, y), 18, style.MUTED)
        return surf

    def _panel(self) -> pygame.Surface:
        surf = pygame.Surface(self.panel_rect.size)
        p = surf.get_rect()
        pygame.draw.rect(surf, style.PANEL, p)
        pygame.draw.rect(surf, style.PANEL_EDGE, p, 1)
        style.text(surf, "Needle", (p.left + 8, p.top + 6), 21, style.INK, True)
        t = self.tech
        n = self.needle
        rows = [("depth", 74, f"Depth {n.depth_mm:.2f} mm" if n.control == "set" or n.device == "gun"
                 else "Depth: hold to advance", f"spec {t.depth_mm.describe('mm')}"),
                ("angle", 108, f"Angle {n.angle_deg:.0f} deg", f"spec {t.angle_deg.describe('deg')}"),
                ("volume", 142, f"Volume {n.volume_ml:.3f} ml", f"spec {t.volume_ml.describe('ml')}")]
        for _key, y, value, spec in rows:
            style.text(surf, value, (p.left + 10, p.top + y), 19, style.INK, True)
            style.text(surf, spec, (p.left + 10, p.top + y + 16), 15, style.MUTED)
        style.text(surf, t.summary if len(t.summary) < 60 else t.summary[:57] + "...", (p.left + 10, p.top + 226),
                   15, style.MUTED)
        style.text(surf, "F1: keys", (p.right - 8, p.top + 8), 16, style.MUTED, anchor="topright")
        return surf

    def _cross_section(self, surf) -> None:
        xy = self.cursor_mm
        if xy is None and self.selected is not None and self.selected < len(self.attempt):
            xy = self._positions()[self.selected]
        n = self.needle
        if xy is None:
            args = (None, None, n.depth_mm, n.angle_deg, [])
        else:
            r = self.region_at(xy)
            skin = tuple(self._skin[r]) if r >= 0 else None
            name = self.scenario.atlas.regions[r].name if r >= 0 else None
            beneath = crosssection.structures_beneath(self.scenario.atlas, xy[0], xy[1],
                                                      self.spots) if self.view.show_danger or not self.exam else []
            hand = n.device == "hand" and n.control == "hand"
            depth = self.press_depth if hand else n.depth_mm
            args = (name, skin, depth, n.angle_deg, beneath, self.pressing, n.depth_mm if hand else None)
        # the picture shows a structure's name, depth and severity, not how far the cursor is from its axis
        shown = tuple((b.name, b.depth_mm, b.severity) for b in args[4])
        key = (self.xs_rect.size, args[:4], shown, args[5:])

        def render() -> pygame.Surface:
            pic = pygame.Surface(self.xs_rect.size)
            crosssection.draw(pic, pic.get_rect(), *args)
            return pic

        surf.blit(self._xs_pic.get(key, render), self.xs_rect)

    def _findings(self) -> pygame.Surface:
        surf = pygame.Surface(self.list_rect.size)
        r = surf.get_rect()
        pygame.draw.rect(surf, style.PANEL, r)
        pygame.draw.rect(surf, style.PANEL_EDGE, r, 1)
        inner = r.inflate(-16, -12)
        if self.exam:
            style.text(surf, "Exam", (inner.left, inner.top), 21, style.INK, True)
            style.paragraph(surf, "Findings are shown after you submit. Marks are neutral and there is no undo.",
                            pygame.Rect(inner.left, inner.top + 26, inner.width, 80), 18, style.MUTED)
            return surf
        style.text(surf, "Findings (newest first)", (inner.left, inner.top), 21, style.INK, True)
        if not len(self.attempt):
            style.paragraph(surf, "Place an injection: its findings appear here at once, with the rule and its "
                            "source. Hover a mark to see them again.",
                            pygame.Rect(inner.left, inner.top + 26, inner.width, 120), 18, style.MUTED)
            return surf
        ev = self.attempt.evaluation
        y = inner.top + 26
        for i in range(len(self.attempt) - 1, -1, -1):
            if y > inner.bottom - 20:
                break
            v = VERDICTS[int(ev.verdict[i])]
            style.mark(surf, v, (inner.left + 7, y + 8), 5)
            tech = self.app.library.get(self.attempt.records[i]["technique"]).name
            style.text(surf, f"#{i + 1} {tech}: {style.VERDICT_WORDS[v]}", (inner.left + 20, y), 18, style.INK, True)
            y += 19
            findings = ev.findings(i)
            if i == len(self.attempt) - 1:
                for f in findings:
                    y = style.paragraph(surf, f"{f.rule}: {f.message}", pygame.Rect(inner.left + 20, y, inner.width - 20,
                                                                                     inner.bottom - y), 16,
                                        style.VERDICT[f.verdict] if f.verdict != "warn" else (150, 100, 0))
                    y = style.paragraph(surf, f"source: {f.source}",
                                        pygame.Rect(inner.left + 20, y, inner.width - 20, inner.bottom - y), 14,
                                        style.MUTED) + 2
            elif findings:
                first = f"{findings[0].rule}: {findings[0].message}"
                lines = style.wrap(first, inner.width - 20, 16)
                style.text(surf, lines[0] + (" ..." if len(lines) > 1 else ""), (inner.left + 20, y), 16,
                           style.MUTED)
                y += 18
            y += 4
        return surf

    def draw_overlay(self, surf) -> None:
        msg, left = self.toast
        if left > 0 and msg:
            lines = style.wrap(msg, 520, 19)
            h = 20 * len(lines) + 16
            rect = pygame.Rect(0, 0, 560, h)
            rect.midbottom = (self.view.rect.centerx, self.view.rect.bottom - 20)
            pygame.draw.rect(surf, (40, 44, 52), rect, border_radius=6)
            for k, line in enumerate(lines):
                style.text(surf, line, (rect.left + 20, rect.top + 8 + 20 * k), 19, (255, 255, 255))
        if self.help:
            w, h = surf.get_size()
            rect = pygame.Rect(0, 0, 640, 60 + 26 * len(HELP))
            rect.center = (w // 2, h // 2)
            shade = pygame.Surface((w, h), pygame.SRCALPHA)
            shade.fill((0, 0, 0, 110))
            surf.blit(shade, (0, 0))
            pygame.draw.rect(surf, (255, 255, 255), rect, border_radius=8)
            style.text(surf, "Keys and mouse", (rect.left + 20, rect.top + 16), 26, style.INK, True)
            for k, (key, what) in enumerate(HELP):
                y = rect.top + 52 + 26 * k
                style.text(surf, key, (rect.left + 20, y), 20, style.ACCENT, True)
                style.text(surf, what, (rect.left + 200, y), 20)


# ====================================================================== resume


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
        ws = WorkspaceScreen(self.app, self.scenario, h.get("mode", self.scenario.spec.mode), None, self.pending)
        self.app.switch(ws)
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


# ====================================================================== summary


class SummaryScreen(Screen):
    """Score, pass or not, the per-criterion breakdown, critical findings first, the numbered map, every finding."""

    def __init__(self, app, attempt: Attempt):
        super().__init__(app)
        self.attempt = attempt
        self.report = attempt.finish()
        opts = app.options
        from sim.session import new_attempt_path, save_attempt

        path = opts.save or new_attempt_path(attempt.scenario.id)
        try:
            saved = save_attempt(attempt, path)
            self.gradebook_note = saved.note
            self.saved = saved.path
            self.save_error = None
        except OSError as exc:
            self.saved = None
            self.gradebook_note = None
            self.save_error = f"The attempt could not be saved to {path}: {exc.strerror or exc}"
        app.last_saved = self.saved
        self.view = MapView(attempt.scenario, pygame.Rect(0, 0, 100, 100))
        self.view.show_danger = True
        self.marks = MarkLayer(self.view)
        self._findings = self._findings_text()
        self._shot_pending = bool(opts.replay or opts.screenshot)

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
                self.app.switch(BriefingScreen(self.app, a.scenario, a.mode))
            elif event.ui_element is self.b_picker:
                self.app.switch(PickerScreen(self.app, self.attempt.scenario.id))
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
            if self.app.options.replay:
                self.app.quit(0)


def _tag(verdict: str) -> Run:
    colours = {**style.VERDICT, "warn": (176, 120, 0)}  # the warning's yellow is too light for text
    return f"[{verdict}]", colours[verdict], True


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


# ====================================================================== record viewer


class RecordViewerScreen(Screen):
    """A saved attempt, injection by injection: Right / Left step, Space plays and pauses, Home / End."""

    PERIOD = 0.6

    def __init__(self, app, record: dict, path: str = ""):
        super().__init__(app)
        from sim.core.records.signing import verify
        from sim.core.exercise.scenario import load_scenario

        from sim.core.records.model import normalized

        raw, record = record, normalized(record)
        self.record = record
        self.report = record["report"]
        ref = record.get("scenario") or {}
        scn = None
        for candidate in (ref.get("file"), ref.get("id")):
            if candidate:
                try:
                    scn = load_scenario(candidate, app.library)
                    break
                except InputError:
                    continue
        if scn is None:
            raise InputError.one(path or "record", f'the exercise "{ref.get("id")}" of this record cannot be found')
        self.scenario = scn
        try:
            ok, why = verify(raw)
        except InputError as exc:
            ok, why = False, exc.problems[0].message
        self.status = "signature verified" if ok else f"signature NOT verified: {why}"
        self.view = MapView(scn, pygame.Rect(0, TOP_BAR, 800, 600))
        self.view.show_danger = True
        self.marks = MarkLayer(self.view)
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
                self.view.zoom_at(pos, 1.15 ** event.y)

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
        for e, p in zip(entries, pts):
            style.mark(surf, e["verdict"], p, 5, e["index"] + 1)

    def draw(self, surf) -> None:
        entries = self.report["injections"][:self.shown]
        self.marks.draw(surf, tuple(entries), b"", self._paint_marks)  # a saved report's entries do not change
        if entries:
            pygame.draw.circle(surf, style.ACCENT, self.view.to_px((entries[-1]["x_mm"], entries[-1]["y_mm"])), 12, 2)
        w = surf.get_width()
        pygame.draw.rect(surf, style.PANEL, (0, 0, w - SIDE, TOP_BAR))
        rep = self.report
        style.text(surf, f"{rep.get('title', rep['scenario'])} - {self.record.get('trainee') or '(no name)'}",
                   (PAD, 8), 22, style.INK, True)
        style.text(surf, f"Score {rep['score']:.1f}, {'passed' if rep['passed'] else 'not passed'}; "
                         f"{self.status}; injection {self.shown} of {self.total}", (PAD, 32), 18, style.MUTED)
        r = self.side
        pygame.draw.rect(surf, style.PANEL, r)
        pygame.draw.rect(surf, style.PANEL_EDGE, r, 1)
        inner = r.inflate(-16, -16)
        if not entries:
            style.paragraph(surf, "Right arrow or Step shows the first injection; Space plays the attempt.", inner,
                            18, style.MUTED)
            return
        e = entries[-1]
        y = style.paragraph(surf, f"#{e['index'] + 1} {e['technique']}: {e['verdict']}", inner, 21, style.INK,
                            True) + 2
        y = style.paragraph(surf, f"({e['x_mm']:g}, {e['y_mm']:g}) mm, {e['depth_mm']:g} mm deep, "
                                  f"{e['angle_deg']:g} deg, {e['volume_ml']:g} ml; {e.get('region') or 'off the map'}"
                                  f", {e.get('layer') or '-'}", pygame.Rect(inner.left, y, inner.width, 60), 17,
                            style.MUTED) + 6
        for f in e["findings"] or [{"rule": "ok", "verdict": "ok", "message": "Within the spec.", "source": ""}]:
            y = style.paragraph(surf, f"{f['rule']}: {f['message']}", pygame.Rect(inner.left, y, inner.width,
                                                                                  inner.bottom - y), 17,
                                style.VERDICT[f["verdict"]] if f["verdict"] != "warn" else (150, 100, 0)) + 2
            if f["source"]:
                y = style.paragraph(surf, f["source"], pygame.Rect(inner.left, y, inner.width, inner.bottom - y), 14,
                                    style.MUTED) + 6
