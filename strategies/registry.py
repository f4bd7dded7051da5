"""Strategy registry by kind and name; plug-ins use the `marketsim.strategies` entry points."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, TypeVar

from sim.contract import KINDS
from sim.errors import Problem, StrategyError
from sim.scenario import Scenario, Strategies
from sim.validation import strategy_context
from strategies.base import BASE_BY_KIND, Strategy
from strategies.params import per_region_problems, resolve_params

ENTRY_POINT_GROUP = "marketsim.strategies"
_BUILTIN_MODULES = (
    "strategies.pricing",
    "strategies.selection",
    "strategies.retention",
    "strategies.localization",
)
_REGISTRY: dict[str, dict[str, type[Strategy]]] = {kind: {} for kind in KINDS}
_loaded = False

S = TypeVar("S", bound=type[Strategy])


def register(cls: S) -> S:
    """Class decorator adding a strategy to the registry under ``cls.kind`` and ``cls.name``."""
    kind = getattr(cls, "kind", None)
    if kind not in _REGISTRY:
        raise StrategyError(f"{cls.__name__}: kind must be one of {list(KINDS)}, got {kind!r}")
    if not issubclass(cls, BASE_BY_KIND[kind]):
        raise StrategyError(f"{cls.__name__}: must subclass {BASE_BY_KIND[kind].__name__}")
    existing = _REGISTRY[kind].get(cls.name)
    if existing is not None and existing is not cls:
        raise StrategyError(f"{kind} strategy {cls.name!r} is already registered by {existing}")
    _REGISTRY[kind][cls.name] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in _BUILTIN_MODULES:
        import_module(module)
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        obj = ep.load()  # a module (registering on import) or a Strategy class
        if isinstance(obj, type) and issubclass(obj, Strategy):
            register(obj)


def names(kind: str) -> list[str]:
    """Registered names of one kind, sorted."""
    _load()
    if kind not in _REGISTRY:
        raise StrategyError(f"unknown strategy kind {kind!r}; valid kinds: {list(KINDS)}")
    return sorted(_REGISTRY[kind])


def get(kind: str, name: str) -> type[Strategy]:
    """The strategy class registered as ``name`` for ``kind``."""
    valid = names(kind)
    if name not in _REGISTRY[kind]:
        raise StrategyError([("name", f"unknown {kind} strategy {name!r}; valid: {valid}")])
    return _REGISTRY[kind][name]


def create(kind: str, name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """Instantiate a registered strategy with validated parameters."""
    return get(kind, name)(**dict(params or {}))


def validate_choice(
    kind: str, name: str, params: Mapping[str, Any], context: Scenario | None = None
) -> None:
    """Check a scenario's strategy entry; raise ``StrategyError`` with field paths.

    With a scenario (``context``), the strategy's ``check`` also runs against its facts
    (:func:`sim.validation.strategy_context`).
    """
    cls = get(kind, name)
    values = resolve_params(cls, params)
    problems = []
    if context is not None:
        facts = strategy_context(context)
        problems = per_region_problems(cls, values, facts.region_ids) + cls.check(values, facts)
    if problems:
        raise StrategyError(problems)


def all_strategies() -> dict[str, dict[str, type[Strategy]]]:
    """Every registered strategy, by kind then name (sorted)."""
    _load()
    return {kind: dict(sorted(_REGISTRY[kind].items())) for kind in KINDS}


def strategy_problems(source: str, prefix: str, holder: Any, context: Any) -> list[Problem]:
    """Check the strategy choices an object holds per kind (``holder.pricing`` ...; ``None``
    means "not set") against the registry; paths are ``{prefix}.{kind}.params.x``."""
    problems: list[Problem] = []
    for kind in KINDS:
        choice = getattr(holder, kind)
        if choice is None:
            continue
        try:
            validate_choice(kind, choice.name, choice.params, context)
        except StrategyError as exc:
            for path, message in exc.problems:
                full = f"{prefix}.{kind}" + (f".{path}" if path else "")
                problems.append(Problem(source, full, message))
    return problems


def scenario_strategy_problems(scenario: Scenario, source: str) -> list[Problem]:
    """The strategy checker handed to :func:`sim.validation.parse_scenario`."""
    return strategy_problems(source, "strategies", scenario.strategies, scenario)


def build_strategies(choices: Strategies) -> dict[str, Strategy]:
    """Fresh strategy instances, one per kind, from a scenario's strategy choices."""
    return {
        kind: create(kind, getattr(choices, kind).name, getattr(choices, kind).params)
        for kind in KINDS
    }


def strategy_factories(choices: Strategies) -> dict[str, Callable[[], Strategy]]:
    """Zero-argument factories, one per kind: each call builds fresh strategy instances.

    Hand these to ``MarketModel(strategies=...)`` when one mapping serves several runs (as
    in ``mesa.batch_run``), so stateful strategies never share state between runs.
    """
    return {
        kind: partial(create, kind, getattr(choices, kind).name, getattr(choices, kind).params)
        for kind in KINDS
    }
