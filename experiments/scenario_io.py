"""Reading scenario files safely: size limits, `yaml.safe_load`, no aliases, clear errors."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import Problem, ScenarioError
from sim.scenario import Scenario
from sim.validation import parse_scenario, validation_problems
from strategies.registry import scenario_strategy_problems

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 2 * 2**20


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """Parse a YAML file with ``yaml.safe_load``; refuse huge files and alias expansion.

    Raises:
        ScenarioError: naming the file and what is wrong with it.
    """
    p = Path(path)
    source = str(path)
    if not p.is_file():
        raise ScenarioError([Problem(source, "", f"{what} not found")])
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            [Problem(source, "", f"{what} is {size:,} bytes; at most {MAX_FILE_BYTES:,} allowed")]
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(source, "", f"not UTF-8 text ({exc.reason})")]) from None
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise ScenarioError(
                    [Problem(source, "", "YAML aliases (*name) are not allowed in input files")]
                )
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and cmark is not None:
            problem += f" ({context} started at line {cmark.line + 1}, column {cmark.column + 1})"
        raise ScenarioError([Problem(source, "", f"invalid YAML{where}: {problem}")]) from None


def load_yaml_model(path: str | Path, model: type[M], what: str, list_field: str) -> M:
    """Read a YAML input file into a pydantic ``model``; an empty ``list_field`` is refused.

    Raises:
        ScenarioError: naming the file and each field path.
    """
    source = str(path)
    data = read_yaml(path, what)
    if isinstance(data, dict) and data.get(list_field) == []:
        raise ScenarioError([Problem(source, list_field, f"the {list_field} list is empty")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(validation_problems(source, exc)) from None


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes (recorded with every result)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate one scenario file."""
    data = read_yaml(path, "scenario file")
    return parse_scenario(data, str(path), check_strategies=scenario_strategy_problems)
