"""The trainer window's settings, read from assets/ui.yaml and validated like every data file.

A renamed or missing key is an InputError naming ui.yaml's line and column and the field, raised before the
window opens (App loads the settings first), so that `mesosim run` exits 2 with that line.
"""

from __future__ import annotations

import functools

from pydantic import Field, model_validator

from sim.core.files.model import FileModel, validate
from sim.core.files.yamlio import load_yaml_file
from sim.paths import assets_dir


class WindowSettings(FileModel):
    size: tuple[int, int]
    """Opening size [px]; the window is resizable."""
    min_size: tuple[int, int]
    """The smallest the window may be made [px]."""
    fps: int = Field(gt=0, le=1000)
    """Frames per second the event loop aims at."""


class NeedleSettings(FileModel):
    hand_speed_mm_per_s: float = Field(gt=0)
    """Hand mode: how fast the needle advances while the button is held [mm/s]."""
    depth_step_mm: float = Field(gt=0)
    angle_step_deg: float = Field(gt=0)
    volume_step_ml: float = Field(gt=0)
    depth_range_mm: tuple[float, float]
    """[low, high]; hand mode advances the needle no deeper than high."""
    angle_range_deg: tuple[float, float]
    volume_range_ml: tuple[float, float]

    @model_validator(mode="after")
    def _ranges_in_order(self):
        for name in ("depth_range_mm", "angle_range_deg", "volume_range_ml"):
            low, high = getattr(self, name)
            if not 0 < low < high:
                raise ValueError(f"{name} must be [low, high] with 0 < low < high, not [{low:g}, {high:g}]")
        return self


class HelpRow(FileModel):
    keys: str
    does: str


class UiSettings(FileModel):
    window: WindowSettings
    needle: NeedleSettings
    steps_shift_factor: float = Field(gt=0)
    """Shift multiplies every needle step by this."""
    help: list[HelpRow]


@functools.lru_cache(maxsize=1)
def ui_settings() -> UiSettings:
    return validate(UiSettings, load_yaml_file(assets_dir() / "ui.yaml"))
