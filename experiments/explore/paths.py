"""Field paths into scenario data: ``regions[ID].tax.duty_rate``, ``regions[*].fx...``.

A path is dot-separated fields; a list field takes a selector in brackets: ``*`` (every
element), a whole number (the position) or an identifier (the element whose ``id``, or for
lane stages ``name``, equals it). Mapping keys are plain fields
(``firm.marketing_budget_monthly_base.ID``). Paths are resolved against the scenario as
plain data with every default filled in (``Scenario.model_dump(mode="json")``), so a field
the file leaves at its default can still be varied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_STEP = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_-]*)(?:\[([^\[\]]+)\])?$")
_KEYS = ("id", "name")


class PathError(ValueError):
    """A path that is malformed or names nothing in the scenario (the message says why)."""


@dataclass(frozen=True)
class Step:
    """One field of a path, with an optional list selector."""

    field: str
    selector: str | None = None


def parse_path(path: str) -> tuple[Step, ...]:
    """Split ``regions[ID].tax.duty_rate`` into steps.

    Raises:
        PathError: an empty or malformed path.
    """
    if not path or path.strip() != path:
        raise PathError("a field path such as regions[ID].tax.duty_rate is required")
    steps = []
    for part in _split(path):
        match = _STEP.match(part)
        if match is None:
            raise PathError(f"cannot read {part!r} in the field path {path!r}")
        steps.append(Step(match.group(1), match.group(2)))
    return tuple(steps)


def _split(path: str) -> list[str]:
    """Split on dots outside brackets (identifiers may contain dots: ``regions[a.b]``)."""
    parts, depth, current = [], 0, ""
    for char in path:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    if any(not p for p in parts):
        raise PathError(f"empty field in the field path {path!r}")
    return parts


def _elements(items: list[Any], selector: str, where: str) -> list[int]:
    """Positions in ``items`` that ``selector`` picks."""
    if selector == "*":
        if not items:
            raise PathError(f"{where} is an empty list")
        return list(range(len(items)))
    if selector.isdigit():
        if int(selector) >= len(items):
            raise PathError(f"{where} has {len(items)} elements, no [{selector}]")
        return [int(selector)]
    for key in _KEYS:
        hits = [i for i, x in enumerate(items) if isinstance(x, dict) and x.get(key) == selector]
        if hits:
            return hits
    known = [x.get(k) for x in items if isinstance(x, dict) for k in _KEYS if k in x][:20]
    raise PathError(f"{where} has no element {selector!r}; known: {known}")


def locate(data: Any, path: str) -> list[tuple[Any, Any]]:
    """Every ``(container, key)`` the path points at (one per element for ``[*]``).

    Raises:
        PathError: a field that does not exist, a selector that matches nothing, a selector
            on a field that is not a list, or a path through an unset (null) section.
    """
    targets: list[tuple[Any, Any]] = [({"": data}, "")]
    where = ""
    for step in parse_path(path):
        where = f"{where}.{step.field}" if where else step.field
        nxt = []
        for container, key in targets:
            node = container[key]
            if node is None:
                raise PathError(f"{where.rsplit('.', 1)[0]} is not set in this scenario")
            if not isinstance(node, dict) or step.field not in node:
                raise PathError(f"unknown field {step.field!r} at {where}")
            if step.selector is None:
                nxt.append((node, step.field))
                continue
            items = node[step.field]
            if not isinstance(items, list):
                raise PathError(f"{where} is not a list; [{step.selector}] cannot select from it")
            nxt += [(items, i) for i in _elements(items, step.selector, where)]
        targets = nxt
        where += f"[{step.selector}]" if step.selector is not None else ""
    return targets


def current_values(data: Any, path: str) -> list[Any]:
    """The values the path points at now."""
    return [container[key] for container, key in locate(data, path)]


def assign(data: Any, path: str, value: Any | Callable[[Any], Any]) -> None:
    """Set every target of ``path`` in ``data`` (in place) to ``value``, or ``value(old)``."""
    for container, key in locate(data, path):
        container[key] = value(container[key]) if callable(value) else value
