"""The needle's settings and how they change: each step's clamp, the hand-mode advance, the mesoinjector's timing.

No pygame here: a time is a number of seconds passed in, and each range comes from assets/ui.yaml (`needle`), so
that the rules can be tested on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import median

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

    def from_technique(self, tech, instructed: dict[str, tuple[float, float, float]] | None = None) -> None:
        """The technique's settings: the exercise's instructed ones for it (instructed_settings) where there are
        any, its nominal ones otherwise."""
        self.technique = tech.id
        nominal = (tech.depth_mm.nominal, tech.angle_deg.nominal, tech.volume_ml.nominal)
        self.depth_mm, self.angle_deg, self.volume_ml = (instructed or {}).get(tech.id, nominal)

    def adjust(self, key: str, step: float, low: float, high: float) -> None:
        """Move one setting ("depth", "angle" or "volume") by `step` in its unit, kept within [low, high]."""
        field = {"depth": "depth_mm", "angle": "angle_deg", "volume": "volume_ml"}[key]
        value = _clip(getattr(self, field) + step, low, high)
        setattr(self, field, value if ROUNDING[key] is None else round(value, ROUNDING[key]))

    @property
    def hand_held(self) -> bool:
        """By hand in hold mode: the depth is how far the held press has advanced the needle."""
        return self.device == "hand" and self.control == "hand"


def instructed_settings(scenario, library) -> dict[str, tuple[float, float, float]]:
    """(depth [mm], angle [deg], volume [ml]) per technique as the exercise instructs them, so that the needle
    starts where the briefing says (periorbital micro papules at 1.4 mm and 12 deg, not the technique's nominal
    1.5 mm and 10 deg): the scenario's `instructed:` values, or for a file without them the median of its
    reference solution for that technique, which `mesosim validate` holds to the instructions by scoring it. Only
    for an exercise of one technique: where the trainee chooses the technique, choosing its settings is part of the
    task, and the technique's nominal settings are the start."""
    from sim.core.scoring.injections import read_log
    from sim.errors import InputError

    if len(scenario.technique_ids) != 1:
        return {}
    ins = scenario.spec.instructed
    if ins is not None and ins.technique in scenario.technique_ids:
        return {ins.technique: (round(ins.depth_mm, ROUNDING["depth"]), float(ins.angle_deg),
                                round(ins.volume_ml, ROUNDING["volume"]))}
    sol = scenario.spec.solutions
    if sol is None:
        return {}
    try:
        recs = read_log(Path(scenario.file).parent / sol.reference.log, library.ids, scenario.technique_ids).records()
    except (InputError, OSError):  # the reference is checked by `mesosim validate`; the nominal settings do here
        return {}
    out = {}
    for tid in {r["technique"] for r in recs}:
        mine = [r for r in recs if r["technique"] == tid]
        out[tid] = (round(float(median(r["depth_mm"] for r in mine)), ROUNDING["depth"]),
                    float(median(r["angle_deg"] for r in mine)),
                    round(float(median(r["volume_ml"] for r in mine)), ROUNDING["volume"]))
    return out


def volume_text(volume_ml: float) -> str:
    """A volume as the panel shows it: 0.010 ml, or 0.0035 ml when the fourth decimal counts."""
    return f"{volume_ml:.3f}" if round(volume_ml, 3) == round(volume_ml, 4) else f"{volume_ml:.4f}"


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
