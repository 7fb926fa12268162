"""How long the suite runs: `quick` by default (every test, few generated inputs, few kills), `long` with
MESOSIM_TESTS=long (CI: over 10,000 generated inputs across the fuzz targets, 20 kills of a session)."""

import os

NAME = os.environ.get("MESOSIM_TESTS", "quick")
if NAME not in ("quick", "long"):
    raise RuntimeError(f"MESOSIM_TESTS={NAME!r}: expected quick or long")
LONG = NAME == "long"


def amount(quick: int, long: int) -> int:
    """The number of examples, kills or rounds a test makes in this profile."""
    return long if LONG else quick
