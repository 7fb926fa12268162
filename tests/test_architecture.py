"""The layout's dependency rules: each import-linter contract in pyproject.toml ([tool.importlinter]) as a test,
and pygame imported nowhere but sim/ui."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = shutil.which("lint-imports", path=Path(sys.executable).parent) or shutil.which("lint-imports")
PYPROJECT = ROOT / "pyproject.toml"
CONTRACTS = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]

@pytest.mark.parametrize("contract", [c["id"] for c in CONTRACTS])
def test_contract_is_kept(contract):
    assert LINT_IMPORTS, "lint-imports is not installed (pip install -e '.[test]')"
    # This checkout's sim, whatever is installed
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([LINT_IMPORTS, "--contract", contract, "--no-cache"],  # reads ./pyproject.toml
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "Contracts: 1 kept, 0 broken." in run.stdout and run.returncode == 0, run.stdout + run.stderr


PYGAME = re.compile(r"^\s*(import pygame|from pygame)", re.MULTILINE)


def test_only_the_user_interface_imports_pygame():
    importers = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "sim").rglob("*.py")
                       if PYGAME.search(p.read_text(encoding="utf-8")))
    outside = [p for p in importers if not p.startswith("sim/ui/")]
    assert importers and not outside, outside
