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
    """Hold mode: how fast the needle advances while the button is held [mm/s]."""
    depth_step_mm: float = Field(gt=0)
    angle_step_deg: float = Field(gt=0)
    volume_step_ml: float = Field(gt=0)
    depth_range_mm: tuple[float, float]
    """[low, high]; hold mode advances the needle no deeper than high."""
    angle_range_deg: tuple[float, float]
    volume_range_ml: tuple[float, float]

    @model_validator(mode="after")
    def _ranges_in_order(self):
        for name in ("depth_range_mm", "angle_range_deg", "volume_range_ml"):
            low, high = getattr(self, name)
            if not 0 < low < high:
                raise ValueError(f"{name} must be [low, high] with 0 < low < high, not [{low:g}, {high:g}]")
        return self


class AlarmSettings(FileModel):
    tone_hz: float = Field(gt=20, le=20000)
    """The alarm's tone when the hand-held needle reaches a danger structure's depth [Hz]."""
    duration_s: float = Field(gt=0, le=5)
    volume: float = Field(ge=0, le=1)


class SourceNames(FileModel):
    """How the sources the data cite read for a trainee (sim.ui.words)."""

    clinic_articles: dict[str, str]
    """"seed 004" -> the article's title."""
    references: dict[str, str]
    """A word of a source ("anatomy.md") -> how it reads ("the anatomy reference")."""


class HelpRow(FileModel):
    keys: str
    does: str


class PointerSettings(FileModel):
    double_click_ms: int = Field(gt=0, le=2000)
    """Two clicks on one exercise in the picker within this many ms start it."""
    hover_px: float = Field(gt=0, le=100)
    """An injection mark is under the cursor within this distance [px]."""
    zoom_per_notch: float = Field(gt=1, le=4)
    """One wheel notch zooms by this factor."""


class UiSettings(FileModel):
    window: WindowSettings
    needle: NeedleSettings
    steps_shift_factor: float = Field(gt=0)
    """Shift multiplies every needle step by this."""
    pointer: PointerSettings
    alarm: AlarmSettings
    sources: SourceNames
    help: list[HelpRow]
    """The help box; `does` may name the needle's steps in {braces} ({depth_step_mm}, {depth_step_mm_shift}...)."""

    @model_validator(mode="after")
    def _help_names_known_steps(self):
        values = self.step_values()
        for row in self.help:
            try:
                row.does.format(**values)
            except (KeyError, ValueError, IndexError) as exc:
                raise ValueError(f'help row "{row.keys}" names {exc} which is not one of {sorted(values)}') from None
        return self

    def step_values(self) -> dict[str, float]:
        n = self.needle
        steps = {"depth_step_mm": n.depth_step_mm, "angle_step_deg": n.angle_step_deg,
                 "volume_step_ml": n.volume_step_ml}
        return steps | {f"{k}_shift": v * self.steps_shift_factor for k, v in steps.items()}

    def help_rows(self) -> list[tuple[str, str]]:
        """The help box's rows with the steps filled in."""
        values = self.step_values()
        return [(row.keys, row.does.format(**values)) for row in self.help]


@functools.lru_cache(maxsize=1)
def ui_settings() -> UiSettings:
    return validate(UiSettings, load_yaml_file(assets_dir() / "ui.yaml"))
