"""What the app lets a strategist change: strategy levers from declared Params, world levers.

Pure functions over scenarios and the strategy registry (no web framework): the controls the
page draws are generated from :class:`strategies.params.Param` declarations, the same ones
that validate YAML and define Optuna's search space; world levers are applied through the
library (``experiments.entry.option_scenario`` for entry month and fulfilment, and the
scenario parser for everything else, so a bad value gets the CLI's field-path message).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from experiments.entry import option_scenario
from experiments.files import EntryOption, RegionEntry, load_scenario
from experiments.replications import strategies_dict
from sim.calendar import DAYS_PER_MONTH
from sim.contract import KINDS
from sim.errors import Problem, ScenarioError, StrategyError
from sim.scenario import Scenario, StrategyChoice
from strategies import registry
from strategies.params import Param

SHIPPED = Path(__file__).resolve().parents[2] / "scenarios"


def shipped_scenarios() -> dict[str, Path]:
    """The scenario files shipped with marketsim, by name."""
    return {p.stem: p for p in sorted(SHIPPED.glob("*.yaml"))} if SHIPPED.is_dir() else {}


@dataclass(frozen=True)
class Lever:
    """One control: a declared parameter, or one region's value of a per-region parameter."""

    kind: str
    param: Param
    region: str | None = None

    @property
    def key(self) -> str:
        """A stable id for the control (``pricing.index`` or ``pricing.index.ID``)."""
        return f"{self.kind}.{self.param.name}" + (f".{self.region}" if self.region else "")

    @property
    def label(self) -> str:
        """What the control is called on the page."""
        where = f" in {self.region}" if self.region else ""
        return f"{self.param.name}{where}"


def strategy_levers(kind: str, name: str, region_ids: tuple[str, ...]) -> list[Lever]:
    """Controls for a strategy's declared parameters: numbers, flags and choices (one per
    region for a per-region parameter); lists of names choose among the scenario's regions
    when the parameter is called ``regions``. Mappings are set in YAML, not here."""
    out = []
    for p in registry.get(kind, name).params:
        if p.per_region:
            out += [Lever(kind, p, r) for r in region_ids]
        elif p.tunable or (p.type == "str_list" and p.name == "regions"):
            out.append(Lever(kind, p))
    return out


def lever_value(lever: Lever, params: Mapping[str, Any]) -> Any:
    """The current value of a control given a strategy's parameters (default if unset)."""
    value = params.get(lever.param.name, lever.param.default)
    if lever.region is not None:
        return value.get(lever.region, lever.param.default) if isinstance(value, Mapping) else value
    return list(value) if isinstance(value, tuple | list) else value


def set_lever(
    params: Mapping[str, Any], lever: Lever, value: Any, region_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Parameters with one control changed; a per-region value turns a scalar into a mapping
    that names every region (the others keep the old scalar)."""
    out = dict(params)
    if lever.region is None:
        out[lever.param.name] = value
        return out
    current = out.get(lever.param.name, lever.param.default)
    if isinstance(current, Mapping):
        mapping = dict(current)
    else:
        mapping = dict.fromkeys(region_ids or (lever.region,), current)
    mapping[lever.region] = value
    out[lever.param.name] = mapping
    return out


@dataclass(frozen=True)
class WorldLevers:
    """Per-region choices about the world the firm acts in (``None`` keeps the scenario's)."""

    days: int | None = None
    marketing_monthly_base: Mapping[str, float] = field(default_factory=dict)
    entry_month: Mapping[str, int] = field(default_factory=dict)
    local_warehouse: Mapping[str, bool] = field(default_factory=dict)

    @property
    def changes_world(self) -> bool:
        """Whether the scenario itself changes (not only strategies or the horizon)."""
        return bool(self.marketing_monthly_base or self.entry_month or self.local_warehouse)


def marketing_monthly(scenario: Scenario) -> dict[str, float]:
    """Mean monthly marketing budget per region (a 12-month profile is averaged)."""
    out = {}
    for rid, value in scenario.firm.marketing_budget_monthly_base.items():
        values = list(value) if isinstance(value, list | tuple) else [value]
        out[rid] = float(sum(values) / len(values))
    return out


def entry_months(scenario: Scenario) -> dict[str, int]:
    """Entry month per region (0 when the scenario enters at the start)."""
    days = scenario.firm.entry_day_by_region
    return {r.id: round(days.get(r.id, 0) / DAYS_PER_MONTH) for r in scenario.regions}


def apply_world(scenario: Scenario, levers: WorldLevers) -> Scenario:
    """The scenario with the world levers applied, validated like a scenario file.

    Raises:
        ScenarioError / StrategyError: a value the scenario or a strategy refuses, with
            its field path (e.g. ``firm.marketing_budget_monthly_base.ID``).
    """
    if not levers.changes_world:
        return scenario
    data = scenario.model_dump(mode="json")
    budget = data["firm"]["marketing_budget_monthly_base"]
    for rid, monthly in levers.marketing_monthly_base.items():
        old = budget.get(rid)
        if isinstance(old, list) and sum(old) > 0 and monthly >= 0:  # keep the seasonal shape
            scale = monthly / (sum(old) / len(old))
            budget[rid] = [v * scale for v in old]
        else:
            budget[rid] = monthly
    changed = load_scenario(data)
    if not (levers.entry_month or levers.local_warehouse):
        return changed
    months = {**entry_months(scenario), **levers.entry_month}
    entries = [
        RegionEntry(
            region=rid,
            entry_month=months[rid],
            fulfilment="local_warehouse" if levers.local_warehouse.get(rid) else "cross_border",
        )
        for rid in months
    ]
    try:
        return option_scenario(changed, EntryOption(name="app", regions=entries), None)
    except ValueError as exc:  # a localization strategy that cannot serve locally
        raise StrategyError([("strategies.localization", str(exc))]) from None


def strategy_choices(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """The scenario's own strategies, ``{kind: {name, params}}`` (the baseline)."""
    current = strategies_dict(scenario)
    return {k: current[k] for k in KINDS}


def variants_yaml(
    baseline: Mapping[str, Any], variant: Mapping[str, Any], name: str = "variant"
) -> str:
    """A variants file for ``marketsim compare``: the baseline and the variant's strategies."""
    data = {
        "baseline": "baseline",
        "variants": [
            {"name": "baseline", **{k: dict(v) for k, v in baseline.items()}},
            {"name": name, **{k: dict(v) for k, v in variant.items()}},
        ],
    }
    plain = json.loads(json.dumps(data))  # no shared objects: YAML aliases are refused on input
    return yaml.safe_dump(plain, sort_keys=False)


def check_strategies(scenario: Scenario, strategies: Mapping[str, Any], source: str) -> None:
    """Validate ``{kind: {name, params}}`` against the scenario as a variants file is.

    Raises:
        ScenarioError: every problem as ``source: pricing.params.index.ID: message``.
    """
    holder = SimpleNamespace(
        **{
            kind: StrategyChoice(name=spec["name"], params=dict(spec.get("params") or {}))
            if kind in strategies
            else None
            for kind, spec in ((k, strategies.get(k) or {}) for k in KINDS)
        }
    )
    problems = registry.strategy_problems(source, "", holder, scenario)
    if problems:
        raise ScenarioError(
            [Problem(p.source, p.path.removeprefix("."), p.message) for p in problems]
        )


def variants_from_file(scenario: Scenario, path: str | Path) -> tuple[dict[str, Any], str | None]:
    """The bundles of a variants file, completed with the scenario's own strategies, and
    the file's baseline (validated as ``marketsim compare`` does, with field paths)."""
    from experiments.files import load_variants

    vfile = load_variants(path, scenario)
    own = strategy_choices(scenario)
    return {v.name: {**own, **v.strategies()} for v in vfile.variants}, vfile.baseline
