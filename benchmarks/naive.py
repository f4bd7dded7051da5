"""The naive reference model: the same consumer behaviour, one Mesa ``Agent`` per consumer.

:class:`NaiveMarketModel` is a :class:`sim.model.MarketModel` whose regional populations are
:class:`NaiveConsumers` instead of :class:`sim.consumers.RegionalConsumers`. Everything else
(firm, ledger, orders, lanes, competitors, strategies, KPIs) is the shared production code, so
the time ratio between the two models compares equal work.

A :class:`NaiveConsumers` exposes the interface the model uses (``diffuse_awareness``,
``run_occasions`` returning an :class:`~sim.consumers.OccasionResult`, ``record_purchases``,
``record_deliveries``, retention, the RFM columns read by strategy views and fulfilment, and
the aggregate counters read by the KPI phase) but keeps one :class:`ConsumerAgent` per consumer
and does all per-consumer work in plain Python (``random`` and ``math``):

* every day, a Python loop over all agents (``agent.step()``; a plain loop over a list, or
  Mesa's ``AgentSet.shuffle_do``, see ``scheduler``): an unaware agent becomes aware
  with the same one-day Bass hazard as the vectorized model; an alive agent draws its number
  of purchase occasions today from Poisson(rate x rate multiplier x seasonality of the day) -
  the daily increments of the same Poisson process that the vectorized occasion calendar
  simulates exactly;
* occasions are processed in rounds (round k = the k-th occasion today of every agent with at
  least k), like the vectorized model: each agent draws a category, computes the logit
  utilities of the offers with ``math.exp`` and samples one; the round's purchases of our
  offers go to the shared fulfilment callback; then each agent of the round drops out with
  the BG/NBD probability (raised for dissatisfied customers);
* with ``repeat.launch_cohort``, every agent has one extra occasion on day 0 (no dropout);
* deliveries, purchases and retention update agent attributes one agent at a time.

Aggregates the model reads every day (aware, customers, dissatisfied, satisfaction sum, a
last-purchase-day histogram for active customers) are kept as counters, as the vectorized
model does, so the naive model does exactly one pass over all agents per day. With the
default ``scheduler="loop"`` that pass is a plain ``for`` loop over a list - the most
favourable naive design, which makes the measured speed-up conservative; Mesa's idiomatic
``AgentSet.shuffle_do("step")`` costs about 1 us more per agent and day.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Mapping
from functools import partial
from itertools import accumulate
from typing import Any

import mesa
import numpy as np

import sim.model as sim_model
from sim.consumers import CategoryOffers, Fulfil, OccasionResult
from sim.contract import PAYMENT_METHODS
from sim.diffusion import daily_adoption_probability
from sim.model import MarketModel
from sim.rng import SeedLike
from sim.scenario import Region, Scenario
from strategies.base import Strategy

SCHEDULERS = ("loop", "shuffle_do")


def _python_rng(gen: np.random.Generator) -> random.Random:
    """A Python ``random.Random`` seeded from one of the run's numpy streams."""
    return random.Random(int(gen.integers(0, 2**63)))


def poisson(lam: float, u: float) -> int:
    """Poisson(``lam``) count by inversion of the CDF at the uniform ``u``."""
    p = math.exp(-lam)
    cdf = p
    k = 0
    while u > cdf and p > 0.0:
        k += 1
        p *= lam / k
        cdf += p
    return k


class ConsumerAgent(mesa.Agent):
    """One consumer: traits, awareness, BG/NBD state, RFM, experience and retention state."""

    def __init__(
        self,
        model: mesa.Model,
        pop: NaiveConsumers,
        index: int,
        segment: int,
        price_sensitivity: float,
        rate: float,
        dropout: float,
        payment_method: int,
        satisfaction: float,
    ):
        super().__init__(model)
        self.pop = pop
        self.index = index
        self.segment = segment
        self.price_sensitivity = price_sensitivity
        self.rate = rate
        self.dropout = dropout
        self.payment_method = payment_method
        self.aware = False
        self.alive = True
        # our customer base (RFM + experience)
        self.customer = False
        self.first_day = -1
        self.last_day = -1
        self.frequency = 0
        self.second_day = -1  # day of the second order (repurchase rate)
        self.monetary_base = 0.0
        self.satisfaction = satisfaction
        self.loyalty = 0.0
        # retention state
        self.rate_multiplier = 1.0
        self.dropout_multiplier = 1.0
        self.utility_bonus = 0.0
        self.rebate_share = 0.0
        self.retention_until = -1
        self.occasions_left = 0

    def step(self) -> None:
        """Today's awareness test and the number of purchase occasions."""
        pop = self.pop
        rnd = pop.random_awareness
        if not self.aware and rnd.random() < pop.hazard:
            self.aware = True
            pop.n_aware += 1
        if self.alive:
            lam = self.rate * self.rate_multiplier * pop.season_today
            k = poisson(lam, pop.random_occasions.random())
            if k:
                self.occasions_left = k
                pop.due.append(self)

    def choose(self, offers: list[_PyOffers]) -> tuple[int, int]:
        """One occasion: (category, chosen option); option -1 = outside, 0.. ours then comps."""
        pop = self.pop
        rnd = pop.random_choice
        cat = bisect_right(pop.category_cum, rnd.random() * pop.category_cum[-1])
        cat = min(cat, len(offers) - 1)
        o = offers[cat]
        qw, ew, dw = pop.segment_weights[self.segment]
        a = self.price_sensitivity
        weights: list[float] = []
        total = pop.exp_outside
        if self.aware and o.ours:
            personal = pop.loyalty_weight * self.loyalty + self.utility_bonus
            if not pop.payment_supported[self.payment_method]:
                personal -= pop.unsupported_penalty
            for q, e, p, d, const in o.ours:
                w = math.exp(qw * q + ew * e - a * p - dw * d + const + personal)
                weights.append(w)
                total += w
            views = pop.views_today
            for prod in o.products:
                views[prod] += 1
        else:
            weights.extend(0.0 for _ in o.ours)
        for q, e, p, d in o.comps:
            w = math.exp(qw * q + ew * e - a * p - dw * d)
            weights.append(w)
            total += w
        u = rnd.random() * total
        acc = 0.0
        for j, w in enumerate(weights):
            acc += w
            if u < acc:
                return cat, j
        return cat, -1

    def drop_out(self) -> None:
        """BG/NBD dropout after an occasion, raised for dissatisfied customers."""
        pop = self.pop
        p = self.dropout * self.dropout_multiplier
        if self.customer:
            p *= 1.0 + pop.dropout_uplift * (1.0 - self.satisfaction)
        if pop.random_occasions.random() < p:
            self.alive = False
            self.occasions_left = 0
            res = pop.result
            res.deaths += 1
            if self.customer:
                res.churned_customers += 1
                pop.last_day_hist[self.last_day] -= 1
                if self.satisfaction < pop.dissatisfied_below:
                    pop.n_dissatisfied -= 1
                pop.n_alive_customers -= 1
                pop.satisfaction_sum -= self.satisfaction


class _PyOffers:
    """One category's offers as Python tuples (built once per day)."""

    def __init__(self, o: CategoryOffers):
        self.products = [int(p) for p in o.our_products]
        self.ours = list(
            zip(
                o.our_quality.tolist(),
                o.our_eco.tolist(),
                o.our_price_ref.tolist(),
                o.our_delivery_days.tolist(),
                o.our_constant.tolist(),
                strict=True,
            )
        )
        self.comps = list(
            zip(
                o.comp_quality.tolist(),
                o.comp_eco.tolist(),
                o.comp_price_ref.tolist(),
                o.comp_delivery_days.tolist(),
                strict=True,
            )
        )


class _Column:
    """Read-only, numpy-indexable view of one attribute across the agents (``col[ids]``)."""

    def __init__(self, agents: list[ConsumerAgent], attr: str, dtype: Any):
        self.agents = agents
        self.attr = attr
        self.dtype = dtype

    def __getitem__(self, idx: Any) -> Any:
        arr = np.asarray(idx)
        if arr.ndim == 0:
            return getattr(self.agents[int(arr)], self.attr)
        if arr.dtype == bool:
            arr = np.flatnonzero(arr)
        agents, attr = self.agents, self.attr
        return np.fromiter(
            (getattr(agents[i], attr) for i in arr.tolist()), dtype=self.dtype, count=arr.size
        )

    def __len__(self) -> int:
        return len(self.agents)


class NaiveConsumers:
    """Drop-in for :class:`sim.consumers.RegionalConsumers` with one Mesa agent per consumer.

    The constructor takes the same arguments; the numpy generators only seed Python
    ``random.Random`` instances (one per mechanism, as the vectorized model has one stream per
    mechanism). ``scheduler``: ``"loop"`` steps the agents with a plain ``for`` loop over a
    list (the cheapest naive design); ``"shuffle_do"`` the Mesa way, ``AgentSet.shuffle_do``
    (random activation order every day, as ``RandomActivation`` did).
    """

    def __init__(
        self,
        model: mesa.Model,
        region: Region,
        region_index: int,
        n_products: int,
        categories: list[str],
        horizon_days: int,
        season_cumulative: np.ndarray,
        rng_population: np.random.Generator,
        rng_occasions: np.random.Generator,
        rng_awareness: np.random.Generator,
        rng_choice: np.random.Generator,
        scheduler: str = "loop",
        **_: Any,
    ):
        if scheduler not in SCHEDULERS:
            raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
        self.scheduler = scheduler
        self.spec = region
        self.region_index = region_index
        self.horizon_days = horizon_days
        self.n = region.population
        self.n_products = n_products
        season = np.diff(np.asarray(season_cumulative, dtype=float))
        self.season = season.tolist()
        self.season_cumulative = np.asarray(season_cumulative, dtype=float)
        self.random_occasions = _python_rng(rng_occasions)
        self.random_awareness = _python_rng(rng_awareness)
        self.random_choice = _python_rng(rng_choice)
        rnd = _python_rng(rng_population)

        shares = [s.share for s in region.segments]
        seg_cum = list(accumulate(shares))
        sv = region.service
        self.agents: list[ConsumerAgent] = []
        for i in range(self.n):
            s = min(bisect_right(seg_cum, rnd.random() * seg_cum[-1]), len(shares) - 1)
            seg = region.segments[s]
            ps = seg.price_sensitivity
            if ps.cv > 0:
                sigma2 = math.log1p(ps.cv**2)
                alpha = rnd.lognormvariate(math.log(ps.mean) - sigma2 / 2, math.sqrt(sigma2))
            else:
                alpha = ps.mean
            bg = seg.repeat or region.repeat
            rate = rnd.gammavariate(bg.r, 1.0 / bg.alpha_days)
            dropout = rnd.betavariate(bg.a, bg.b)
            methods = list(seg.payment_preferences)
            method = rnd.choices(methods, weights=[seg.payment_preferences[m] for m in methods])[0]
            self.agents.append(
                ConsumerAgent(
                    model,
                    self,
                    i,
                    s,
                    alpha,
                    rate,
                    dropout,
                    PAYMENT_METHODS.index(method),
                    sv.initial_satisfaction,
                )
            )
        self.agent_set = mesa.agent.AgentSet(self.agents, random=_python_rng(rng_awareness))
        self.n_aware = round(region.awareness.initial_share * self.n)
        for agent in rnd.sample(self.agents, self.n_aware):
            agent.aware = True

        self.segment_weights = [
            (s.quality_weight, s.eco_weight, s.delivery_weight_per_day) for s in region.segments
        ]
        ch = region.choice
        self.exp_outside = math.exp(ch.outside_utility)
        self.loyalty_weight = ch.loyalty_weight
        self.unsupported_penalty = ch.unsupported_payment_penalty
        self.dropout_uplift = sv.dissatisfaction_dropout_uplift
        self.dissatisfied_below = sv.dissatisfied_below
        cats = region.category_shares or {c: 1.0 for c in categories}
        self.category_cum = list(accumulate(cats.get(c, 0.0) for c in categories))

        self.n_customers = 0
        self.n_dissatisfied = 0
        self.n_alive_customers = 0
        self.satisfaction_sum = 0.0
        self.last_day_hist = [0] * (horizon_days + 1)
        self._customer_ids: list[int] = []
        self._expiries: dict[int, list[list[ConsumerAgent]]] = {}
        self.hazard = 0.0
        self.season_today = 0.0
        self.payment_supported: list[bool] = []
        self.due: list[ConsumerAgent] = []
        self.views_today: list[int] = []
        self.result = OccasionResult()

        # columns read by the model (fulfilment, strategy views, retention checks)
        a = self.agents
        self.customer = _Column(a, "customer", bool)
        self.payment_method = _Column(a, "payment_method", np.int8)
        self.rebate_share = _Column(a, "rebate_share", np.float32)
        self.intent = None  # sim.experience's rate cut after late parcels is not modelled here
        self.first_day = _Column(a, "first_day", np.int16)
        self.last_day = _Column(a, "last_day", np.int16)
        self.frequency = _Column(a, "frequency", np.int32)
        self.segment = _Column(a, "segment", np.int8)
        self.monetary_base = _Column(a, "monetary_base", np.float32)
        self.satisfaction = _Column(a, "satisfaction", np.float32)
        self.loyalty = _Column(a, "loyalty", np.float32)
        self.aware = _Column(a, "aware", bool)
        self.alive = _Column(a, "alive", bool)

    # ------------------------------------------------------------------ awareness
    def diffuse_awareness(self, spend_today_base: float) -> int:
        """Today's Bass hazard; the agents test it in their ``step`` (same day, before choice).

        Returns 0: the newly aware are only known after the agents' loop.
        """
        aw = self.spec.awareness
        if self.n_aware >= self.n:
            self.hazard = 0.0
            return 0
        p = aw.p_base_daily + aw.p_per_1k_spend_daily * spend_today_base / 1000.0
        f = self.n_aware / self.n
        effective = max(0.0, self.n_aware - aw.dissatisfied_wom_weight * self.n_dissatisfied)
        q = aw.q_daily * (effective / self.n_aware) if self.n_aware else aw.q_daily
        self.hazard = daily_adoption_probability(p, q, f)
        return 0

    # ------------------------------------------------------------------ occasions
    def run_occasions(
        self,
        day: int,
        offers: list[CategoryOffers],
        payment_supported: np.ndarray,
        fulfil: Fulfil,
    ) -> OccasionResult:
        """The daily loop over all agents, then today's occasions round by round."""
        res = OccasionResult()
        self.views_today = [0] * self.n_products
        self.result = res
        self.season_today = self.season[day]
        self.payment_supported = [bool(x) for x in payment_supported]
        self.due = []
        if self.scheduler == "shuffle_do":
            self.agent_set.shuffle_do("step")
        else:
            for agent in self.agents:
                agent.step()
        py_offers = [_PyOffers(o) for o in offers]
        comp_units = [[0] * o.n_comp for o in offers]
        if day == 0 and getattr(self.spec.repeat, "launch_cohort", False):
            # launch cohort: every consumer has one extra occasion on day 0, no dropout
            self._round(self.agents, py_offers, fulfil, comp_units, dropout=False)
        round_agents = self.due
        while round_agents:
            for agent in round_agents:
                agent.occasions_left -= 1
            self._round(round_agents, py_offers, fulfil, comp_units, dropout=True)
            round_agents = [a for a in round_agents if a.alive and a.occasions_left > 0]
        res.views = np.array(self.views_today, dtype=np.int64)
        res.comp_units = [np.array(c, dtype=np.int64) for c in comp_units]
        return res

    def _round(
        self,
        round_agents: list[ConsumerAgent],
        py_offers: list[_PyOffers],
        fulfil: Fulfil,
        comp_units: list[list[int]],
        dropout: bool,
    ) -> None:
        """One occasion for each agent: choices, one fulfilment call, then dropouts."""
        res = self.result
        res.occasions += len(round_agents)
        res.customer_occasions += sum(1 for agent in round_agents if agent.customer)
        buyers: list[int] = []
        products: list[int] = []
        for agent in round_agents:
            cat, j = agent.choose(py_offers)
            if j < 0:
                continue
            res.market_units += 1
            o = py_offers[cat]
            if j < len(o.ours):
                buyers.append(agent.index)
                products.append(o.products[j])
            else:
                comp_units[cat][j - len(o.ours)] += 1
        if buyers:
            res.demanded_units += len(buyers)
            filled = fulfil(np.array(buyers, dtype=np.int64), np.array(products, np.int64))
            lost = len(buyers) - int(np.count_nonzero(filled))
            res.stockouts += lost
            res.market_units -= lost
        if dropout:
            for agent in round_agents:
                agent.drop_out()

    # ------------------------------------------------------------------ customers
    def record_purchases(self, day: int, idx: np.ndarray, paid_base: np.ndarray) -> tuple[int, int]:
        """Update RFM for filled orders; returns (new customers, repeat orders)."""
        new: list[int] = []
        repeat = 0
        hist = self.last_day_hist
        thr = self.dissatisfied_below
        for i, paid in zip(idx.tolist(), paid_base.tolist(), strict=True):
            agent = self.agents[i]
            if agent.customer:
                repeat += 1
                hist[agent.last_day] -= 1
                if agent.frequency == 1:
                    agent.second_day = day
            else:
                agent.customer = True
                agent.first_day = day
                new.append(i)
                self.n_customers += 1
                self.n_alive_customers += 1
                self.satisfaction_sum += agent.satisfaction
                if agent.satisfaction < thr:
                    self.n_dissatisfied += 1
            agent.last_day = day
            hist[day] += 1
            agent.frequency += 1
            agent.monetary_base += paid
        self._customer_ids.extend(sorted(new))
        return len(new), repeat

    def customer_ids(self) -> np.ndarray:
        """Indices of every consumer who ever bought from us, in acquisition order."""
        return np.array(self._customer_ids, dtype=np.int32)

    def repurchase_counts(self, horizon_days: int, window_days: int) -> tuple[int, int]:
        """Customers with a first order >= ``window_days`` before the horizon, and how many of
        them ordered again within ``window_days`` (as ``RegionalConsumers``)."""
        cutoff = horizon_days - window_days
        customers = [self.agents[i] for i in self._customer_ids]
        eligible = [a for a in customers if a.first_day <= cutoff]
        again = sum(1 for a in eligible if 0 <= a.second_day - a.first_day <= window_days)
        return len(eligible), again

    def active_customers(self, day: int, window_days: int) -> int:
        """Alive customers whose last purchase is within ``window_days``."""
        lo = max(0, day - window_days + 1)
        return sum(self.last_day_hist[lo : day + 1])

    def record_deliveries(self, idx: np.ndarray, target: np.ndarray, gain: np.ndarray) -> None:
        """Move satisfaction toward ``target`` and loyalty by ``gain`` after each completed
        order (``sim.experience`` computes both).

        Several deliveries to one consumer on one day: each update starts from the morning's
        values and the last one wins (the vectorized model's semantics).
        """
        sv = self.spec.service
        lr = sv.satisfaction_learning_rate
        thr = sv.dissatisfied_below
        before: dict[int, tuple[float, float]] = {}
        for i, to, change in zip(idx.tolist(), target.tolist(), gain.tolist(), strict=True):
            agent = self.agents[i]
            if i not in before:
                before[i] = (agent.satisfaction, agent.loyalty)
            sat0, loy0 = before[i]
            agent.satisfaction = sat0 + lr * (to - sat0)
            agent.loyalty = min(1.0, max(0.0, loy0 + change))
        for i, (sat0, _) in before.items():
            agent = self.agents[i]
            if agent.alive:
                self.n_dissatisfied += (agent.satisfaction < thr) - (sat0 < thr)
                self.satisfaction_sum += agent.satisfaction - sat0

    # ------------------------------------------------------------------ retention
    def apply_retention(
        self,
        day: int,
        idx: np.ndarray,
        dropout_multiplier: float,
        rate_multiplier: float,
        utility_bonus: float,
        rebate_share: float,
        duration_days: int,
    ) -> None:
        """Start a retention action for the alive agents in ``idx`` (replacing a running one)."""
        until = min(day + duration_days, self.horizon_days)
        targets = []
        for i in sorted(set(np.asarray(idx).tolist())):
            agent = self.agents[i]
            if not agent.alive:
                continue
            agent.dropout_multiplier = dropout_multiplier
            agent.rate_multiplier = rate_multiplier
            agent.utility_bonus = utility_bonus
            agent.rebate_share = rebate_share
            agent.retention_until = until
            targets.append(agent)
        self._expiries.setdefault(until, []).append(targets)

    def expire_retention(self, day: int) -> None:
        """End retention actions whose term ends today."""
        for targets in self._expiries.pop(day, []):
            for agent in targets:
                if agent.retention_until == day:
                    agent.dropout_multiplier = 1.0
                    agent.rate_multiplier = 1.0
                    agent.utility_bonus = 0.0
                    agent.rebate_share = 0.0
                    agent.retention_until = -1

    def mean_satisfaction(self) -> float:
        """Mean satisfaction of alive customers (NaN before the first one)."""
        if self.n_alive_customers <= 0:
            return float("nan")
        return self.satisfaction_sum / self.n_alive_customers


class NaiveMarketModel(MarketModel):
    """:class:`MarketModel` with :class:`NaiveConsumers` populations (same arguments, plus the
    consumers' ``scheduler``)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        strategies: Mapping[str, Strategy],
        seed: SeedLike | None = None,
        days: int | None = None,
        scheduler: str = "loop",
    ):
        # MarketModel builds its populations by the module-level name; swap it for the
        # construction only (benchmark code: single-threaded by design).
        original = sim_model.RegionalConsumers
        sim_model.RegionalConsumers = partial(NaiveConsumers, scheduler=scheduler)  # type: ignore[misc,assignment]
        try:
            super().__init__(scenario, seed=seed, days=days, strategies=strategies)
        finally:
            sim_model.RegionalConsumers = original  # type: ignore[misc]
