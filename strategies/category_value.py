"""Category-aware listing rules: each category's best listing first, then those that pay."""

from __future__ import annotations

import numpy as np

from sim.contract import MarketView, RegionView
from strategies._common import category_of, taboo_mask


def unit_margin_base(view: MarketView, r: RegionView, reference_base: np.ndarray) -> np.ndarray:
    """Our margin per unit sold in region ``r`` (base currency): our list price (before duty
    and VAT) converted at today's rate, or ``reference_base`` where no price is set yet,
    minus the landed cost."""
    price = np.asarray(r.price_local, dtype=float) / r.fx_local_per_base
    price = np.where(price > 0, price, reference_base)
    return price - np.asarray(r.landed_cost_base, dtype=float)


def covered_by_others(view: MarketView, listed: np.ndarray) -> np.ndarray:
    """Per product: whether another product of its category is listed."""
    cat = category_of(view)
    per_cat = np.bincount(cat, weights=listed.astype(float), minlength=int(cat.max(initial=-1)) + 1)
    return per_cat[cat] - listed > 0


def category_traffic(view: MarketView, r: RegionView) -> np.ndarray | None:
    """Views of each product's category over the recent window (our listed products of a
    category share its views: every aware shopper of the category sees each of them); a
    category with no listing gets the mean of the observed ones; None before any view."""
    views = np.asarray(r.views_recent, dtype=float)
    cat = category_of(view)
    n_cat = int(cat.max()) + 1 if len(cat) else 0
    per_cat = np.array([views[cat == c].max(initial=0.0) for c in range(n_cat)])
    seen = per_cat > 0
    if not seen.any():
        return None
    return np.where(seen, per_cat, per_cat[seen].mean())[cat]


def listing_value_base(
    view: MarketView,
    r: RegionView,
    conversion: np.ndarray,
    margin: np.ndarray,
    *,
    covered: np.ndarray,
    planning_days: float,
    cannibalization: float,
) -> np.ndarray | None:
    """Expected profit of launching each product now in region ``r`` (base currency): its
    expected units over the planning window (``conversion`` x its category's views per day x
    min(``planning_days``, days left)), a share ``cannibalization`` of them taken from our own
    listings where its category is already ``covered``, times its unit ``margin``, minus the
    launch cost and the landed value of the committed launch stock not expected to sell in
    the window (the dead-stock risk). None before any view (no evidence yet)."""
    traffic = category_traffic(view, r)
    if traffic is None:
        return None
    per_day = traffic / max(view.recent_window_days, 1)
    days = max(min(planning_days, view.horizon_days - view.day), 0.0)
    units = conversion * per_day * days
    extra = np.where(covered, 1.0 - cannibalization, 1.0) * units
    stock = float(view.launch_stock_units)
    landed = np.asarray(r.landed_cost_base, dtype=float)
    unsold = np.clip(stock - units, 0.0, None) * landed
    return extra * margin - view.launch_cost_base - unsold


def category_first(
    view: MarketView,
    r: RegionView,
    score: np.ndarray,
    value: np.ndarray | None,
    k: int,
) -> np.ndarray:
    """The listing mask of region ``r``: the best-scored eligible product of every category
    first (a category without a listing sells nothing), then further eligible products in
    score order while their expected launch ``value`` is positive (listed ones need no
    launch and stay), at most ``k`` in all. Eligible: finite score, not taboo."""
    cat = category_of(view)
    eligible = np.isfinite(score) & ~taboo_mask(view, r)
    listed = np.asarray(r.listed, dtype=bool)
    order = [int(i) for i in np.argsort(-score, kind="stable") if eligible[i]]
    firsts: list[int] = []
    for i in order:  # score order, so the categories' best come out best first
        if cat[i] not in {cat[j] for j in firsts}:
            firsts.append(i)
    mask = np.zeros(len(score), dtype=bool)
    mask[firsts[:k]] = True
    for i in order:
        if mask.sum() >= k:
            break
        if not mask[i] and (listed[i] or value is None or value[i] > 0):
            mask[i] = True
    return mask


def spare_last_listing(
    view: MarketView,
    r: RegionView,
    wanted: np.ndarray,
    stop: np.ndarray,
    margin: np.ndarray,
    floor_base: float = 0.0,
) -> np.ndarray:
    """``stop`` without the last listing of a category: where every product of a category
    that the selection ``wanted`` would be stopped, its listed product with the best recent
    conversion stays, unless the category as a whole loses money: its recent units x unit
    ``margin`` summed over its listings is not above ``floor_base``."""
    cat = category_of(view)
    listed = np.asarray(r.listed, dtype=bool)
    units = np.asarray(r.units_sold_recent, dtype=float)
    conv = np.asarray(r.conversion_recent, dtype=float)
    stop = stop.copy()
    for c in np.unique(cat[wanted]):
        in_c = cat == c
        if (wanted & in_c & ~stop).any():
            continue
        last = listed & in_c & stop
        if not last.any() or float((units * margin)[listed & in_c].sum()) <= floor_base:
            continue
        stop[int(np.argmax(np.where(last, conv, -np.inf)))] = False
    return stop


def spare_stocked(view: MarketView, failing: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``failing`` (per region) without the last listing of a product whose stock is on hand:
    where a product would be listed in no region, its listing with the best recent
    conversion stays while a warehouse serving a region still holds it (delisted everywhere,
    the stock would sell no more and be written off as dead stock)."""
    regions = list(view.regions.values())
    listed = np.array([np.asarray(r.listed, dtype=bool) for r in regions])
    fail = np.array([failing[r.region_id] for r in regions])
    stock = np.array([np.asarray(r.inventory_units, dtype=float) for r in regions]).max(axis=0)
    conv = np.array([np.asarray(r.conversion_recent, dtype=float) for r in regions])
    orphaned = listed.any(axis=0) & ~(listed & ~fail).any(axis=0) & (stock > 0)
    out = {r.region_id: failing[r.region_id].copy() for r in regions}
    for p in np.flatnonzero(orphaned):
        best = int(np.argmax(np.where(listed[:, p], conv[:, p], -np.inf)))
        out[regions[best].region_id][p] = False
    return out


def limit_to_replacements(
    stop: np.ndarray, previous: np.ndarray, candidates: np.ndarray, conversion: np.ndarray
) -> np.ndarray:
    """``stop`` with at most as many new stops (not in ``previous``) as there are
    ``candidates`` to replace them, the worst converting first: without a replacement a
    delisting only loses the listing's sales (its launch is paid, its stock kept)."""
    new = np.flatnonzero(stop & ~previous)
    room = int(candidates.sum())
    if len(new) <= room:
        return stop
    worst = new[np.argsort(conversion[new], kind="stable")[:room]]
    out = previous.copy()
    out[worst] = True
    return out
