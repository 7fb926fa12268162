"""Test set-up: headless SDL before anything imports pygame, and shared fixtures for the core."""

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
# Never touch the user's own signing key or attempts folder from a test.
import tempfile  # noqa: E402

_HOME = tempfile.mkdtemp(prefix="mesosim-tests-")
os.environ["MESOSIM_KEY_FILE"] = os.path.join(_HOME, "config", "signing.key")
os.environ["XDG_DATA_HOME"] = os.path.join(_HOME, "data")
os.environ["XDG_CONFIG_HOME"] = os.path.join(_HOME, "config")
os.environ["XDG_CACHE_HOME"] = os.path.join(_HOME, "cache")  # parsed YAML (sim.core.files.yamlio)
os.environ.pop("MESOSIM_LIBRARY", None)  # no instructor's library but the one a test makes

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from tests import profile  # noqa: E402

# Property-based tests: the number of generated inputs per target follows MESOSIM_TESTS (tests/profile.py):
# `quick` (the default) a few hundred in all, `long` 3,400 per target (over 10,000 across the fuzz targets).
# HYPOTHESIS_PROFILE picks one by name instead: `dev` while editing, `nightly` for 100,000 per target.
_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
               derandomize=False, print_blob=True)
settings.register_profile("quick", max_examples=100, **_common)
settings.register_profile("long", max_examples=3400, **_common)
settings.register_profile("dev", max_examples=200, **_common)
settings.register_profile("nightly", max_examples=100_000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", profile.NAME))

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def library():
    from sim.core.exercise.techniques import load_library

    return load_library()


@pytest.fixture(scope="session")
def config():
    from sim.core.scoring.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server on 127.0.0.1 for this test session (see tests/pgserver.py)."""
    from tests.pgserver import Server

    try:
        server = Server()
    except RuntimeError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        pytest.skip(str(exc))
    yield server
    server.stop()
