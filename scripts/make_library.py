"""Write the solution logs of every shipped exercise from the exercise files themselves, then score them.

    python scripts/make_library.py

The exercise files (scenarios/face/*.yaml, scenarios/scalp/*.yaml) are written by hand and are the source of
truth. This runs `mesosim plan --write` on each: the reference solution is laid out from the file's `instructed:`
values (docs/scenario-authoring.md, "Planning the solutions") and each flawed one from its `plan:`; every
solution is then scored as `mesosim validate` does, and the script exits non-zero if a reference does not pass or
a flawed one does not fail for its reason. Deterministic: the same files plan the same points.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.cli import main  # noqa: E402

if __name__ == "__main__":
    files = sorted(str(p) for folder in ("face", "scalp") for p in (ROOT / "scenarios" / folder).glob("*.yaml"))
    sys.exit(main(["plan", "--write", *files]))
