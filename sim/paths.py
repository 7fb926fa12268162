"""Where the shipped data lives: beside the package in a wheel, at the top of the checkout otherwise."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_root() -> Path:
    override = os.environ.get("MESOSIM_DATA")
    if override:
        return Path(override)
    bundled = _PACKAGE / "_data"
    if (bundled / "assets").is_dir():
        return bundled
    return _PACKAGE.parent


def assets_dir() -> Path:
    return _data_root() / "assets"


def scenarios_dir() -> Path:
    return _data_root() / "scenarios"


def builtin_scenarios_dir() -> Path:
    return scenarios_dir() / "builtin"


def font_file(bold: bool = False, italic: bool = False) -> Path:
    """The shipped TTF (Noto Sans, assets/fonts) used by the window, its text views and the PDF reports."""
    name = "Bold" if bold else "Italic" if italic else "Regular"
    return assets_dir() / "fonts" / f"NotoSans-{name}.ttf"
