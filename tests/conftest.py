"""Test set-up: headless SDL before anything imports pygame, and shared fixtures for the core."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def library():
    from sim.core.techniques import load_library

    return load_library()


@pytest.fixture(scope="session")
def config():
    from sim.core.scoring.config import load_config

    return load_config()
