"""Trainer sessions driven headless through posted events, with a fixed frame time."""

import os

import pygame
import pytest

from sim.ui.app import App, Options

DT = 1 / 60


class Driver:
    def __init__(self, app: App):
        self.app = app

    @property
    def screen(self):
        return self.app.screen

    def frames(self, n: int = 1) -> None:
        for _ in range(n):
            self.app.step(DT)

    def key(self, key: int, mod: int = 0, unicode: str = "") -> None:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=mod, unicode=unicode, scancode=0))
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, mod=mod, unicode=unicode, scancode=0))
        self.frames(2)

    def px(self, xy_mm):
        p = self.screen.view.to_px(xy_mm)
        return (int(round(p[0])), int(round(p[1])))

    def move(self, pos) -> None:
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=(0, 0), buttons=(0, 0, 0)))
        self.frames(1)

    def down(self, pos, button: int = 1) -> None:
        self.move(pos)
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button))
        self.frames(1)

    def up(self, pos, button: int = 1) -> None:
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=button))
        self.frames(1)

    def click_mm(self, xy_mm) -> None:
        pos = self.px(xy_mm)
        self.down(pos)
        self.up(pos)

    def press(self, element) -> None:
        """A click on a pygame_gui button, as pygame_gui reports it."""
        import pygame_gui

        pygame.event.post(pygame.event.Event(pygame_gui.UI_BUTTON_PRESSED, ui_element=element))
        self.frames(2)

    def answer(self, choice: str) -> None:
        """A click on one of the open dialog's buttons."""
        rect = self.screen.dialog.buttons[choice]
        self.move(rect.center)
        self.down(rect.center)
        self.up(rect.center)

    def submit(self) -> None:
        """Submit as a trainee does: the Submit button, then Submit in the question it asks."""
        self.press(self.screen.b_submit)
        choice = next(k for k in self.screen.dialog.buttons if k == "submit")
        self.answer(choice)

    def pixel(self, pos):
        return tuple(self.app.window.get_at(pos))[:3]


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    apps = []

    def make(**kw) -> Driver:
        kw.setdefault("save", str(tmp_path / "attempt.json"))
        app = App(Options(**kw))
        apps.append(app)
        d = Driver(app)
        d.frames(2)
        return d

    yield make
    for app in apps:
        app.close()
