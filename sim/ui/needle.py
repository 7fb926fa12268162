"""The needle's settings and how they change: each step's clamp, the hand-mode advance, the mesoinjector's timing.

No pygame here: a time is a number of seconds passed in, and each range comes from assets/ui.yaml (`needle`), so
that the rules can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass

# a setting's decimals once stepped: the panel shows depth to 0.01 mm and volume to 0.001 ml
ROUNDING = {"depth": 2, "angle": None, "volume": 4}


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

    def adjust(self, key: str, step: float, low: float, high: float) -> None:
        """Move one setting ("depth", "angle" or "volume") by `step` in its unit, kept within [low, high]."""
        field = {"depth": "depth_mm", "angle": "angle_deg", "volume": "volume_ml"}[key]
        value = _clip(getattr(self, field) + step, low, high)
        setattr(self, field, value if ROUNDING[key] is None else round(value, ROUNDING[key]))

    @property
    def hand_held(self) -> bool:
        """By hand in hand mode: the depth is how far the held press has advanced the needle."""
        return self.device == "hand" and self.control == "hand"


def hand_advance(depth_mm: float, speed_mm_per_s: float, dt_s: float, max_depth_mm: float) -> float:
    """The depth after the press has been held dt_s longer."""
    return min(max_depth_mm, depth_mm + speed_mm_per_s * dt_s)


def gun_shots(timer_s: float, dt_s: float, rate_per_min: float) -> tuple[int, float]:
    """How many shots the mesoinjector fires in dt_s more of holding, and the time since its last shot."""
    timer_s += dt_s
    period_s = 60.0 / rate_per_min
    shots = 0
    while timer_s >= period_s:
        timer_s -= period_s
        shots += 1
    return shots, timer_s
