"""One occasion round's utilities and choices for every category at once (padded offers)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from sim import keyed
from sim.nested_choice import NestPlan, _plan, inclusive_values
from sim.offer_terms import offer_terms

if TYPE_CHECKING:
    from sim.consumers import CategoryOffers, OccasionResult, RegionalConsumers

#: widest seller nest of the padded layout: numpy sums a row of at most 7 values left to
#: right, so the padding's trailing zeros leave each nest's sum bit-identical to the sum over
#: its own columns; a wider nest's category runs on its own with its own nest columns
MAX_PADDED_NEST = 7
_MAX_CACHED = 64  # static layouts kept per population (line-ups seen recently)


@dataclass(frozen=True)
class Layout:
    """Some categories' offers side by side, one row each: category ``cats[c]``'s offers in
    columns ``0 .. J_c - 1`` (ours first), then padding up to ``J`` columns whose utility is
    ``-inf`` (base ``-inf``, price 0: never chosen). The salt steps of a row are the offers'
    taste shocks, the outside option's in column ``J``, then (nested logit) the nest shocks
    in columns ``J + 1 ..`` and the outside nest's last. ``gather`` (padded nests) holds, per
    row, each nest's columns padded with ``J`` (a ``-inf`` column) to the widest nest;
    ``columns`` (one category with a wide nest) that category's own nest columns."""

    cats: tuple[int, ...]
    row_of: np.ndarray  # layout row of each category (-1: not in this layout)
    base: np.ndarray  # (C * S, J) float32: row c's segment s at c * S + s
    price: np.ndarray  # (C, J) float32
    ours: np.ndarray  # (C, J) bool
    product: np.ndarray  # (C, J) our product of our columns
    comp: np.ndarray  # (C, J) competitor offer of a column, numbered across rows; -1: none
    comp_offset: np.ndarray  # (C + 1,) where each row's competitor offers start
    steps: np.ndarray  # (C, J + 1 [+ K + 1]) uint64
    n_ours: tuple[int, ...]
    any_ours: bool
    our_products: tuple[np.ndarray, ...]
    column_nest: np.ndarray | None  # (C, J) nest position of a column, -1 in padding
    gather: np.ndarray | None  # (C, K * W) column of each nest slot (J: padding)
    columns: list | None
    n_nests: int  # K
    n_seg: int  # S

    @property
    def width(self) -> int:
        return self.price.shape[1]


def _plan_of(o: CategoryOffers) -> NestPlan:
    return _plan(o.n_ours, o.comp_sellers.astype(np.int64).tobytes())


def _nest_columns(p: NestPlan) -> list[np.ndarray]:
    """Each nest's column indices (slices and index arrays alike)."""
    every = np.arange(len(p.nests))
    return [every[s] for s in p.columns]


def _widest(p: NestPlan) -> int:
    return max(len(cols) for cols in _nest_columns(p))


def _layout(pop: RegionalConsumers, offers: list[CategoryOffers], cats: list[int], lam: float):
    """The :class:`Layout` of categories ``cats`` of ``offers``."""
    terms = [offer_terms(pop, offers[c]) for c in cats]
    plans: list[NestPlan] = []
    if lam < 1.0:
        plans = [_plan_of(offers[c]) for c in cats]
    n_rows, n_seg = len(cats), pop.quality_weight.shape[0]
    width = max(t.base.shape[1] for t in terms)
    n_nests = max((len(p.ids) for p in plans), default=0)
    base = np.full((n_rows, n_seg, width), -np.inf, dtype=np.float32)
    price = np.zeros((n_rows, width), dtype=np.float32)
    ours = np.zeros((n_rows, width), dtype=bool)
    product = np.zeros((n_rows, width), dtype=np.int64)
    comp = np.full((n_rows, width), -1, dtype=np.int64)
    comp_offset = np.zeros(n_rows + 1, dtype=np.int64)
    steps = np.zeros((n_rows, width + 1 + (n_nests + 1 if plans else 0)), dtype=np.uint64)
    for row, (c, t) in enumerate(zip(cats, terms, strict=True)):
        o, j = offers[c], t.base.shape[1]
        base[row, :, :j] = t.base
        price[row, :j] = t.price
        ours[row, : o.n_ours] = True
        product[row, : o.n_ours] = o.our_products
        comp_offset[row + 1] = comp_offset[row] + o.n_comp
        comp[row, o.n_ours : j] = np.arange(comp_offset[row], comp_offset[row + 1])
        steps[row, :j] = t.taste_steps[:j]
        steps[row, j : width + 1] = t.taste_steps[j]  # the outside option's (padding: unused)
    column_nest = gather = columns = None
    if plans:
        column_nest = np.full((n_rows, width), -1, dtype=np.int64)
        nest_cols = [_nest_columns(p) for p in plans]
        widest = max(_widest(p) for p in plans)
        if widest > MAX_PADDED_NEST:
            if n_rows != 1:
                raise ValueError("a nest wider than MAX_PADDED_NEST needs its own layout")
            columns = plans[0].columns
        else:
            gather = np.full((n_rows, n_nests, widest), width, dtype=np.int64)
        for row, p in enumerate(plans):
            k = len(p.ids)
            column_nest[row, : len(p.nests)] = p.column_nest
            steps[row, width + 1 : width + 1 + k] = p.steps[:k]
            steps[row, width + 1 + k :] = p.steps[k]  # the outside nest's (padding: unused)
            if gather is not None:
                for slot, cols in enumerate(nest_cols[row]):
                    gather[row, slot, : len(cols)] = cols
        if gather is not None:
            gather = gather.reshape(n_rows, -1)
    row_of = np.full(len(offers), -1, dtype=np.int64)
    row_of[cats] = np.arange(n_rows)
    return Layout(
        tuple(cats),
        row_of,
        base.reshape(n_rows * n_seg, width),
        price,
        ours,
        product,
        comp,
        comp_offset,
        steps,
        tuple(offers[c].n_ours for c in cats),
        any(offers[c].n_ours for c in cats),
        tuple(offers[c].our_products for c in cats),
        column_nest,
        gather,
        columns,
        n_nests,
        n_seg,
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
    wide = lam < 1.0 and any(_widest(_plan_of(offers[c])) > MAX_PADDED_NEST for c in live)
    groups = [[c] for c in live] if wide else [live]
    return [_layout(pop, offers, g, lam) for g in groups]


def _prices(lay: Layout, terms: list) -> np.ndarray:
    """The layout's price matrix from today's terms (0 in the padding)."""
    price = np.zeros_like(lay.price)
    for row, c in enumerate(lay.cats):
        price[row, : len(terms[c].price)] = terms[c].price
    return price


def _inclusive(scaled: np.ndarray, lay: Layout, row: np.ndarray, lam: float) -> np.ndarray:
    """``sim.nested_choice.inclusive_values`` of each consumer's row's nests, ``(n, K)``: the
    same operations on the nests' columns gathered side by side (padding ``-inf``: 0 in the
    sums, which add at most :data:`MAX_PADDED_NEST` values left to right)."""
    if lay.gather is None:
        return inclusive_values(scaled, lay.columns, lam)
    n, j = scaled.shape
    ext = np.empty((n, j + 1), dtype=np.float64)
    ext[:, :j] = scaled
    ext[:, j] = -np.inf
    flat = lay.gather.take(row, axis=0)
    flat += (np.arange(n, dtype=np.int64) * (j + 1))[:, None]
    part = ext.take(flat).reshape(n, lay.n_nests, -1)
    m = part.max(axis=2)
    m[~np.isfinite(m)] = 0.0
    part -= m[:, :, None]
    np.exp(part, out=part)
    s = part.sum(axis=2)
    empty = s == 0.0  # a nest with nothing available: log(0) = -inf, without an errstate block
    s[empty] = 1.0
    np.log(s, out=s)
    s[empty] = -np.inf
    s += m
    s *= lam
    return s


def choose_round(
    pop: RegionalConsumers,
    lay: Layout,
    members: np.ndarray,
    keys: np.ndarray,
    row: np.ndarray,
    supported: np.ndarray,
    outside_utility: float,
    res: OccasionResult,
) -> tuple[np.ndarray, np.ndarray]:
    """The choices of ``members`` (layout row ``row`` each, sorted by row): the market,
    competitor and view counts go to ``res``; returns our buyers and their products.

    Each consumer's values are those of the per-category code they replace, bit for bit:
    every operation is the same elementwise one on the same operands (the padding is
    ``-inf`` and never chosen; argmax keeps the first of equal values, and each row's own
    columns come before its padding and the outside option as before)."""
    ch = pop.spec.choice
    j = lay.width
    alpha = pop.price_sensitivity[members][:, None]
    # row gathers by ``take`` (a fraction of fancy indexing's overhead on tens of rows)
    v = lay.base.take(row * lay.n_seg + pop.segment[members], axis=0)
    price = lay.price.take(row, axis=0)
    v -= alpha * price
    if lay.any_ours:
        # added where ``ours`` as ``x * ours`` (x * 1 is x; x * 0 adds a zero: the same values)
        ours = lay.ours.take(row, axis=0)
        if pop.trial_price_ref is not None:  # a trial pack for first orders
            gap = price - np.float32(pop.trial_price_ref)
            v += (alpha * gap) * (ours & ~pop.customer[members][:, None])
        aware = pop.aware[members]
        personal = (
            ch.loyalty_weight * pop.loyalty[members]
            + pop.utility_bonus[members]
            - np.float32(ch.unsupported_payment_penalty) * ~supported[pop.payment_method[members]]
        )
        v += personal[:, None] * ours
        v[ours & ~aware[:, None]] = -np.inf
        seen = np.bincount(row[aware], minlength=len(lay.cats))
        for c, k in enumerate(seen.tolist()):
            if k and lay.n_ours[c]:
                res.views[lay.our_products[c]] += k  # distinct products
    g = keyed.gumbel_noise(keys, lay.steps.take(row, axis=0), np.float64)
    noise = g[:, : j + 1].astype(np.float32)
    if lay.column_nest is None:  # multinomial logit (sim.choice.sample_choices)
        noise[:, :j] += v
        noise[:, j] += np.float32(outside_utility)
        choice = noise.argmax(axis=1)
        choice[choice == j] = -1
    else:  # seller-nested logit (sim.nested_choice.sample_nested_choices)
        lam = ch.seller_nest_lambda
        scaled = v / np.float32(lam)
        score = g[:, j + 1 :]
        score[:, :-1] += _inclusive(scaled, lay, row, lam)
        score[:, -1] += np.float64(outside_utility)
        nest = score.argmax(axis=1)
        within = noise[:, :j]
        within += scaled
        within[lay.column_nest.take(row, axis=0) != nest[:, None]] = -np.inf
        choice = within.argmax(axis=1)
        choice[nest == lay.n_nests] = -1
    inside = choice >= 0
    res.market_units += int(np.count_nonzero(inside))
    flat = (row * j + choice)[inside]  # the chosen cell of each buyer's row
    if lay.comp_offset[-1]:
        picks = lay.comp.take(flat)
        counts = np.bincount(picks[picks >= 0], minlength=int(lay.comp_offset[-1]))
        for c, cat in enumerate(lay.cats):
            lo, hi = lay.comp_offset[c], lay.comp_offset[c + 1]
            if hi > lo:
                res.comp_units[cat] += counts[lo:hi]
    mine = lay.ours.take(flat)
    return members[inside][mine], lay.product.take(flat)[mine]


def round_choices(
    pop: RegionalConsumers,
    offers: list[CategoryOffers],
    idx: np.ndarray,
    keys: np.ndarray,
    cat: np.ndarray,
    supported: np.ndarray,
    outside_utility: float,
    res: OccasionResult,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Every category's choices of one round (consumers ``idx``, category ``cat`` each): our
    buyers and their products in category order, as the per-category loop had them (a
    stable sort by category keeps each category's consumers in their order), or None."""
    buyers: list[np.ndarray] = []
    products: list[np.ndarray] = []
    for lay in layouts(pop, offers, pop.spec.choice.seller_nest_lambda):
        row = lay.row_of[cat]
        if len(lay.cats) > 1:
            order = row.argsort(kind="stable")
            row = row.take(order)
            start = int(row.searchsorted(0))  # categories without offers sort first
            order, row = order[start:], row[start:]
        else:
            order = np.flatnonzero(row >= 0)
            row = row[order]
        if not len(order):
            continue
        b, p = choose_round(pop, lay, idx[order], keys[order], row, supported, outside_utility, res)
        if len(b):
            buyers.append(b)
            products.append(p)
    if not buyers:
        return None
    if len(buyers) == 1:
        return buyers[0], products[0]
    return np.concatenate(buyers), np.concatenate(products)
