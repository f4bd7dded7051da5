"""The command line shared by the one-replication probes: a scenario, ``--rep`` and ``--days``."""

from __future__ import annotations

import argparse


def replication_parser(doc: str) -> argparse.ArgumentParser:
    """A parser for ``SCENARIO [--rep N] [--days D]`` (replication 0, 730 days by default),
    described by the first line of ``doc``; callers may add their own options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("scenario")
    parser.add_argument("--rep", type=int, default=0, help="replication, seeded as the check's")
    parser.add_argument("--days", type=int, default=730)
    return parser
