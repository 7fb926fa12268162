"""What every screen shares: the Screen base class, the layout sizes, a button, two small formatters and how an
exercise is presented (its objective, its techniques)."""

from __future__ import annotations

import pygame
from pygame_gui.elements import UIButton

from sim.ui import style
from sim.ui.textview import Run

TOP_BAR = 52  # [px], the workspace's and the viewer's bar of buttons
SIDE = 380  # [px], the side column beside the map
PAD = 10  # [px]


class Screen:
    """One screen of the window. The App calls layout on a switch or a resize (its widgets are made anew), then each
    frame handle for every event, update(dt [s]), draw, draw_overlay above the widgets and after_frame; close on
    leaving. A screen opens the next with app.open(name, ...)."""

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


def _tag(verdict: str) -> Run:
    colours = {**style.VERDICT, "warn": (176, 120, 0)}  # the warning's yellow is too light for text
    return f"[{verdict}]", colours[verdict], True


def _clock(seconds: float) -> str:
    """m:ss"""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


SCREENING_OBJECTIVE = ("Read the patient's case and decide whether to treat today: go, postpone or no-go, and why. "
                       "The result explains the decision, right or wrong.")


def objective_shown(scn) -> str:
    """The objective as the picker and the briefing show it: a screening case's own would give its answer away
    ("recognise ... and decline"), so it says what to do; the summary shows the exercise's own."""
    patient = scn.spec.patient
    return SCREENING_OBJECTIVE if patient is not None and patient.screening is not None else scn.spec.objective


def map_techniques(scn, library) -> list:
    """The exercise's techniques that belong on its map (free practice allows "all": only the map's are offered)."""
    techs = [library.get(t) for t in scn.technique_ids]
    return [t for t in techs if scn.spec.map in t.maps] or techs
