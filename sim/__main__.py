"""`python -m sim` is the `mesosim` command."""

import sys

from sim.cli import main

sys.exit(main())
