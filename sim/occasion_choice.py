"""One occasion round's utilities and choices for every category at once (padded offers)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sim import keyed
from sim.nest_layout import (
    MAX_PADDED_NEST,
    NestLayout,
    choose_nested,
    nest_layout,
    widest_nest,
)
from sim.nested_choice import NestPlan, _plan
from sim.offer_terms import offer_terms

if TYPE_CHECKING:
    from sim.consumers import CategoryOffers, OccasionResult, RegionalConsumers

_MAX_CACHED = 64  # static layouts kept per population (line-ups seen recently)
_MINUS_INF = np.float32(-np.inf)


@dataclass(frozen=True)
class Layout:
    """Some categories' offers side by side, one row each: category ``cats[c]``'s offers in
    columns ``0 .. J_c - 1`` (ours first), then padding up to ``J`` columns and one more,
    column ``J``, whose utility is ``-inf`` (base ``-inf``, price 0: never chosen; column
    ``J`` is where the outside option's utility goes in the multinomial logit, and the nests'
    padding slots point at it). The salt steps of a row are the offers' taste shocks, the
    outside option's in column ``J``, then (nested logit) the nest shocks in columns
    ``J + 1 ..`` and the outside nest's last; ``nest`` (nested logit) holds the rest of the
    nests' part (``sim.nest_layout``)."""

    cats: tuple[int, ...]
    row_of: np.ndarray  # layout row of each category (-1: not in this layout)
    base: np.ndarray  # (C * S, J + 1) float32: row c's segment s at c * S + s
    price: np.ndarray  # (C, J + 1) float32
    ours: np.ndarray  # (C, J + 1) bool
    product: np.ndarray  # (C, J + 1) our product of our columns
    comp: np.ndarray  # (C, J + 1) competitor offer of a column, numbered across rows; -1: none
    comp_rows: tuple[tuple[int, int, int], ...]  # (category, first, end) of rows with rivals
    steps: np.ndarray  # (C, J + 1 [+ K + 1]) uint64
    any_ours: bool
    views: np.ndarray  # (C, products) int64: 1 where a row lists our product
    nest: NestLayout | None  # the seller nests (None: multinomial logit)
    n_seg: int  # S
    complete: bool  # every category of the round has a row here

    @property
    def width(self) -> int:
        return self.price.shape[1] - 1


def _plan_of(o: CategoryOffers) -> NestPlan:
    return _plan(o.n_ours, o.comp_sellers.astype(np.int64).tobytes())


def _layout(pop: RegionalConsumers, offers: list[CategoryOffers], cats: list[int], lam: float):
    """The :class:`Layout` of categories ``cats`` of ``offers``."""
    terms = [offer_terms(pop, offers[c]) for c in cats]
    plans: list[NestPlan] = []
    if lam < 1.0:
        plans = [_plan_of(offers[c]) for c in cats]
    n_rows, n_seg = len(cats), pop.quality_weight.shape[0]
    width = max(t.base.shape[1] for t in terms)
    n_nests = max((len(p.ids) for p in plans), default=0)
    base = np.full((n_rows, n_seg, width + 1), -np.inf, dtype=np.float32)
    price = np.zeros((n_rows, width + 1), dtype=np.float32)
    ours = np.zeros((n_rows, width + 1), dtype=bool)
    product = np.zeros((n_rows, width + 1), dtype=np.int64)
    comp = np.full((n_rows, width + 1), -1, dtype=np.int64)
    views = np.zeros((n_rows, pop.n_products), dtype=np.int64)
    comp_offset = np.zeros(n_rows + 1, dtype=np.int64)
    steps = np.zeros((n_rows, width + 1 + (n_nests + 1 if plans else 0)), dtype=np.uint64)
    for row, (c, t) in enumerate(zip(cats, terms, strict=True)):
        o, j = offers[c], t.base.shape[1]
        base[row, :, :j] = t.base
        price[row, :j] = t.price
        ours[row, : o.n_ours] = True
        product[row, : o.n_ours] = o.our_products
        views[row, o.our_products] = 1  # a product listed twice is viewed once, as before
        comp_offset[row + 1] = comp_offset[row] + o.n_comp
        comp[row, o.n_ours : j] = np.arange(comp_offset[row], comp_offset[row + 1])
        steps[row, :j] = t.taste_steps[:j]
        steps[row, j : width + 1] = t.taste_steps[j]  # the outside option's (padding: unused)
    nest = None
    if plans:
        for row, p in enumerate(plans):
            k = len(p.ids)
            steps[row, width + 1 : width + 1 + k] = p.steps[:k]
            steps[row, width + 1 + k :] = p.steps[k]  # the outside nest's (padding: unused)
        nest = nest_layout(plans, steps, width)
    row_of = np.full(len(offers), -1, dtype=np.int64)
    row_of[cats] = np.arange(n_rows)
    return Layout(
        tuple(cats),
        row_of,
        base.reshape(n_rows * n_seg, width + 1),
        price,
        ours,
        product,
        comp,
        tuple(
            (c, int(comp_offset[row]), int(comp_offset[row + 1]))
            for row, c in enumerate(cats)
            if comp_offset[row + 1] > comp_offset[row]
        ),
        steps,
        any(offers[c].n_ours for c in cats),
        views,
        nest,
        n_seg,
        bool((row_of >= 0).all()),
    )


def layouts(pop: RegionalConsumers, offers: list[CategoryOffers], lam: float) -> list[Layout]:
    """One layout of every category with offers, or one per category when a seller nest is
    wider than :data:`MAX_PADDED_NEST`; kept on ``pop`` while the same offers come back
    (the observer returns the same list while nothing changed, ``sim.observe``). Offers
    whose prices alone changed reuse the rest of the layout: every other part is a function
    of the offers' static terms (``sim.offer_terms``, the same arrays while they hold) and
    sellers."""
    kept = pop.__dict__.get("_layouts")
    if kept is not None and kept[0] is offers and kept[1] == lam:
        return kept[2]
    terms = [offer_terms(pop, o) for o in offers]
    static = tuple(t.base for t in terms)
    key = (lam, tuple(id(a) for a in static), *(o.comp_sellers.tobytes() for o in offers))
    cache = pop.__dict__.setdefault("_static_layouts", {})
    hit = cache.get(key)
    if hit is None or any(a is not b for a, b in zip(hit[0], static, strict=True)):
        out = _build(pop, offers, [c for c, t in enumerate(terms) if t.base.shape[1]], lam)
        if len(cache) >= _MAX_CACHED:  # bounded: line-ups that keep changing do not pile up
            cache.clear()
        hit = cache[key] = (static, out)  # holds the arrays: their ids are not reused
    else:
        out = [replace(lay, price=_prices(lay, terms)) for lay in hit[1]]
    pop.__dict__["_layouts"] = (offers, lam, out)  # holds the list: its id is not reused
    return out


def _build(
    pop: RegionalConsumers, offers: list[CategoryOffers], live: list[int], lam: float
) -> list[Layout]:
    """The layouts of the categories ``live`` (those with offers): one for all of them, or
    one each when a seller nest is wider than :data:`MAX_PADDED_NEST`."""
    if not live:
        return []
    wide = lam < 1.0 and any(widest_nest(_plan_of(offers[c])) > MAX_PADDED_NEST for c in live)
    groups = [[c] for c in live] if wide else [live]
    return [_layout(pop, offers, g, lam) for g in groups]


def _prices(lay: Layout, terms: list) -> np.ndarray:
    """The layout's price matrix from today's terms (0 in the padding)."""
    price = np.zeros_like(lay.price)
    for row, c in enumerate(lay.cats):
        price[row, : len(terms[c].price)] = terms[c].price
    return price


def choose_round(
    pop: RegionalConsumers,
    lay: Layout,
    members: np.ndarray,
    keys: np.ndarray,
    row: np.ndarray,
    customer: np.ndarray,
    supported: np.ndarray,
    outside_utility: float,
    res: OccasionResult,
) -> tuple[np.ndarray, np.ndarray]:
    """The choices of ``members`` (layout row ``row`` each; ``customer``: whether each is our
    customer): the market, competitor and view counts go to ``res``; returns the positions in
    ``members`` of our buyers (ascending) and their products.

    Each consumer's values are those of the per-category code they replace, bit for bit:
    every operation is the same elementwise one on the same operands (the padding is
    ``-inf`` and never chosen; argmax keeps the first of equal values, and each row's own
    columns come before its padding and the outside option as before)."""
    ch = pop.spec.choice
    j = lay.width
    alpha = pop.price_sensitivity.take(members)[:, None]
    # row gathers by ``take`` (a fraction of fancy indexing's overhead on tens of rows)
    v = lay.base.take(row * lay.n_seg + pop.segment.take(members), axis=0)
    price = lay.price.take(row, axis=0)
    v -= alpha * price
    if lay.any_ours:
        ours = lay.ours.take(row, axis=0)
        if pop.trial_price_ref is not None:  # a trial pack for first orders
            gap = price - np.float32(pop.trial_price_ref)
            # added on first buyers' offers of ours (the code it replaces added the gap times
            # that mask: a zero elsewhere, which leaves every value as it was)
            first = ours & ~customer[:, None]
            np.add(v, alpha * gap, out=v, where=first)
        aware = pop.aware.take(members)
        personal = (
            ch.loyalty_weight * pop.loyalty.take(members)
            + pop.utility_bonus.take(members)
            - np.float32(ch.unsupported_payment_penalty)
            * ~supported.take(pop.payment_method.take(members))
        )
        # added where ``ours`` (the code it replaces added ``personal * ours``: a zero
        # elsewhere, which leaves every value as it was); -inf for the unaware: not seen
        personal = np.where(aware, personal, _MINUS_INF)
        np.add(v, personal[:, None], out=v, where=ours)
        # each aware consumer views every product of ours in its row (integer counts)
        res.views += np.bincount(row[aware], minlength=len(lay.cats)) @ lay.views
    if lay.nest is None:  # multinomial logit (sim.choice.sample_choices)
        noise = keyed.gumbel_noise(keys, lay.steps.take(row, axis=0))
        v[:, j] = outside_utility  # column J: the outside option (noise + float32(u0))
        noise += v
        choice = noise.argmax(axis=1)
        choice[choice == j] = -1
    else:  # seller-nested logit (sim.nested_choice.sample_nested_choices)
        lam = ch.seller_nest_lambda
        choice = choose_nested(lay.nest, v, keys, row, lam, outside_utility)
    inside = (choice >= 0).nonzero()[0]
    res.market_units += len(inside)
    flat = row.take(inside) * (j + 1) + choice.take(inside)  # each buyer's chosen cell
    if lay.comp_rows:
        picks = lay.comp.take(flat)
        counts = np.bincount(picks[picks >= 0], minlength=lay.comp_rows[-1][2])
        for cat, lo, hi in lay.comp_rows:
            res.comp_units[cat] += counts[lo:hi]
    mine = lay.ours.take(flat)
    return inside[mine], lay.product.take(flat[mine])


def round_choices(
    pop: RegionalConsumers,
    offers: list[CategoryOffers],
    idx: np.ndarray,
    keys: np.ndarray,
    cat: np.ndarray,
    customer: np.ndarray,
    supported: np.ndarray,
    outside_utility: float,
    res: OccasionResult,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Every category's choices of one round (consumers ``idx``, category ``cat`` and
    customer flag ``customer`` each): our buyers and their products in category order, as
    the per-category loop had them (a stable sort of the buyers by category keeps each
    category's buyers in their order), or None. A consumer's choice depends on its own values
    only, so the consumers choose in their order and only the few buyers are sorted."""
    buyers: list[np.ndarray] = []
    products: list[np.ndarray] = []
    for lay in layouts(pop, offers, pop.spec.choice.seller_nest_lambda):
        row = lay.row_of.take(cat)
        members, member_keys, member_customer = idx, keys, customer
        if not lay.complete:  # some consumers' categories have no row here
            sel = (row >= 0).nonzero()[0]
            if not len(sel):
                continue
            row, members, member_keys = row.take(sel), idx.take(sel), keys.take(sel)
            member_customer = customer.take(sel)
        pos, p = choose_round(
            pop, lay, members, member_keys, row, member_customer, supported, outside_utility, res
        )
        if len(pos):
            if len(pos) > 1 and len(lay.cats) > 1:
                order = row.take(pos).argsort(kind="stable")
                pos, p = pos.take(order), p.take(order)
            buyers.append(members.take(pos))
            products.append(p)
    if not buyers:
        return None
    if len(buyers) == 1:
        return buyers[0], products[0]
    return np.concatenate(buyers), np.concatenate(products)
