"""Regional consumer populations: one Mesa agent per region holding consumers as numpy arrays.

Mechanisms (all vectorized, no Python object per consumer):

* **Awareness (Bass)**: each day every unaware consumer becomes aware with the one-day
  hazard of the Bass equation with p = p_base + p_per_1k_spend x spend/1000 and word of
  mouth q x (aware - w x dissatisfied customers) / N. Aware consumers are exchangeable, so
  the k newly aware are the next k of a fixed random permutation (O(k) per day).
* **Purchase occasions (BG/NBD)**: consumer i has rate lambda_i ~ Gamma(r, alpha) per day and
  dropout probability p_i ~ Beta(a, b) after each occasion. Instead of testing every consumer
  every day, each consumer's next occasion is drawn in seasonal operational time and its day
  stored (2 bytes); finding today's occasions is one vectorized comparison, and every other
  per-consumer computation happens only at occasions.
* **Common random numbers**: a consumer's n-th occasion gets the same taste shocks, dropout
  and waiting-time draws in every strategy variant (counter-based draws, ``sim.keyed``).
* **Choice (multinomial logit)**: on an occasion (category drawn from the region's category
  shares) the consumer picks among our listed offers (if aware), competitors' offers and the
  outside option by Gumbel-max (seller-nested logit when ``choice.seller_nest_lambda`` < 1:
  ``sim.nested_choice``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import mesa
import numpy as np

from sim import dropout_clock, keyed
from sim.acquisition import SOURCE_INITIAL, ConsumerAcquisition
from sim.calendar import DAYS_PER_YEAR
from sim.contract import PAYMENT_METHODS
from sim.day_lookup import PositionLookup
from sim.diffusion import daily_adoption_probability
from sim.id_sets import sorted_distinct, unique_first
from sim.occasion_choice import round_choices
from sim.quantiles import binom_ppf
from sim.scenario import Region, max_entrants

NO_OCCASION = np.iinfo(np.int16).max  # next_day of consumers with no occasion left
_CATEGORY_DROPOUT = keyed.salt_steps(np.array([keyed.SALT_CATEGORY, keyed.SALT_DROPOUT]))
#: with the next occasion's waiting time (drawn from the following counter's key)
_CATEGORY_DROPOUT_NEXT = keyed.salt_steps(
    np.array([keyed.SALT_CATEGORY, keyed.SALT_DROPOUT, keyed.SALT_NEXT])
)
_OF_PAIR = np.array([0, 0, 1])  # the counter's key twice, then the following counter's
_ZERO_WORD = np.array(0, dtype=np.uint64)
_BYTES_OF_WORD = np.arange(8)  # a mask's positions within one 8-byte word
_WORD_SCAN_FROM = 1 << 17  # consumers from which ``_due`` scans the mask by words


@dataclass
class CategoryOffers:
    """Offers in one region and category for one day (prices in reference-base units)."""

    our_products: np.ndarray  # product index per our offer (P,)
    our_quality: np.ndarray
    our_eco: np.ndarray
    our_price_ref: np.ndarray  # landed consumer price / reference FX
    our_delivery_days: np.ndarray
    our_constant: np.ndarray  # translation, consent and other firm-level terms (<= 0)
    comp_quality: np.ndarray
    comp_eco: np.ndarray
    comp_price_ref: np.ndarray
    comp_delivery_days: np.ndarray
    comp_ids: np.ndarray  # stable id per competitor offer (taste shocks follow the offer)
    #: competitor (scenario order) selling each offer: its seller nest (sim.nested_choice)
    comp_sellers: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n_ours(self) -> int:
        return len(self.our_products)

    @property
    def n_comp(self) -> int:
        return len(self.comp_quality)


@dataclass
class OccasionResult:
    """What happened on one day's occasions in a region."""

    occasions: int = 0
    market_units: int = 0
    comp_units: list[np.ndarray] = field(default_factory=list)  # per category, per comp offer
    views: np.ndarray | None = None  # per product
    demanded_units: int = 0
    chosen_orders: int = 0  # buyers who chose one of our products, before stock and payment
    stockouts: int = 0
    churned_customers: int = 0
    deaths: int = 0
    customer_occasions: int = 0  # occasions of consumers who were already our customers


# Callback the firm provides: (consumer indices, product indices) -> filled mask; it books the
# sale and order for filled ones.
Fulfil = Callable[[np.ndarray, np.ndarray], np.ndarray]


class RegionalConsumers(mesa.Agent):
    """All consumers of one region as numpy arrays, with each consumer's next occasion day.

    ``rng_choice`` is accepted for drop-in implementations (the naive benchmark model draws
    from it); here taste shocks are counter-based (``sim.keyed``) for common random numbers.
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
        rng_acquisition: np.random.Generator | None = None,
    ):
        super().__init__(model)
        self.spec = region
        self.region_index = region_index
        self.horizon_days = horizon_days
        self.season_cumulative = season_cumulative.astype(np.float64)
        self._position = PositionLookup(self.season_cumulative)  # its searchsorted, faster
        self.rng_occasions = rng_occasions
        # counter-based draws per (consumer, occasion): see sim.keyed
        self._key = np.uint64(rng_occasions.integers(0, 2**63, dtype=np.int64))
        self.rng_awareness = rng_awareness
        n0 = region.population
        # market entrants (fresh, unaware consumers) get slots after the initial population
        n = n0 + max_entrants(region, horizon_days)
        self.n = n0  # consumers in the market so far (initial population + entrants born)
        self.n_initial = n0
        self.capacity = n
        self.n_products = n_products
        self.occasion_count = np.zeros(n, dtype=np.uint16)

        seg_shares = np.array([s.share for s in region.segments])
        seg_shares = seg_shares / seg_shares.sum()
        self.segment = rng_population.choice(len(seg_shares), size=n, p=seg_shares).astype(np.int8)
        self.price_sensitivity = np.empty(n, dtype=np.float32)
        self.rate = np.empty(n, dtype=np.float32)
        self.dropout = np.empty(n, dtype=np.float32)
        self.payment_method = np.empty(n, dtype=np.int8)
        for s_idx, seg in enumerate(region.segments):
            members = np.flatnonzero(self.segment == s_idx)
            m = len(members)
            ps = seg.price_sensitivity
            if ps.cv > 0:
                sigma2 = np.log1p(ps.cv**2)
                mu = np.log(ps.mean) - sigma2 / 2
                self.price_sensitivity[members] = rng_population.lognormal(mu, np.sqrt(sigma2), m)
            else:
                self.price_sensitivity[members] = ps.mean
            bg = seg.repeat or region.repeat
            self.rate[members] = rng_population.gamma(bg.r, 1.0 / bg.alpha_days, m)
            self.dropout[members] = rng_population.beta(bg.a, bg.b, m)
            methods = list(seg.payment_preferences)
            probs = np.array([seg.payment_preferences[k] for k in methods])
            codes = np.array([PAYMENT_METHODS.index(k) for k in methods], dtype=np.int8)
            self.payment_method[members] = codes[rng_population.choice(len(codes), m, p=probs)]
        self.quality_weight = np.array([s.quality_weight for s in region.segments], np.float32)
        self.eco_weight = np.array([s.eco_weight for s in region.segments], np.float32)
        self.delivery_weight = np.array(
            [s.delivery_weight_per_day for s in region.segments], np.float32
        )

        self.alive = np.zeros(n, dtype=bool)
        self.alive[:n0] = True  # entrants' slots wait unborn
        self.aware = np.zeros(n, dtype=bool)
        self._awareness_order = rng_population.permutation(n0).astype(np.int32)
        self.n_aware = round(region.awareness.initial_share * n0)
        self._aware_initial = self.n_aware  # aware among the initial population
        self.aware[self._awareness_order[: self.n_aware]] = True
        self.acq = ConsumerAcquisition(region, n, rng_acquisition)  # sources, forgetting
        self.acq.source[self._awareness_order[: self.n_aware]] = SOURCE_INITIAL

        # our customer base (RFM + experience)
        self.customer = np.zeros(n, dtype=bool)
        self.first_day = np.full(n, -1, dtype=np.int16)
        self.last_day = np.full(n, -1, dtype=np.int16)
        self.frequency = np.zeros(n, dtype=np.int32)
        self.monetary_base = np.zeros(n, dtype=np.float32)
        self.satisfaction = np.full(n, region.service.initial_satisfaction, dtype=np.float32)
        self.loyalty = np.zeros(n, dtype=np.float32)
        # retention state
        self.rate_multiplier = np.ones(n, dtype=np.float32)
        self.dropout_multiplier = np.ones(n, dtype=np.float32)
        self.utility_bonus = np.zeros(n, dtype=np.float32)
        self.rebate_share = np.zeros(n, dtype=np.float32)
        self.retention_until = np.full(n, -1, dtype=np.int16)
        self.intent: np.ndarray | None = None  # rate multiplier after a bad delivery (float16)
        self.customer_rate = 1.0  # customers' rate factor from delivery speed (sim.delivery_rate)
        self.customer_dropout = 1.0  # customers' dropout factor from delivery speed (same)
        self._keep_dropout_per_day = region.experience.rate_keeps_dropout_per_day
        self.trial_price_ref: float | None = None  # first orders' price (sim.trial_pack)
        self._expiries: dict[int, list[np.ndarray]] = {}
        self._customer_ids: list[np.ndarray] = []
        # (first-order day, days to the second order) of customers with a second order:
        # the repurchase rate without a per-consumer array
        self._second_orders: list[tuple[np.ndarray, np.ndarray]] = []
        self.n_customers = 0
        self.n_dissatisfied = 0
        self.n_alive_customers = 0
        self.satisfaction_sum = 0.0  # over alive customers, kept incrementally
        self._last_day_hist = np.zeros(horizon_days + 1, dtype=np.int64)

        cats = region.category_shares or {c: 1.0 for c in categories}
        probs = np.array([cats.get(c, 0.0) for c in categories], dtype=float)
        self.category_probs = probs / probs.sum()
        self._category_edges = np.cumsum(self.category_probs)[:-1]  # fixed for the run

        # next occasion of each consumer, in operational (seasonal) time and as a day number
        positions = np.arange(len(self.season_cumulative) + 1) - 1
        self._day_of_position = np.where(positions < horizon_days, positions, NO_OCCASION).astype(
            np.int16
        )
        self.next_tau = np.empty(n, dtype=np.float32)
        self.next_day = np.full(n, NO_OCCASION, dtype=np.int16)
        for start in range(0, n0, 250_000):  # bounded temporaries
            chunk = np.arange(start, min(n0, start + 250_000), dtype=np.int32)
            self._schedule(chunk, np.zeros(len(chunk)))

    # ------------------------------------------------------------------ calendar
    def _schedule(
        self,
        idx: np.ndarray,
        from_tau: np.ndarray | float,
        salt: int = 0,
        waits: np.ndarray | None = None,
    ) -> np.ndarray:
        """Draw the next occasion after ``from_tau`` for ``idx``; return their day numbers.

        The waiting time is exponential in operational time (cumulative seasonal intensity),
        so with a seasonal rate the occasions form an exact non-homogeneous Poisson process.
        ``waits``: the standard exponential draws (``-log u`` of ``SALT_NEXT + salt`` at the
        consumers' current counters) when the caller has them.
        """
        rate = self.rate.take(idx) * self.rate_multiplier.take(idx)
        if self.intent is not None:  # repeat intent after a late parcel (sim.experience)
            rate *= self.intent.take(idx)  # float32 * float16, computed in float32 as before
        if self.customer_rate != 1.0:  # delivery speed moves customers' rate (sim.delivery_rate)
            rate = rate * np.where(self.customer[idx], np.float32(self.customer_rate), 1)
        e = waits
        if e is None:
            keys = keyed.occasion_keys(self._key, idx, self.occasion_count.take(idx))
            e = keyed.uniforms(keys, keyed.SALT_NEXT + salt)
            np.log(e, out=e)  # -log(u), in place
            np.negative(e, out=e)
        # e / rate + from_tau (the same sum as from_tau + e / rate: addition commutes)
        if np.count_nonzero(rate) == len(rate):  # e > 0, rate >= 1e-45: finite, no errstate
            tau = e / rate
        else:
            with np.errstate(divide="ignore", over="ignore"):
                tau = e / rate
        tau += from_tau
        self.next_tau[idx] = tau
        # the day of each tau: the search's position - 1, NO_OCCASION from the horizon on
        days = self._day_of_position.take(self._position(tau))
        self.next_day[idx] = days
        return days

    def _due(self, day: int) -> np.ndarray:
        """Consumers with an occasion today (ascending): one comparison over a 2-byte-per-
        consumer array (about 0.3 ms per million consumers); all other work happens only at
        occasions. Unborn entrants' slots (from ``n`` on) wait with ``NO_OCCASION``: not
        scanned. ``np.flatnonzero`` of the comparison; in a large population found word by
        word: the few 8-byte words of the mask holding a True first (a scan 8 times shorter),
        then their bytes (the same positions, ascending)."""
        mask = self.next_day[: self.n] == day
        if len(mask) < _WORD_SCAN_FROM:  # a short mask: the plain scan costs fewer calls
            return mask.nonzero()[0].astype(np.int32)
        whole = len(mask) - len(mask) % 8
        words = (mask[:whole].view(np.uint64) != _ZERO_WORD).nonzero()[0]
        idx = (words[:, None] * 8 + _BYTES_OF_WORD).ravel()
        idx = idx[mask.take(idx)]
        if whole < len(mask):
            tail = mask[whole:].nonzero()[0]
            if len(tail):
                idx = np.concatenate([idx, tail + whole])
        return idx.astype(np.int32)

    # ------------------------------------------------------------------ awareness
    def diffuse_awareness(self, spend_today_base: float, paid_p: np.ndarray | None = None) -> int:
        """Bass step for one day; returns the number of newly aware consumers.

        The count is Binomial(unaware, hazard) drawn by inversion from one uniform per day,
        so variants with similar hazards get similar counts (common random numbers).
        ``paid_p`` is today's hazard per paid channel (``sim.acquisition``); forgetting,
        word of mouth from customers and the source tags are ``sim.acquisition``'s too.
        """
        u = self.rng_awareness.random()  # one draw every day, whatever happens below
        aw = self.spec.awareness
        self.n_aware -= self.acq.forget(self)
        unaware = self.n - self.n_aware
        if unaware <= 0:
            return 0
        legacy = aw.p_per_1k_spend_daily * spend_today_base / 1000.0
        p = aw.p_base_daily + legacy
        if paid_p is not None:
            p += float(paid_p.sum())
        f = self.n_aware / self.n
        if self.acq.spec.word_of_mouth == "customers":
            q = self.acq.wom_q(self, aw.dissatisfied_wom_weight, aw.q_daily)
        else:
            effective = max(0.0, self.n_aware - aw.dissatisfied_wom_weight * self.n_dissatisfied)
            q = aw.q_daily * (effective / self.n_aware) if self.n_aware else aw.q_daily
        h = daily_adoption_probability(p, q, f)
        # initial population: exchangeable, so the k newly aware are the next k of a fixed
        # random permutation (O(k)) or forgotten ones; entrants: one Bernoulli draw each
        unaware_initial = self.n_initial - self._aware_initial + self.acq.forgotten.size
        k = binom_ppf(u, unaware_initial, h) if h > 0 and unaware_initial > 0 else 0
        new = self.acq.take_initial(self, k) if k else np.empty(0, dtype=np.int32)
        self.aware[new] = True
        if self.n > self.n_initial and h > 0:
            # unaware entrants, ascending (the slots of born entrants not aware)
            candidates = np.flatnonzero(~self.aware[self.n_initial : self.n]) + self.n_initial
            adopt = candidates.compress(self.rng_awareness.random(len(candidates)) < h)
            self.aware[adopt] = True
            k += len(adopt)
            new = np.concatenate([new, adopt.astype(np.int32)])
        self.acq.attribute(new, aw.p_base_daily, legacy, paid_p, q * f)
        self.n_aware += k
        return k

    def enter(self, day: int) -> int:
        """Market entrants of the day: fresh consumers (unaware, BG/NBD draws of their
        segment) arriving at ``entrants_yearly_share`` x initial population per year."""
        share = self.spec.entrants_yearly_share
        if share <= 0:
            return 0
        target = min(
            self.capacity, self.n_initial + int(self.n_initial * share * (day + 1) / DAYS_PER_YEAR)
        )
        if target <= self.n:
            return 0
        new = np.arange(self.n, target, dtype=np.int32)
        self.alive[new] = True
        self._schedule(new, self.season_cumulative[day])  # one start for all (broadcast)
        self.n = target
        return len(new)

    # ------------------------------------------------------------------ occasions
    def run_occasions(
        self,
        day: int,
        offers: list[CategoryOffers],
        payment_supported: np.ndarray,
        fulfil: Fulfil,
    ) -> OccasionResult:
        """Process today's purchase occasions: choice, purchase, dropout, next occasion."""
        res = OccasionResult(views=np.zeros(self.n_products, dtype=np.int64))
        res.comp_units = [np.zeros(o.n_comp, dtype=np.int64) for o in offers]
        if day == 0 and self.spec.repeat.launch_cohort:
            everyone = np.arange(self.n, dtype=np.int32)
            for start in range(0, self.n, 200_000):  # bounded temporaries
                chunk = everyone[start : start + 200_000]
                self._occasion_round(
                    day, chunk, offers, payment_supported, fulfil, res, dropout=False, salt=1000
                )
        idx = self._due(day)
        while len(idx):
            waits = self._occasion_round(day, idx, offers, payment_supported, fulfil, res)
            live = self.alive.take(idx)
            alive = idx[live]
            days = self._schedule(alive, self.next_tau.take(alive), waits=waits[live])
            idx = alive[days == day]  # a second occasion on the same day (rare)
        return res

    def _occasion_round(
        self,
        day: int,
        idx: np.ndarray,
        offers: list[CategoryOffers],
        payment_supported: np.ndarray,
        fulfil: Fulfil,
        res: OccasionResult,
        dropout: bool = True,
        salt: int = 0,
        outside: bool = True,
    ) -> np.ndarray | None:
        """One round of occasions of ``idx`` (each consumer once). A round with dropout (the
        daily rounds) returns each consumer's next waiting time (``_schedule``'s ``waits``,
        drawn at the following counter with the round's other uniforms), else None."""
        ch = self.spec.choice
        outside_utility = ch.outside_utility if outside else -1e30  # False: must pick ours
        n_cat = len(offers)
        res.occasions += len(idx)
        was = self.customer.take(idx)  # customers before this round (fulfil makes new ones)
        res.customer_occasions += int(np.count_nonzero(was))
        hashed = keyed.consumer_keys(self._key, idx)
        count = self.occasion_count.take(idx)
        following = count + np.uint16(1)  # the counter after this occasion (uint16, as stored)
        paired = dropout and not salt  # a daily round: the next occasion is drawn after it
        if paired:
            # this occasion's key and the next one's in one pass, and the category's, the
            # dropout's and the next waiting time's uniforms in one more (each its own salt
            # and key as before: the same values, in fewer calls)
            pair = keyed.counter_pair_keys(hashed, count, following)
            u = keyed.stepped_uniforms(pair.take(_OF_PAIR, axis=1), _CATEGORY_DROPOUT_NEXT)
            keys = pair[:, 0]
        else:
            keys = keyed.counter_keys(hashed, count)
            if salt:
                keys = keyed.mix64(keys + np.uint64(salt))
            u = keyed.stepped_uniforms(keys[:, None], _CATEGORY_DROPOUT)
        if n_cat == 1:
            cat = np.zeros(len(idx), dtype=np.int64)
        else:
            cat = self._category_edges.searchsorted(u[:, 0], side="right")
        # every category's utilities and choices at once (sim.occasion_choice)
        chosen = round_choices(
            self, offers, idx, keys, cat, was, payment_supported, outside_utility, res
        )
        # customers before this occasion: its rate (and so the dropout clock's speed factor)
        # was theirs, even when the occasion makes a consumer a customer
        speed_moves = self.customer_rate != 1.0 or self.customer_dropout != 1.0
        was_customer = was if speed_moves else None
        if chosen is not None:
            buyers, products = chosen
            res.demanded_units += len(buyers)
            res.chosen_orders += len(buyers)
            filled = fulfil(buyers, products)
            lost = len(filled) - int(np.count_nonzero(filled))
            res.stockouts += lost
            res.market_units -= lost
        self.occasion_count[idx] = following  # fulfil reads the counters, never writes them
        if not dropout:
            return None
        # dropout after the occasion (BG/NBD), raised for dissatisfied customers
        p = self.dropout.take(idx) * self.dropout_multiplier.take(idx)
        cust = self.customer.take(idx)
        if np.count_nonzero(cust):
            uplift = self.spec.service.dissatisfaction_dropout_uplift
            p = np.where(cust, p * (1.0 + uplift * (1.0 - self.satisfaction.take(idx))), p)
        if self.customer_dropout != 1.0:  # delivery speed (sim.delivery_rate): our earlier buyers
            p = np.where(was_customer, p * self.customer_dropout, p)
        if self._keep_dropout_per_day:  # delivery-driven rate changes (sim.dropout_clock)
            intent = None if self.intent is None else self.intent.take(idx)
            sped = cust if was_customer is None else was_customer
            m = dropout_clock.delivery_rate_factor(intent, self.customer_rate, sped)
            if m is not None:
                p = dropout_clock.per_occasion(p, m)
        dies = u[:, 1] < p
        if np.count_nonzero(dies):
            dead = idx[dies]
            self.alive[dead] = False
            self.next_day[dead] = NO_OCCASION
            dead_customers = dead[self.customer[dead]]
            res.deaths += len(dead)
            res.churned_customers += len(dead_customers)
            if len(dead_customers):
                np.subtract.at(self._last_day_hist, self.last_day[dead_customers], 1)
                below = self.satisfaction[dead_customers] < self.spec.service.dissatisfied_below
                self.n_dissatisfied -= int(below.sum())
                self.n_alive_customers -= len(dead_customers)
                self.satisfaction_sum -= float(self.satisfaction[dead_customers].sum())
        if not paired:
            return None
        waits = np.log(u[:, 2])  # -log(u) of the next occasion's uniform
        np.negative(waits, out=waits)
        return waits

    # ------------------------------------------------------------------ customers
    def record_purchases(self, day: int, idx: np.ndarray, paid_base: np.ndarray) -> tuple[int, int]:
        """Update RFM for filled orders; returns (new customers, repeat orders). ``idx`` holds
        each consumer once (one occasion per round), so plain fancy-index updates add once."""
        known = self.customer.take(idx)
        repeat = int(np.count_nonzero(known))
        new = idx[~known]  # a consumer has at most one occasion per round
        if len(new):
            self.customer[new] = True
            self.acq.count_new(new)
            self.first_day[new] = day
            self._customer_ids.append(new)
            self.n_customers += len(new)
            sat = self.satisfaction.take(new)
            self.n_dissatisfied += int(np.count_nonzero(sat < self.spec.service.dissatisfied_below))
            self.n_alive_customers += len(new)
            self.satisfaction_sum += float(np.add.reduce(sat))  # sat.sum() without its wrapper
        old = idx[known]
        if len(old):
            hist = self._last_day_hist
            hist -= np.bincount(self.last_day[old], minlength=len(hist))
            second = old[self.frequency[old] == 1]
            if len(second):
                first = self.first_day[second].astype(np.int16)
                self._second_orders.append((first, (day - first).astype(np.int16)))
        self.last_day[idx] = day
        self._last_day_hist[day] += len(idx)
        self.frequency[idx] += 1
        self.monetary_base[idx] += paid_base.astype(np.float32)
        return len(new), repeat

    def customer_ids(self) -> np.ndarray:
        """Indices of every consumer who ever bought from us, in acquisition order."""
        if not self._customer_ids:
            return np.empty(0, dtype=np.int32)
        if len(self._customer_ids) > 1:
            self._customer_ids = [np.concatenate(self._customer_ids)]
        return self._customer_ids[0]

    def repurchase_counts(self, horizon_days: int, window_days: int) -> tuple[int, int]:
        """Customers whose first order is at least ``window_days`` before the horizon, and
        how many of them placed a second order within ``window_days`` of their first."""
        ids = self.customer_ids()
        eligible = int(np.count_nonzero(self.first_day[ids] <= horizon_days - window_days))
        repurchased = 0
        for first, gap in self._second_orders:
            ok = (first <= horizon_days - window_days) & (gap <= window_days)
            repurchased += int(np.count_nonzero(ok))
        return eligible, repurchased

    def active_customers(self, day: int, window_days: int) -> int:
        """Alive customers whose last purchase is within ``window_days``."""
        lo = max(0, day - window_days + 1)
        return int(self._last_day_hist[lo : day + 1].sum())

    def record_deliveries(self, idx: np.ndarray, target: np.ndarray, gain: np.ndarray) -> None:
        """Move satisfaction toward ``target`` and loyalty by ``gain`` (one per completed
        order; ``sim.experience`` computes them from the delivery experience)."""
        sv = self.spec.service
        alive = self.alive[idx]
        before_sat = self.satisfaction[idx]
        # several deliveries to one consumer on one day: the last update wins
        self.satisfaction[idx] = before_sat + np.float32(sv.satisfaction_learning_rate) * (
            target - before_sat
        )
        uniq, first = unique_first(idx)
        alive_u = alive[first]
        after_sat = self.satisfaction[uniq]
        before_u = before_sat[first]
        thr = sv.dissatisfied_below
        self.n_dissatisfied += int(((after_sat < thr) & alive_u).sum()) - int(
            ((before_u < thr) & alive_u).sum()
        )
        self.satisfaction_sum += float((after_sat - before_u)[alive_u].sum())
        self.loyalty[idx] = np.clip(self.loyalty[idx] + gain, 0.0, 1.0)

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
        """Start a retention action for ``idx`` (replacing any running one).

        Lapsed customers targeted by a win-back offer carry the action's terms too, so the
        ones who answer it (``sim.retention_state.revive``) buy under them for the rest of the
        term; only alive customers have an occasion to redraw now.
        """
        idx = sorted_distinct(idx, self.n)
        lapsed = idx[~self.alive[idx]]
        until = min(day + duration_days, self.horizon_days)
        self.dropout_multiplier[idx] = dropout_multiplier
        self.utility_bonus[idx] = utility_bonus
        self.rebate_share[idx] = rebate_share
        self.retention_until[idx] = until
        self.rate_multiplier[lapsed] = rate_multiplier  # drawn on when they come back
        idx = idx[self.alive[idx]]
        self._expiries.setdefault(until, []).append(np.concatenate([idx, lapsed]))
        if rate_multiplier != 1.0 or (self.rate_multiplier[idx] != 1.0).any():
            self.rate_multiplier[idx] = rate_multiplier
            self._schedule(idx, np.full(len(idx), self.season_cumulative[day]), salt=100 + day)

    def expire_retention(self, day: int) -> None:
        """End retention actions whose term ends today."""
        for idx in self._expiries.pop(day, []):
            idx = idx[self.retention_until[idx] == day]
            self.dropout_multiplier[idx] = 1.0
            self.utility_bonus[idx] = 0.0
            self.rebate_share[idx] = 0.0
            self.retention_until[idx] = -1
            changed = idx[(self.rate_multiplier[idx] != 1.0) & self.alive[idx]]
            if len(changed):
                self.rate_multiplier[changed] = 1.0
                self._schedule(
                    changed, np.full(len(changed), self.season_cumulative[day]), salt=100 + day
                )

    def mean_satisfaction(self) -> float:
        """Mean satisfaction of alive customers (NaN before the first one)."""
        if self.n_alive_customers <= 0:
            return float("nan")
        return self.satisfaction_sum / self.n_alive_customers

    def nbytes(self) -> int:
        """Memory held by the per-consumer arrays (with the acquisition source tags)."""
        arrays = sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))
        return arrays + self.acq.source.nbytes
