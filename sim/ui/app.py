"""The trainer application: the window, the event loop and the switch from one screen (sim.ui.screens) to the next.

`App.step(dt)` runs one frame: it drains the event queue (real or posted), updates and draws. `run()` loops it
in real time; tests call `step()` with a fixed dt so that sessions are deterministic.
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pygame
import pygame_gui

from sim.paths import assets_dir
from sim.core.scoring.config import load_config
from sim.core.exercise.techniques import load_library
from sim.ui.screens import SCREENS, ResumeScreen
from sim.ui.settings import ui_settings


class NoDisplayError(RuntimeError):
    """No window can be shown: no display server, or only SDL's offscreen stand-in, which nobody asked for."""


# Keys that move from screen to screen or answer a question: a key held down (or its release read late, while the
# window was busy saving) repeats, and one Enter went on through the summary, the briefing and into a new attempt.
# Only their first press counts; the arrows and the steps keep repeating.
NO_REPEAT = (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_ESCAPE, pygame.K_TAB)

# SDL drivers that draw into memory: a window nobody can see. SDL falls back to "offscreen" by itself when it
# finds no display, and the trainer would then wait for clicks that can never come; it is used only when asked
# for (SDL_VIDEODRIVER, as the tests and the headless replay do).
HEADLESS_DRIVERS = ("offscreen", "dummy")


def open_display(headless_ok: bool = False) -> None:
    """Start pygame's display, or raise NoDisplayError when only a headless driver came up unasked (and
    headless_ok is False: a replay, which plays and ends on its own, may run without a screen).

    What SDL's drivers print while they look for a display ("XDG_RUNTIME_DIR is invalid") is held back and shown
    only if a display was found: without one, the caller's single sentence says it all."""
    with tempfile.TemporaryFile() as held:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(held.fileno(), 2)
        try:
            pygame.display.init()
            error = None
        except pygame.error as exc:
            error = str(exc)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        driver = pygame.display.get_driver() if error is None else ""
        asked = os.environ.get("SDL_VIDEODRIVER", "").lower()
        found = error is None and (headless_ok or driver not in HEADLESS_DRIVERS or asked in HEADLESS_DRIVERS)
        if found:
            held.seek(0)
            sys.stderr.write(held.read().decode("utf-8", "replace"))
    if error is not None:
        raise NoDisplayError(error)
    if not found:
        pygame.display.quit()
        where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        raise NoDisplayError(f"the display {where} cannot be opened" if where else
                             "neither DISPLAY nor WAYLAND_DISPLAY is set")


@dataclass
class Options:
    scenario: str | None = None
    """Scenario to go straight to (path or id); None opens the picker."""
    picker_default: str = "face-free"
    mode: str | None = None
    trainee: str = ""
    replay: str | None = None
    screenshot: str | None = None
    save: str | None = None
    screening: object | None = None
    """A ScreeningAnswer for replays (the trainee's decision otherwise)."""
    view_record: dict | None = None
    """An attempt record to show injection by injection (mesosim replay ATTEMPT)."""
    view_record_path: str = ""
    view_record_form: str = ""
    """Why the record's text is not the canonical form (sim.core.records.signing.canonical_form), or ""."""
    resume: bool = False
    """With a replay: go on with an unfinished attempt's journal, if there is one, without asking."""
    size: tuple[int, int] | None = None


class App:
    def __init__(self, options: Options):
        self.options = options
        settings = ui_settings()
        size = options.size or settings.window.size
        self.min_size = settings.window.min_size
        self.fps = settings.window.fps
        open_display(headless_ok=bool(options.replay))
        try:
            pygame.font.init()
            self.window = pygame.display.set_mode(size, pygame.RESIZABLE)
        except pygame.error as exc:
            raise NoDisplayError(str(exc)) from None
        pygame.display.set_caption("mesosim")
        pygame.key.set_repeat(350, 40)
        self.manager = pygame_gui.UIManager(size, str(assets_dir() / "ui_theme.json"))
        self.manager.preload_fonts([{"name": "noto_sans", "point_size": 15, "style": style_, "antialiased": "1"}
                                    for style_ in ("bold", "italic")])
        self.library = load_library()
        self.config = load_config()
        self.clock = pygame.time.Clock()
        self.running = True
        self.exit_code = 0
        self.frames = 0
        self._held: set[int] = set()  # NO_REPEAT keys down now (pressed, their release not yet read)
        self.screen = None
        self.picker_offset: int | None = None  # [px] where the picker's list was scrolled when it was left
        if options.view_record is not None:
            self.open("viewer", options.view_record, options.view_record_path)
            return
        pending = []
        if not options.replay or options.resume:
            from sim.core.records.journal import unfinished

            only = None
            if options.replay:  # a replay goes on only with a journal of its own exercise
                from sim.core.exercise.scenario import load_scenario

                only = load_scenario(options.scenario or options.picker_default, self.library).id
            pending = unfinished(only)
        if pending and options.replay and options.resume:
            screen = ResumeScreen(self, pending[0], self._start)
            if screen.scenario is not None:
                self.switch(screen)
                screen.resume()
                return
        if pending and not options.replay:
            self.switch(ResumeScreen(self, pending[0], self._start))
            return
        self._start()

    def _start(self) -> None:
        options = self.options
        if options.scenario or options.replay:
            from sim.core.exercise.scenario import load_scenario

            scenario = load_scenario(options.scenario or options.picker_default, self.library)
            mode = options.mode or scenario.spec.mode
            if options.replay:  # straight to the workspace, as a trainee who has read the briefing
                workspace = self.open("workspace", scenario, mode, options.screening)
                workspace.begin_replay(options.replay)
            else:
                self.open("briefing", scenario, mode)
        else:
            self.open("picker", options.picker_default)

    @property
    def size(self) -> tuple[int, int]:
        return self.window.get_size()

    def switch(self, screen) -> None:
        if self.screen is not None:
            self.screen.close()
        self.manager.clear_and_reset()
        self.screen = screen
        self.screen.layout(self.size)

    def open(self, name: str, *args):
        """Switch to a new screen of the kind `name` (a key of sim.ui.screens.SCREENS); returns it."""
        screen = SCREENS[name](self, *args)
        self.switch(screen)
        return screen

    def quit(self, code: int = 0) -> None:
        self.running = False
        self.exit_code = code

    def step(self, dt: float) -> None:
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.quit(0)
                continue
            if event.type in (pygame.VIDEORESIZE, pygame.WINDOWSIZECHANGED):
                self._resized()
                continue
            if event.type == pygame.KEYDOWN and event.key in NO_REPEAT:
                if event.key in self._held:
                    continue  # a repeat: the first press did its work
                self._held.add(event.key)
            elif event.type == pygame.KEYUP:
                self._held.discard(event.key)
            elif event.type == pygame.WINDOWFOCUSLOST:
                self._held.clear()
            consumed = self.manager.process_events(event)
            if not consumed or event.type >= pygame.USEREVENT:
                self.screen.handle(event)
        if not self.running:
            return
        self.manager.update(dt)
        self.screen.update(dt)
        self.window.fill((236, 238, 241))
        self.screen.draw(self.window)
        self.manager.draw_ui(self.window)
        self.screen.draw_overlay(self.window)
        pygame.display.flip()
        self.frames += 1
        self.screen.after_frame()
        if self.frames == 1 and os.environ.get("MESOSIM_EXIT_AFTER_FIRST_FRAME"):  # bench/run.py: startup time
            self.quit(0)

    def _resized(self) -> None:
        w, h = self.window.get_size()
        w, h = max(w, self.min_size[0]), max(h, self.min_size[1])
        if (w, h) != self.window.get_size():
            self.window = pygame.display.set_mode((w, h), pygame.RESIZABLE)
        self.manager.set_window_resolution((w, h))
        self.manager.clear_and_reset()
        self.screen.layout((w, h))

    def run(self) -> int:
        try:
            while self.running:
                dt = self.clock.tick(self.fps) / 1000.0
                self.step(min(dt, 0.1))
        finally:
            self.close()
        return self.exit_code

    def close(self) -> None:
        if self.screen is not None:
            self.screen.close()
        pygame.display.quit()

    def screenshot(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.window, str(path))
        return path


def run_app(options: Options) -> int:
    app = App(options)
    return app.run()
