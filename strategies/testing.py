"""The strategy contract suite: checks every strategy (built-in or plug-in) must pass.

Use it from a plug-in's tests, either as a pytest base class::

    from strategies.testing import StrategyContract

    class TestMyPricing(StrategyContract):
        strategy_cls = MyPricing

or call :func:`check_strategy` (or the single ``check_*`` functions) directly. The checks:
parameter declarations are sound (defaults valid and within finite bounds, a docstring);
decisions have the right type, shape and range for every region of realistic views, are
deterministic for the same view and an identically seeded generator and never mutate the
view; a model runs with the strategy; a reused instance starts each run afresh; a
per-region parameter given as a mapping naming every region with the default decides as
the scalar default does, and an out-of-bounds region value is refused with its path.

The views come from short runs of contract scenarios: by default ``scenarios/tiny.yaml`` of
a marketsim source checkout; pass your own :class:`~sim.scenario.Scenario` objects otherwise.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sim.contract import (
    PAYMENT_METHODS,
    LocalizationChoice,
    LocalizationDecision,
    MarketView,
    PricingDecision,
    RetentionAction,
    RetentionDecision,
    SelectionDecision,
)
from sim.model import MarketModel
from sim.scenario import Scenario
from strategies.base import BASE_BY_KIND, Strategy
from strategies.params import Param
from strategies.registry import build_strategies

DECISION_TYPE: dict[str, type] = {
    "pricing": PricingDecision,
    "selection": SelectionDecision,
    "retention": RetentionDecision,
    "localization": LocalizationDecision,
}
DEFAULT_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"


def default_scenarios() -> list[Scenario]:
    """The contract scenarios used when none are given (``scenarios/tiny.yaml``)."""
    import yaml

    from sim.validation import parse_scenario

    if not DEFAULT_SCENARIO.is_file():
        raise FileNotFoundError(
            f"{DEFAULT_SCENARIO} not found (not a source checkout): pass `scenarios=`"
        )
    data = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    return [parse_scenario(data, str(DEFAULT_SCENARIO))]


def new_model(
    scenario: Scenario,
    overrides: Mapping[str, Strategy] | None = None,
    *,
    model_cls: type[MarketModel] = MarketModel,
    **kwargs: Any,
) -> MarketModel:
    """A ``model_cls`` of ``scenario`` with its chosen strategies, ``overrides`` replacing
    some kinds; ``kwargs`` (seed, days) go to the model."""
    strategies = {**build_strategies(scenario.strategies), **(overrides or {})}
    return model_cls(scenario, strategies=strategies, **kwargs)


def views_of(
    scenario: Scenario,
    seed: int = 3,
    days: Sequence[int] = (0, 30),
    overrides: Mapping[str, Strategy] | None = None,
    horizon_days: int = 60,
) -> list[MarketView]:
    """Views our strategies would see on each of ``days`` of one ``horizon_days`` run."""
    model = new_model(scenario, overrides, seed=seed, days=horizon_days)
    out = []
    for day in sorted(days):
        model.run(days=day - model.day)
        out.append(model.build_view())
    return out


def contract_views(scenarios: Sequence[Scenario]) -> dict[str, MarketView]:
    """Views on day 0 and day 30 of each scenario, keyed ``name@day``."""
    return {f"{sc.name}@{view.day}": view for sc in scenarios for view in views_of(sc, seed=3)}


# --------------------------------------------------------------------------- helpers
def iter_arrays(obj: Any, path: str = "view") -> Iterator[tuple[str, np.ndarray]]:
    """Every numpy array reachable from a view (dataclass fields, mappings, tuples)."""
    if isinstance(obj, np.ndarray):
        yield path, obj
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            yield from iter_arrays(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from iter_arrays(v, f"{path}[{k!r}]")
    elif isinstance(obj, tuple | list):
        for i, v in enumerate(obj):
            yield from iter_arrays(v, f"{path}[{i}]")


def snapshot(view: MarketView) -> dict[str, Any]:
    """Deep copies of every array and of the non-array fields of a view."""
    arrays = {p: a.copy() for p, a in iter_arrays(view)}
    scalars = {}
    for rid, r in view.regions.items():
        for f in dataclasses.fields(r):
            v = getattr(r, f.name)
            if not isinstance(v, np.ndarray) and f.name != "customers":
                scalars[f"{rid}.{f.name}"] = copy.deepcopy(v)
    return {"arrays": arrays, "scalars": scalars, "day": view.day}


def comparable(decision: Any) -> Any:
    """A decision as nested plain Python data, for equality checks."""
    if isinstance(decision, np.ndarray):
        return decision.tolist()
    if dataclasses.is_dataclass(decision) and not isinstance(decision, type):
        return {f.name: comparable(getattr(decision, f.name)) for f in dataclasses.fields(decision)}
    if isinstance(decision, Mapping):
        return {k: comparable(v) for k, v in sorted(decision.items())}
    if isinstance(decision, tuple | list):
        return [comparable(v) for v in decision]
    if isinstance(decision, frozenset | set):
        return sorted(decision)
    return decision


# --------------------------------------------------------------------------- decisions
def _assert_pricing(decision: PricingDecision, n: int, regions: set[str], who: str) -> None:
    assert set(decision.prices_local) == regions, f"{who}: prices for {decision.prices_local}"
    for rid, prices in decision.prices_local.items():
        arr = np.asarray(prices)
        assert arr.shape == (n,), f"{who}: {rid} prices shape {arr.shape}"
        assert np.issubdtype(arr.dtype, np.number), f"{who}: {rid} prices dtype {arr.dtype}"
        assert np.all(np.isfinite(arr)) and np.all(arr > 0), f"{who}: {rid} prices {arr}"


def _assert_selection(decision: SelectionDecision, n: int, regions: set[str], who: str) -> None:
    assert set(decision.listed) == regions, f"{who}: listings for {set(decision.listed)}"
    for rid, listed in decision.listed.items():
        arr = np.asarray(listed)
        assert arr.shape == (n,), f"{who}: {rid} listing shape {arr.shape}"
        assert arr.dtype == np.bool_, f"{who}: {rid} listing dtype {arr.dtype} is not bool"


def _assert_retention(decision: RetentionDecision, view: MarketView, who: str) -> None:
    assert isinstance(decision.actions, tuple), f"{who}: actions must be a tuple"
    for action in decision.actions:
        assert isinstance(action, RetentionAction), f"{who}: {action!r}"
        assert action.region_id in view.regions, f"{who}: unknown region {action.region_id}"
        ids = np.asarray(action.customer_ids)
        assert ids.ndim == 1 and np.issubdtype(ids.dtype, np.integer), f"{who}: ids {ids}"
        known = np.asarray(view.regions[action.region_id].customers.customer_ids)
        assert np.isin(ids, known).all(), f"{who}: {action.action} targets non-customers"
        assert np.isfinite(action.cost_per_customer_base)
        assert action.cost_per_customer_base >= 0, f"{who}: negative cost"
        assert 0 <= action.dropout_multiplier < np.inf, f"{who}: dropout multiplier"
        assert 0 < action.rate_multiplier < np.inf, f"{who}: rate multiplier"
        assert np.isfinite(action.utility_bonus), f"{who}: utility bonus"
        assert 0 <= action.rebate_share < 1, f"{who}: rebate share"
        assert int(action.duration_days) >= 1, f"{who}: duration"


def _assert_localization(decision: LocalizationDecision, view: MarketView, who: str) -> None:
    assert set(decision.choices) <= set(view.regions), f"{who}: choices {set(decision.choices)}"
    for rid, choice in decision.choices.items():
        assert isinstance(choice, LocalizationChoice), f"{who}: {rid} {choice!r}"
        assert set(choice.payment_methods) <= set(PAYMENT_METHODS), f"{who}: {choice}"
        assert choice.payment_methods, f"{who}: {rid} accepts no payment method"
        if choice.local_warehouse:
            assert view.regions[rid].has_local_warehouse_option, f"{who}: {rid} warehouse"


def assert_valid_decision(kind: str, decision: Any, view: MarketView, who: str) -> None:
    """The decision is of the right type, shape and range for every region of ``view``."""
    assert isinstance(decision, DECISION_TYPE[kind]), f"{who}: got {type(decision).__name__}"
    n, regions = len(view.product_ids), set(view.regions)
    if kind == "pricing":
        _assert_pricing(decision, n, regions, who)
    elif kind == "selection":
        _assert_selection(decision, n, regions, who)
    elif kind == "retention":
        _assert_retention(decision, view, who)
    else:
        _assert_localization(decision, view, who)


# --------------------------------------------------------------------------- checks
def check_declarations(cls: type[Strategy]) -> None:
    """Kind, base class, docstring and parameter declarations; defaults construct."""
    kind, name = cls.kind, cls.name
    assert issubclass(cls, BASE_BY_KIND[kind]), f"{name} must subclass {BASE_BY_KIND[kind]}"
    assert (cls.__doc__ or "").strip(), f"{kind}:{name} needs a docstring stating its rule"
    names = [p.name for p in cls.params]
    assert len(names) == len(set(names)), f"duplicate parameters in {kind}:{name}"
    for p in cls.params:
        assert isinstance(p, Param)
        assert p.validate(p.default) == p.validate(p.default)  # default is valid
        if p.type in ("float", "int"):
            assert p.low <= p.default <= p.high, f"{name}.{p.name} default out of bounds"
            assert np.isfinite([p.low, p.high]).all(), f"{name}.{p.name} needs finite bounds"
            assert p.tunable
        assert p.describe()
    cls()  # defaults construct


def check_decisions(cls: type[Strategy], views: Mapping[str, MarketView]) -> None:
    """Valid, deterministic decisions on every view, which stays untouched."""
    kind = cls.kind
    for key, view in views.items():
        who = f"{kind}:{cls.name} on {key}"
        before = snapshot(view)
        for path, arr in iter_arrays(view):
            assert not arr.flags.writeable, f"{path} of the view is writeable"
        first = cls().decide(view, np.random.default_rng(2024))
        second = cls().decide(view, np.random.default_rng(2024))
        assert_valid_decision(kind, first, view, who)
        assert comparable(first) == comparable(second), f"{who}: not deterministic"
        after = snapshot(view)
        assert after["day"] == before["day"] and after["scalars"] == before["scalars"], who
        for path, arr in before["arrays"].items():
            assert np.array_equal(arr, after["arrays"][path], equal_nan=True), f"{who}: {path}"


def check_per_region(cls: type[Strategy], views: Mapping[str, MarketView]) -> None:
    """Per-region parameters: a mapping of every region to the default decides as the scalar
    default; a value out of bounds is refused with ``params.<name>.<region>``."""
    from sim.errors import StrategyError

    for p in (p for p in cls.params if p.per_region):
        for key, view in views.items():
            who = f"{cls.kind}:{cls.name}.{p.name} on {key}"
            regions = sorted(view.regions)
            same = cls(**{p.name: dict.fromkeys(regions, p.default)})
            rng = np.random.default_rng(2024)
            first = comparable(same.decide(view, rng))
            second = comparable(cls().decide(view, np.random.default_rng(2024)))
            assert first == second, f"{who}: mapping of defaults differs from the scalar default"
        region = regions[0]
        try:
            cls(**{p.name: {region: p.high + (1 if p.type == "int" else abs(p.high) + 1.0)}})
        except StrategyError as exc:
            paths = [path for path, _ in exc.problems]
            assert f"params.{p.name}.{region}" in paths, f"{who}: got {paths}"
        else:
            raise AssertionError(f"{who}: a value above the bound was accepted")


def check_runs(cls: type[Strategy], scenario: Scenario, days: int = 60, seed: int = 5) -> None:
    """A fresh model of ``scenario`` runs ``days`` days with the strategy; KPIs are sane."""
    model = new_model(scenario, {cls.kind: cls()}, seed=seed, days=days)
    frame = model.run()
    assert model.day == days
    assert len(frame) == days * (len(model.region_ids) + 1)
    total = frame[frame.region == "ALL"]
    assert np.isfinite(total["revenue_base"]).all() and total["units"].sum() > 0
    assert (total["retention_base"] >= 0).all() and (total["localization_base"] >= 0).all()


def check_fresh_each_run(
    cls: type[Strategy], scenario: Scenario, days: int = 36, seed: int = 6
) -> None:
    """A reused instance gives the same run twice, equal to a fresh instance's run."""
    reused = cls()
    results = [
        new_model(scenario, {cls.kind: reused}, seed=seed, days=days)
        .run()["net_profit_base"]
        .to_numpy()
        for _ in range(2)
    ]
    fresh = new_model(scenario, {cls.kind: cls()}, seed=seed, days=days).run()
    who = f"{cls.kind}:{cls.name}"
    assert np.allclose(results[0], results[1]), f"{who} leaks state between runs"
    assert np.allclose(results[0], fresh["net_profit_base"]), who


def check_strategy(cls: type[Strategy], scenarios: Sequence[Scenario] | None = None) -> None:
    """Every check of the contract on ``scenarios`` (default: :func:`default_scenarios`)."""
    scenarios = list(scenarios) if scenarios is not None else default_scenarios()
    check_declarations(cls)
    views = contract_views(scenarios)
    check_decisions(cls, views)
    check_per_region(cls, views)
    for sc in scenarios:
        check_runs(cls, sc)
    check_fresh_each_run(cls, scenarios[0])


class StrategyContract:
    """A pytest base class: subclass it and set :attr:`strategy_cls` (and optionally
    :meth:`contract_scenarios`) to run the contract on a strategy."""

    strategy_cls: ClassVar[type[Strategy]]

    def contract_scenarios(self) -> list[Scenario]:
        """Scenarios the checks run on (override to use your own)."""
        return default_scenarios()

    def test_declarations(self) -> None:
        check_declarations(self.strategy_cls)

    def test_decisions(self) -> None:
        check_decisions(self.strategy_cls, contract_views(self.contract_scenarios()))

    def test_per_region(self) -> None:
        check_per_region(self.strategy_cls, contract_views(self.contract_scenarios()))

    def test_runs(self) -> None:
        for sc in self.contract_scenarios():
            check_runs(self.strategy_cls, sc)

    def test_fresh_each_run(self) -> None:
        check_fresh_each_run(self.strategy_cls, self.contract_scenarios()[0])
