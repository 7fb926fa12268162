"""The picker: every scenario, grouped by map and technique, each with its objective."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame
import pygame_gui

from sim.errors import InputError
from sim.core.exercise.scenario import LoadedScenario, duplicate_id_problems, library_files, load_scenario_file
from sim.ui import style
from sim.ui.settings import ui_settings
from sim.ui.screens.base import PAD, Screen, _button, _clock


@dataclass
class PickerItem:
    kind: str  # "header" | "scenario" | "problem"
    text: str
    detail: str = ""
    scenario: LoadedScenario | None = None


class PickerScreen(Screen):
    """Every scenario, shipped and of the instructor's library (marked so), grouped by map and technique, each with
    its objective; the default one selected."""

    ROW = 46

    def __init__(self, app, default_id: str):
        super().__init__(app)
        self.items: list[PickerItem] = []
        groups: dict[tuple[str, str], list[LoadedScenario]] = {}
        problems = []
        files = library_files(check_folders=False)
        own = {f.path for f in files if not f.shipped}
        for f in files:
            path = f.path
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
                mine = " (your library)" if Path(scn.file) in own else ""
                self.items.append(PickerItem("scenario", scn.spec.title + mode + mine, scn.spec.objective, scn))
        problems += [(Path(p.file), p) for p in duplicate_id_problems(sorted(own))]
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
            self.app.open("briefing", scn, mode or self.app.options.mode or scn.spec.mode)

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
                double = self._last_click[0] == i and now - self._last_click[1] < ui_settings().pointer.double_click_ms
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
