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
from sim.ui import crosssection, sound, style, words
from sim.ui.dialog import Dialog
from sim.ui.events import REPLAY_INJECT, REPLAY_SUBMIT
from sim.ui.feedback import shown_verdicts
from sim.ui.layers import Cached, MarkLayer
from sim.ui.legend import legend
from sim.ui.mapview import MapView
from sim.ui.needle import Needle, gun_shots, hand_advance, instructed_settings
import sim.ui.screens.workspace_panels as panels
from sim.ui.submit import submit
from sim.ui.screens.base import PAD, SIDE, TOP_BAR, Screen, _button, _clock, map_techniques
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
        self.techs = map_techniques(scenario, app.library)
        # a technique made for this map first (scalp microinjection on the scalp), the library's order otherwise
        self.techs.sort(key=lambda t: t.maps[0] != scenario.spec.map)
        first = self.techs[0]
        self.instructed = instructed_settings(scenario, app.library)
        self.needle = Needle(first.id, 0.0, 0.0, 0.0)
        self.needle.from_technique(first, self.instructed)
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
        self._shown: tuple[object, tuple[np.ndarray, np.ndarray]] = (None, (np.zeros(0), np.zeros(0)))
        self._xy_of: tuple[dict, ...] = ()
        self._xy = np.empty((0, 2))
        self._top_pic, self._panel_pic, self._xs_pic = Cached(), Cached(), Cached()
        self._findings_pic, self._tooltip_pic, self._legend_pic = Cached(), Cached(), Cached()
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
        self.dialog: Dialog | None = None
        self.eye_zones = [st for st in scenario.structures if st.kind == "eye"]
        self.last_shot: np.ndarray | None = None  # where this drag's mesoinjector fired last [mm]
        self.still_mm = app.config.scoring.spacing.double_puncture_mm
        self._trail: list[tuple[float, np.ndarray]] = []  # (time [s], cursor [mm]) of the last quarter second
        self._clock_s = 0.0
        self.alarmed: set[str] = set()  # the structures whose depth this hand-held press has reached (practice)
        self._beneath: tuple[tuple[float, float] | None, list] = (None, [])
        self.submitted = None  # the exam's time ran out: saved, the notice waits for a click before the summary
        self.warned: set[float] = set()  # the exam's time warnings already given [s left]

    # ------------------------------------------------------------ layout and widgets

    def layout(self, size) -> None:
        w, h = size
        m = self.app.manager
        self.view.set_rect(pygame.Rect(0, TOP_BAR, w - SIDE, h - TOP_BAR))
        sx = w - SIDE + PAD
        self.side = pygame.Rect(w - SIDE, TOP_BAR, SIDE, h - TOP_BAR)
        self.panel_rect = pygame.Rect(sx, TOP_BAR + PAD, SIDE - 2 * PAD, 280)
        # the cross-section gives room to the findings in a low window
        xs_h = int(min(230, max(170, (h - self.panel_rect.bottom - 3 * PAD) // 2)))
        self.xs_rect = pygame.Rect(sx, self.panel_rect.bottom + PAD, SIDE - 2 * PAD, xs_h)
        self.list_rect = pygame.Rect(sx, self.xs_rect.bottom + PAD, SIDE - 2 * PAD, h - self.xs_rect.bottom - 2 * PAD)
        x = w - PAD
        for name, label, width, oid, tip in self._bar_buttons():
            x -= width
            setattr(self, name, _button(label, (x, 8, width, 36), m, oid, tip))
            x -= 6
        self.bar_left = x  # the top bar's text ends before the buttons
        if self.exam:
            self.b_undo = self.b_danger = None
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
        n = self.needle
        devices = self.scenario.spec.devices
        # each button names what a click does; the line above them says how the needle is now
        self.b_bevel = _button("Bevel down" if n.bevel == "up" else "Bevel up",
                               (p.left + 8, p.top + 196, third, 32), m, None, "B: turn the bevel")
        self.b_control = _button("Hold mode" if n.control == "set" else "Set mode",
                                 (p.left + 12 + third, p.top + 196, third, 32), m, None,
                                 "M: set the depth here, or hold the button to advance the needle")
        both = "gun" in devices and "hand" in devices
        label = ("Mesoinjector" if n.device == "hand" else "By hand") if both else \
            ("Mesoinjector only" if n.device == "gun" else "By hand only")
        self.b_device = _button(label, (p.left + 16 + 2 * third, p.top + 196, third, 32), m, None,
                                "G: by hand or with the mesoinjector, where the exercise allows both")
        if not both:
            self.b_device.disable()

    def _bar_buttons(self) -> list[tuple[str, str, int, str | None, str]]:
        """The top bar's buttons from the right: (attribute, label naming what a click does, width [px], theme
        id, tool tip)."""
        out = [("b_submit", "Submit", 90, "#primary", "Ctrl+Enter: finish and score (asks first)")]
        if not self.exam:
            out.append(("b_undo", "Undo", 70, None, "Ctrl+Z: take back the last injection"))
            out.append(("b_danger", "Hide danger" if self.view.show_danger else "Show danger", 116, None,
                        "V: the danger structures on the map"))
        out.append(("b_help", "Help", 64, None, "F1: the keys and the mouse"))
        out.append(("b_leave", "Leave", 70, None, "Esc: back to the exercises (asks first)"))
        return out

    def relayout(self) -> None:
        self.app.manager.clear_and_reset()
        self.layout(self.app.size)

    # ------------------------------------------------------------ needle settings

    @property
    def tech(self):
        return self.app.library.get(self.needle.technique)

    def choose_technique(self, tid: str) -> None:
        if tid != self.needle.technique and tid in [t.id for t in self.techs]:
            self.needle.from_technique(self.app.library.get(tid), self.instructed)
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
            if n.control == "hand" and not self.exam:
                sound.prepare()
        elif what == "device":
            devices = self.scenario.spec.devices
            if "gun" in devices and "hand" in devices:
                n.device = "gun" if n.device == "hand" else "hand"
            else:
                self.say("This exercise allows only " + ("the mesoinjector." if "gun" in devices else
                                                          "injections by hand."))
        elif what == "danger":
            if self.exam:
                self.say("An exam shows no danger structures: you place each injection from what you know.")
                return
            self.view.show_danger = not self.view.show_danger
        elif what == "regions":
            self.view.show_regions = not self.view.show_regions
        self.relayout()

    # ------------------------------------------------------------ placing injections

    def region_at(self, xy) -> int:
        return int(self.scenario.atlas.region_index(np.asarray([xy]))[0])

    def eye_at(self, xy):
        """The eye's zone (a structure of kind eye drawn as an area: the globe and its lid margin) at this point,
        or None: the eye is in no region of the atlas, but it is on the map."""
        point = np.asarray([xy], dtype=float)
        return next((st for st in self.eye_zones if st.area is not None
                     and st.hits(point, np.array([np.inf]))[0][0]), None)

    def place_name(self, xy) -> str:
        """What the cursor is over, in words: the region, the eye, or off the map."""
        r = self.region_at(xy)
        if r >= 0:
            return self.scenario.atlas.regions[r].name
        eye = self.eye_at(xy)
        return eye.name if eye is not None else "off the map"

    def gun_refusal(self, xy) -> str | None:
        """Why the mesoinjector may not fire here, or None: the device rule's own sentence for a region where it
        is refused (seed 000: around the eyes and the nasolabial folds), and inside the zones around the eye
        (the globe, the orbital septum), whichever region the point is in."""
        refusal = device_refusal(self.scenario, self.app.library, self.app.config, float(xy[0]), float(xy[1]))
        if refusal:
            return refusal
        point = np.asarray([xy], dtype=float)
        for st in self.eye_zones:
            if st.hits(point, np.array([np.inf]))[0][0]:
                name = st.name[:1].lower() + st.name[1:]
                return (f"The mesoinjector is not used around the eyes: this point is over the {name}. Around the "
                        "eyes injections are made by hand to spare the small vessels.")
        return None

    def place(self, x_mm: float, y_mm: float, depth_mm: float | None = None, t_s: float | None = None) -> int | None:
        """Place one injection with the needle's settings; returns its index, or None if refused."""
        n = self.needle
        refusal = self.gun_refusal((x_mm, y_mm)) if n.device == "gun" else None
        if refusal:
            self.say(words.plain(refusal))
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

    # ------------------------------------------------------------ leaving and submitting, asked first

    def _progress(self) -> tuple[list[str], bool]:
        """What the attempt has done so far, in lines for a dialog, and whether it is short of the exercise (fewer
        injections than expected, the target not covered, most of an exam's time left)."""
        spec = self.scenario.spec
        lines, short = [], False
        n = len(self.attempt)
        if spec.count:
            lines.append(f"{n} of {spec.count.min}-{spec.count.max} injections made.")
            short |= n < spec.count.min
        else:
            lines.append(f"{n} injection{'s' if n != 1 else ''} made.")
        if self.scenario.target_polygons:
            cov = (self.attempt.evaluation.measures.get("coverage") if n else 0.0) or 0.0
            ok = spec.coverage.ok if spec.coverage else self.app.config.scoring.coverage.ok
            lines.append(f"Coverage {cov:.0%} of the target area ({ok:.0%} expected).")
            short |= cov < ok
        limit = spec.time_limit_s
        if limit:
            left = max(0.0, limit - self.elapsed)
            lines.append(f"{_clock(left)} of {_clock(limit)} left.")
        return lines, short or n == 0

    def ask_submit(self) -> None:
        lines, short = self._progress()
        if short:
            self.open_dialog(Dialog("Submit now?", lines + ["The attempt is scored as it is; it cannot be "
                                                            "changed afterwards."],
                                    [("stay", "Go on"), ("submit", "Submit now")], cancel="stay"))
        else:
            self.open_dialog(Dialog("Submit the attempt?", lines, [("submit", "Submit"), ("stay", "Go on")],
                                    cancel="stay"))

    def ask_leave(self) -> None:
        lines, _short = self._progress()
        what = "exam" if self.exam else "exercise"
        self.open_dialog(Dialog(f"Leave this {what}?", lines + ["Leaving without submitting saves nothing: "
                                                                "the attempt is not scored."],
                                [("stay", "Go on"), ("leave", "Leave, no record"), ("submit", "Submit")],
                                cancel="stay"))

    def open_dialog(self, dialog: Dialog) -> None:
        self.pressing = False
        self.help = False
        self.dialog = dialog
        dialog.layout(self.app.size)

    def _answer(self, choice: str) -> None:
        self.dialog = None
        if choice == "submit":
            self.submit()
        elif choice == "leave":
            self.leave()
        elif choice == "result":
            self.app.open("summary", self.attempt, self.submitted)

    def leave(self) -> None:
        """Back to the exercises without a record: the journal goes too, so nothing asks to resume it."""
        if self.attempt.journal is not None:
            self.attempt.journal.close(remove=True)
            self.attempt.journal = None
        self.app.open("picker", self.scenario.id)

    def time_up(self) -> None:
        """The exam's time has run out: the attempt is saved at once, and a notice comes before the summary."""
        self.pressing = False
        self.submitted = submit(self.attempt, self.app.options.save)
        lines, _short = self._progress()
        self.open_dialog(Dialog("Time is up", [f"The exam's {_clock(self.scenario.spec.time_limit_s)} are over; "
                                               "the attempt is submitted as it stands."] + lines[:-1],
                                [("result", "See the result")]))

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
        if self.dialog is not None:
            if event.type == pygame.MOUSEMOTION:
                self._motion(event)
            choice = self.dialog.handle(event)
            if choice is not None:
                self._answer(choice)
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
            self.ask_submit()
        elif element is self.b_leave:
            self.ask_leave()
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
            self.say("No undo in an exam: every injection made counts.")
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
            if self.help:
                self.help = False
            else:
                self.ask_leave()
        elif self.help:
            return
        elif ctrl and k in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.ask_submit()
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
            self.last_shot = None
            self._trail = []
            self._fire_gun()
        elif n.control == "hand":
            self.pressing = True
            self.press_depth = 0.0
            self.alarmed = set()
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
        """One shot where the cursor is, unless the drag has not moved on from the last shot: held still, a
        mesoinjector would puncture one point again and again (a double puncture closer than the spacing rule's
        double_puncture_mm)."""
        if self.cursor_mm is None:
            return
        here = np.array(self.cursor_mm, dtype=float)
        if self.last_shot is not None and float(np.hypot(*(here - self.last_shot))) < self.still_mm:
            if not self.toast[0].startswith("Move to fire"):
                self.say("Move to fire: the mesoinjector fires as it travels over the skin; held still it would "
                         "puncture one point again and again.")
            return
        if self.place(*here) is not None:
            self.last_shot = here

    def update(self, dt: float) -> None:
        if self.submitted is not None:
            return
        if not (self.paused or self.dialog is not None and not self.exam):
            self.elapsed += dt
        msg, left = self.toast
        if left > 0:
            self.toast = (msg, left - dt)
        if self.pressing and self.needle.hand_held:
            self.press_depth = hand_advance(self.press_depth, self.hand_speed, dt, self.ranges["depth"][1])
            self._alarm()
        if self.pressing and self.needle.device == "gun":
            self._clock_s += dt
            if self.cursor_mm is not None:
                self._trail.append((self._clock_s, np.array(self.cursor_mm, dtype=float)))
                while len(self._trail) > 2 and self._clock_s - self._trail[0][0] > 0.25:
                    self._trail.pop(0)
            shots, self.gun_timer = gun_shots(self.gun_timer, dt, self.gun_rate)
            for _ in range(shots):
                self._fire_gun()
        limit = self.scenario.spec.time_limit_s
        if self.exam and limit and self.replay_queue is None:
            for warn_s in (300.0, 60.0):
                if limit > 2 * warn_s and limit - self.elapsed <= warn_s and warn_s not in self.warned:
                    self.warned.add(warn_s)
                    self.say(f"{_clock(warn_s)} left: {int(warn_s // 60)} minute{'s' if warn_s > 60 else ''} "
                             "of the exam remain.", 6.0)
            if self.elapsed >= limit:
                self.time_up()

    def beneath(self, xy) -> list:
        """The danger structures under the point (crosssection.structures_beneath), kept for the last point."""
        key = None if xy is None else (float(xy[0]), float(xy[1]))
        if key != self._beneath[0]:
            found = [] if key is None else crosssection.structures_beneath(self.scenario.atlas, *key,
                                                                          self.scenario.spots)
            self._beneath = (key, found)
        return self._beneath[1]

    def _alarm(self) -> None:
        """Practice, hold mode: the moment the advancing tip reaches the depth of a structure under the cursor, a
        tone and a sentence, once per structure and press; the cross-section stays red while the tip is there."""
        if self.exam or self.cursor_mm is None:
            return
        for b in self.beneath(self.cursor_mm):
            if self.press_depth >= b.depth_mm and b.name not in self.alarmed:
                self.alarmed.add(b.name)
                sound.alarm()
                self.say(f"Stop: the tip is {self.press_depth:.1f} mm deep, at the {b.name[:1].lower()}"
                         f"{b.name[1:]}, which lies {b.depth_mm:.1f} mm deep here. Release only above it.", 5.0)

    @property
    def in_danger(self) -> bool:
        """The hand-held tip is at or below a danger structure under the cursor (practice)."""
        return (not self.exam and self.pressing and self.needle.hand_held and self.cursor_mm is not None
                and any(self.press_depth >= b.depth_mm for b in self.beneath(self.cursor_mm)))

    @property
    def paused(self) -> bool:
        """Practice stops its clock while the help is open; an exam's runs on."""
        return self.help and not self.exam

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
        key = (self.exam, self.view.show_danger, bool(self.scenario.target_polygons), bool(self.scenario.spots),
               self.view.rect.width)
        pic = self._legend_pic.get(key, lambda: legend(not self.exam, not self.exam, self.view.show_danger,
                                                       key[2], key[3], self.exam, self.view.rect.width - 40))
        surf.blit(pic, (self.view.rect.left + 10, self.view.rect.bottom - 34 - pic.get_height()))
        surf.set_clip(clip)
        panels.top_bar(self, surf)
        pygame.draw.rect(surf, style.BG, self.side)
        pygame.draw.line(surf, style.PANEL_EDGE, self.side.topleft, self.side.bottomleft, 1)
        here = panels.here_line(self)
        panel = self._panel_pic.get((self.panel_rect.size, astuple(self.needle), here),
                                    lambda: panels.needle_panel(self, here))
        surf.blit(panel, self.panel_rect)
        panels.cross_section(self, surf)
        key = (self.list_rect.size, self._state)
        surf.blit(self._findings_pic.get(key, lambda: panels.findings(self)), self.list_rect)

    def _mark_state(self) -> tuple[tuple[dict, ...], bytes]:
        """What the marks show: the records and, in practice, their verdicts as shown (sim.ui.feedback), a byte
        each: the verdict, plus 4 for a pending gap (none in an exam)."""
        recs = tuple(self.attempt.records)
        if self.exam or not recs:
            return recs, b""
        verdict, pending = self.shown()
        return recs, (verdict + 4 * pending).astype(np.int8).tobytes()

    def shown(self) -> tuple[np.ndarray, np.ndarray]:
        """(verdicts as the marks show them, pending gaps): feedback.shown_verdicts, kept per evaluation."""
        ev = self.attempt.evaluation
        if self._shown[0] is not ev:
            self._shown = (ev, shown_verdicts(ev))
        return self._shown[1]

    def positions(self) -> np.ndarray:
        """The injections' (x, y) in mm, a row each; made again only when the records change."""
        recs = self._state[0]
        if recs != self._xy_of:
            self._xy = np.array([[r["x_mm"], r["y_mm"]] for r in recs], dtype=float).reshape(-1, 2)
            self._tech_of_xy = np.array([r["technique"] for r in recs], dtype=object)
            self._xy_of = recs
        return self._xy

    def spacing_now(self) -> tuple[float, np.ndarray] | None:
        """(distance [mm] from the cursor to the nearest injection of the needle's technique, the last injection
        of that technique [mm]), or None when there is none or no cursor."""
        xy = self.positions()
        if self.cursor_mm is None or not len(xy):
            return None
        mine = xy[self._tech_of_xy == self.needle.technique]
        if not len(mine):
            return None
        return float(np.hypot(*(mine - self.cursor_mm).T).min()), mine[-1]

    def gun_spacing(self) -> float | None:
        """While the mesoinjector is dragged: how far apart its shots land at the drag's speed [mm] (speed over
        the last quarter second x the time between shots), or None."""
        trail = self._trail
        if not (self.pressing and self.needle.device == "gun") or len(trail) < 2 or trail[-1][0] - trail[0][0] <= 0:
            return None
        (t0, a), (t1, b) = trail[0], trail[-1]
        return float(np.hypot(*(b - a))) / (t1 - t0) * 60.0 / self.gun_rate

    def _paint_marks(self, surf: pygame.Surface, start: int) -> None:
        """Paint the marks from `start` on, on the map's surface: a papule's bleb to scale, then the verdict's mark."""
        recs = self._state[0][start:]
        looks = self._state[1][start:]
        verdicts = [None] * len(recs) if self.exam else [VERDICTS[b & 3] for b in looks]
        pending = [False] * len(recs) if self.exam else [bool(b & 4) for b in looks]
        pts = self.view.to_local(self.positions()[start:])
        blebs = bleb_diameter_mm(np.array([r["volume_ml"] for r in recs]), self.app.config) / 2 * self.view.scale
        size = style.mark_radius(self.view.scale)
        for rec, p, v, bleb, wait in zip(recs, pts, verdicts, blebs, pending):
            r = size
            if self.app.library.get(rec["technique"]).papule:
                bleb_r = max(3.0, float(bleb))
                pygame.draw.circle(surf, (255, 240, 230), p, bleb_r)
                pygame.draw.circle(surf, (200, 150, 130), p, bleb_r, 1)
                r = max(3.0, min(bleb_r * 0.5, size))
            style.mark(surf, v, p, r, pending=wait)

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
        if self.dialog is not None:
            self.dialog.draw(surf)
