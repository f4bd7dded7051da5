"""Seller-nested logit: closed-form shares and an exact two-stage Gumbel-max sampler."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from sim import keyed
from sim.choice import sample_choices

if TYPE_CHECKING:
    from sim.consumers import CategoryOffers

#: nest id of our own offers; competitor ``k`` (scenario order) has nest ``k + 1``
OUR_NEST = 0


Columns = list[np.ndarray] | list[slice]


def _nest_columns(nests: np.ndarray) -> tuple[np.ndarray, Columns]:
    """The distinct nest ids (sorted) and each one's columns: a slice when they are
    contiguous (the offers' order puts each seller's together; a slice is a view: the same
    values without a gather), else their indices."""
    ids = np.unique(nests)
    columns = [np.flatnonzero(nests == k) for k in ids]
    if all(c[-1] - c[0] + 1 == len(c) for c in columns):
        return ids, [slice(int(c[0]), int(c[-1]) + 1) for c in columns]
    return ids, columns


@dataclass(frozen=True)
class NestPlan:
    """A category's nest structure (a function of its line-up, not of the day): the nest of
    each offer, the distinct ids, each nest's columns, each column's nest position and the
    salt steps of the nest shocks (the ids, then the outside option)."""

    nests: np.ndarray
    ids: np.ndarray
    columns: Columns
    column_nest: np.ndarray
    steps: np.ndarray


@lru_cache(maxsize=256)
def _plan(n_ours: int, sellers: bytes) -> NestPlan:
    """The :class:`NestPlan` of ``n_ours`` offers of ours and rivals sold by ``sellers`` (int64
    bytes): kept, because line-ups change far less often than rounds of occasions run."""
    comp = np.frombuffer(sellers, dtype=np.int64)
    nests = np.concatenate([np.full(n_ours, OUR_NEST, dtype=np.int64), comp + 1])
    ids, columns = _nest_columns(nests)
    outside = np.concatenate([ids.astype(np.uint64), [np.uint64(keyed.OUTSIDE_OPTION_ID)]])
    steps = keyed.salt_steps(outside + (np.uint64(keyed.SALT_NEST) << np.uint64(48)))
    plan = NestPlan(nests, ids, columns, np.searchsorted(ids, nests), steps)
    for a in (nests, ids, plan.column_nest, steps):
        a.setflags(write=False)
    return plan


def inclusive_values(scaled: np.ndarray, columns: Columns, lam: float) -> np.ndarray:
    """``IV_n = lam * logsumexp(v_j / lam, j in n)`` per row and nest, from ``scaled = v / lam``
    of shape ``(n, J)``; ``-inf`` for a nest whose offers are all unavailable."""
    out = np.empty((scaled.shape[0], len(columns)), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, cols in enumerate(columns):
            part = scaled[:, cols].astype(np.float64)
            m = part.max(axis=1)
            m = np.where(np.isfinite(m), m, 0.0)
            out[:, k] = lam * (m + np.log(np.exp(part - m[:, None]).sum(axis=1)))
    return out


def nested_logit_shares(
    utilities: np.ndarray,
    nests: np.ndarray,
    lam: float,
    outside_utility: float | np.ndarray = 0.0,
) -> np.ndarray:
    """Choice probabilities of the inside options (last axis) of a nested logit whose inside
    options fall in the nests ``nests`` (one id per option, all with dissimilarity ``lam``) and
    whose outside option is a nest of its own.

    ``P(j) = exp(IV_n) / (exp(u0) + sum_m exp(IV_m)) * exp(v_j / lam) / exp(IV_n / lam)``
    (Train, *Discrete Choice Methods with Simulation*, 2nd ed., eq. 4.2). ``lam = 1`` is the
    multinomial logit. Same shapes and ``-inf`` convention as :func:`sim.choice.logit_shares`.
    """
    u = np.atleast_2d(np.asarray(utilities, dtype=float))
    lead = np.shape(utilities)[:-1]
    u0 = np.broadcast_to(np.asarray(outside_utility, dtype=float), lead).reshape(-1)
    _, columns = _nest_columns(np.asarray(nests))
    iv = inclusive_values(u / lam, columns, lam)  # (n, K)
    top = np.maximum(iv.max(axis=1), u0)
    with np.errstate(divide="ignore", invalid="ignore"):
        nest_e = np.exp(iv - top[:, None])
        p_nest = nest_e / (np.exp(u0 - top) + nest_e.sum(axis=1))[:, None]
        out = np.zeros_like(u)
        for k, cols in enumerate(columns):
            within = np.exp((u[:, cols] - iv[:, k : k + 1]) / lam)
            out[:, cols] = np.where(np.isfinite(iv[:, k : k + 1]), p_nest[:, k : k + 1] * within, 0)
    return out.reshape(np.shape(utilities))


def sample_nested_choices(
    utilities: np.ndarray,
    outside_utility: float | np.ndarray,
    nests: np.ndarray,
    lam: float,
    noise: np.ndarray,
    nest_noise: np.ndarray,
    plan: NestPlan | None = None,
) -> np.ndarray:
    """Draw one choice per row of the nested logit of :func:`nested_logit_shares` exactly by
    two-stage Gumbel-max; ``-1`` means the outside option.

    The nest is ``argmax(IV_n + g_n)`` over the inside nests and the outside option
    (``u0 + g_0``), then the offer ``argmax(v_j / lam + e_j)`` within the chosen nest. The
    nest maximum has the nested-logit marginal ``P(n)`` and the within-nest maximum the
    conditional ``P(j | n)``, so the pair has the joint law ``P(j)``.

    Args:
        utilities: ``(n, J)`` deterministic utilities (``-inf`` = unavailable).
        outside_utility: scalar or ``(n,)``.
        nests: ``(J,)`` nest id per inside option.
        lam: dissimilarity parameter in ``(0, 1]``.
        noise: ``(n, J + 1)`` standard Gumbel taste shocks of the offers (the last column,
            the outside option's, is not used: the outside nest's shock is in ``nest_noise``).
        nest_noise: ``(n, K + 1)`` standard Gumbel nest shocks, one column per distinct id of
            ``nests`` in ascending order, the last the outside option's.
        plan: ``nests``' structure when the caller keeps it (:func:`choose` does).
    """
    n, j = utilities.shape
    if plan is None:
        ids, columns = _nest_columns(nests)
        column_nest = np.searchsorted(ids, nests)
    else:
        ids, columns, column_nest = plan.ids, plan.columns, plan.column_nest
    if nest_noise.shape != (n, len(ids) + 1):
        raise ValueError(f"nest_noise must have shape {(n, len(ids) + 1)}, got {nest_noise.shape}")
    scaled = utilities / np.asarray(lam, dtype=utilities.dtype)
    score = nest_noise.astype(np.float64, copy=True)
    score[:, :-1] += inclusive_values(scaled, columns, lam)
    score[:, -1] += np.asarray(outside_utility, dtype=np.float64)
    nest = np.argmax(score, axis=1)
    within = noise[:, :j]
    within += scaled
    within[column_nest[None, :] != nest[:, None]] = -np.inf
    choice = np.argmax(within, axis=1)
    return np.where(nest == len(ids), -1, choice)


def offer_nests(o: CategoryOffers) -> np.ndarray:
    """Nest id per offer of a category (ours first, then the competitors' offers)."""
    return np.concatenate(
        [np.full(o.n_ours, OUR_NEST, dtype=np.int64), o.comp_sellers.astype(np.int64) + 1]
    )


def nest_noise(keys: np.ndarray, nest_ids: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Keyed standard Gumbel nest shocks ``(len(keys), len(nest_ids) + 1)``: one per seller's
    nest id (stable across variants: common random numbers) and, last, the outside option."""
    ids = np.concatenate([nest_ids.astype(np.uint64), [np.uint64(keyed.OUTSIDE_OPTION_ID)]])
    steps = keyed.salt_steps(ids + (np.uint64(keyed.SALT_NEST) << np.uint64(48)))
    return keyed.gumbel_noise(keys, steps, dtype)


def choose(
    v: np.ndarray,
    outside_utility: float,
    noise: np.ndarray,
    o: CategoryOffers,
    lam: float,
    keys: np.ndarray,
) -> np.ndarray:
    """One occasion round's choices in a category: the multinomial logit (today's code path)
    when ``lam == 1``, else the seller-nested logit with keyed nest shocks."""
    if lam >= 1.0:
        return sample_choices(v, outside_utility, noise=noise)
    plan = _plan(o.n_ours, o.comp_sellers.astype(np.int64).tobytes())
    shocks = keyed.gumbel_noise(keys, plan.steps, np.float64)  # nest_noise(keys, plan.ids)
    return sample_nested_choices(v, outside_utility, plan.nests, lam, noise, shocks, plan)
