"""`MarketModel`: the Mesa model of one cross-border market-entry scenario (one step = one day).

Order of phases within day ``d`` (all regions in scenario order, agents in creation order):

1. **Environment**: retention actions ending today expire; FX rates move (log random walk,
   from day 1); running costs are booked (marketing, fixed, compliance, localization,
   warehouses; monthly amounts prorated per day).
2. **Strategies** (when ``d % decision_interval_days == 0``): localization, selection,
   pricing, retention decide in that order, each from a fresh read-only view; the model
   validates, applies and books their costs.
3. **Competitors** reprice when due (``d > 0`` and ``d % reprice_every_days == 0``).
4. **Awareness**: one Bass diffusion step per region.
5. **Occasions**: consumers with an occasion today choose (logit); our chosen offers are
   filled from the serving warehouse's stock (stockouts lose the sale), booked and turned
   into orders; dropout follows each occasion; next occasions are drawn.
6. **Logistics**: the day's orders are consolidated per lane and dispatched; reorder points
   are checked and replenishments ordered; the shared SimPy clock (hours) runs to the end of
   the day; finished shipments are filed by delivery day; supplier stock arrives.
7. **Deliveries** due today update satisfaction and loyalty; returns and losses are refunded.
8. **KPIs** for the day are recorded (one row per region plus an ``ALL`` row).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import mesa
import numpy as np
import pandas as pd
import simpy

from sim import keyed
from sim.calendar import DAYS_PER_MONTH, HOURS_PER_DAY, MAX_HORIZON_DAYS, month_of_day
from sim.competitors import CompetitorAgent, logit_best_response_price
from sim.consumers import CategoryOffers, OccasionResult, RegionalConsumers
from sim.contract import (
    KINDS,
    PAYMENT_METHODS,
    CustomerView,
    Decider,
    LocalizationChoice,
    LocalizationDecision,
    MarketView,
    PricingDecision,
    RegionView,
    RetentionDecision,
    SelectionDecision,
    frozen_array,
)
from sim.errors import StrategyError, UsageError
from sim.firm import FirmAgent, Transfer
from sim.kpis import ALL_REGIONS, COST_KPIS, FLOW_KPIS, KPIS, RATIO_KPIS, ratio
from sim.lanes import LaneAgent
from sim.orders import STATUS_DELIVERED, STATUS_LOST, STATUS_RETURNED
from sim.rng import RandomStreams, SeedLike
from sim.scenario import Scenario

KPI_COLUMNS = ["day", "region", *[k.name for k in KPIS]]


def _segment_utility(seg, quality, eco, price_ref, delivery_days) -> np.ndarray:
    """Mean non-random utility of offers for a segment's average consumer."""
    return (
        seg.quality_weight * quality
        + seg.eco_weight * eco
        - seg.price_sensitivity.mean * price_ref
        - seg.delivery_weight_per_day * delivery_days
    )


def _resolve_strategies(
    given: Mapping[str, Decider | Callable[[], Decider]],
) -> dict[str, Decider]:
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
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        strategies: Mapping[str, Decider | Callable[[], Decider]],
        seed: SeedLike | None = None,
        days: int | None = None,
    ):
        self.streams = RandomStreams(scenario.seed if seed is None else seed)
        super().__init__(rng=self.streams.get("mesa"))
        self.scenario = scenario
        self.horizon_days = int(days if days is not None else scenario.horizon_days)
        if not 1 <= self.horizon_days <= MAX_HORIZON_DAYS:
            raise UsageError(
                f"`1 <= days <= {MAX_HORIZON_DAYS}` must hold, got days={self.horizon_days}"
            )
        self.day = 0
        self.env = simpy.Environment()
        sc = scenario
        self.region_ids = [r.id for r in sc.regions]
        self.categories = sc.categories
        cat_index = {c: i for i, c in enumerate(self.categories)}
        region_index = {r: i for i, r in enumerate(self.region_ids)}

        self.firm = FirmAgent(self, sc)
        days_arr = np.arange(self.horizon_days)
        self.consumers: list[RegionalConsumers] = []
        for i, region in enumerate(sc.regions):
            season = np.asarray(region.seasonality)[month_of_day(days_arr)]
            cumulative = np.concatenate([[0.0], np.cumsum(season)])
            self.consumers.append(
                RegionalConsumers(
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
                )
            )
        self.competitors = [
            CompetitorAgent(self, c, region_index, cat_index) for c in sc.competitors
        ]
        self.lanes: dict[str, LaneAgent] = {
            lane.id: LaneAgent(self, lane, self.env, self.streams.get("lane", k))
            for k, lane in enumerate(sc.lanes)
        }
        self.entry_day = np.array(
            [sc.firm.entry_day_by_region.get(r.id, 0) for r in sc.regions], dtype=np.int64
        )
        self.fx_local_per_base = np.array([r.fx.local_per_base for r in sc.regions])
        self.fx_reference = self.fx_local_per_base.copy()
        self.rng_fx = self.streams.get("fx")
        self._return_probability = self._return_table()
        # returns are keyed by (consumer, order number): the same order of the same consumer
        # is returned or kept in every strategy variant (see sim.keyed)
        self._returns_key = np.uint64(
            self.streams.get("returns").integers(0, 2**63, dtype=np.int64)
        )

        self.strategies = _resolve_strategies(strategies)
        self.rng_strategy = {k: self.streams.get("strategy", i) for i, k in enumerate(KINDS)}

        nr, npd = len(sc.regions), self.firm.n_products
        w = sc.settings.recent_window_days
        self.recent_window_days = w
        self._units_ring = np.zeros((nr, w, npd), dtype=np.int64)
        self._views_ring = np.zeros((nr, w, npd), dtype=np.int64)
        self._revenue_ring = np.zeros((nr, w, npd))
        self._price_ring = np.zeros((nr, w, npd))
        self._delivery_ring = np.zeros((nr, w, 3))  # deliveries, days total, on time
        self._deliveries: dict[int, list[tuple[np.ndarray, ...]]] = {}
        self._today_orders: dict[str, list[np.ndarray]] = {}
        self._placed = np.zeros(nr, dtype=np.int64)
        self._completed = np.zeros(nr, dtype=np.int64)
        self._occasion: list[OccasionResult] = []
        self._today_units = np.zeros((nr, npd), dtype=np.int64)
        self._today_revenue = np.zeros((nr, npd))
        self._marketing_total = np.zeros(nr)
        self._customer_views: dict[tuple[int, int], CustomerView] = {}

        self.datacollector = mesa.DataCollector(tables={"kpis": KPI_COLUMNS})

    def _return_table(self) -> np.ndarray:
        """Return probability per region and product (product rate x region tag multipliers)."""
        base = np.array([p.return_probability for p in self.scenario.products])
        table = np.tile(base, (len(self.scenario.regions), 1))
        for r, region in enumerate(self.scenario.regions):
            for tag, mult in region.return_multiplier_by_tag.items():
                has = np.array([tag in tags for tags in self.firm.product_tags], dtype=bool)
                table[r, has] *= mult
        return np.minimum(table, 1.0)

    # ================================================================== running
    def run(self, days: int | None = None) -> pd.DataFrame:
        """Run to the horizon (or ``days`` more days) and return the tidy KPI table."""
        end = self.horizon_days if days is None else min(self.horizon_days, self.day + days)
        while self.day < end:
            self.step()
        return self.kpi_frame()

    def step(self) -> None:
        """Advance one day (see the module docstring for the order of phases)."""
        if self.day >= self.horizon_days:
            raise RuntimeError(f"the horizon of {self.horizon_days} days is reached")
        d = self.day
        firm = self.firm
        firm.reset_day()
        self._today_units[:] = 0
        self._today_revenue[:] = 0.0
        for pop in self.consumers:
            pop.expire_retention(d)
            if pop.spec.entrants_yearly_share > 0:
                pop.enter(d)
        if d > 0:
            vol = np.array([r.fx.daily_volatility for r in self.scenario.regions])
            z = self.rng_fx.standard_normal(len(vol))
            self.fx_local_per_base *= np.exp(vol * z - vol**2 / 2)
        spend = self._book_running_costs(d)
        if d % self.scenario.strategies.decision_interval_days == 0 or (self.entry_day == d).any():
            self._run_strategies(d)
        for comp in self.competitors:
            comp.reprice(d, self._our_min_price, self._best_response)
        for r, pop in enumerate(self.consumers):
            if d >= self.entry_day[r]:
                pop.diffuse_awareness(spend[r])
        self._occasion = []
        for r, pop in enumerate(self.consumers):
            offers = self._offers(r)
            fulfil = self._fulfiller(r, d)
            self._occasion.append(pop.run_occasions(d, offers, firm.payment_supported(r), fulfil))
        self._dispatch(d)
        self._reorder(d)
        self.env.run(until=HOURS_PER_DAY * (d + 1))
        self._collect_shipments(d)
        for transfer in firm.supplier_arrivals.pop(d, []):
            firm.on_hand[transfer.warehouse, transfer.product] += transfer.units
            firm.on_order[transfer.warehouse, transfer.product] -= transfer.units
        self._process_deliveries(d)
        self._record(d)
        self.day += 1

    # ================================================================== costs
    def _book_running_costs(self, d: int) -> np.ndarray:
        firm, sc = self.firm, self.scenario
        month = int(month_of_day(d))
        entered = d >= self.entry_day
        spend = np.where(entered, firm.marketing_monthly_base[:, month] / DAYS_PER_MONTH, 0.0)
        self._marketing_total += spend
        lc = sc.firm.localization_costs
        for r, region in enumerate(sc.regions):
            if not entered[r]:
                continue
            firm.book("marketing_base", r, spend[r])
            firm.book(
                "fixed_base", r, region.regulation.compliance_cost_monthly_base / DAYS_PER_MONTH
            )
            loc = firm.localization[r]
            monthly = 0.0
            if loc.human_translation:
                monthly += lc.human_translation_monthly_base
            if loc.local_service:
                monthly += lc.local_service_monthly_base
            monthly += lc.payment_method_monthly_base * len(
                loc.payment_methods - firm.default_methods
            )
            if loc.local_warehouse and firm.local[r] is not None:
                wh = firm.warehouses[firm.warehouse_index[firm.local[r].origin]]
                monthly += wh.monthly_fixed_cost_base
            firm.book("localization_base", r, monthly / DAYS_PER_MONTH)
        home_fixed = sum(w.monthly_fixed_cost_base for w in sc.firm.warehouses if w.region is None)
        firm.book(
            "fixed_base", None, (sc.firm.fixed_costs_monthly_base + home_fixed) / DAYS_PER_MONTH
        )
        return spend

    # ================================================================== strategies
    def build_view(self) -> MarketView:
        """The read-only market view our strategies decide from (observable data only)."""
        d, firm, sc = self.day, self.firm, self.scenario
        regions: dict[str, RegionView] = {}
        w = self.recent_window_days
        order = [(d - 1 - k) % w for k in range(w)]  # newest first
        for r, region in enumerate(sc.regions):
            comp_ids, comp_cats, comp_prices, comp_changes = [], [], [], []
            for comp in self.competitors:
                mask = comp.region == r
                comp_ids += [comp.spec.id] * int(mask.sum())
                comp_cats += [self.categories[c] for c in comp.category[mask]]
                comp_prices.append(comp.price_local[mask])
                comp_changes.append(comp.last_change_local[mask])
            wh = firm.serving_warehouse(r)
            deliv = self._delivery_ring[r].sum(axis=0)
            regions[region.id] = RegionView(
                region_id=region.id,
                language=region.language,
                taboo_tags=frozenset(region.taboo_tags),
                fx_local_per_base=float(self.fx_local_per_base[r]),
                fx_reference_local_per_base=float(self.fx_reference[r]),
                vat_rate=region.tax.vat_rate,
                duty_rate=region.tax.duty_rate,
                de_minimis_local=region.tax.de_minimis_local,
                has_local_warehouse_option=firm.local[r] is not None,
                listed=frozen_array(firm.listed[r]),
                listed_since_day=frozen_array(firm.listed_since[r]),
                price_local=frozen_array(firm.price_local[r]),
                landed_cost_base=frozen_array(firm.landed_cost_base(r)),
                inventory_units=frozen_array(firm.on_hand[wh]),
                units_sold_recent=frozen_array(self._units_ring[r].sum(axis=0)),
                views_recent=frozen_array(self._views_ring[r].sum(axis=0)),
                revenue_recent_base=frozen_array(self._revenue_ring[r].sum(axis=0)),
                competitor_ids=tuple(comp_ids),
                competitor_categories=tuple(comp_cats),
                competitor_price_local=frozen_array(np.concatenate(comp_prices or [[]])),
                competitor_price_change_recent=frozen_array(np.concatenate(comp_changes or [[]])),
                customers=self._customer_view(r),
                marketing_spent_base=float(self._marketing_total[r]),
                localization=firm.localization[r],
                mean_delivery_days_recent=ratio(deliv[1], deliv[0]),
                on_time_rate_recent=ratio(deliv[2], deliv[0]),
                price_history_local=frozen_array(self._price_ring[r][order]),
                units_history=frozen_array(self._units_ring[r][order]),
                views_history=frozen_array(self._views_ring[r][order]),
            )
        return MarketView(
            day=d,
            horizon_days=self.horizon_days,
            decision_interval_days=sc.strategies.decision_interval_days,
            recent_window_days=w,
            currency=sc.currency,
            product_ids=tuple(p.id for p in sc.products),
            product_categories=tuple(p.category for p in sc.products),
            product_tags=tuple(firm.product_tags),
            unit_cost_base=frozen_array(firm.unit_cost_base),
            quality=frozen_array(firm.quality),
            eco_score=frozen_array(firm.eco_score),
            regions=regions,
        )

    def _customer_view(self, r: int) -> CustomerView:
        """RFM arrays of our customers in region ``r`` (cached for the day: a strategy phase
        does not change them)."""
        key = (self.day, r)
        cached = self._customer_views.get(key)
        if cached is not None:
            return cached
        d, pop = self.day, self.consumers[r]
        ids = pop.customer_ids()
        view = CustomerView(
            customer_ids=frozen_array(ids),
            recency_days=frozen_array(d - pop.last_day[ids].astype(np.int64)),
            frequency=frozen_array(pop.frequency[ids]),
            monetary_base=frozen_array(pop.monetary_base[ids]),
            satisfaction=frozen_array(pop.satisfaction[ids]),
            tenure_days=frozen_array(d - pop.first_day[ids].astype(np.int64)),
        )
        self._customer_views = {k: v for k, v in self._customer_views.items() if k[0] == d}
        self._customer_views[key] = view
        return view

    def _run_strategies(self, d: int) -> None:
        s = self.strategies
        loc = s["localization"].decide(self.build_view(), self.rng_strategy["localization"])
        self.apply_localization(loc)
        sel = s["selection"].decide(self.build_view(), self.rng_strategy["selection"])
        self.apply_selection(sel)
        price = s["pricing"].decide(self.build_view(), self.rng_strategy["pricing"])
        self.apply_pricing(price)
        ret = s["retention"].decide(self.build_view(), self.rng_strategy["retention"])
        self.apply_retention(ret)
        self._customer_views = {}  # release the RFM copies until the next decision day

    def _region(self, region_id: str, who: str) -> int:
        if region_id not in self.region_ids:
            raise StrategyError(f"{who}: unknown region {region_id!r}; known: {self.region_ids}")
        return self.region_ids.index(region_id)

    def _per_product(self, values: object, who: str, region_id: str, dtype: type) -> np.ndarray:
        arr = np.asarray(values, dtype=dtype)
        if arr.shape != (self.firm.n_products,):
            raise StrategyError(
                f"{who}: expected {self.firm.n_products} values for region {region_id!r}, "
                f"got shape {arr.shape}"
            )
        return arr

    def apply_localization(self, decision: LocalizationDecision) -> None:
        """Validate and apply localization choices; book one-off setup costs."""
        who = f"localization strategy {self.strategies['localization'].name!r}"
        firm, lc = self.firm, self.scenario.firm.localization_costs
        for region_id, choice in decision.choices.items():
            r = self._region(region_id, who)
            if not isinstance(choice, LocalizationChoice):
                raise StrategyError(f"{who}: expected a LocalizationChoice for {region_id!r}")
            unknown = set(choice.payment_methods) - set(PAYMENT_METHODS)
            if unknown:
                raise StrategyError(f"{who}: unknown payment methods {sorted(unknown)}")
            no_fee = set(choice.payment_methods) - set(self.scenario.firm.payment_fee_rate)
            if no_fee:
                raise StrategyError(
                    f"{who}: payment methods {sorted(no_fee)} have no fee rate in "
                    "firm.payment_fee_rate"
                )
            if choice.local_warehouse and firm.local[r] is None:
                raise StrategyError(f"{who}: region {region_id!r} has no local warehouse lane")
            if self.day < self.entry_day[r]:
                continue
            old = firm.localization[r]
            setup = 0.0
            if choice.human_translation and not old.human_translation:
                setup += lc.human_translation_setup_base
            if choice.local_service and not old.local_service:
                setup += lc.local_service_setup_base
            if choice.local_warehouse and not old.local_warehouse:
                setup += lc.local_warehouse_setup_base
            setup += lc.payment_method_setup_base * len(
                set(choice.payment_methods) - set(old.payment_methods) - firm.default_methods
            )
            firm.book("localization_base", r, setup)
            firm.localization[r] = LocalizationChoice(
                human_translation=choice.human_translation,
                payment_methods=frozenset(choice.payment_methods),
                local_warehouse=choice.local_warehouse,
                local_service=choice.local_service,
            )

    def apply_selection(self, decision: SelectionDecision) -> None:
        """Validate and apply listings."""
        who = f"selection strategy {self.strategies['selection'].name!r}"
        firm = self.firm
        for region_id, listed in decision.listed.items():
            r = self._region(region_id, who)
            mask = self._per_product(listed, who, region_id, bool)
            if self.day < self.entry_day[r]:
                mask = np.zeros_like(mask)
            newly = mask & ~firm.listed[r]
            firm.listed_since[r, newly] = self.day
            firm.listed_since[r, ~mask] = -1
            firm.listed[r] = mask

    def apply_pricing(self, decision: PricingDecision) -> None:
        """Validate and apply prices (local currency, before duty and VAT)."""
        who = f"pricing strategy {self.strategies['pricing'].name!r}"
        for region_id, prices in decision.prices_local.items():
            r = self._region(region_id, who)
            arr = self._per_product(prices, who, region_id, float)
            if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
                raise StrategyError(f"{who}: prices for {region_id!r} must be finite and > 0")
            self.firm.price_local[r] = arr

    def apply_retention(self, decision: RetentionDecision) -> None:
        """Validate and start retention actions; book their cost."""
        who = f"retention strategy {self.strategies['retention'].name!r}"
        for action in decision.actions:
            r = self._region(action.region_id, who)
            pop = self.consumers[r]
            ids = np.asarray(action.customer_ids, dtype=np.int64)
            if len(ids) and (ids.min() < 0 or ids.max() >= pop.n or not pop.customer[ids].all()):
                raise StrategyError(f"{who}: action {action.action!r} targets non-customers")
            if action.cost_per_customer_base < 0 or action.duration_days < 1:
                raise StrategyError(f"{who}: action {action.action!r} needs cost >= 0, days >= 1")
            if not (action.dropout_multiplier >= 0 and action.rate_multiplier > 0):
                raise StrategyError(f"{who}: action {action.action!r} has invalid multipliers")
            if not len(ids):
                continue
            pop.apply_retention(
                self.day,
                ids,
                action.dropout_multiplier,
                action.rate_multiplier,
                action.utility_bonus,
                action.rebate_share,
                action.duration_days,
            )
            self.firm.book("retention_base", r, action.cost_per_customer_base * len(ids))

    # ================================================================== competitors
    def _our_offer_mask(self, r: int) -> np.ndarray:
        taboo = set(self.scenario.regions[r].taboo_tags)
        ok = np.array([not (tags & taboo) for tags in self.firm.product_tags], dtype=bool)
        return self.firm.listed[r] & ok

    def _our_min_price(self, r: int, c: int) -> float | None:
        mask = self._our_offer_mask(r) & (self.firm.product_category == c)
        if not mask.any():
            return None
        prices = self.firm.consumer_price_local(r, self.firm.price_local[r][mask])
        return float(prices.min())

    def _best_response(self, agent_id: int, k: int, r: int) -> float:
        """Logit profit-maximizing price of offer ``k`` of competitor ``agent_id`` in region r."""
        comp = next(c for c in self.competitors if c.unique_id == agent_id)
        c = int(comp.category[k])
        region = self.scenario.regions[r]
        fx_ref = self.fx_reference[r]
        offers = self._offers(r)[c]
        pop = self.consumers[r]
        aware_frac = pop.n_aware / pop.n
        supported = self.firm.payment_supported(r)
        weights, coefs, own, rivals = [], [], [], []
        # the competitor's own offer position among the category's competitor offers
        pos = self._comp_offer_position(r, c, comp, k)
        for seg in region.segments:
            alpha = seg.price_sensitivity.mean  # per reference-base unit of price
            unsupported = sum(
                v
                for m, v in seg.payment_preferences.items()
                if not supported[PAYMENT_METHODS.index(m)]
            )
            comp_v = _segment_utility(
                seg,
                offers.comp_quality,
                offers.comp_eco,
                offers.comp_price_ref,
                offers.comp_delivery_days,
            )
            other = np.delete(comp_v, pos)
            base_sum = np.exp(region.choice.outside_utility) + np.exp(other).sum()
            own_v = comp_v[pos] + alpha * offers.comp_price_ref[pos]  # utility without price
            ours_v = offers.our_constant + _segment_utility(
                seg,
                offers.our_quality,
                offers.our_eco,
                offers.our_price_ref,
                offers.our_delivery_days,
            )
            ours_sum = (
                (1 - unsupported) * np.exp(ours_v)
                + unsupported * np.exp(ours_v - region.choice.unsupported_payment_penalty)
            ).sum()
            # aware consumers also see our offers; unaware ones only competitors and outside
            for aware_w, extra in ((aware_frac, ours_sum), (1 - aware_frac, 0.0)):
                if aware_w <= 0:
                    continue
                weights.append(seg.share * aware_w)
                coefs.append(alpha / fx_ref)  # per local-currency unit
                own.append(own_v)
                rivals.append(base_sum + extra)
        cap = comp.initial_price_local[k] * comp.behaviour.max_price_multiple
        return logit_best_response_price(
            float(comp.cost_local[k]),
            np.array(weights),
            np.array(coefs),
            np.array(own),
            np.array(rivals),
            float(cap),
        )

    def _comp_offer_position(self, r: int, c: int, comp: CompetitorAgent, k: int) -> int:
        pos = 0
        for other in self.competitors:
            mask = np.flatnonzero((other.region == r) & (other.category == c))
            if other is comp:
                return pos + int(np.flatnonzero(mask == k)[0])
            pos += len(mask)
        raise KeyError(k)

    # ================================================================== occasions
    def _offers(self, r: int) -> list[CategoryOffers]:
        firm, region = self.firm, self.scenario.regions[r]
        fx_ref = self.fx_reference[r]
        lane = firm.serving_lane(r)
        loc = firm.localization[r]
        constant = region.regulation.consent_penalty
        if region.language != self.scenario.firm.source_language and not loc.human_translation:
            constant += region.choice.machine_translation_penalty
        mask = self._our_offer_mask(r)
        consumer_price = firm.consumer_price_local(r, firm.price_local[r])
        out = []
        for c in range(len(self.categories)):
            ours = np.flatnonzero(mask & (firm.product_category == c))
            cq, ce, cp, cd, cid = [], [], [], [], []
            offset = 0
            for comp in self.competitors:
                m = (comp.region == r) & (comp.category == c)
                cid.append(offset + np.flatnonzero(m))
                offset += len(m)
                cq.append(comp.quality[m])
                ce.append(comp.eco_score[m])
                cp.append(comp.price_local[m] / fx_ref)
                cd.append(comp.delivery_days[m])
            out.append(
                CategoryOffers(
                    our_products=ours,
                    our_quality=firm.quality[ours],
                    our_eco=firm.eco_score[ours],
                    our_price_ref=consumer_price[ours] / fx_ref,
                    our_delivery_days=np.full(len(ours), lane.promised_days),
                    our_constant=np.full(len(ours), -constant),
                    comp_quality=np.concatenate(cq or [[]]),
                    comp_eco=np.concatenate(ce or [[]]),
                    comp_price_ref=np.concatenate(cp or [[]]),
                    comp_delivery_days=np.concatenate(cd or [[]]),
                    comp_ids=np.concatenate(cid or [[]]).astype(np.int64),
                )
            )
        return out

    def _fulfiller(self, r: int, d: int):
        firm = self.firm
        pop = self.consumers[r]

        def fulfil(consumers: np.ndarray, products: np.ndarray) -> np.ndarray:
            w = firm.serving_warehouse(r)
            order = np.argsort(products, kind="stable")
            sorted_p = products[order]
            starts = np.searchsorted(sorted_p, sorted_p, side="left")
            rank = np.empty(len(products), dtype=np.int64)
            rank[order] = np.arange(len(products)) - starts
            filled = rank < firm.on_hand[w, products]
            if not filled.any():
                return filled
            cons, prods = consumers[filled], products[filled]
            np.subtract.at(firm.on_hand[w], prods, 1)
            price = firm.price_local[r, prods]
            paid_local = firm.consumer_price_local(r, price)
            fx = self.fx_local_per_base[r]
            paid_base = paid_local / fx
            methods = firm.localization[r].payment_methods
            supported = firm.payment_supported(r)
            method = pop.payment_method[cons]
            fallback = PAYMENT_METHODS.index(min(methods)) if methods else 0
            method = np.where(supported[method], method, fallback)
            fee = np.nan_to_num(firm.payment_fee[method], nan=0.0)
            revenue = float(paid_base.sum())
            firm.book("revenue_base", r, revenue)
            firm.book("duties_vat_base", r, float(((paid_local - price) / fx).sum()))
            firm.book("cogs_base", r, float(firm.unit_cost_base[prods].sum()))
            firm.book("payment_fees_base", r, float((fee * paid_base).sum()))
            firm.book("fx_cost_base", r, revenue * self.scenario.firm.fx_conversion_fee)
            firm.book("retention_base", r, float((pop.rebate_share[cons] * paid_base).sum()))
            firm.book("units", r, len(cons))
            firm.book("orders", r, len(cons))
            np.add.at(self._today_units[r], prods, 1)
            np.add.at(self._today_revenue[r], prods, paid_base)
            new, repeat = pop.record_purchases(d, cons, paid_base)
            seq = pop.frequency[cons]
            firm.book("new_customers", r, new)
            firm.book("repeat_orders", r, repeat)
            ids = firm.orders.append(
                region=r,
                consumer=cons,
                product=prods,
                day=d,
                units=1,
                paid_base=paid_base,
                price_local=price,
                warehouse=w,
                seq=seq,
            )
            self._placed[r] += len(ids)
            lane = firm.serving_lane(r).id
            self._today_orders.setdefault(lane, []).append(ids)
            return filled

        return fulfil

    # ================================================================== logistics
    def _dispatch(self, d: int) -> None:
        for lane_id in sorted(self._today_orders):
            ids = np.concatenate(self._today_orders[lane_id])
            lane = self.lanes[lane_id]
            units = self.firm.orders.take("units", ids).astype(np.int64)
            shipments = lane.dispatch(d, ids, units)
            r = int(self.firm.orders.take("region", ids[:1])[0])
            self.firm.book("freight_base", r, lane.freight_cost_base(int(units.sum()), shipments))
        self._today_orders = {}

    def _reorder(self, d: int) -> None:
        firm = self.firm
        serving = {firm.serving_lane(r).origin for r in range(len(self.region_ids))}
        for w, wh in enumerate(firm.warehouses):
            if wh.region is not None and wh.id not in serving:
                continue  # a local or regional warehouse restocks only while in use
            position = firm.on_hand[w] + firm.on_order[w]
            due = np.flatnonzero((firm.reorder_point[w] >= 0) & (position <= firm.reorder_point[w]))
            for p in due:
                q = int(firm.order_quantity[w, p])
                if wh.replenish_from == "supplier":
                    firm.on_order[w, p] += q
                    firm.cash_base -= q * firm.unit_cost_base[p]
                    arrival = d + max(1, wh.supplier_lead_days)
                    firm.supplier_arrivals.setdefault(arrival, []).append(Transfer(w, int(p), q))
                    continue
                src = firm.warehouse_index[wh.replenish_from]
                q = min(q, int(firm.on_hand[src, p]))
                if q <= 0:
                    continue
                lane_spec = firm.stock_lane(wh.replenish_from, wh.region)
                lane = self.lanes[lane_spec.id]
                firm.on_hand[src, p] -= q
                firm.on_order[w, p] += q
                tid = firm.new_transfer_id()
                firm.lane_transfers[tid] = Transfer(w, int(p), q)
                lane.submit_shipment(
                    HOURS_PER_DAY * d + lane_spec.departure_hour, np.array([tid]), q
                )
                r = self.region_ids.index(wh.region)
                firm.book("freight_base", r, lane.freight_cost_base(q, 1))
                duty = self.scenario.regions[r].tax.duty_rate * q * firm.unit_cost_base[p]
                firm.book("duties_vat_base", r, duty)

    def _collect_shipments(self, d: int) -> None:
        """File the orders of shipments that finished today under their delivery day."""
        ids, hours, lost, promised = [], [], [], []
        for lane in self.lanes.values():
            for result in lane.pop_completed():
                if lane.lane.carries == "stock":
                    for tid in result.order_ids:
                        t = self.firm.lane_transfers.pop(int(tid))
                        if not bool(result.lost[0]):
                            self.firm.on_hand[t.warehouse, t.product] += t.units
                        self.firm.on_order[t.warehouse, t.product] -= t.units
                    continue
                ids.append(result.order_ids)
                hours.append(result.delivered_hour)
                lost.append(result.lost)
                promised.append(np.full(len(result.order_ids), lane.lane.promised_days))
        if not ids:
            return
        ids_a, hours_a = np.concatenate(ids), np.concatenate(hours)
        lost_a, promised_a = np.concatenate(lost), np.concatenate(promised)
        days = np.maximum(np.floor(hours_a / HOURS_PER_DAY).astype(np.int64), d)
        order = np.argsort(days, kind="stable")
        days = days[order]
        starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
        ends = np.r_[starts[1:], len(days)]
        for s, e in zip(starts, ends, strict=True):
            sel = order[s:e]
            self._deliveries.setdefault(int(days[s]), []).append(
                (ids_a[sel], hours_a[sel], lost_a[sel], promised_a[sel])
            )

    def _process_deliveries(self, d: int) -> None:
        """Deliveries, losses and returns due today, all regions in one vectorized pass."""
        parts = self._deliveries.pop(d, [])
        if not parts:
            return
        firm, book = self.firm, self.firm.orders
        lc = self.scenario.firm.localization_costs
        oid = np.concatenate([p[0] for p in parts])
        hours = np.concatenate([p[1] for p in parts])
        lost = np.concatenate([p[2] for p in parts])
        promised = np.concatenate([p[3] for p in parts])
        region = book.take("region", oid).astype(np.int64)
        products = book.take("product", oid).astype(np.int64)
        consumers = book.take("consumer", oid).astype(np.int64)
        placed = book.take("day", oid).astype(float)
        days = (hours - (HOURS_PER_DAY * placed + 12.0)) / HOURS_PER_DAY
        delivered = ~lost
        late = delivered & (days > promised)
        u = keyed.uniforms(
            keyed.occasion_keys(self._returns_key, consumers, book.take("seq", oid)),
            keyed.SALT_RETURN,
        )
        returned = delivered & (u < self._return_probability[region, products])
        book.set("status", oid[delivered & ~returned], STATUS_DELIVERED)
        book.set("status", oid[returned], STATUS_RETURNED)
        book.set("status", oid[lost], STATUS_LOST)
        book.set("delivered_day", oid[delivered], d)
        nr = len(self.region_ids)
        paid = book.take("paid_base", oid).astype(float)

        def per_region(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
            w = mask.astype(float) if weights is None else np.where(mask, weights, 0.0)
            return np.bincount(region, weights=w, minlength=nr)

        totals = {
            "refunds_base": per_region(returned | lost, paid),
            "deliveries": per_region(delivered),
            "delivery_days_total": per_region(delivered, days),
            "on_time_deliveries": per_region(delivered & ~late),
            "returns": per_region(returned),
            "lost_orders": per_region(lost),
        }
        for name, values in totals.items():
            firm.today[name] += values
        self._completed += np.bincount(region, minlength=nr)
        for r in np.unique(region):
            r = int(r)
            sel = region == r
            softening = (
                lc.local_service_late_softening if firm.localization[r].local_service else 0.0
            )
            self.consumers[r].record_deliveries(
                consumers[sel], late[sel], returned[sel], lost[sel], softening
            )

    # ================================================================== KPIs
    def _record(self, d: int) -> None:
        firm = self.firm
        w = d % self.recent_window_days
        rows = []
        totals = {k: 0.0 for k in FLOW_KPIS}
        for r, region_id in enumerate(self.region_ids):
            occ = self._occasion[r]
            pop = self.consumers[r]
            flows = {k: float(firm.today[k][r]) for k in FLOW_KPIS}
            flows["occasions"] = occ.occasions
            flows["market_units"] = occ.market_units
            flows["demanded_units"] = occ.demanded_units
            flows["stockouts"] = occ.stockouts
            flows["churned_customers"] = occ.churned_customers
            flows["views"] = float(occ.views.sum())
            self._finish_flows(flows)
            for k in FLOW_KPIS:
                totals[k] += flows[k]
            row = {"day": d, "region": region_id, **flows}
            row.update(self._ratios(flows))
            row.update(
                active_customers=pop.active_customers(d, self.scenario.settings.active_window_days),
                customers=pop.n_customers,
                aware_share=pop.n_aware / pop.n,
                satisfaction=pop.mean_satisfaction(),
                in_transit=int(self._placed[r] - self._completed[r]),
                inventory_units=int(firm.on_hand[firm.serving_warehouse(r)].sum()),
                fx_local_per_base=float(self.fx_local_per_base[r]),
                cash_base=float("nan"),
            )
            rows.append(row)
            self._units_ring[r, w] = self._today_units[r]
            self._views_ring[r, w] = occ.views
            self._revenue_ring[r, w] = self._today_revenue[r]
            self._price_ring[r, w] = firm.price_local[r]
            self._delivery_ring[r, w] = (
                flows["deliveries"],
                flows["delivery_days_total"],
                flows["on_time_deliveries"],
            )
        for k in FLOW_KPIS:
            totals[k] += firm.firm_today[k]
        self._finish_flows(totals)
        firm.cash_base += totals["revenue_base"] - sum(
            totals[k] for k in COST_KPIS if k != "cogs_base"
        )
        all_row = {"day": d, "region": ALL_REGIONS, **totals, **self._ratios(totals)}
        n_cust = sum(p.n_customers for p in self.consumers)
        alive_customers = sum(p.n_alive_customers for p in self.consumers)
        sat_sum = sum(p.satisfaction_sum for p in self.consumers)
        all_row.update(
            active_customers=sum(row["active_customers"] for row in rows),
            customers=n_cust,
            aware_share=sum(p.n_aware for p in self.consumers) / sum(p.n for p in self.consumers),
            satisfaction=ratio(sat_sum, alive_customers),
            in_transit=int(sum(row["in_transit"] for row in rows)),
            inventory_units=int(firm.on_hand.sum()),
            fx_local_per_base=float("nan"),
            cash_base=firm.cash_base,
        )
        rows.append(all_row)
        for row in rows:
            self.datacollector.add_table_row("kpis", row)

    @staticmethod
    def _finish_flows(flows: dict[str, float]) -> None:
        flows["gross_profit_base"] = (
            flows["revenue_base"]
            - flows["refunds_base"]
            - flows["duties_vat_base"]
            - flows["cogs_base"]
            - flows["freight_base"]
        )
        flows["net_profit_base"] = flows["revenue_base"] - sum(flows[k] for k in COST_KPIS)

    @staticmethod
    def _ratios(flows: Mapping[str, float]) -> dict[str, float]:
        return {k.name: ratio(flows[k.numerator], flows[k.denominator]) for k in RATIO_KPIS}

    def kpi_frame(self) -> pd.DataFrame:
        """The tidy KPI table: one row per day and region (plus ``ALL``), one column per KPI."""
        df = self.datacollector.get_table_dataframe("kpis")
        return df[KPI_COLUMNS].reset_index(drop=True)

    def order_status_counts(self) -> dict[str, int]:
        """Orders by status: in transit, delivered, lost, returned."""
        return self.firm.orders.status_counts()

    def transactions(self) -> pd.DataFrame:
        """Our simulated transaction log (one row per order)."""
        book = self.firm.orders
        region = book.column("region").astype(np.int64)
        return pd.DataFrame(
            {
                "customer_id": [
                    f"{self.region_ids[r]}-{c}"
                    for r, c in zip(region, book.column("consumer"), strict=True)
                ],
                "region": np.array(self.region_ids, dtype=object)[region],
                "day": book.column("day").astype(np.int64),
                "product": np.array([p.id for p in self.scenario.products], dtype=object)[
                    book.column("product").astype(np.int64)
                ],
                "quantity": book.column("units").astype(np.int64),
                "amount_base": book.column("paid_base").astype(float),
            }
        )
