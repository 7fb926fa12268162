"""The trainer window's settings, read from assets/ui.yaml."""

from __future__ import annotations

import functools

from sim.core.files.yamlio import load_yaml_file
from sim.paths import assets_dir


@functools.lru_cache(maxsize=1)
def ui_settings() -> dict:
    return load_yaml_file(assets_dir() / "ui.yaml").data
