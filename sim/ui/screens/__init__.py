"""The trainer's screens, one module each; `SCREENS` names them for `App.open`, so that no screen imports another."""

from sim.ui.screens.base import PAD, SIDE, TOP_BAR, Screen
from sim.ui.screens.briefing import BriefingScreen
from sim.ui.screens.picker import PickerItem, PickerScreen
from sim.ui.screens.resume import ResumeScreen
from sim.ui.screens.summary import SummaryScreen
from sim.ui.screens.viewer import RecordViewerScreen
from sim.ui.screens.workspace import WorkspaceScreen

SCREENS: dict[str, type[Screen]] = {
    "picker": PickerScreen,
    "briefing": BriefingScreen,
    "workspace": WorkspaceScreen,
    "resume": ResumeScreen,
    "summary": SummaryScreen,
    "viewer": RecordViewerScreen,
}

__all__ = ["PAD", "SIDE", "TOP_BAR", "SCREENS", "Screen", "PickerItem", "PickerScreen", "BriefingScreen",
           "WorkspaceScreen", "ResumeScreen", "SummaryScreen", "RecordViewerScreen"]
