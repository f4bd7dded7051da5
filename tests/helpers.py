"""Small scenario builders shared by the tests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sim.scenario import Scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
TINY_PATH = ROOT / "scenarios" / "tiny.yaml"


@cache
def _tiny_text() -> str:
    return TINY_PATH.read_text(encoding="utf-8")


def load_tiny() -> dict[str, Any]:
    """A fresh parsed copy of ``scenarios/tiny.yaml`` (safe to modify)."""
    return yaml.safe_load(_tiny_text())


def make_scenario(modify: Callable[[dict[str, Any]], Any] | None = None) -> Scenario:
    """Validate tiny.yaml after ``modify`` edits a deep copy of its data in place.

    ``modify`` may also return a replacement dict (anything else it returns is ignored).
    """
    data = copy.deepcopy(load_tiny())
    if modify is not None:
        out = modify(data)
        if isinstance(out, dict):
            data = out
    return parse_scenario(data, "tiny.yaml (modified)")
