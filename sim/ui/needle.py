"""The needle's settings and how they change: each step's clamp, the hand-mode advance, the mesoinjector's timing.

No pygame here: a time is a number of seconds passed in, so that the rules can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

DEPTH_RANGE_MM = (0.1, 20.0)
ANGLE_RANGE_DEG = (5.0, 90.0)
VOLUME_RANGE_ML = (0.001, 0.5)
HAND_MAX_DEPTH_MM = 20.0


def _clip(value: float, low: float, high: float) -> float:
    return float(min(max(value, low), high))


@dataclass
class Needle:
    technique: str
    depth_mm: float
    angle_deg: float
    volume_ml: float
    bevel: str = "up"
    device: str = "hand"
    control: str = "set"  # set: depth from the panel; hand: press and hold advances the needle

    def from_technique(self, tech) -> None:
        self.technique = tech.id
        self.depth_mm = tech.depth_mm.nominal
        self.angle_deg = tech.angle_deg.nominal
        self.volume_ml = tech.volume_ml.nominal

    def adjust(self, key: str, step: float) -> None:
        """Move one setting ("depth", "angle" or "volume") by `step` in its unit, kept within its range."""
        if key == "depth":
            self.depth_mm = round(_clip(self.depth_mm + step, *DEPTH_RANGE_MM), 2)
        elif key == "angle":
            self.angle_deg = _clip(self.angle_deg + step, *ANGLE_RANGE_DEG)
        elif key == "volume":
            self.volume_ml = round(_clip(self.volume_ml + step, *VOLUME_RANGE_ML), 4)

    @property
    def hand_held(self) -> bool:
        """By hand in hand mode: the depth is how far the held press has advanced the needle."""
        return self.device == "hand" and self.control == "hand"


def hand_advance(depth_mm: float, speed_mm_per_s: float, dt_s: float) -> float:
    """The depth after the press has been held dt_s longer."""
    return min(HAND_MAX_DEPTH_MM, depth_mm + speed_mm_per_s * dt_s)


def gun_shots(timer_s: float, dt_s: float, rate_per_min: float) -> tuple[int, float]:
    """How many shots the mesoinjector fires in dt_s more of holding, and the time since its last shot."""
    timer_s += dt_s
    period_s = 60.0 / rate_per_min
    shots = 0
    while timer_s >= period_s:
        timer_s -= period_s
        shots += 1
    return shots, timer_s
