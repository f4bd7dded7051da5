"""Acquisition: paid channels (adstock, Hill saturation), attributed awareness, forgetting, growth.

* **Channels** (``Region.acquisition.channels``): each day a channel spends its monthly budget
  / days in the month (times the factor of ``acquisition.budget_rule``, :mod:`sim.budget_rule`);
  its adstock carries over geometrically and a Hill curve maps it to an
  innovation hazard, as marketing-mix models do. The firm's single
  ``marketing_budget_monthly_base`` stays the implicit channel ``marketing`` (linear, no
  carry-over: ``awareness.p_per_1k_spend_daily``).
* **Attribution**: each newly aware consumer gets the source of one hazard component drawn in
  proportion to the components (organic ``p_base``, each paid channel, word of mouth ``q F``)
  from the region's own ``acquisition`` stream; one byte per consumer. A customer's
  acquisition source is the source of the awareness that led to the first order.
* **Forgetting**: each day ``Binomial(aware non-customers, forgetting_daily)`` of them forget us;
  they are found by rejection sampling over consumer slots (about ``forgetting x N`` draws a
  day, no pass over every consumer) and become reachable by the Bass step again.
* **Market growth**: purchase occasions per region and day, for the year-over-year KPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.budget_rule import BudgetRules
from sim.calendar import DAYS_PER_MONTH, DAYS_PER_YEAR, month_of_day
from sim.id_sets import sorted_unique
from sim.scenario import Region

if TYPE_CHECKING:
    from sim.consumers import RegionalConsumers
    from sim.model import MarketModel

SOURCE_NONE = 0  # never aware (or aware but never a customer: the tag is read at first order)
SOURCE_INITIAL = 1  # aware on day 0
SOURCE_ORGANIC = 2
SOURCE_WOM = 3
SOURCE_MARKETING = 4  # the firm's single marketing budget (the implicit channel)
FIRST_CHANNEL = 5
BASE_SOURCES = ("none", "initial", "organic", "word_of_mouth", "paid:marketing")
#: acquisition KPIs (new customers by source kind) in the order of :func:`source_kinds`
SOURCE_KPIS = ("new_customers_paid", "new_customers_wom", "new_customers_organic")


def source_names(region: Region) -> tuple[str, ...]:
    """Name of every source code of ``region`` (``paid:<channel>`` for its channels)."""
    return BASE_SOURCES + tuple(f"paid:{c}" for c in region.acquisition.channels)


def source_kinds(n_codes: int) -> np.ndarray:
    """Index into :data:`SOURCE_KPIS` per source code: 0 paid, 1 word of mouth, 2 organic."""
    kinds = np.zeros(n_codes, dtype=np.int64)
    kinds[[SOURCE_NONE, SOURCE_INITIAL, SOURCE_ORGANIC]] = 2
    kinds[SOURCE_WOM] = 1
    return kinds


# --------------------------------------------------------------------------- closed forms
def adstock_step(adstock: np.ndarray, spend: np.ndarray, decay: np.ndarray) -> np.ndarray:
    """Today's adstock: today's spend plus ``decay`` x yesterday's adstock."""
    return spend + decay * adstock


def steady_adstock(spend_daily: float, decay: float) -> float:
    """Adstock of a constant daily spend in the long run: spend / (1 - decay)."""
    return spend_daily / (1.0 - decay)


def hill(adstock: np.ndarray, max_p: np.ndarray, half: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """Saturating response ``max_p x A^s / (A^s + K^s)`` (0 at A = 0, max_p / 2 at A = K)."""
    a = np.maximum(np.asarray(adstock, dtype=float), 0.0)
    ratio = (a / half) ** shape
    return max_p * ratio / (1.0 + ratio)


# --------------------------------------------------------------------------- paid channels
class Marketing:
    """The paid channels of every region: daily spend (booked), adstock and hazard."""

    def __init__(self, model: MarketModel):
        self.model = model
        regions = model.scenario.regions
        self.budgets = [_budgets(r) for r in regions]  # (channels, 12) per region
        self.decay = [np.array([c.adstock_decay_daily for c in _ch(r)]) for r in regions]
        self.max_p = [np.array([c.max_p_daily for c in _ch(r)]) for r in regions]
        self.half = [np.array([c.half_saturation_daily_base for c in _ch(r)]) for r in regions]
        self.shape = [np.array([c.hill_shape for c in _ch(r)]) for r in regions]
        # a marketing_cost event (sim.events) multiplies ``half``: spend buys 1/x the adstock
        self.adstock = [np.zeros(len(b)) for b in self.budgets]
        self.hazard = [np.zeros(len(b)) for b in self.budgets]
        self.spend_total = [np.zeros(len(b)) for b in self.budgets]  # per channel, whole run
        self.any = any(len(b) for b in self.budgets)
        self.spend_today = np.zeros(len(regions))  # all channels, per region
        self.rule = BudgetRules(model, self.budgets)  # budgets x a factor (sim.budget_rule)

    def book(self, d: int, entered: np.ndarray) -> None:
        """Spend day ``d``'s budgets (none before entry or while cash and credit are out),
        book them as marketing and update adstock and hazards."""
        if not self.any:
            return
        firm = self.model.firm
        month = int(month_of_day(d))
        self.rule.review(d)
        for r, budget in enumerate(self.budgets):
            if not len(budget):
                continue
            spend = budget[:, month] / DAYS_PER_MONTH
            if self.rule.active[r]:
                spend = spend * self.rule.factor[r]
            if not entered[r] or firm.treasury.stopped:
                spend = np.zeros_like(spend)
            firm.book("marketing_base", r, float(spend.sum()))
            self.spend_today[r] = float(spend.sum())
            self.spend_total[r] += spend
            self.adstock[r] = adstock_step(self.adstock[r], spend, self.decay[r])
            self.hazard[r] = hill(self.adstock[r], self.max_p[r], self.half[r], self.shape[r])

    def hazards(self, r: int) -> np.ndarray | None:
        """Innovation hazard per channel of region ``r`` today (None without channels)."""
        return self.hazard[r] if len(self.budgets[r]) else None


def _ch(region: Region) -> list:
    return list(region.acquisition.channels.values())


def _budgets(region: Region) -> np.ndarray:
    rows = [
        b if isinstance(b, list) else [b] * 12 for b in (c.budget_monthly_base for c in _ch(region))
    ]
    return np.array(rows, dtype=float).reshape(len(rows), 12)


# --------------------------------------------------------------------------- consumers' side
class Pool:
    """A set of consumer indices with O(k) random removal (swap with the tail)."""

    def __init__(self) -> None:
        self.items = np.empty(0, dtype=np.int32)
        self.size = 0

    def add(self, idx: np.ndarray) -> None:
        need = self.size + len(idx)
        if need > len(self.items):
            grown = np.empty(max(need, 2 * len(self.items), 1024), dtype=np.int32)
            grown[: self.size] = self.items[: self.size]
            self.items = grown
        self.items[self.size : need] = idx
        self.size = need

    def take(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """Remove and return ``k`` members chosen uniformly at random.

        The picks of one swap-with-the-tail loop (pick ``j_i`` from the first
        ``size - i`` members, move the last live member into its place), resolved at once:
        see :func:`_swap_removal`."""
        if not k:
            return np.empty(0, dtype=np.int32)
        # pick i from the first size - i members: the k bounded draws in one call are the
        # draws of one call per pick (numpy bounds each element alike; a test holds it)
        picks = rng.integers(np.arange(self.size, self.size - k, -1))
        out, kept_at, kept = _swap_removal(self.items, self.size, picks)
        self.size -= k
        self.items[kept_at] = kept
        return out


def _swap_removal(
    items: np.ndarray, size: int, picks: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What ``for i, j in enumerate(picks): out[i] = items[j]; items[j] = items[size - 1 - i]``
    returns, and the live positions it rewrites with their final values, without the loop.

    Step ``t`` writes ``moved[t]`` (the value at the last live position ``L_t = size - 1 - t``)
    to position ``j_t``. The value at ``p`` before step ``i`` is ``moved[t]`` of the last
    ``t < i`` with ``j_t = p``, else ``items[p]``: ``out[i]`` is that value at ``j_i`` and
    ``moved[t]`` that value at ``L_t``. Each refers to an earlier step or to ``items``, so
    pointer doubling resolves every chain to the item it started from. Sorted by position,
    steps ascending within one (one key each), a write's predecessor is the last earlier
    write to its position; ``L_t`` is written only before or at step ``t`` (a pick at step
    ``t'`` is below ``size - t'``), so the last write to it before ``t`` is its last write, or
    the one before when that is step ``t`` itself."""
    k = len(picks)
    steps = np.arange(k, dtype=np.int64)
    bits = max(k - 1, 1).bit_length()  # (position, step) in one int64 key: a plain sort
    key = (picks << bits) | steps
    key.sort()
    order, at = key & ((1 << bits) - 1), key >> bits
    cont = at[1:] == at[:-1]  # order[i + 1] writes where order[i] wrote before it
    before = np.full(k, -1, dtype=np.int64)  # the last earlier write to one's position
    before[order[1:][cont]] = order[:-1][cont]
    is_last = np.ones(k, dtype=bool)
    is_last[:-1] = ~cont
    last_step, last_at = order[is_last], at[is_last]  # each written position's last write
    ref = np.full(k, -1, dtype=np.int64)  # moved[t] = moved[ref[t]], or items[L_t]
    tail = last_at >= size - k  # positions some L_t names
    t = size - 1 - last_at[tail]
    w = last_step[tail]
    ref[t] = np.where(w == t, before.take(w), w)
    root = np.where(ref >= 0, ref, steps)
    while True:
        nxt = root.take(root)
        if np.array_equal(nxt, root):
            break
        root = nxt
    moved = items.take(size - 1 - root)
    out = np.where(before >= 0, moved.take(np.maximum(before, 0)), items.take(picks))
    out = out.astype(np.int32)
    live = ~tail  # each live position's final value: its last write's
    return out, last_at[live], moved.take(last_step[live])


class ConsumerAcquisition:
    """Per-region acquisition state kept beside the consumer arrays."""

    def __init__(self, region: Region, capacity: int, rng: np.random.Generator | None):
        self.spec = region.acquisition
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.source = np.zeros(capacity, dtype=np.uint8)
        self.n_codes = FIRST_CHANNEL + len(self.spec.channels)
        self.kind = source_kinds(self.n_codes)
        self.new_by_source = np.zeros(self.n_codes, dtype=np.int64)  # whole run
        self.today = np.zeros(len(SOURCE_KPIS))
        self.forgotten = Pool()  # forgotten consumers of the initial population
        #: source code of each hazard part :meth:`attribute` draws from (channels last)
        self._codes = np.array(
            [SOURCE_ORGANIC, SOURCE_WOM, SOURCE_MARKETING, *range(FIRST_CHANNEL, self.n_codes)],
            dtype=np.uint8,
        )

    def wom_q(self, pop: RegionalConsumers, w: float, q: float) -> float:
        """q such that ``q x aware / N`` is word of mouth from our alive customers."""
        satisfied = pop.n_alive_customers - pop.n_dissatisfied
        effective = max(0.0, satisfied - w * pop.n_dissatisfied)
        return q * effective / pop.n_aware if pop.n_aware else 0.0

    def attribute(self, idx: np.ndarray, p_base: float, legacy: float, paid, wom: float) -> None:
        """Tag newly aware ``idx`` with a source drawn in proportion to the hazard parts."""
        if not len(idx):
            return
        parts = [p_base, wom, legacy, *([] if paid is None else paid.tolist())]
        weights = np.maximum(np.array(parts, dtype=float), 0.0)
        total = weights.sum()
        if total <= 0:
            self.source[idx] = SOURCE_ORGANIC
            return
        pick = choice_by_weight(self.rng, weights / total, len(idx))
        self.source[idx] = self._codes[pick]

    def count_new(self, new: np.ndarray) -> None:
        """Count new customers by source (today's KPIs and the run's totals)."""
        if not len(new):
            return
        counts = np.bincount(self.source[new], minlength=self.n_codes)
        self.new_by_source += counts
        self.today += np.bincount(self.kind, weights=counts, minlength=len(SOURCE_KPIS))

    def take_flows(self) -> dict[str, float]:
        """Today's new customers by source kind, then start a new day."""
        out = {k: float(v) for k, v in zip(SOURCE_KPIS, self.today, strict=True)}
        self.today[:] = 0.0
        return out

    def forget(self, pop: RegionalConsumers) -> int:
        """Today's forgetting; returns how many aware non-customers forgot us."""
        eligible = pop.n_aware - pop.n_customers
        f = self.spec.forgetting_daily
        if f <= 0 or eligible <= 0:
            return 0
        k = int(self.rng.binomial(eligible, f))
        if not k:
            return 0
        chosen: list[np.ndarray] = []
        found = 0
        while found < k:
            m = int((k - found) * pop.n / eligible * 1.3) + 16
            drawn = self.rng.integers(0, pop.n, size=m)  # int64 indexes without a cast
            ok = pop.aware.take(drawn)
            ok &= ~pop.customer.take(drawn)
            cand = drawn.compress(ok).astype(np.int32)
            # distinct and not chosen before (and sorted: re-shuffle below); nothing is
            # chosen before the first pass, where setdiff1d comes down to unique
            if found:
                cand = np.setdiff1d(cand, np.concatenate(chosen))
            else:
                cand = sorted_unique(cand)
            cand = self.rng.permutation(cand)[: k - found]
            chosen.append(cand)
            found += len(cand)
        idx = chosen[0] if len(chosen) == 1 else np.concatenate(chosen)
        pop.aware[idx] = False
        self.source[idx] = SOURCE_NONE
        initial = idx[idx < pop.n_initial]
        self.forgotten.add(initial)
        return k

    def take_initial(self, pop: RegionalConsumers, k: int) -> np.ndarray:
        """``k`` newly aware consumers of the initial population: from the never-aware (the
        next of the fixed permutation) and the forgotten, in proportion to their numbers."""
        fresh = pop.n_initial - pop._aware_initial
        from_pool = 0
        if self.forgotten.size:
            from_pool = int(self.rng.hypergeometric(self.forgotten.size, fresh, k))
        new = pop._awareness_order[pop._aware_initial : pop._aware_initial + k - from_pool]
        pop._aware_initial += k - from_pool
        if from_pool:
            new = np.concatenate([new, self.forgotten.take(self.rng, from_pool)])
        return new


def choice_by_weight(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """``rng.choice(len(p), size=size, p=p)`` for valid probabilities ``p``, bit for bit and
    drawing the same uniforms (numpy's own steps: the cumulative sum normalised by its last
    value, one ``random`` per pick, a right-sided search) without its argument checks
    (about 50 us a call; ``tests/test_acquisition.py`` holds it to ``rng.choice``)."""
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(size), side="right")


# --------------------------------------------------------------------------- market growth
class GrowthBook:
    """Purchase occasions per region and day: the year-over-year market-growth KPI."""

    def __init__(self, n_regions: int, horizon_days: int):
        self.occasions = np.zeros((n_regions, horizon_days))

    def add(self, d: int, r: int, occasions: float) -> None:
        self.occasions[r, d] = occasions

    def yoy(self, d: int, r: int | None = None) -> float:
        """Occasions over the last 365 days / the 365 before - 1, in region ``r`` (None: all
        regions); NaN before day 729 (two full years) or with no occasion in the first."""
        year = int(DAYS_PER_YEAR)
        if d < 2 * year - 1:
            return float("nan")
        rows = self.occasions if r is None else self.occasions[r : r + 1]
        before = rows[:, d + 1 - 2 * year : d + 1 - year].sum()
        return float(rows[:, d + 1 - year : d + 1].sum() / before - 1.0) if before else float("nan")


# --------------------------------------------------------------------------- reporting
def order_sources(model: MarketModel, region: np.ndarray, consumer: np.ndarray) -> np.ndarray:
    """Acquisition source name of each order's customer (``paid:<channel>``, ...)."""
    out = np.empty(len(region), dtype=object)
    for r, pop in enumerate(model.consumers):
        mine = region == r
        if mine.any():
            names = np.array(source_names(pop.spec), dtype=object)
            out[mine] = names[pop.acq.source[consumer[mine]]]
    return out


def acquisition_table(model: MarketModel) -> list[dict[str, float | str]]:
    """New customers and spend per region and source over the run so far, with each paid
    source's CAC (spend / customers it acquired)."""
    rows: list[dict[str, float | str]] = []
    spent = model.observer.history.marketing_total  # the single budget and every channel
    for r, pop in enumerate(model.consumers):
        spend = np.zeros(pop.acq.n_codes)
        spend[FIRST_CHANNEL:] = model.marketing.spend_total[r]
        spend[SOURCE_MARKETING] = max(0.0, spent[r] - spend[FIRST_CHANNEL:].sum())
        for code, name in enumerate(source_names(pop.spec)):
            customers = float(pop.acq.new_by_source[code])
            if code == SOURCE_NONE or (
                code >= SOURCE_MARKETING and not spend[code] and not customers
            ):
                continue
            paid = code >= SOURCE_MARKETING
            rows.append(
                {
                    "region": model.region_ids[r],
                    "source": name,
                    "new_customers": customers,
                    "spend_base": float(spend[code]) if paid else 0.0,
                    "cac_base": float(spend[code] / customers)
                    if paid and customers
                    else float("nan"),
                }
            )
    return rows
