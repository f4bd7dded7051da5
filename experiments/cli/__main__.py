"""`python -m experiments.cli` runs the `marketsim` command line."""

from __future__ import annotations

import sys

from experiments.cli.main import main

sys.exit(main())
