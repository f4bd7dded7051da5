"""Built-in pricing strategies.

Every strategy returns list prices in local currency (before duty and VAT) for every product
in every region, finite and > 0, and takes ``fx_pass_through``: the share of the exchange
rate's move since the reference rate that is passed into local prices.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from sim.contract import MarketView, PricingDecision, RegionView
from sim.exact_dot import dot
from strategies._common import (
    FX_PASS_THROUGH,
    RunState,
    base_to_local,
    category_of,
    competitor_stats,
    effective_fx,
    is_cross_border,
    list_price_for,
)
from strategies.base import PricingStrategy
from strategies.nested_markup import nest_prices
from strategies.params import Param, region_value
from strategies.registry import register

# per-region parameters: one value for every region, or a mapping region -> value
_MARKUP = Param(
    "markup", "float", 0.5, low=0.0, high=5.0, help="margin over landed cost", per_region=True
)
_INDEX = Param(
    "index",
    "float",
    0.95,
    low=0.5,
    high=1.5,
    help="our price / comparable rival price",
    per_region=True,
)
_TARGET_MARKUP = Param(
    "target_markup",
    "float",
    0.6,
    low=0.0,
    high=5.0,
    help="markup after the ramp",
    per_region=True,
)


def _markup_order(
    values: Mapping[str, Any], low: str, high: str, *middle: str
) -> list[tuple[str, str]]:
    """Problems unless ``values[low] <= values[m] <= values[high]`` for each middle name."""
    problems = []
    if values[low] > values[high]:
        problems.append((f"params.{low}", f"must be <= {high} ({values[high]:g})"))
    for m in middle:
        if not values[low] <= values[m] <= values[high]:
            problems.append(
                (f"params.{m}", f"must lie in [{low}, {high}] = [{values[low]}, {values[high]}]")
            )
    return problems


@register
class CostPlus(PricingStrategy):
    """Cost-plus: price = landed cost x (1 + markup), converted with FX pass-through.

    The business rule of most first-time cross-border sellers: know your landed cost
    (product, freight, expected duty) and add a fixed margin. ``markup`` may differ per
    region (a mapping region -> markup).
    """

    name: ClassVar[str] = "cost_plus"
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "markup",
            "float",
            0.5,
            low=0.0,
            high=5.0,
            help="margin over landed cost",
            per_region=True,
        ),
        FX_PASS_THROUGH,
    )

    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        prices = {
            rid: base_to_local(
                r,
                r.landed_cost_base * (1.0 + region_value(self.values, _MARKUP, rid)),
                self.fx_pass_through,
            )
            for rid, r in view.regions.items()
        }
        return PricingDecision(prices)


#: the smallest share of list-price revenue a floor assumes is kept after refunds: a guard
#: for windows whose sales stopped while refunds of earlier sales still arrive (refunds are
#: booked on delivery, days after the sale); no domain figure: shares refunded stay ~5-15%
_MIN_KEPT_SHARE = 0.5


def cost_floor_base(region: RegionView, min_margin: float) -> np.ndarray:
    """Lowest list price per product (base currency at the pricing rate) that earns
    ``min_margin`` over the variable cost the firm books per unit sold in ``region``.

    From the firm's own ledger over the recent window (``region.books_recent``) with ``U``
    units sold: the variable cost booked beyond the landed costs of those units, ``extra =
    (COGS + freight - shipment fees - sum(landed x units)) / U`` (e.g. return-to-origin
    freight of refused parcels; not below 0), and the share of list-price revenue kept after
    refunds, ``kept = 1 - refunds / (revenue - duty)`` (a refund returns the duty too, which
    customs may keep). Floor = (landed cost + extra) x (1 + min_margin) / kept; landed cost
    x (1 + min_margin) before the first sale. The per-shipment fees of the order lanes are
    left out: a cost per departure, not per unit, whose share per unit grows as sales fall,
    so a floor carrying it would rise as its own high price cut sales (a run-away traced in
    docs/validation.md, "competitive_index: the floor over booked costs").
    """
    landed = np.asarray(region.landed_cost_base, dtype=float)
    units = np.asarray(region.units_sold_recent, dtype=float)
    books = region.books_recent
    sold = float(units.sum())
    list_revenue = books.revenue_base - books.duty_base
    if sold <= 0 or list_revenue <= 0:
        return landed * (1.0 + min_margin)
    variable = books.cogs_base + books.freight_base - books.shipment_fees_base
    extra = max(0.0, (variable - float(dot(landed, units))) / sold)
    kept = max(_MIN_KEPT_SHARE, 1.0 - books.refunds_base / list_revenue)
    return (landed + extra) * (1.0 + min_margin) / kept


def relative_cost(view: MarketView, region: RegionView) -> np.ndarray:
    """Per product: landed cost / the mean landed cost of the products in its category.

    One value per product, 1.0 for a category of one; a category's values average 1. Rivals
    quote one price per category, so this places each of our products against the rival
    offer comparable to it (a blender and a robot vacuum are not priced alike).
    """
    landed = np.asarray(region.landed_cost_base, dtype=float)
    cats = category_of(view)
    mean = np.bincount(cats, weights=landed) / np.bincount(cats)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean[cats] > 0, landed / mean[cats], 1.0)


@register
class CompetitiveIndex(PricingStrategy):
    """Competitive index: consumer price = index x the comparable rival price, with a floor.

    Rule: price relative to the market. Rivals quote one price per category and region, so
    the comparable rival price of a product is the category's median competitor price scaled
    by the product's landed cost relative to the category's mean landed cost (a rival's
    dearer item costs more to make, as ours does): a category's prices average ``index`` x
    its median while each product keeps its place in our range. Our landed consumer price
    (duty and VAT included) is set to ``index`` times that reference; the list price never
    falls below the floor :func:`cost_floor_base` (the
    variable cost per unit the firm books there, x (1 + min_margin), grossed up for the share
    of revenue it refunds). Where no competitor sells the category, cost-plus with
    ``fallback_markup`` applies. ``index`` may differ per region ("10% under the incumbent in
    Indonesia": ``index: {ID: 0.9}``).
    """

    name: ClassVar[str] = "competitive_index"
    params: ClassVar[tuple[Param, ...]] = (
        _INDEX,
        Param("min_margin", "float", 0.1, low=0.0, high=2.0, help="floor: margin over landed cost"),
        Param(
            "fallback_markup",
            "float",
            0.5,
            low=0.0,
            high=5.0,
            help="markup over landed cost where no competitor sells the category",
        ),
        FX_PASS_THROUGH,
    )

    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        prices = {}
        for rid, r in view.regions.items():
            fx = effective_fx(r, self.fx_pass_through)
            landed = np.asarray(r.landed_cost_base, dtype=float) * fx
            reference = competitor_stats(view, r)["median"] * relative_cost(view, r)
            index = region_value(self.values, _INDEX, rid)
            target = list_price_for(r, index * np.nan_to_num(reference, nan=1.0))
            floor = cost_floor_base(r, self.min_margin) * fx
            indexed = np.maximum(target, floor)
            prices[rid] = np.where(
                np.isnan(reference), landed * (1.0 + self.fallback_markup), indexed
            )
        return PricingDecision(prices)


@register
class Penetration(PricingStrategy):
    """Penetration: a launch discount on each new listing that ramps to a target markup.

    Rule: buy market share at launch, then restore margin. A product listed ``a`` days ago
    sells at landed cost x (1 + target_markup) x (1 - launch_discount x max(0, 1 - a /
    ramp_days)); products not listed are priced as if launched today. ``target_markup`` may
    differ per region (a mapping region -> markup, as cost-plus's ``markup``).
    """

    name: ClassVar[str] = "penetration"
    params: ClassVar[tuple[Param, ...]] = (
        Param("launch_discount", "float", 0.3, low=0.0, high=0.9, help="discount at launch"),
        _TARGET_MARKUP,
        Param("ramp_days", "int", 60, low=1, high=365, help="days from launch to full price"),
        FX_PASS_THROUGH,
    )

    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        prices = {}
        for rid, r in view.regions.items():
            since = np.asarray(r.listed_since_day)
            age = np.where(since >= 0, view.day - since, 0).astype(float)
            discount = self.launch_discount * np.clip(1.0 - age / self.ramp_days, 0.0, 1.0)
            full = r.landed_cost_base * (1.0 + region_value(self.values, _TARGET_MARKUP, rid))
            prices[rid] = base_to_local(r, full * (1.0 - discount), self.fx_pass_through)
        return PricingDecision(prices)


@register
class DynamicPricing(PricingStrategy):
    """Dynamic: demand- and inventory-driven repricing around a base markup, defending value.

    Rule, per product at each decision (multiplier m on landed cost x (1 + base_markup)):
    raise by ``step`` when days of cover (inventory / recent daily units) is below
    ``short_cover_days`` or sell-through (units / (units + inventory) over the recent
    window) is above ``target_sell_through``; promote (lower by ``step``) when turnover is
    low (cover above ``long_cover_days`` after a full window listed); when a competitor in
    the category cut its price since we last looked, give a limited matching discount
    (``match_share`` of the cut) but never go below landed cost x (1 + min_markup). The
    change per decision is at most ``max_change``; prices stay within [min_markup,
    max_markup] over landed cost. Regions without a local warehouse share the home stock,
    so their cover uses their pooled sales.
    """

    name: ClassVar[str] = "dynamic"
    params: ClassVar[tuple[Param, ...]] = (
        Param("base_markup", "float", 0.5, low=0.0, high=5.0, help="starting markup"),
        Param("min_markup", "float", 0.1, low=0.0, high=2.0, help="value floor over landed cost"),
        Param("max_markup", "float", 2.0, low=0.1, high=10.0, help="ceiling over landed cost"),
        Param("short_cover_days", "float", 14.0, low=1.0, high=180.0, help="raise below this"),
        Param("long_cover_days", "float", 90.0, low=2.0, high=730.0, help="promote above this"),
        Param(
            "target_sell_through",
            "float",
            0.6,
            low=0.05,
            high=1.0,
            help="raise when window sell-through is above this",
        ),
        Param("step", "float", 0.05, low=0.0, high=0.5, help="relative move per signal"),
        Param("max_change", "float", 0.1, low=0.01, high=0.5, help="max move per decision"),
        Param("match_share", "float", 0.5, low=0.0, high=1.0, help="share of a rival cut matched"),
        FX_PASS_THROUGH,
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._state = RunState()

    @classmethod
    def validate_values(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = _markup_order(values, "min_markup", "max_markup", "base_markup")
        if values["short_cover_days"] >= values["long_cover_days"]:
            problems.append(("params.short_cover_days", "must be < long_cover_days"))
        return problems

    def _daily_units(self, view: MarketView) -> dict[str, np.ndarray]:
        """Recent daily units per region, pooled over regions served from the home stock."""
        window = max(1, view.recent_window_days)
        own = {
            rid: np.asarray(r.units_sold_recent, float) / window for rid, r in view.regions.items()
        }
        home = [rid for rid, r in view.regions.items() if is_cross_border(r)]
        pooled = sum((own[rid] for rid in home), np.zeros(len(view.product_ids)))
        return {rid: pooled if rid in home else own[rid] for rid in view.regions}

    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        state = self._state.begin(view)
        mult: dict[str, np.ndarray] = state.setdefault("multiplier", {})
        seen: dict[str, np.ndarray] = state.setdefault("competitor_prices", {})
        daily = self._daily_units(view)
        lo_m = (1.0 + self.min_markup) / (1.0 + self.base_markup)
        hi_m = (1.0 + self.max_markup) / (1.0 + self.base_markup)
        prices = {}
        for rid, r in view.regions.items():
            m0 = mult.get(rid, np.ones(len(view.product_ids)))
            since = np.asarray(r.listed_since_day)
            age = np.where(since >= 0, view.day - since, 0)
            inv = np.asarray(r.inventory_units, dtype=float)
            units = daily[rid] * max(1, view.recent_window_days)
            with np.errstate(divide="ignore", invalid="ignore"):
                cover = np.where(daily[rid] > 0, inv / daily[rid], np.inf)
                sell_through = np.where(units + inv > 0, units / (units + inv), 0.0)
            listed = np.asarray(r.listed, dtype=bool) & (age > 0)
            up = listed & (
                (cover < self.short_cover_days) | (sell_through > self.target_sell_through)
            )
            slow = listed & ~up & (age >= view.recent_window_days) & (cover > self.long_cover_days)
            m = m0 * (1.0 + self.step * up - self.step * slow)
            cut = self._new_cut(view, r, seen.get(rid))
            m = m * (1.0 + self.match_share * cut)
            m = np.clip(m, m0 * (1.0 - self.max_change), m0 * (1.0 + self.max_change))
            m = np.clip(m, lo_m, hi_m)
            mult[rid] = m
            seen[rid] = np.array(r.competitor_price_local, dtype=float)
            base = r.landed_cost_base * (1.0 + self.base_markup) * m
            prices[rid] = base_to_local(r, base, self.fx_pass_through)
        return PricingDecision(prices)

    @staticmethod
    def _new_cut(view: MarketView, r: RegionView, seen: np.ndarray | None) -> np.ndarray:
        """Relative competitor cut per product (<= 0), counting each cut once."""
        if seen is None or len(seen) != len(r.competitor_price_local):
            return competitor_stats(view, r)["cut"]
        current = np.asarray(r.competitor_price_local, dtype=float)
        cats = np.array(r.competitor_categories, dtype=object)
        cut = np.zeros(len(view.product_ids))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(seen > 0, current / seen - 1.0, 0.0)
        for j, cat in enumerate(view.product_categories):
            sel = cats == cat
            if sel.any():
                cut[j] = min(0.0, float(rel[sel].min()))
        return cut


@register
class LogitOptimal(PricingStrategy):
    """Logit best response of a multi-product firm: p = c + 1 / (alpha (1 - S)) per nest.

    Rule: estimate the price sensitivity alpha_hat from the firm's own data only (daily
    prices, units and listing views of the view's recent window, remembered over the last
    ``memory_days``): cells of (product, price level) give ln(units / views), regressed on
    price / reference FX with a fixed effect per product (weighted least squares). When at
    least ``min_cells`` cells, price variation and a slope with t-statistic >= ``min_t``
    are available, our listed products of each category (our seller nest, dissimilarity
    ``seller_nest_lambda`` of the region's view; 1 = flat logit) get the common markup
    ``1 / (alpha (1 - S))`` that solves the multi-product first-order condition, with
    ``S`` the nest's share moved along the nested-logit curve as our prices change (rivals'
    observed prices held fixed) and ``alpha`` the utility's coefficient recovered from the
    within-nest slope (``strategies.nested_markup``: a product-by-product rule ignores the
    sales our other products win back, cannibalisation); otherwise the prior cost-plus
    markup applies. A small random exploration (log-normal, ``explore`` sd) keeps the slope
    identifiable. Prices stay within [min_markup, max_markup] over landed cost.
    """

    name: ClassVar[str] = "logit_optimal"
    params: ClassVar[tuple[Param, ...]] = (
        Param("prior_markup", "float", 0.5, low=0.0, high=5.0, help="markup until estimable"),
        Param("explore", "float", 0.05, low=0.0, high=0.3, help="sd of log price perturbation"),
        Param("min_cells", "int", 6, low=3, high=500, help="(product, price) cells needed"),
        Param("min_t", "float", 2.0, low=0.0, high=10.0, help="t-statistic needed for the slope"),
        Param("memory_days", "int", 84, low=7, high=730, help="days of own history used"),
        Param("min_markup", "float", 0.05, low=0.0, high=2.0, help="floor over landed cost"),
        Param("max_markup", "float", 3.0, low=0.1, high=10.0, help="ceiling over landed cost"),
        FX_PASS_THROUGH,
    )

    @classmethod
    def validate_values(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        return _markup_order(values, "min_markup", "max_markup", "prior_markup")

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._state = RunState()

    def history(self, view: MarketView) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Our observed (prices, units, views) per region: day rows, newest first, covering
        the last ``memory_days`` days (the view's recent window plus what was remembered from
        earlier views of this run)."""
        state = self._state.begin(view)
        last = state.get("day")
        store: dict[str, tuple[np.ndarray, ...]] = state.setdefault("rows", {})
        out = {}
        for rid, r in view.regions.items():
            rows = (
                np.asarray(r.price_history_local, dtype=float),
                np.asarray(r.units_history, dtype=float),
                np.asarray(r.views_history, dtype=float),
            )
            w = rows[0].shape[0] if rows[0].ndim == 2 else 0
            old = store.get(rid)
            if w and last is not None and old is not None and old[0].shape[1:] == rows[0].shape[1:]:
                # remembered rows cover days last-1, last-2, ...; keep those older than the
                # window (days < day - w)
                start = max(0, w - (view.day - last))
                rows = tuple(
                    np.concatenate([new, kept[start:]]) for new, kept in zip(rows, old, strict=True)
                )
            rows = tuple(a[: self.memory_days] for a in rows)
            store[rid] = rows
            out[rid] = rows
        state["day"] = view.day
        return out

    def estimate(
        self, prices: np.ndarray, units: np.ndarray, views: np.ndarray, fx_reference: float
    ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """``(alpha_hat, s_obs, p_obs)`` from day rows (newest first) or None.

        ``alpha_hat`` is per base-currency unit of list price at the reference rate;
        ``s_obs`` / ``p_obs`` are each product's conversion and price in its newest cell
        (NaN for products never viewed).
        """
        prices = np.asarray(prices, dtype=float)
        units = np.asarray(units, dtype=float)
        views = np.asarray(views, dtype=float)
        if prices.ndim != 2 or prices.shape[0] == 0:
            return None
        n_p = prices.shape[1]
        s_obs, p_obs = np.full(n_p, np.nan), np.full(n_p, np.nan)
        x_all = prices / fx_reference
        xs, ys, ws, groups = [], [], [], []
        for j in range(n_p):
            ok = (views[:, j] > 0) & (prices[:, j] > 0)
            if not ok.any():
                continue
            level = np.round(x_all[ok, j], 6)
            u, v = units[ok, j], views[ok, j]
            newest = level[0]  # rows are newest first
            levels, inverse = np.unique(level, return_inverse=True)
            cu = np.bincount(inverse, weights=u)
            cv = np.bincount(inverse, weights=v)
            k_new = int(np.flatnonzero(levels == newest)[0])
            s_obs[j] = (cu[k_new] + 0.5) / (cv[k_new] + 1.0)
            p_obs[j] = newest
            xs.append(levels)
            ys.append(np.log((cu + 0.5) / (cv + 1.0)))
            ws.append(cu + 0.5)
            groups.append(np.full(len(levels), j))
        if not xs:
            return None
        x, y, w = np.concatenate(xs), np.concatenate(ys), np.concatenate(ws)
        g = np.concatenate(groups)
        n_groups = len(xs)
        if len(x) < max(self.min_cells, n_groups + 2):
            return None
        # within-product (fixed-effect) weighted demeaning
        xd, yd = x.copy(), y.copy()
        for j in np.unique(g):
            sel = g == j
            xd[sel] -= np.average(x[sel], weights=w[sel])
            yd[sel] -= np.average(y[sel], weights=w[sel])
        sxx = float(np.sum(w * xd * xd))
        if sxx <= 1e-12 * max(1.0, float(np.sum(w * x * x))):
            return None
        slope = float(np.sum(w * xd * yd)) / sxx
        resid = yd - slope * xd
        dof = len(x) - n_groups - 1
        sigma2 = float(np.sum(w * resid * resid)) / dof
        se = np.sqrt(max(sigma2, 1e-12) / sxx)
        alpha = -slope
        if not np.isfinite(alpha) or alpha <= 0 or alpha / se < self.min_t:
            return None
        return alpha, s_obs, p_obs

    def decide(self, view: MarketView, rng: np.random.Generator) -> PricingDecision:
        history = self.history(view)
        categories = np.unique(view.product_categories, return_inverse=True)[1]
        prices = {}
        for rid, r in view.regions.items():
            fx = effective_fx(r, self.fx_pass_through)
            ref = r.fx_reference_local_per_base
            landed = np.asarray(r.landed_cost_base, dtype=float)
            price = landed * (1.0 + self.prior_markup) * fx
            est = self.estimate(*history[rid], ref)
            if est is not None:
                alpha, s_obs, p_obs = est
                cost_ref = landed * fx / ref  # our cost in reference-rate base units
                listed = np.asarray(r.listed, dtype=bool)
                nests = np.where(listed, categories, -1)  # our seller nest per category
                s_obs = np.where(listed, s_obs, np.nan)
                lam = r.seller_nest_lambda
                best = nest_prices(cost_ref, alpha, s_obs, p_obs, nests, lam) * ref
                price = np.where(np.isfinite(best), best, price)
            noise = np.clip(rng.standard_normal(len(price)), -2.0, 2.0)
            price = price * np.exp(self.explore * noise)
            price = np.clip(
                price, landed * fx * (1 + self.min_markup), landed * fx * (1 + self.max_markup)
            )
            prices[rid] = price
        return PricingDecision(prices)
