"""How the scoring engine writes numbers and fills the sentences of assets/messages.yaml."""

from __future__ import annotations


def rounded(value: float) -> float:
    """A measured value as the score report gives it: four decimals, and never -0.0."""
    r = round(float(value), 4)
    return 0.0 if r == 0 else r


class _Blank(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def fill(template: str, **values) -> str:
    """str.format that leaves unknown placeholders visible instead of failing (message texts are data)."""
    return template.format_map(_Blank(values))


def fmt(value: float, unit: str) -> str:
    """A value with its unit as a sentence shows it: volumes to the microlitre, times to the second, the rest to
    a tenth, trailing zeros dropped ("0.02 ml", "45°", "80 %", "2.5 mm")."""
    if unit == "ml":
        text = f"{value:.3f}".rstrip("0").rstrip(".")
    elif unit == "s":
        text = f"{value:.0f}"
    else:
        text = f"{value:.1f}".rstrip("0").rstrip(".")
    if unit == "deg":
        return f"{text}°"
    if unit == "%":
        return f"{text} %"
    return f"{text} {unit}"


def unit_of(quantity: str) -> str:
    """The unit a quantity's name ends with: depth_mm -> mm, angle_deg -> deg."""
    return quantity.rsplit("_", 1)[1]
