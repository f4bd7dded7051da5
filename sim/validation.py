"""Scenario parsing: schema errors with field paths, cross-field checks and a memory estimate."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from sim.calendar import DAYS_PER_YEAR, MAX_HORIZON_DAYS
from sim.contract import StrategyContext
from sim.errors import Problem, ScenarioError
from sim.events import EVENT_KINDS, event_problems
from sim.scenario import Scenario, local_lane, outbound_lane

#: Bytes held per consumer by the vectorized population (see ``sim.consumers``), with headroom
#: for the per-day temporaries. Used to refuse absurd populations before allocating anything.
BYTES_PER_CONSUMER = 96
MAX_POPULATION_PER_REGION = 200_000_000
#: checks the strategy choices of a valid scenario (handed in by ``experiments``, which knows
#: the strategy registry): ``(scenario, source) -> problems``
StrategyChecker = Callable[[Scenario, str], list[Problem]]


def shorten(text: str, limit: int = 80) -> str:
    """``text`` with control characters escaped, cut to about ``limit`` characters.

    Messages quote what the user wrote; a huge value or a terminal escape sequence must not
    be echoed back as it is.
    """
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[: limit + 1])
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def format_path(loc: Iterable[int | str]) -> str:
    """Turn a pydantic location tuple into ``regions[2].fx.daily_volatility``."""
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif part in ("exponential", "lognormal", "deterministic", *EVENT_KINDS):
            continue  # discriminated-union tag, not a field the user wrote
        else:
            name = shorten(str(part), 40)
            out += f".{name}" if out else name
    return out


def memory_limit_bytes() -> int:
    """Half the physical memory of this machine: the most a run may plan to hold."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def estimate_memory_bytes(data: Mapping[str, Any]) -> int:
    """Estimate the memory a run needs from raw (unvalidated) scenario data."""
    total = 0
    horizon = data.get("horizon_days") if isinstance(data, Mapping) else None
    years = (
        horizon / DAYS_PER_YEAR
        if isinstance(horizon, int) and 0 < horizon <= MAX_HORIZON_DAYS
        else MAX_HORIZON_DAYS / DAYS_PER_YEAR
    )
    regions = data.get("regions") if isinstance(data, Mapping) else None
    for region in regions if isinstance(regions, list) else []:
        if not isinstance(region, Mapping):
            continue
        pop, growth = region.get("population"), region.get("entrants_yearly_share", 0.0)
        if not isinstance(growth, int | float) or not 0 <= growth <= 5:
            growth = 0.0
        if isinstance(pop, int | float) and math.isfinite(pop) and pop > 0:
            total += int(pop * (1 + growth * years)) * BYTES_PER_CONSUMER
    return total


def parse_scenario(
    data: Any,
    source: str = "<scenario>",
    *,
    memory_limit: int | None = None,
    check_strategies: StrategyChecker | None = None,
) -> Scenario:
    """Validate parsed YAML data into a :class:`Scenario`.

    Problems are reported all at once: first every schema problem; when the schema holds,
    every cross-reference problem and, when ``check_strategies`` is given (e.g.
    ``strategies.registry.scenario_strategy_problems``), every strategy-choice problem. Sizes
    that cannot fit in memory are refused from the raw numbers, before anything is allocated.

    Raises:
        ScenarioError: listing each problem with ``source``, field path and expectation.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [Problem(source, "", f"expected a mapping at the top level, got {type(data).__name__}")]
        )
    problems: list[Problem] = []
    limit = memory_limit_bytes() if memory_limit is None else memory_limit
    need = estimate_memory_bytes(data)
    if need > limit:
        problems.append(
            Problem(
                source,
                "regions[*].population",
                f"the populations need about {need / 2**30:.1f} GiB "
                f"({BYTES_PER_CONSUMER} bytes per consumer), more than the "
                f"{limit / 2**30:.1f} GiB allowed on this machine",
            )
        )
    regions = data.get("regions")
    for i, region in enumerate(regions if isinstance(regions, list) else []):
        pop = region.get("population") if isinstance(region, Mapping) else None
        if isinstance(pop, int) and pop > MAX_POPULATION_PER_REGION:
            problems.append(
                Problem(
                    source,
                    f"regions[{i}].population",
                    f"at most {MAX_POPULATION_PER_REGION:,} consumers per region, got {pop:,}",
                )
            )
    if problems:
        raise ScenarioError(problems)
    try:
        scenario = Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(validation_problems(source, exc)) from None
    problems = check_references(scenario, source)
    if check_strategies is not None:
        problems.extend(check_strategies(scenario, source))
    if problems:
        raise ScenarioError(problems)
    return scenario


def validation_problems(source: str, exc: ValidationError, prefix: str = "") -> list[Problem]:
    """Every pydantic error of ``exc`` as a :class:`Problem` with its field path."""
    out = []
    for e in exc.errors():
        sub = format_path(_split_field(e)[0])
        path = f"{prefix}.{sub}" if prefix and sub else prefix or sub
        out.append(Problem(source, path, _message(e)))
    return out


def _split_field(error: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
    """Location and message; an object-level check names its field as ``@field: message``."""
    loc = tuple(error["loc"])
    msg = str(error["msg"])
    if error.get("type") == "value_error":
        msg = msg.removeprefix("Value error, ")
        if msg.startswith("@") and ": " in msg:
            field, msg = msg[1:].split(": ", 1)
            loc = (*loc, *field.split("."))
    return loc, msg


def _message(error: Mapping[str, Any]) -> str:
    msg = _split_field(error)[1]
    if error.get("type") == "value_error" and isinstance(error.get("input"), Mapping | list):
        return msg  # the whole object would only repeat the file
    if error.get("type") == "extra_forbidden":
        return "unknown field (not part of the scenario format)"
    if error.get("type") == "missing":
        return "required field is missing"
    if "input" in error and error.get("type") not in ("missing",):
        return f"{shorten(msg, 200)}; got {shorten(repr(error['input']), 60)}"
    return msg


def strategy_context(scenario: Scenario) -> StrategyContext:
    """The scenario facts strategies check their parameters against."""
    ids = tuple(r.id for r in scenario.regions)
    local = frozenset(rid for rid in ids if local_lane(scenario, rid) is not None)
    return StrategyContext(region_ids=ids, local_warehouse_regions=local)


def check_references(scenario: Scenario, source: str) -> list[Problem]:
    """Cross-field checks: ids unique and every reference pointing at something that exists."""
    return _References(scenario, source).check()


class _References:
    """The cross-field checks of one scenario, section by section (problems in file order)."""

    def __init__(self, scenario: Scenario, source: str):
        self.sc = scenario
        self.source = source
        self.problems: list[Problem] = []
        self.region_ids = [r.id for r in scenario.regions]
        self.product_ids = [p.id for p in scenario.products]
        self.warehouse_ids = [w.id for w in scenario.firm.warehouses]
        self.lane_ids = [lane.id for lane in scenario.lanes]
        self.categories = scenario.categories

    def check(self) -> list[Problem]:
        self._unique_ids()
        self._regions_and_competitors()
        self._fit_regions()
        self._warehouses()
        self._lanes()
        self._firm()
        self.problems += event_problems(self.sc, self.source)
        if not self.problems:
            self._outbound_lanes()
        return self.problems

    def bad(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.source, path, message))

    def _dupes(self, items: list[str], path: str, what: str) -> None:
        seen: set[str] = set()
        for i, v in enumerate(items):
            if v in seen:
                self.bad(f"{path}[{i}].id", f"duplicate {what} id {v!r}")
            seen.add(v)

    def _unique_ids(self) -> None:
        self._dupes(self.region_ids, "regions", "region")
        self._dupes(self.product_ids, "products", "product")
        self._dupes([c.id for c in self.sc.competitors], "competitors", "competitor")
        self._dupes(self.lane_ids, "lanes", "lane")
        self._dupes(self.warehouse_ids, "firm.warehouses", "warehouse")

    def _regions_and_competitors(self) -> None:
        region_ids, categories, bad = self.region_ids, self.categories, self.bad
        for i, region in enumerate(self.sc.regions):
            for cat in region.category_shares or {}:
                if cat not in categories:
                    bad(
                        f"regions[{i}].category_shares.{cat}",
                        f"unknown category; known: {categories}",
                    )
        for ci, comp in enumerate(self.sc.competitors):
            for oi, offer in enumerate(comp.offers):
                path = f"competitors[{ci}].offers[{oi}]"
                if offer.region not in region_ids:
                    bad(f"{path}.region", f"unknown region {offer.region!r}; known: {region_ids}")
                if offer.category not in categories:
                    bad(
                        f"{path}.category",
                        f"unknown category {offer.category!r}; known: {categories}",
                    )
                if comp.behaviour.kind == "best_response" and offer.cost_local <= 0:
                    bad(f"{path}.cost_local", "best_response pricing needs a positive cost_local")

    def _fit_regions(self) -> None:
        for i, product in enumerate(self.sc.products):
            for region_id in product.fit.region_mean:
                if region_id not in self.region_ids:
                    self.bad(
                        f"products[{i}].fit.region_mean.{region_id}",
                        f"unknown region; known: {self.region_ids}",
                    )

    def _warehouses(self) -> None:
        sc, region_ids, warehouse_ids, bad = self.sc, self.region_ids, self.warehouse_ids, self.bad
        home = [w.id for w in sc.firm.warehouses if w.region is None]
        if not home:
            bad("firm.warehouses", "at least one home warehouse (no `region`) is required")
        for wi, wh in enumerate(sc.firm.warehouses):
            for product_id in wh.initial_units_by_product:
                if product_id not in self.product_ids:
                    bad(
                        f"firm.warehouses[{wi}].initial_units_by_product.{product_id}",
                        f"unknown product; known: {self.product_ids}",
                    )
            if wh.region is not None and wh.region not in region_ids:
                bad(
                    f"firm.warehouses[{wi}].region",
                    f"unknown region {wh.region!r}; known: {region_ids}",
                )
            if wh.replenish_from == "supplier":
                continue
            if wh.replenish_from not in warehouse_ids or wh.replenish_from == wh.id:
                bad(
                    f"firm.warehouses[{wi}].replenish_from",
                    f"expected 'supplier' or another warehouse id {warehouse_ids}, "
                    f"got {wh.replenish_from!r}",
                )
            elif not any(
                lane.origin == wh.replenish_from
                and lane.destination == wh.region
                and lane.carries == "stock"
                for lane in sc.lanes
            ):
                bad(
                    f"firm.warehouses[{wi}].replenish_from",
                    f"no lane carrying stock from {wh.replenish_from!r} to region {wh.region!r}",
                )

    def _lanes(self) -> None:
        region_ids, warehouse_ids, bad = self.region_ids, self.warehouse_ids, self.bad
        for li, lane in enumerate(self.sc.lanes):
            if lane.origin not in warehouse_ids:
                bad(
                    f"lanes[{li}].origin",
                    f"unknown warehouse {lane.origin!r}; known: {warehouse_ids}",
                )
            if lane.destination not in region_ids:
                bad(
                    f"lanes[{li}].destination",
                    f"unknown region {lane.destination!r}; known: {region_ids}",
                )
            for di, d in enumerate(lane.disruptions):
                if d.start_day >= self.sc.horizon_days:
                    bad(f"lanes[{li}].disruptions[{di}].start_day", "starts after the horizon")

    def _firm(self) -> None:
        firm, region_ids, bad = self.sc.firm, self.region_ids, self.bad
        for ri, rule in enumerate(firm.inventory_policy):
            if rule.warehouse not in self.warehouse_ids:
                bad(
                    f"firm.inventory_policy[{ri}].warehouse",
                    f"unknown warehouse {rule.warehouse!r}; known: {self.warehouse_ids}",
                )
            if rule.product is not None and rule.product not in self.product_ids:
                bad(f"firm.inventory_policy[{ri}].product", f"unknown product {rule.product!r}")
        for region_id, budget in firm.marketing_budget_monthly_base.items():
            path = f"firm.marketing_budget_monthly_base.{region_id}"
            if region_id not in region_ids:
                bad(path, f"unknown region; known: {region_ids}")
            if isinstance(budget, list) and len(budget) != 12:
                bad(path, f"expected one number or 12 monthly numbers, got {len(budget)}")
        for region_id in firm.entry_day_by_region:
            if region_id not in region_ids:
                bad(f"firm.entry_day_by_region.{region_id}", f"unknown region; known: {region_ids}")
        self._fulfilment()
        if firm.trial_pack is not None:
            for i, region_id in enumerate(firm.trial_pack.regions):
                if region_id not in region_ids:
                    bad(f"firm.trial_pack.regions[{i}]", f"unknown region; known: {region_ids}")
        for method in firm.supported_payment_methods:
            if method not in firm.payment_fee_rate:
                bad("firm.supported_payment_methods", f"no payment_fee_rate for {method!r}")

    def _fulfilment(self) -> None:
        lanes_by_id = {lane.id: lane for lane in self.sc.lanes}
        for region_id, lane_id in self.sc.firm.fulfilment.items():
            path = f"firm.fulfilment.{region_id}"
            if region_id not in self.region_ids:
                self.bad(path, f"unknown region; known: {self.region_ids}")
            elif lane_id not in lanes_by_id:
                self.bad(path, f"unknown lane {lane_id!r}; known: {self.lane_ids}")
            elif (
                lanes_by_id[lane_id].destination != region_id
                or lanes_by_id[lane_id].carries != "orders"
            ):
                self.bad(path, f"lane {lane_id!r} does not carry orders to region {region_id!r}")

    def _outbound_lanes(self) -> None:
        for ri, region in enumerate(self.sc.regions):
            if outbound_lane(self.sc, region.id) is None:
                self.bad(
                    f"regions[{ri}]",
                    f"no lane carries orders from a home warehouse to {region.id!r} "
                    f"(add one, or name it in firm.fulfilment.{region.id})",
                )
