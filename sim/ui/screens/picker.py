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
from sim.ui.choicelist import ScrollBar
from sim.ui.settings import ui_settings
from sim.ui.screens.base import PAD, Screen, _button, _clock, map_techniques, objective_shown


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
                # an exam says so once: in its title ("EXAM - ...") or after it
                mode = " (exam)" if scn.spec.mode == "exam" and "exam" not in scn.spec.title.lower() else ""
                mine = " (your library)" if Path(scn.file) in own else ""
                self.items.append(PickerItem("scenario", scn.spec.title + mode + mine, objective_shown(scn), scn))
        problems += [(Path(p.file), p) for p in duplicate_id_problems(sorted(own))]
        for path, problem in problems:
            self.items.append(PickerItem("problem", f"{path.name}: cannot be opened", str(problem)))
        self.selected = next((i for i, it in enumerate(self.items)
                              if it.scenario is not None and it.scenario.id == default_id),
                             next((i for i, it in enumerate(self.items) if it.kind == "scenario"), 0))
        self.list_rect = pygame.Rect(0, 0, 0, 0)
        self.bar = ScrollBar(pygame.Rect(0, 0, 0, 0))
        self._last_click = (-1, 0)
        self.history: dict[str, dict] | None = None  # from the gradebook, read after the first frame

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.list_rect = pygame.Rect(PAD * 2, 90, w - 4 * PAD - 420, h - 90 - 2 * PAD)
        self.detail_rect = pygame.Rect(self.list_rect.right + 2 * PAD, 90, 420 - 2 * PAD, h - 170)
        bx = self.detail_rect.left
        by = h - 70
        self.b_practice = _button("Start (practice)", (bx, by, 190, 44), m, "#primary", "Enter")
        self.b_exam = _button("Start as exam", (bx + 200, by, 180, 44), m, None, "Shift+Enter")
        r = self.list_rect
        self.bar = ScrollBar(pygame.Rect(r.right - 17, r.top + 1, 16, r.height - 2))
        self.bar.content, self.bar.view = len(self.items) * self.ROW, r.height
        if self.app.picker_offset is None:  # the first time: the default exercise in the middle of the list
            self.bar.scroll_to(self.selected * self.ROW - (r.height - self.ROW) // 2)
        else:
            self.bar.scroll_to(self.app.picker_offset)  # where the list was when it was left
        self._ensure_visible()

    @property
    def scroll(self) -> int:
        """The list's offset [px]."""
        return self.bar.offset

    def _ensure_visible(self) -> None:
        top = self.selected * self.ROW
        if top < self.scroll:
            self.bar.scroll_to(top - (self.ROW if self.selected > 0 and self.items[self.selected - 1].kind == "header"
                                      else 0))
        elif top + self.ROW > self.scroll + self.list_rect.height:
            self.bar.scroll_to(top + self.ROW - self.list_rect.height)
        self.app.picker_offset = self.scroll

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
        if self.bar.handle(event):
            self.app.picker_offset = self.scroll
            return
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_DOWN, pygame.K_j):
                self.move(1)
            elif event.key in (pygame.K_UP, pygame.K_k):
                self.move(-1)
            elif event.key == pygame.K_PAGEDOWN:
                self.move(max(1, self.list_rect.height // self.ROW - 1))
            elif event.key == pygame.K_PAGEUP:
                self.move(-max(1, self.list_rect.height // self.ROW - 1))
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                self.start("exam" if event.mod & pygame.KMOD_SHIFT else None)
            elif event.key == pygame.K_ESCAPE:
                self.app.quit(0)
        elif event.type == pygame.MOUSEWHEEL:
            if self.list_rect.collidepoint(pygame.mouse.get_pos()):
                self.bar.scroll_to(self.scroll - event.y * self.ROW)
                self.app.picker_offset = self.scroll
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and self.list_rect.collidepoint(event.pos):
            i = (event.pos[1] - self.list_rect.top + self.scroll) // self.ROW
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

    def after_frame(self) -> None:
        if self.history is None:  # after the first frame: the window shows at once, the marks a moment later
            self.history = attempt_history(self.app.options.trainee)

    def draw(self, surf) -> None:
        w, _h = surf.get_size()
        style.text(surf, "mesosim", (PAD * 2, 18), 40, style.ACCENT, True)
        style.text(surf, "Choose an exercise. Up/Down to move, Enter to start, Shift+Enter to start as an exam.",
                   (PAD * 2, 56), 20, style.MUTED)
        pygame.draw.rect(surf, style.PANEL, self.list_rect)
        pygame.draw.rect(surf, style.PANEL_EDGE, self.list_rect, 1)
        clip = surf.get_clip()
        surf.set_clip(self.list_rect)
        first = self.scroll // self.ROW
        rows = self.list_rect.height // self.ROW + 2
        for i in range(first, min(len(self.items), first + rows)):
            item = self.items[i]
            r = pygame.Rect(self.list_rect.left, self.list_rect.top + i * self.ROW - self.scroll,
                            self.list_rect.width - 18, self.ROW)
            if item.kind == "header":
                pygame.draw.rect(surf, (226, 231, 238), r)
                style.text(surf, item.text, (r.left + 10, r.centery), 22, style.ACCENT, True, "midleft")
                continue
            if i == self.selected:
                pygame.draw.rect(surf, (214, 228, 246), r)
                pygame.draw.rect(surf, style.ACCENT, r, 2)
            colour = style.INK if item.kind == "scenario" else style.VERDICT["fail"]
            past = (self.history or {}).get(item.scenario.id) if item.scenario is not None else None
            right = r.right - 10
            if past:
                done = past["passed"]
                if done:
                    _tick(surf, (right - 16, r.top + 10))
                right = style.text(surf, f"last {past['score']:.1f}", (right - (24 if done else 0), r.top + 6), 17,
                                   style.VERDICT["ok"] if past["last_passed"] else style.MUTED,
                                   anchor="topright").left - 8
            style.text(surf, style.fit(item.text, right - r.left - 22, 21, True), (r.left + 22, r.top + 5), 21,
                       colour, True)
            detail = style.fit(item.detail, r.width - 40, 17) if item.detail else ""
            style.text(surf, detail, (r.left + 22, r.top + 25), 17, style.MUTED)
        surf.set_clip(clip)
        self.bar.draw(surf)
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
                 "Techniques: " + ", ".join(t.name for t in map_techniques(scn, self.app.library)),
                 f"Pass mark: {spec.pass_mark:g}"]
        past = (self.history or {}).get(scn.id)
        if past:
            facts.append(f"Your attempts: {past['attempts']}, last {past['score']:.1f}"
                         + (" (passed)" if past["last_passed"] else "") + ("; passed before" if past["passed"]
                                                                           and not past["last_passed"] else ""))
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
        style.paragraph(surf, objective_shown(scn), pygame.Rect(inner.left, y + 22, inner.width, inner.bottom - y - 22),
                        19)


def attempt_history(trainee: str) -> dict[str, dict]:
    """Per exercise, this trainee's attempts in the gradebook: how many, the last score, whether the last and
    whether any passed. Empty when there is no gradebook to read (the picker then shows no marks)."""
    from sim.gradebook import Gradebook

    out: dict[str, dict] = {}
    try:
        book = Gradebook()
        try:
            rows = book.attempts(trainee=trainee or "(no name)")
        finally:
            book.close()
    except (InputError, OSError):
        return out
    except Exception as exc:  # a database that refuses: no marks, the trainer goes on
        from sqlalchemy.exc import SQLAlchemyError

        if not isinstance(exc, SQLAlchemyError):
            raise
        return out
    for row in rows:
        past = out.setdefault(row["scenario"], {"attempts": 0, "passed": False})
        past["attempts"] += 1
        past["score"], past["last_passed"] = float(row["score"]), bool(row["passed"])
        past["passed"] |= bool(row["passed"])
    return out


def _tick(surf, at) -> None:
    """A check mark: the exercise has been passed."""
    x, y = at
    pygame.draw.lines(surf, style.VERDICT["ok"], False, [(x, y + 6), (x + 5, y + 11), (x + 14, y)], 3)
