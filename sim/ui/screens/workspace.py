"""The workspace: the map, the needle panel, the cross-section and the findings; where injections are placed."""

from __future__ import annotations

from dataclasses import astuple

import numpy as np
import pygame
import pygame_gui
from pygame_gui.elements import UIDropDownMenu

from sim.core.records.attempt import Attempt
from sim.core.scoring.injections import read_log
from sim.core.exercise.scenario import LoadedScenario
from sim.core.scoring import ScreeningAnswer, bleb_diameter_mm, device_refusal
from sim.core.vocabulary import VERDICTS
from sim.ui import style
from sim.ui.events import REPLAY_INJECT, REPLAY_SUBMIT
from sim.ui.layers import Cached, MarkLayer
from sim.ui.mapview import MapView
from sim.ui.needle import Needle, gun_shots, hand_advance
import sim.ui.screens.workspace_panels as panels
from sim.ui.submit import submit
from sim.ui.screens.base import PAD, SIDE, TOP_BAR, Screen, _button
from sim.ui.settings import ui_settings


class WorkspaceScreen(Screen):
    def __init__(self, app, scenario: LoadedScenario, mode: str, screening: ScreeningAnswer | None = None,
                 resume=None):
        super().__init__(app)
        self.scenario = scenario
        self.mode = mode
        self.exam = mode == "exam"
        self.elapsed = 0.0
        provenance = "replay" if app.options.replay else "live"
        if resume is not None:  # an attempt cut short by a crash: go on where its journal ends
            self.attempt = Attempt.resumed(scenario, app.library, app.config, mode, app.options.trainee, screening,
                                           resume)
            if self.attempt.provenance != "replay":  # a log played into any part of it makes it a replay
                self.attempt.provenance = provenance
            times = [r["t_s"] for r in resume.records if r.get("t_s") is not None]
            since = self.attempt.seconds_since_start()
            # the timer goes on while the program is not running (the station's clock), never back
            self.elapsed = max([*times, since if since is not None else 0.0])
        else:
            self.attempt = Attempt(scenario, app.library, app.config, mode, app.options.trainee, screening,
                                   provenance=provenance)
            self.attempt.open_journal()
        self.techs = [app.library.get(t) for t in scenario.technique_ids if scenario.spec.map in app.library.get(t).maps]
        if not self.techs:
            self.techs = [app.library.get(t) for t in scenario.technique_ids]
        # a technique made for this map first (scalp microinjection on the scalp), the library's order otherwise
        self.techs.sort(key=lambda t: t.maps[0] != scenario.spec.map)
        first = self.techs[0]
        self.needle = Needle(first.id, first.depth_mm.nominal, first.angle_deg.nominal, first.volume_ml.nominal)
        self.needle.device = "hand" if "hand" in scenario.spec.devices else "gun"
        settings = ui_settings()
        self.hand_speed = settings.needle.hand_speed_mm_per_s
        self.steps = (settings.needle.depth_step_mm, settings.needle.angle_step_deg, settings.needle.volume_step_ml)
        self.shift_factor = settings.steps_shift_factor
        self.ranges = {"depth": settings.needle.depth_range_mm, "angle": settings.needle.angle_range_deg,
                       "volume": settings.needle.volume_range_ml}
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
        self.gun_rate = app.library.limits.gun.rate_per_min
        self._journal_told = False
        self._tell_journal_problem()

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
        step = {"depth": self.steps[0], "angle": self.steps[1], "volume": self.steps[2]}[key]
        self.needle.adjust(key, direction * step * f, *self.ranges[key])

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

    def gun_refusal(self, xy) -> str | None:
        """Why the mesoinjector may not fire here (the device rule's own sentence), or None."""
        return device_refusal(self.scenario, self.app.library, self.app.config, float(xy[0]), float(xy[1]))

    def place(self, x_mm: float, y_mm: float, depth_mm: float | None = None, t_s: float | None = None) -> int | None:
        """Place one injection with the needle's settings; returns its index, or None if refused."""
        n = self.needle
        refusal = self.gun_refusal((x_mm, y_mm)) if n.device == "gun" else None
        if refusal:
            self.say(refusal)
            return None
        i = self.attempt.add(x_mm, y_mm, n.depth_mm if depth_mm is None else depth_mm, n.angle_deg, n.volume_ml,
                             n.technique, self.elapsed if t_s is None else t_s, n.bevel, n.device)
        self.selected = i
        self._tell_journal_problem()
        return i

    def _tell_journal_problem(self) -> None:
        """Once, when the journal has stopped (a full disk): the trainee knows a crash would now lose the attempt."""
        if self.attempt.journal_problem and not self._journal_told:
            self._journal_told = True
            self.say(self.attempt.journal_problem, 8.0)

    def say(self, message: str, seconds: float = 4.0) -> None:
        self.toast = (message, seconds)

    def submit(self) -> None:
        self.pressing = False
        self.app.open("summary", self.attempt, submit(self.attempt, self.app.options.save))

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
                self.view.zoom_at(pos, ui_settings().pointer.zoom_per_notch ** event.y)
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
        if self.needle.hand_held:
            xy = self.view.to_mm(np.asarray(pos, dtype=float))
            if self.press_depth > 0:
                self.place(xy[0], xy[1], depth_mm=round(self.press_depth, 2))

    def _fire_gun(self) -> None:
        if self.cursor_mm is not None:
            self.place(*self.cursor_mm)

    def update(self, dt: float) -> None:
        self.elapsed += dt
        msg, left = self.toast
        if left > 0:
            self.toast = (msg, left - dt)
        if self.pressing and self.needle.hand_held:
            self.press_depth = hand_advance(self.press_depth, self.hand_speed, dt, self.ranges["depth"][1])
        if self.pressing and self.needle.device == "gun":
            shots, self.gun_timer = gun_shots(self.gun_timer, dt, self.gun_rate)
            for _ in range(shots):
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
            pygame.draw.circle(surf, style.ACCENT, self.view.to_px(self.positions()[self.selected]), 11, 2)
        panels.cursor(self, surf)
        surf.set_clip(clip)
        panels.top_bar(self, surf)
        pygame.draw.rect(surf, style.BG, self.side)
        pygame.draw.line(surf, style.PANEL_EDGE, self.side.topleft, self.side.bottomleft, 1)
        panel = self._panel_pic.get((self.panel_rect.size, astuple(self.needle)), lambda: panels.needle_panel(self))
        surf.blit(panel, self.panel_rect)
        panels.cross_section(self, surf)
        key = (self.list_rect.size, self._state)
        surf.blit(self._findings_pic.get(key, lambda: panels.findings(self)), self.list_rect)

    def _mark_state(self) -> tuple[tuple[dict, ...], bytes]:
        """What the marks show: the records and, in practice, their verdicts (one byte each; none in an exam)."""
        recs = tuple(self.attempt.records)
        if self.exam or not recs:
            return recs, b""
        return recs, self.attempt.evaluation.verdict.tobytes()

    def positions(self) -> np.ndarray:
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
        pts = self.view.to_local(self.positions()[start:])
        blebs = bleb_diameter_mm(np.array([r["volume_ml"] for r in recs]), self.app.config) / 2 * self.view.scale
        for rec, p, v, bleb in zip(recs, pts, verdicts, blebs):
            r = 4.0
            if self.app.library.get(rec["technique"]).papule:
                r = max(3.0, float(bleb))
                pygame.draw.circle(surf, (255, 240, 230), p, r)
                pygame.draw.circle(surf, (200, 150, 130), p, r, 1)
                r = max(3.0, min(r * 0.5, 6.0))
            style.mark(surf, v, p, r)

    def hovered(self) -> int | None:
        if self.cursor_mm is None or not self._state[0]:
            return None
        d = np.hypot(*(self.positions() - self.cursor_mm).T) * self.view.scale
        i = int(np.argmin(d))
        return i if d[i] <= ui_settings().pointer.hover_px else None

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
            panels.help_overlay(surf)
