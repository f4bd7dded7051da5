"""The ``--tune`` file: which strategies to tune and in what ranges (structure only).

Example::

    strategies:
      pricing:
        name: cost_plus                 # optional: default is the first scenario's choice
        params:
          markup: {low: 0.2, high: 1.5}  # narrow (within the declared bounds; log: bool)
          fx_pass_through: 1.0           # fix
      selection:
        name: stop_loss
        params: {choice: {choices: [top_margin, three_factor]}}   # restrict a choice
    marketing:
      budget_multiplier: {low: 0.0, high: 3.0}  # every marketing budget x this (optional)

The parameters themselves are checked against their strategies' declarations by
:func:`experiments.tuning.space.build_search_space`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from experiments.files import load_yaml_model
from experiments.knobs import MAX_BUDGET_MULTIPLIER
from sim.contract import KINDS
from sim.errors import Problem, ScenarioError
from sim.scenario import Identifier


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TuneRange(_Strict):
    """Narrowed bounds of a numeric parameter (each defaults to the declared one)."""

    low: float | None = None
    high: float | None = None
    log: bool | None = None


class TuneChoices(_Strict):
    """A subset of a ``choice`` parameter's choices."""

    choices: Annotated[list[str], Field(min_length=1)]


class TuneKind(_Strict):
    """One kind's strategy in a tune file."""

    name: Identifier | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class TuneStrategies(_Strict):
    """The kinds to tune (those left out keep each scenario's choice)."""

    pricing: TuneKind | None = None
    selection: TuneKind | None = None
    retention: TuneKind | None = None
    localization: TuneKind | None = None


class TuneMarketing(_Strict):
    """The marketing budget to search: every budget of the scenario (the firm's and each paid
    channel's) times a multiplier in ``[low, high]`` (a plain number fixes it)."""

    budget_multiplier: TuneRange | Annotated[float, Field(ge=0.0, le=MAX_BUDGET_MULTIPLIER)]


class TuneFile(_Strict):
    """The ``--tune`` file."""

    strategies: TuneStrategies = TuneStrategies()
    marketing: TuneMarketing | None = None


def load_tune_file(path: str | Path) -> TuneFile:
    """Read and structurally validate a tune file.

    Raises:
        ScenarioError: naming the file and each field path.
    """
    parsed = load_yaml_model(path, TuneFile, "tune file", "strategies")
    if parsed.marketing is None and all(getattr(parsed.strategies, k) is None for k in KINDS):
        message = f"names no strategy kind; give at least one of {list(KINDS)} (or `marketing`)"
        raise ScenarioError([Problem(str(path), "strategies", message)])
    return parsed
