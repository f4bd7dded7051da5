"""Built-in product-selection strategies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from sim.contract import MarketView, RegionView, SelectionDecision, StrategyContext
from sim.errors import StrategyError
from strategies._common import (
    RunState,
    competitor_stats,
    consumer_price,
    list_price_for,
    taboo_mask,
)
from strategies.base import SelectionStrategy
from strategies.category_value import (
    category_first,
    category_traffic,
    covered_by_others,
    limit_to_replacements,
    listing_value_base,
    spare_last_listing,
    spare_stocked,
    unit_margin_base,
)
from strategies.params import Param
from strategies.registry import create, get, register

_EPS = 1e-3


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the ``k`` highest finite scores (ties: earlier product first)."""
    order = np.argsort(-scores, kind="stable")
    mask = np.zeros(len(scores), dtype=bool)
    chosen = order[: min(k, len(order))]
    mask[chosen[np.isfinite(scores[chosen])]] = True
    return mask


def reference_price_base(view: MarketView, r: RegionView) -> np.ndarray:
    """Expected list price per product in base currency: the median competitor consumer
    price of its category net of duty and VAT, or our current list price where no
    competitor sells the category."""
    median = competitor_stats(view, r)["median"]
    ours = np.asarray(r.price_local, dtype=float)
    ref_local = np.where(np.isnan(median), ours, list_price_for(r, np.nan_to_num(median)))
    return ref_local / r.fx_local_per_base


def fit_lift(view: MarketView, views: np.ndarray, region_id: str = "") -> np.ndarray | float:
    """Each product's expected conversion in region ``region_id`` relative to the products
    observed so far, from the appeal prior alone: exp(mean + sd^2 / 2) (the prior's mean
    effect on a logit share; the region's prior mean where the scenario sets one) over its
    view-weighted mean among observed products (over all products before any view); 1.0
    when every prior is the same."""
    mean = np.asarray(view.fit_region_mean.get(region_id, view.fit_prior_mean), dtype=float)
    sd = np.asarray(view.fit_prior_sd, dtype=float)
    if not len(mean) or (np.all(mean == mean[0]) and np.all(sd == sd[0])):
        return 1.0
    lift = np.exp(mean + sd**2 / 2)
    seen = views > 0
    base = float(np.average(lift[seen], weights=views[seen])) if seen.any() else lift.mean()
    return lift / base


@register
class AllProducts(SelectionStrategy):
    """List every product in every region (no curation; taboo products included)."""

    name: ClassVar[str] = "all_products"
    params: ClassVar[tuple[Param, ...]] = ()

    def decide(self, view: MarketView, rng: np.random.Generator) -> SelectionDecision:
        n = len(view.product_ids)
        return SelectionDecision({rid: np.ones(n, dtype=bool) for rid in view.regions})


@register
class TopMargin(SelectionStrategy):
    """Top margin: list the k products with the best expected unit margin in each region.

    Rule: expected unit margin = reference price (median competitor price in the category,
    net of duty and VAT; our own price where nobody competes) minus landed cost. The
    best-margin product of every category comes first (a category without our listing
    sells nothing; :func:`strategies.category_value.category_first`), then the others by
    margin, ``k`` in all. Products that are taboo in the region are never listed.
    """

    name: ClassVar[str] = "top_margin"
    params: ClassVar[tuple[Param, ...]] = (
        Param("k", "int", 5, low=1, high=1000, help="products listed per region"),
    )

    def scores(self, view: MarketView, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for rid, r in view.regions.items():
            margin = reference_price_base(view, r) - np.asarray(r.landed_cost_base, dtype=float)
            out[rid] = np.where(taboo_mask(view, r), -np.inf, margin)
        return out

    def decide(self, view: MarketView, rng: np.random.Generator) -> SelectionDecision:
        return SelectionDecision(
            {
                rid: category_first(view, view.regions[rid], s, None, self.k)
                for rid, s in self.scores(view, rng).items()
            }
        )


@register
class ThreeFactor(SelectionStrategy):
    """Three-factor: list by demand heat x competition x margin, every category first.

    Rule: score = heat^w_demand x competition^w_competition x margin^w_margin, where
    heat = smoothed conversion x category traffic, normalised to a maximum of 1: conversion
    is units / views observed since the run began (every listing period of the product in
    the region, remembered after a delisting), shrunk with ``prior_views`` pseudo-views
    towards the region's mean conversion scaled by the product's appeal prior
    (``fit_lift``); so a product never listed is scored on its prior and a launched one on
    its observed sales; traffic is the category's views over the recent window;
    competition = 1 / (1 + n x r) with n the competitor offers in the category and r our
    landed consumer cost over their median price (many offers priced close to our cost =
    intense price competition);
    margin = (median competitor price - landed cost) / median competitor price, net of
    taxes (our own price without competitors), floored at 0.001. Culturally taboo products
    (product tags meeting the region's taboo tags) are always excluded. A listed product's
    score counts ``1 + keep_bonus`` times (switching pays a new launch).
    Listing (category-aware, :func:`strategies.category_value.category_first`): the
    best-scored product of every category first (a category without our listing sells
    nothing), then further products in score order, at most ``k``: a listed one stays, a new
    one only when its expected margin over ``planning_days`` (its conversion x its category's
    views per day, less the share ``cannibalization`` taken from our listings of the
    category) beats the launch cost plus the launch stock not expected to sell in the window
    (:func:`strategies.category_value.listing_value_base`); before any view every eligible
    product whose prior conversion lift in the region is at least ``min_prior_lift`` of the
    region's mean product (every eligible product when all priors are alike), up to ``k``.
    """

    name: ClassVar[str] = "three_factor"
    params: ClassVar[tuple[Param, ...]] = (
        Param("k", "int", 1000, low=1, high=1000, help="most products listed per region"),
        Param("w_demand", "float", 1.0, low=0.0, high=3.0, help="exponent of demand heat"),
        Param("w_competition", "float", 1.0, low=0.0, high=3.0, help="exponent of competition"),
        Param("w_margin", "float", 1.0, low=0.0, high=3.0, help="exponent of margin"),
        Param(
            "prior_views",
            "float",
            200.0,
            low=0.0,
            high=10000.0,
            help="pseudo-views shrinking conversion to the region mean",
        ),
        Param(
            "keep_bonus",
            "float",
            1.0,
            low=0.0,
            high=10.0,
            help="score bonus of a listed product over candidates (a switch costs a launch)",
        ),
        Param(
            "planning_days",
            "float",
            180.0,
            low=7.0,
            high=3650.0,
            help="days of expected sales a further listing's launch must pay back within",
        ),
        Param(
            "cannibalization",
            "float",
            0.4,
            low=0.0,
            high=1.0,
            help="share of a further listing's units taken from our listings in its category",
        ),
        Param(
            "min_prior_lift",
            "float",
            0.5,
            low=0.0,
            high=10.0,
            help="before any view: least prior conversion lift (vs the region's mean product) "
            "of a further listing",
        ),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._memory: dict[str, Any] = {"day": -1, "seen": {}}

    def observed(self, view: MarketView, rid: str, r: RegionView) -> tuple[np.ndarray, np.ndarray]:
        """Units and views of each product in region ``rid`` since the run began (days
        before the view's day), accumulated from the daily histories of successive views."""
        mem = self._memory
        if view.day < mem["day"]:  # a new run: forget
            mem.update(day=-1, seen={})
        seen = mem["seen"]
        if rid not in seen or seen[rid][2] < view.day:
            zero = np.zeros(len(view.product_ids))
            units, views, upto = seen.get(rid, (zero, zero, 0))
            new_days = min(view.day - upto, len(r.units_history))
            units = units + np.asarray(r.units_history[:new_days], dtype=float).sum(axis=0)
            views = views + np.asarray(r.views_history[:new_days], dtype=float).sum(axis=0)
            seen[rid] = (units, views, view.day)
        mem["day"] = view.day
        return seen[rid][0], seen[rid][1]

    def conversion(self, view: MarketView, r: RegionView) -> np.ndarray:
        """Units per view of each product in region ``r``, observed since the run began and
        shrunk with ``prior_views`` pseudo-views towards the region's mean conversion scaled
        by the product's appeal prior (so a product never listed is judged on its prior)."""
        units, views = self.observed(view, r.region_id, r)
        prior = units.sum() / views.sum() if views.sum() > 0 else 1.0
        prior = prior * fit_lift(view, views, r.region_id)
        if self.prior_views == 0:
            return np.where(views > 0, units / np.maximum(views, 1.0), prior)
        return (units + self.prior_views * prior) / (views + self.prior_views)

    def factors(self, view: MarketView, r: RegionView) -> dict[str, np.ndarray]:
        """The three factors per product in region ``r`` (each in (0, 1])."""
        # demand heat: smoothed conversion x category traffic
        traffic = category_traffic(view, r)
        heat = self.conversion(view, r) * (1.0 if traffic is None else traffic)
        heat = np.maximum(heat / heat.max(), _EPS) if heat.max() > 0 else np.ones(len(heat))
        # competition intensity
        stats = competitor_stats(view, r)
        landed = np.asarray(r.landed_cost_base, dtype=float)
        landed_consumer = consumer_price(r, landed * r.fx_local_per_base)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(stats["n"] > 0, landed_consumer / stats["median"], 0.0)
        competition = 1.0 / (1.0 + stats["n"] * ratio)
        # margin share
        ref = reference_price_base(view, r)
        with np.errstate(divide="ignore", invalid="ignore"):
            margin = np.where(ref > 0, (ref - landed) / ref, 0.0)
        margin = np.clip(margin, _EPS, 1.0)
        return {"heat": heat, "competition": competition, "margin": margin}

    def scores(self, view: MarketView, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for rid, r in view.regions.items():
            f = self.factors(view, r)
            score = (
                f["heat"] ** self.w_demand
                * f["competition"] ** self.w_competition
                * f["margin"] ** self.w_margin
            )
            out[rid] = np.where(taboo_mask(view, r), -np.inf, score)
        return out

    def decide(self, view: MarketView, rng: np.random.Generator) -> SelectionDecision:
        out = {}
        for rid, score in self.scores(view, rng).items():
            r = view.regions[rid]
            listed = np.asarray(r.listed, dtype=bool)
            kept = np.where(listed, score * (1.0 + self.keep_bonus), score)
            out[rid] = category_first(view, r, kept, self.launch_value(view, rid), self.k)
        return SelectionDecision(out)

    def launch_value(self, view: MarketView, rid: str) -> np.ndarray | None:
        """Expected value of launching each product now in region ``rid`` (base currency;
        :func:`strategies.category_value.listing_value_base`), or before any view the prior
        rule's +-1 (:meth:`prior_value`); None: no evidence, every product may be listed."""
        r = view.regions[rid]
        value = listing_value_base(
            view,
            r,
            self.conversion(view, r),
            unit_margin_base(view, r, reference_price_base(view, r)),
            covered=covered_by_others(view, np.asarray(r.listed, dtype=bool)),
            planning_days=self.planning_days,
            cannibalization=self.cannibalization,
        )
        return self.prior_value(view, rid) if value is None else value

    def prior_value(self, view: MarketView, rid: str) -> np.ndarray | None:
        """Before any view: +1 for a product whose prior conversion lift in region ``rid``
        (:func:`fit_lift`, relative to the region's mean product) is at least
        ``min_prior_lift``, -1 for the others; None (list every eligible product) when every
        prior is the same."""
        lift = fit_lift(view, np.zeros(len(view.product_ids)), rid)
        if np.isscalar(lift):
            return None
        return np.where(np.asarray(lift) >= self.min_prior_lift, 1.0, -1.0)


_WRAPPABLE = ("all_products", "top_margin", "three_factor")


@register
class StopLoss(SelectionStrategy):
    """Stop-loss: delist listings that convert too little after a review window; try the next.

    Rule: the wrapped selection (``choice`` with ``inner_params``) proposes the listings. A
    listing at least ``review_days`` old with at least ``min_views`` views in the recent
    window whose conversion (units / views over the window) is below ``min_conversion`` is
    delisted for the rest of the run, and the best-scored candidate not yet tried (never
    listed in the region, not taboo, worth a launch by the wrapped selection's expected
    launch value where it has one: ``three_factor``) is listed in its place. The last
    listing of a category is never stopped (a category without a listing sells nothing)
    unless the category as a whole loses money (its units x unit margin over the recent
    window is not above ``category_floor_base``, default 0); with ``keep_stocked`` (default)
    neither is a product's last listing in any region while its stock is on hand (delisted
    everywhere, the stock would be written off as dead stock); with ``replace_only``
    (default) no more listings are stopped than there are untried products to replace them,
    the worst converting first (a delisting without a replacement loses the listing's sales
    and saves nothing: its launch is paid and its stock kept). Remembers per region which
    products were tried and which were stopped.
    """

    name: ClassVar[str] = "stop_loss"
    params: ClassVar[tuple[Param, ...]] = (
        Param("choice", "choice", "three_factor", choices=_WRAPPABLE, help="wrapped selection"),
        Param("inner_params", "mapping", {}, help="parameters of the wrapped selection"),
        Param("review_days", "int", 30, low=7, high=365, help="listing age before review"),
        Param("min_conversion", "float", 0.01, low=0.0, high=0.5, help="units per view to survive"),
        Param("min_views", "int", 100, low=0, high=100_000, help="views needed to judge"),
        Param(
            "category_floor_base",
            "float",
            0.0,
            low=0.0,
            high=1e9,
            help="recent margin (base) a category must beat for its last listing to be kept",
        ),
        Param(
            "keep_stocked",
            "bool",
            True,
            help="never delist a product's last listing while its stock is on hand",
        ),
        Param(
            "replace_only",
            "bool",
            True,
            help="delist a failing listing only when an untried product can replace it",
        ),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.inner: SelectionStrategy = create("selection", self.choice, self.inner_params)  # type: ignore[assignment]
        self._state = RunState()

    @classmethod
    def validate_values(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        try:
            get("selection", values["choice"])(**dict(values["inner_params"]))
        except StrategyError as exc:
            return [(_inner_path(path), msg) for path, msg in exc.problems]
        return []

    @classmethod
    def check(cls, values: Mapping[str, Any], context: StrategyContext) -> list[tuple[str, str]]:
        inner = get("selection", values["choice"])
        inner_values = dict(inner(**dict(values["inner_params"])).values)
        return [(_inner_path(p), m) for p, m in inner.check(inner_values, context)]

    def decide(self, view: MarketView, rng: np.random.Generator) -> SelectionDecision:
        state = self._state.begin(view)
        tried: dict[str, np.ndarray] = state.setdefault("tried", {})
        stopped: dict[str, np.ndarray] = state.setdefault("stopped", {})
        extras: dict[str, np.ndarray] = state.setdefault("replacements", {})
        proposal = self.inner.decide(view, rng).listed
        scores = self.inner.scores(view, rng)
        n = len(view.product_ids)
        none = np.zeros(n, dtype=bool)
        failing = {rid: self.failing(view, r) for rid, r in view.regions.items()}
        if self.keep_stocked:
            failing = spare_stocked(view, failing)
        out = {}
        for rid, r in view.regions.items():
            listed_now = np.asarray(r.listed, dtype=bool)
            was_tried = tried.get(rid, none) | listed_now
            wanted = np.asarray(proposal[rid], dtype=bool)
            margin = unit_margin_base(view, r, reference_price_base(view, r))
            stop = spare_last_listing(
                view,
                r,
                wanted,
                stopped.get(rid, none) | failing[rid],
                margin,
                self.category_floor_base,
            )
            score = np.asarray(scores[rid], dtype=float)
            worth = self.worth_launching(view, rid)
            if self.replace_only:
                free = ~(was_tried | stop | wanted | taboo_mask(view, r)) & np.isfinite(score)
                free &= worth
                previous = stopped.get(rid, none)
                stop = limit_to_replacements(stop, previous, free, r.conversion_recent)
            base = wanted & ~stop
            # replacements listed earlier stay while the proposal still has stopped slots
            extra = extras.get(rid, none) & ~stop & ~base
            need = int(wanted.sum() - base.sum())
            if extra.sum() > need:
                extra = top_k(np.where(extra, score, -np.inf), need)
            elif extra.sum() < need:
                candidates = np.where(
                    was_tried | stop | base | extra | taboo_mask(view, r) | ~worth, -np.inf, score
                )
                extra = extra | top_k(candidates, need - int(extra.sum()))
            listed = base | extra
            tried[rid] = was_tried | listed
            stopped[rid] = stop
            extras[rid] = extra
            out[rid] = listed
        return SelectionDecision(out)

    def worth_launching(self, view: MarketView, rid: str) -> np.ndarray:
        """Per product: whether the wrapped selection would pay a launch in region ``rid``
        (its expected launch value is positive; True for selections without one), so a
        stopped listing is replaced only by a product worth its launch."""
        value_of = getattr(self.inner, "launch_value", None)
        value = None if value_of is None else value_of(view, rid)
        if value is None:
            return np.ones(len(view.product_ids), dtype=bool)
        return np.asarray(value) > 0

    def failing(self, view: MarketView, r: RegionView) -> np.ndarray:
        """Listings in region ``r`` at least ``review_days`` old, with at least ``min_views``
        views in the recent window, converting below ``min_conversion`` there."""
        since = np.asarray(r.listed_since_day)
        age = np.where(since >= 0, view.day - since, -1)
        views = np.asarray(r.views_recent, dtype=float)
        return (
            np.asarray(r.listed, dtype=bool)
            & (age >= self.review_days)
            & (views >= max(self.min_views, 1))
            & (np.asarray(r.conversion_recent) < self.min_conversion)
        )

    def scores(self, view: MarketView, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return self.inner.scores(view, rng)


def _inner_path(path: str) -> str:
    """Map a wrapped strategy's ``params.x`` path to ``params.inner_params.x``."""
    if path.startswith("params."):
        return "params.inner_params." + path[len("params.") :]
    return "params.inner_params" + (f".{path}" if path else "")
