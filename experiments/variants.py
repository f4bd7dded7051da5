"""Variants: named strategy bundles read from a YAML file and validated against the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from experiments.scenario_io import load_yaml_model
from sim.contract import KINDS
from sim.errors import Problem, ScenarioError
from sim.scenario import Identifier, StrategyChoice
from strategies.registry import strategy_problems


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

    def strategies(self) -> dict[str, Any]:
        """The kinds this variant sets, as ``{kind: {"name", "params"}}``."""
        out: dict[str, Any] = {}
        for kind in KINDS:
            choice = getattr(self, kind)
            if choice is not None:
                out[kind] = {"name": choice.name, "params": dict(choice.params)}
        if self.decision_interval_days is not None:
            out["decision_interval_days"] = self.decision_interval_days
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
