"""Every YAML input file (scenario, variants, entry options) read safely into validated objects.

Files are read with `yaml.safe_load` only, under a size limit, with YAML aliases refused;
every problem is a :class:`~sim.errors.ScenarioError` naming the file and the field path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from experiments.knobs import MARKETING_KEY, MAX_BUDGET_MULTIPLIER
from sim.calendar import MAX_HORIZON_DAYS
from sim.contract import KINDS
from sim.errors import Problem, ScenarioError
from sim.scenario import Identifier, Scenario, StrategyChoice
from sim.validation import parse_scenario, shorten, validation_problems
from strategies.registry import scenario_strategy_problems, strategy_problems

M = TypeVar("M", bound=BaseModel)

MAX_FILE_BYTES = 2 * 2**20


#: input files are small hand-written documents: deeper nesting, longer strings or more digits
#: than these are refused before PyYAML recurses or Python converts anything
MAX_DEPTH = 64
MAX_STRING_CHARS = 10_000
MAX_INT_DIGITS = 40
MAX_ABS_INT = 2**64
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _LimitedLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses deep nesting, aliases, explicit tags and huge scalars.

    Dates and times stay strings (no implicit timestamps): no field of an input file is a
    date, and a bad one (``2024-13-45``) would otherwise fail inside PyYAML.
    """

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str):
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        refusal = _refusal(event, self.depth)
        if refusal:
            raise yaml.composer.ComposerError(None, None, refusal, event.start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"a number of {digits} digits is out of range", node.start_mark
            )
        value = super().construct_yaml_int(node)
        if abs(value) > MAX_ABS_INT:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value[:40]} is out of range (|n| <= 2**64)", node.start_mark
            )
        return value


_LimitedLoader.add_constructor("tag:yaml.org,2002:int", _LimitedLoader.construct_yaml_int)


def _refusal(event: Any, depth: int) -> str:
    """Why the node starting with ``event`` at nesting ``depth`` is refused ("" if it is not)."""
    if isinstance(event, yaml.AliasEvent):
        return "YAML aliases (*name) are not allowed in input files"
    if depth >= MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH} levels"
    if getattr(event, "tag", None) is not None:
        return f"explicit YAML tags ({shorten(event.tag)}) are not allowed in input files"
    if isinstance(event, yaml.ScalarEvent) and len(event.value) > MAX_STRING_CHARS:
        return f"a text of {len(event.value):,} characters; at most {MAX_STRING_CHARS:,} allowed"
    return ""


def _flow_depth_problem(text: str) -> str:
    """Refuse deep ``[``/``{`` nesting from the raw text, in linear time, before PyYAML scans it.

    Brackets inside quotes or comments are counted too: this only over-estimates the depth,
    and only for files with more than :data:`MAX_DEPTH` unmatched brackets.
    """
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_DEPTH:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            return f"at line {line}, column {column}: nested deeper than {MAX_DEPTH} levels"
    return ""


_BRACKETS = re.compile(r"[\[\]{}]")


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """A YAML error as ``invalid YAML at line L, column C: problem (context)``."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        char = shorten(chr(exc.character)) if isinstance(exc.character, int) else "?"
        return f"invalid YAML at line {line}, column {column}: character {char} is not allowed"
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and cmark is not None:
        problem += f" ({context} started at line {cmark.line + 1}, column {cmark.column + 1})"
    return f"invalid YAML{where}: {shorten(problem, 200)}"


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """Parse a YAML file safely under limits (size, nesting, string length, numbers, no tags).

    Raises:
        ScenarioError: naming the file and what is wrong with it (line and column for YAML).
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
    except OSError as exc:
        raise ScenarioError(
            [Problem(source, "", f"cannot read the {what} ({exc.strerror})")]
        ) from None
    deep = _flow_depth_problem(text)
    if deep:
        raise ScenarioError([Problem(source, "", f"invalid YAML {deep}")])
    try:
        return _load_limited(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(source, "", _yaml_problem(exc, text))]) from None
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
        # a scalar PyYAML's constructors cannot convert (e.g. a date out of range)
        message = f"invalid YAML: cannot read a value ({type(exc).__name__}: {shorten(str(exc))})"
        raise ScenarioError([Problem(source, "", message)]) from None


def _load_limited(text: str) -> Any:
    loader = _LimitedLoader(text)  # checks every character (ReaderError) before parsing
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


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


def load_scenario(source: str | Path | Mapping[str, Any]) -> Scenario:
    """Read and validate a scenario: a YAML file path, or a mapping with the file's content.

    Raises:
        ScenarioError: every problem, each with the file (or ``<dict>``) and field path.
    """
    if isinstance(source, Mapping):
        data, name = dict(source), "<dict>"
    else:
        data, name = read_yaml(source, "scenario file"), str(source)
    return parse_scenario(data, name, check_strategies=scenario_strategy_problems)


# ------------------------------------------------------------------ variants (compare)
class Variant(BaseModel):
    """One strategy bundle; kinds left out keep the scenario's choice."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Identifier, Field(max_length=48)]
    description: str = ""
    decision_interval_days: Annotated[int, Field(ge=1, le=365)] | None = None
    pricing: StrategyChoice | None = None
    selection: StrategyChoice | None = None
    retention: StrategyChoice | None = None
    localization: StrategyChoice | None = None
    marketing_budget_multiplier: (
        Annotated[float, Field(ge=0.0, le=MAX_BUDGET_MULTIPLIER, allow_inf_nan=False)] | None
    ) = None
    """Every marketing budget of the scenario (the firm's and each paid channel's) times this
    (0: no marketing; 1 or left out: the scenario's own)."""

    def strategies(self) -> dict[str, Any]:
        """The kinds this variant sets, as ``{kind: {"name", "params"}}`` (plus
        ``decision_interval_days`` and ``marketing_budget_multiplier`` when set)."""
        out: dict[str, Any] = {}
        for kind in KINDS:
            choice = getattr(self, kind)
            if choice is not None:
                out[kind] = {"name": choice.name, "params": dict(choice.params)}
        if self.decision_interval_days is not None:
            out["decision_interval_days"] = self.decision_interval_days
        if self.marketing_budget_multiplier is not None:
            out[MARKETING_KEY] = self.marketing_budget_multiplier
        return out


class VariantsFile(BaseModel):
    """``variants:`` (at least one) and an optional ``baseline`` variant name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    baseline: Identifier | None = None
    variants: Annotated[list[Variant], Field(min_length=1, max_length=200)]


def load_variants(path: str | Path, context: Any = None) -> VariantsFile:
    """Read and validate a variants file (names unique, strategies and parameters known)."""
    source = str(path)
    parsed = load_yaml_model(path, VariantsFile, "variants file", "variants")
    problems: list[Problem] = []
    names = [v.name for v in parsed.variants]
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append(Problem(source, f"variants[{i}].name", f"duplicate variant {name!r}"))
    if parsed.baseline is not None and parsed.baseline not in names:
        problems.append(Problem(source, "baseline", f"{parsed.baseline!r} is not one of {names}"))
    for i, variant in enumerate(parsed.variants):
        problems += strategy_problems(source, f"variants[{i}]", variant, context)
    if problems:
        raise ScenarioError(problems)
    return parsed


# ------------------------------------------------------------------ entry options
class RegionEntry(BaseModel):
    """When and how one region is entered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Identifier
    entry_month: Annotated[int, Field(ge=0, le=120)] = 0
    fulfilment: Literal["cross_border", "local_warehouse"] = "cross_border"


class EntryOption(BaseModel):
    """One market-entry plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Identifier, Field(max_length=48)]
    description: str = ""
    regions: Annotated[list[RegionEntry], Field(min_length=1)]
    pricing: StrategyChoice | None = None
    selection: StrategyChoice | None = None
    retention: StrategyChoice | None = None
    localization: StrategyChoice | None = None


class OptionsFile(BaseModel):
    """The options file: a base scenario and the entry options to rank."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    discount_rate_annual: Annotated[float, Field(ge=0.0, le=1.0)] = 0.10
    reps: Annotated[int, Field(ge=2, le=10_000)] = 20
    horizon_days: Annotated[int, Field(ge=30, le=MAX_HORIZON_DAYS)] | None = None
    options: Annotated[list[EntryOption], Field(min_length=1, max_length=100)]
