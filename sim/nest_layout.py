"""The seller-nest part of a padded occasion layout: inclusive values and the two-stage draw.

A round's categories sit side by side, one row each (``sim.occasion_choice.Layout``); this
module holds what the seller-nested logit adds to such a layout and draws each consumer's
nest, then the offer within it, exactly as ``sim.nested_choice.sample_nested_choices``
does for one category (bit for bit, see :func:`choose_nested`).

Two kinds of nest are kept apart. A nest with one offer (or none) in every row, as a rival
seller with one offer, has the inclusive value ``lam * x`` of its one value ``x``
(``logsumexp`` of one value is the value, bit for bit: ``exp(x - x) = 1``, ``log(1) = 0``)
and, once drawn, its one offer is the choice: neither its offer's taste shock nor a gather
over its slots is needed. Only the other (*multi*) nests are gathered slot by slot and
searched within.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim import keyed
from sim.nested_choice import NestPlan, inclusive_values

#: widest seller nest of the padded layout: numpy sums a row of at most 7 values left to
#: right, so the padding's trailing zeros leave each nest's sum bit-identical to the sum over
#: its own columns; a wider nest's category runs on its own with its own nest columns
MAX_PADDED_NEST = 7
_LOWEST = np.array(np.finfo(np.float64).min)
_MINUS_INF = np.float32(-np.inf)
_MULTI = -2  # nest_column: a multi nest (the offer is drawn within it)


@dataclass(frozen=True)
class NestLayout:
    """The nests of a layout of ``C`` rows, ``J`` offer columns (column ``J``: ``-inf``) and
    at most ``K`` nests a row (nest ``K``: the outside option).

    ``gather`` (padded nests) holds, per row, each multi nest's columns padded with ``J``
    to the widest ``W``, slot-major ``(W, C, K_multi)`` so that the nests' max and sum
    reduce over the first axis (``W - 1`` elementwise steps over every consumer's nests at
    once, in slot order: the same left-to-right sums); ``columns`` (one category with a
    nest wider than :data:`MAX_PADDED_NEST`) that category's own nest columns instead."""

    n_nests: int  # K
    gather: np.ndarray | None  # (W, C, K_multi) column of each multi nest slot (J: padding)
    columns: list | None  # the nest columns of a wide nest's one row (gather None)
    multi: np.ndarray  # (K_multi,) the nests some row gives two columns or more
    single: np.ndarray  # (K_single,) the other nests
    single_column: np.ndarray  # (C, K_single) a single nest's column (J: none in the row)
    multi_columns: np.ndarray  # (J_multi,) ascending: the columns of multi nests (any row)
    noise_steps: np.ndarray  # (C, J_multi + K + 1) uint64: their taste shocks, the nests'
    outside_of: np.ndarray  # (C * (K + 1), J_multi) bool: a multi column outside the nest
    nest_column: np.ndarray  # (C * (K + 1),) the column a nest's draw picks (-1 none; -2 multi)


def nest_columns(p: NestPlan) -> list[np.ndarray]:
    """Each nest's column indices (the plan's slices and index arrays alike)."""
    every = np.arange(len(p.nests))
    return [every[s] for s in p.columns]


def widest_nest(p: NestPlan) -> int:
    """Offers in the plan's widest nest."""
    return max(len(c) for c in nest_columns(p))


def nest_layout(plans: list[NestPlan], steps: np.ndarray, width: int) -> NestLayout:
    """The :class:`NestLayout` of rows whose nest plans are ``plans``, whose salt steps are
    ``steps`` (``(C, J + 1 + K + 1)``: offers, outside option, nests, outside nest) and
    whose offers take ``width`` (``J``) columns."""
    n_rows = len(plans)
    n_nests = max(len(p.ids) for p in plans)
    column_nest = np.full((n_rows, width), -1, dtype=np.int64)
    for row, p in enumerate(plans):
        column_nest[row, : len(p.nests)] = p.column_nest
    filled = np.stack([np.bincount(c[c >= 0], minlength=n_nests) for c in column_nest])
    is_multi = filled.max(axis=0) > 1
    multi, single = np.flatnonzero(is_multi), np.flatnonzero(~is_multi)
    nest_cols = [nest_columns(p) for p in plans]
    gather = columns = None
    if max(widest_nest(p) for p in plans) > MAX_PADDED_NEST:
        if n_rows != 1:
            raise ValueError("a nest wider than MAX_PADDED_NEST needs its own layout")
        columns = plans[0].columns
    else:
        # the multi nests' slots, up to the widest of them (slots after it would be padding
        # in every row: -inf, whose 0 leaves each left-to-right sum as it was)
        slots = int(filled[:, multi].max()) if len(multi) else 0
        gather = np.full((slots, n_rows, len(multi)), width, dtype=np.int64)
        for row, cols in enumerate(nest_cols):
            for slot, k in enumerate(multi):
                if k < len(cols):
                    gather[: len(cols[k]), row, slot] = cols[k]
    single_column = np.full((n_rows, len(single)), width, dtype=np.int64)
    nest_column = np.full((n_rows, n_nests + 1), -1, dtype=np.int64)
    nest_column[:, multi] = _MULTI
    for row in range(n_rows):
        for slot, k in enumerate(single):
            at = np.flatnonzero(column_nest[row] == k)
            if len(at):
                single_column[row, slot] = nest_column[row, k] = at[0]
    in_multi = (column_nest >= 0) & is_multi[np.maximum(column_nest, 0)]
    multi_columns = np.flatnonzero(in_multi.any(axis=0))
    of_multi = column_nest[:, multi_columns]  # (C, J_multi)
    outside_of = of_multi[:, None, :] != np.arange(n_nests + 1)[None, :, None]
    noise_steps = np.concatenate([steps[:, multi_columns], steps[:, width + 1 :]], axis=1)
    return NestLayout(
        n_nests,
        gather,
        columns,
        multi,
        single,
        single_column,
        multi_columns,
        np.ascontiguousarray(noise_steps),
        outside_of.reshape(n_rows * (n_nests + 1), len(multi_columns)),
        nest_column.reshape(-1),
    )


def inclusive(scaled: np.ndarray, nl: NestLayout, row: np.ndarray, lam: float) -> np.ndarray:
    """``sim.nested_choice.inclusive_values`` of each consumer's row's nests, ``(n, K)``.

    The multi nests: the same operations on the nests' columns gathered slot by slot
    (``(W, n, K_multi)``; padding slots hold column ``J``'s ``-inf``: 0 in the sums, which
    add the ``W`` slots left to right, as numpy sums a row of at most
    :data:`MAX_PADDED_NEST` values). A nest of one value ``x``: those operations give
    ``m = x``, ``exp(x - x) = 1``, ``log(1) = 0`` and ``(0 + x) * lam``, so ``x * lam``
    (``-inf`` for no value or an unavailable one, as before)."""
    if nl.gather is None:
        return inclusive_values(scaled, nl.columns, lam)
    n, stride = scaled.shape
    start = np.arange(0, n * stride, stride)[:, None]
    out = np.empty((n, nl.n_nests))
    if len(nl.multi):
        flat = nl.gather.take(row, axis=1)
        flat += start
        part = scaled.take(flat).astype(np.float64)  # float32 values, exactly as float64
        m = part.max(axis=0)
        # a nest with nothing available (max -inf): m the lowest float instead of 0, so its
        # slots stay -inf, exp 0, log(0) -inf and -inf + m -inf as before; every other m is
        # finite (utilities are finite or -inf) and kept
        np.maximum(m, _LOWEST, out=m)
        part -= m
        np.exp(part, out=part)
        s = part.sum(axis=0)
        with np.errstate(divide="ignore"):
            np.log(s, out=s)
        s += m
        s *= lam
        out[:, nl.multi] = s
    if len(nl.single):
        flat = nl.single_column.take(row, axis=0)
        flat += start
        x = scaled.take(flat).astype(np.float64)
        x *= lam
        out[:, nl.single] = x
    return out


def choose_nested(
    nl: NestLayout,
    v: np.ndarray,
    keys: np.ndarray,
    row: np.ndarray,
    lam: float,
    outside_utility: float,
) -> np.ndarray:
    """Each consumer's column (``-1``: the outside option) from utilities ``v`` (``(n, J + 1)``
    float32) by the two-stage Gumbel-max draw: the nest maximizing ``IV + e`` (the outside
    nest: ``u0 + e``), then the offer maximizing ``v / lam + e`` within it.

    The values are those of the one-category sampler, bit for bit: the same keyed shocks of
    the same columns and nests, the same operations. The within-nest draw runs on the
    multi nests' columns alone (ascending, so argmax keeps the same first of equal values);
    a single nest's one offer needs no draw (a drawn nest has a finite inclusive value, so
    its one offer's value is finite and the one-category argmax picks it)."""
    jm = len(nl.multi_columns)
    k1 = nl.n_nests + 1
    g = keyed.gumbel_noise(keys, nl.noise_steps.take(row, axis=0), np.float64)
    scaled = v / np.float32(lam)
    score = g[:, jm:]
    score[:, :-1] += inclusive(scaled, nl, row, lam)
    score[:, -1] += np.float64(outside_utility)
    cell = row * k1 + score.argmax(axis=1)
    choice = nl.nest_column.take(cell)
    if jm:
        at = (choice == _MULTI).nonzero()[0]  # those who drew a multi nest: the rows below
        within = g[:, :jm].take(at, axis=0).astype(np.float32)
        within += scaled.take(at, axis=0).take(nl.multi_columns, axis=1)
        np.copyto(within, _MINUS_INF, where=nl.outside_of.take(cell.take(at), axis=0))
        choice[at] = nl.multi_columns.take(within.argmax(axis=1))
    return choice
