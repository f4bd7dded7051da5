"""The `marketsim` command line: one thin module per command (parse, call the library, print)."""

from __future__ import annotations

from experiments.cli.main import main

__all__ = ["main"]
