"""`MarketModel`: the Mesa model of one cross-border market-entry scenario (one step = one day).

:meth:`MarketModel.step` is the day's story, one phase per line, each phase in its own module:

1. **Environment**: sales and supplier invoices due today settle, interest is charged on
   credit drawn and spending stops if cash and credit have run out (``sim.treasury``);
   retention actions ending today expire; market entrants arrive; FX rates move (log random
   walk, from day 1); running costs are booked (``sim.firm``).
2. **Strategies** (every ``decision_interval_days`` and on entry days): localization,
   selection, pricing, retention decide in that order, each from a fresh read-only view
   (``sim.observe``); their decisions are validated, applied and booked (``sim.decisions``).
3. **Competitors** reprice when due from what they observe (``sim.competitors``).
4. **Awareness**: one Bass diffusion step per entered region (``sim.consumers``).
5. **Occasions**: consumers with an occasion today choose (logit); our chosen offers are
   filled from stock, booked and turned into orders (``sim.fulfilment``).
6. **Logistics**: the day's orders are dispatched per lane; reorder points trigger
   one consolidated replenishment per warehouse; the shared SimPy clock (hours) runs to the
   end of the day; finished shipments are collected; supplier stock arrives; holding costs
   and dead-stock write-offs are booked (``sim.logistics``, ``sim.inventory``).
7. **Deliveries** due today update satisfaction and loyalty; returns and losses are refunded
   (``sim.deliveries``).
8. **KPIs** for the day are recorded: one row per region plus an ``ALL`` row; the day's cash
   costs are paid and the flows start afresh (``sim.kpis``). Flows booked before day 0 (the
   opening stock) belong to day 0.

At the horizon the model sets ``running = False`` (Mesa's convention), so
``mesa.batch_run(MarketModel, parameters={...})`` runs it to the end and returns the daily
``ALL`` KPIs (model reporters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import mesa
import numpy as np
import pandas as pd
import simpy

from sim.acquisition import Marketing, order_sources
from sim.allocator import keep_freed_memory
from sim.baskets import BUNDLE_FLAGS
from sim.calendar import HOURS_PER_DAY, MAX_HORIZON_DAYS, month_of_day
from sim.channels import consumer_region
from sim.collector import KpiCollector
from sim.competitors import CompetitorAgent
from sim.consumers import RegionalConsumers
from sim.contract import KINDS, PAYMENT_METHODS, Decider, MarketView
from sim.daily import DailyKpis
from sim.decisions import Decisions
from sim.deliveries import Deliveries
from sim.delivery_rate import DeliveryRate
from sim.errors import StrategyError, UsageError
from sim.events import apply_events
from sim.experience import DeliveryExperience
from sim.firm import FirmAgent
from sim.fit import ProductFit
from sim.fulfilment import Fulfilment
from sim.kpi_totals import KpiDetail, kpi_detail_named
from sim.kpis import KPI_COLUMNS, KPIS
from sim.lanes import LaneAgent
from sim.logistics import Logistics
from sim.mesa_compat import install as hold_agent_ids_weakly
from sim.observe import Observer
from sim.orders import ORDER_STATUSES, STATUS_RETURNED
from sim.retention_state import OfferBook
from sim.rng import RandomStreams, SeedLike
from sim.scenario import Scenario
from sim.trial_pack import TrialPacks

StrategyGiven = Decider | Callable[[], Decider]
hold_agent_ids_weakly()  # a finished model can be freed (Mesa 3.3 kept every model: mesa#3179)


class MarketModel(mesa.Model):
    """One scenario's world: consumers, competitors, lanes and our firm with its strategies.

    Args:
        scenario: a validated scenario.
        strategies: one strategy per kind (``sim.contract.KINDS``): an instance, or a
            zero-argument callable returning a fresh one (so ``mesa.batch_run`` can give each
            run its own stateful strategies); ``strategies.registry.build_strategies`` makes
            them from the scenario's choices.
        seed: an int or a ``SeedSequence`` (the run's only source of randomness); defaults
            to ``scenario.seed``.
        days: horizon override (at most the scenario's horizon is not required).
        kpi_detail: ``"daily"`` keeps the KPI table of every day; ``"totals"`` (screening runs
            that need end-of-run outcomes only) keeps the horizon totals: :meth:`kpi_frame`
            is then one row per region and ``ALL`` (``sim.kpi_totals``) and the model reporters
            stay empty.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        strategies: Mapping[str, StrategyGiven],
        seed: SeedLike | None = None,
        days: int | None = None,
        kpi_detail: KpiDetail = "daily",
    ):
        keep_freed_memory()  # large freed arrays reused, not faulted in again (sim.allocator)
        self.streams = RandomStreams(scenario.seed if seed is None else seed)
        super().__init__(rng=self.streams.get("mesa"))
        self.scenario = sc = scenario
        self.horizon_days = int(days if days is not None else scenario.horizon_days)
        if not 1 <= self.horizon_days <= MAX_HORIZON_DAYS:
            raise UsageError(
                f"`1 <= days <= {MAX_HORIZON_DAYS}` must hold, got days={self.horizon_days}"
            )
        self.day = 0
        self.env = simpy.Environment()
        self.region_ids = [r.id for r in sc.regions]
        self.categories = sc.categories
        self.entry_day = np.array(
            [sc.firm.entry_day_by_region.get(r.id, 0) for r in sc.regions], dtype=np.int64
        )
        self.fx_local_per_base = np.array([r.fx.local_per_base for r in sc.regions])
        self.fx_reference = self.fx_local_per_base.copy()
        self.rng_fx = self.streams.get("fx")
        self._spend_today = np.zeros(len(sc.regions))  # marketing per region, today

        # agents
        self.firm = FirmAgent(self, sc)
        self.consumers = [self._consumers(i) for i in range(len(sc.regions))]
        self.competitors = self._competitors()
        self.lanes: dict[str, LaneAgent] = {
            lane.id: LaneAgent(self, lane, self.env, self.streams.get("lane", k))
            for k, lane in enumerate(sc.lanes)
        }
        self.strategies = _resolve_strategies(strategies)
        self.rng_strategy = {k: self.streams.get("strategy", i) for i, k in enumerate(KINDS)}

        # the day's phases
        self.fit = ProductFit(self)  # hidden appeal, launches, listing outcomes (sim.fit)
        self.offers = OfferBook(self)  # retention offers in flight (sim.retention_state)
        self.trials = TrialPacks(self)  # first orders at the trial price (sim.trial_pack)
        self.observer = Observer(self)
        self.decisions = Decisions(self)
        self.fulfilment = Fulfilment(self)
        self.marketing = Marketing(self)  # paid channels (sim.acquisition)
        self.logistics = Logistics(self)
        self.deliveries = Deliveries(self)
        self.experience = DeliveryExperience(self)
        self.delivery_rate = DeliveryRate(self)  # delivery speed -> customers' rate
        self.kpis = DailyKpis(self, kpi_detail_named(kpi_detail))
        self.datacollector = KpiCollector(
            [k.name for k in KPIS], KPI_COLUMNS, lambda: self.kpis.total
        )

    def _consumers(self, i: int) -> RegionalConsumers:
        region = consumer_region(self.scenario.regions[i])  # marketplace traffic
        season = np.asarray(region.seasonality)[month_of_day(np.arange(self.horizon_days))]
        cumulative = np.concatenate([[0.0], np.cumsum(season)])
        return RegionalConsumers(
            self,
            region,
            i,
            self.firm.n_products,
            self.categories,
            self.horizon_days,
            cumulative,
            rng_population=self.streams.get("population", i),
            rng_occasions=self.streams.get("occasions", i),
            rng_awareness=self.streams.get("awareness", i),
            rng_choice=self.streams.get("choice", i),
            rng_acquisition=self.streams.get("acquisition", i),
        )

    def _competitors(self) -> list[CompetitorAgent]:
        cat_index = {c: i for i, c in enumerate(self.categories)}
        region_index = {r: i for i, r in enumerate(self.region_ids)}
        out, offset = [], 0
        for spec in self.scenario.competitors:
            out.append(CompetitorAgent(self, spec, region_index, cat_index, offset))
            offset += len(spec.offers)
        return out

    # ================================================================== running
    def run(self, days: int | None = None) -> pd.DataFrame:
        """Run to the horizon (or ``days`` more days) and return the tidy KPI table."""
        end = self.horizon_days if days is None else min(self.horizon_days, self.day + days)
        while self.day < end:
            self.step()
        return self.kpi_frame()

    def step(self) -> None:
        """Advance one day: the phases in order (see the module docstring)."""
        if self.day >= self.horizon_days:
            self.running = False
            return
        d = self.day
        apply_events(self, d)  # dated events (sim.events) change the world from today on
        self._environment(d)
        if self.decisions.is_decision_day(d):
            self.decisions.run()
        if d == 0:
            self.firm.buy_listed_opening_stock()  # launch.opening_stock_listed_only
        for comp in self.competitors:
            comp.reprice(d, self.observer)
        self.delivery_rate.update(d)  # the serving lane's promise sets customers' rate
        self._diffuse_awareness(d)
        self.fulfilment.run_occasions(d)
        self.experience.await_parcels()  # buyers wait for their parcel (sim.experience)
        self.logistics.dispatch(d, self.fulfilment.take_orders())
        self.logistics.reorder(d)
        self.env.run(until=HOURS_PER_DAY * (d + 1))
        self.logistics.collect_shipments(d)
        self.logistics.receive_supplier_stock(d)
        self.logistics.upkeep(d)
        self.fit.end_day(d)
        self.deliveries.process(d)
        self.marketing.rule.observe(d)  # revenue for the budget rule (sim.budget_rule)
        self.kpis.record(d)
        if self.kpis.totals is None:
            self.datacollector.collect(self)
        self.day += 1
        self.running = self.day < self.horizon_days

    def _environment(self, d: int) -> None:
        """Cash settlements and interest, retention expiry, market entrants, FX moves and the
        running costs of day ``d``."""
        self.firm.book("interest_base", None, self.firm.treasury.open_day(d))
        self.offers.expire(d)
        self.trials.follow_up(d)  # trial packs run out: the follow-up coupon (sim.trial_pack)
        for pop in self.consumers:
            pop.expire_retention(d)
            if pop.spec.entrants_yearly_share > 0:
                pop.enter(d)
        if d > 0:
            vol = np.array([r.fx.daily_volatility for r in self.scenario.regions])
            z = self.rng_fx.standard_normal(len(vol))
            self.fx_local_per_base *= np.exp(vol * z - vol**2 / 2)
        self._spend_today = self.firm.book_running_costs(d, d >= self.entry_day)
        self.marketing.book(d, d >= self.entry_day)
        self.observer.history.marketing_total += self._spend_today + self.marketing.spend_today

    def _diffuse_awareness(self, d: int) -> None:
        """One Bass diffusion step per entered region, driven by today's marketing."""
        for r, pop in enumerate(self.consumers):
            if d >= self.entry_day[r]:
                pop.diffuse_awareness(self._spend_today[r], self.marketing.hazards(r))

    # ================================================================== results
    def build_view(self) -> MarketView:
        """The read-only market view our strategies decide from (observable data only)."""
        return self.observer.market_view()

    def kpi_frame(self) -> pd.DataFrame:
        """The tidy KPI table: one row per day and region (plus ``ALL``), one column per KPI;
        with ``kpi_detail="totals"``, one row per region and ``ALL`` holding the horizon totals
        (dated the horizon day; ``experiments.stats.totals`` of either table is the same)."""
        if self.kpis.totals is not None:
            return pd.DataFrame(self.kpis.totals.rows(), columns=KPI_COLUMNS)
        df = self.datacollector.get_table_dataframe("kpis")
        return df[KPI_COLUMNS].reset_index(drop=True)

    def order_status_counts(self) -> dict[str, int]:
        """Orders by status: in transit, delivered, lost, returned."""
        return self.firm.orders.status_counts()

    def transactions(self) -> pd.DataFrame:
        """Our simulated transaction log (one row per order).

        Beside the purchase (customer, region, day, product, quantity, amount paid incl. VAT
        and duty) each order carries its payment method, its final status (in_transit,
        delivered, lost, returned, refused) and, once it arrived, its delivery time in whole
        days and its days beyond the promise (``late_days``, 0 when on time), whether the
        buyer returned it, and its customer's acquisition source (``paid:<channel>``,
        ``word_of_mouth``, ``organic``, ``initial``), so analytics can be tested on it.
        """
        book = self.firm.orders
        region = book.column("region").astype(np.int64)
        status = book.column("status").astype(np.int64)
        delivered_day = book.column("delivered_day").astype(float)
        day = book.column("day").astype(np.int64)
        arrived = delivered_day >= 0
        return pd.DataFrame(
            {
                "customer_id": [
                    f"{self.region_ids[r]}-{c}"
                    for r, c in zip(region, book.column("consumer"), strict=True)
                ],
                "region": np.array(self.region_ids, dtype=object)[region],
                "day": day,
                "product": np.array([p.id for p in self.scenario.products], dtype=object)[
                    book.column("product").astype(np.int64)
                ],
                "quantity": book.column("units").astype(np.int64),
                "amount_base": book.column("paid_base").astype(float),
                "payment_method": np.array(PAYMENT_METHODS, dtype=object)[
                    book.column("method").astype(np.int64)
                ],
                "status": np.array(ORDER_STATUSES, dtype=object)[status],
                "returned_units": book.column("returned_units").astype(np.int64),
                "bundle": np.array(BUNDLE_FLAGS, dtype=object)[book.column("bundle")],
                "delivery_days": np.where(arrived, delivered_day - day, np.nan),
                "late_days": np.where(arrived, np.round(book.column("late_days"), 2), np.nan),
                "returned": status == STATUS_RETURNED,
                "acquisition_source": order_sources(self, region, book.column("consumer")),
            }
        )


def _resolve_strategies(given: Mapping[str, StrategyGiven]) -> dict[str, Decider]:
    """One strategy per kind: instances as given, zero-argument callables called once."""
    missing = [kind for kind in KINDS if kind not in given]
    unknown = sorted(set(given) - set(KINDS))
    if missing or unknown:
        raise StrategyError(
            f"strategies must name each kind {list(KINDS)} once; missing {missing}, "
            f"unknown {unknown}"
        )
    out: dict[str, Decider] = {}
    for kind in KINDS:
        strat = given[kind]
        if not hasattr(strat, "decide"):
            strat = strat()  # a factory: fresh (possibly stateful) strategies per model
        if strat.kind != kind:
            raise StrategyError(f"strategy for {kind!r} is a {strat.kind!r} strategy")
        out[kind] = strat
    return out
