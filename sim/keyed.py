"""Counter-based random numbers keyed by (consumer, occasion, purpose) for sharper CRN.

A consumer's n-th purchase occasion gets the same uniforms (taste shocks per offer, dropout,
time to the next occasion) in every strategy variant, whatever else differs between the
variants. Generator streams cannot do that: one extra draw anywhere shifts every later draw.
The hash is SplitMix64: a per-occasion state mixed twice from the key, then one SplitMix64
step per output.
"""

from __future__ import annotations

from functools import cache

import numpy as np

# the constants as 0-d arrays: a ufunc takes a 0-d array operand faster than a numpy or
# Python scalar (no scalar conversion per call), and computes the same values
_GAMMA = np.array(0x9E3779B97F4A7C15, dtype=np.uint64)
_M1 = np.array(0xBF58476D1CE4E5B9, dtype=np.uint64)
_M2 = np.array(0x94D049BB133111EB, dtype=np.uint64)
_S30, _S27, _S31, _S11 = (np.array(s, dtype=np.uint64) for s in (30, 27, 31, 11))
_ONE = np.array(1, dtype=np.uint64)
_HALF = np.array(0.5)
_TO_UNIT = np.array(2.0**-53)

SALT_NEXT = 1
SALT_DROPOUT = 2
SALT_CATEGORY = 3
SALT_TASTE = 4
SALT_RETURN = 5
SALT_PAYMENT = 6
SALT_RETRY = 7
SALT_COD_REFUSAL = 8
SALT_BASKET = 9  # units per order (stream "baskets")
SALT_BUNDLE = 10  # a bundle offer taken (stream "baskets")
#: unit j >= 1 of a multi-unit order returned (stream "returns"; unit 0 uses SALT_RETURN)
SALT_UNIT_RETURN = 1 << 20
SALT_COMPLAINT = 20  # per order (sim.experience)
SALT_NEST = 21  # a seller nest's shock, ``nest id + (SALT_NEST << 48)`` (sim.nested_choice)
SALT_LAST_MILE = 30  # an order's last-mile days (sim.parcels, sim.lanes)
SALT_PARCEL_LOST = 31  # an order lost in transit (sim.parcels, sim.lanes)
OUTSIDE_OPTION_ID = 1 << 40


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finalizer (a bijection on uint64 with full avalanche; arithmetic wraps)."""
    t = np.asarray(x >> _S30)  # scratch, reused for each shift below (no temporary each)
    x = x ^ t  # a new array: the argument is left as it was; then in place
    x *= _M1
    np.right_shift(x, _S27, out=t)
    x ^= t
    x *= _M2
    np.right_shift(x, _S31, out=t)
    x ^= t
    return x


def occasion_keys(base: np.uint64, idx: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """One 64-bit state per (consumer index, occasion counter) under the stream key ``base``."""
    return counter_keys(consumer_keys(base, idx), counter)


def consumer_keys(base: np.uint64, idx: np.ndarray) -> np.ndarray:
    """The first half of :func:`occasion_keys`: a state per consumer index (a caller that
    keys the same consumers at several counters hashes them once)."""
    return mix64(np.uint64(base) + (idx.astype(np.uint64) + _ONE) * _GAMMA)


def counter_keys(consumer: np.ndarray, counter: np.ndarray) -> np.ndarray:
    """:func:`occasion_keys` from :func:`consumer_keys`' states and the occasion counters."""
    return mix64(consumer + (counter.astype(np.uint64) + _ONE) * _GAMMA)


def counter_pair_keys(
    consumer: np.ndarray, counter: np.ndarray, following: np.ndarray
) -> np.ndarray:
    """``(n, 2)``: :func:`counter_keys` of ``counter`` and of ``following`` (a consumer's next
    counter) in one pass; each element the same operations on the same operands."""
    pair = np.empty((len(counter), 2), dtype=np.uint64)
    pair[:, 0] = counter
    pair[:, 1] = following
    pair += _ONE
    pair *= _GAMMA
    pair += consumer[:, None]
    return mix64(pair)


def salt_steps(salt: int | np.ndarray) -> np.ndarray:
    """What :func:`uniforms` adds to a key for ``salt`` (a Python int's is kept: the fixed
    salts of every draw cost one dictionary look-up instead of an ``np.errstate`` block)."""
    if type(salt) is int:
        return _int_salt_steps(salt)
    with np.errstate(over="ignore"):
        return (np.asarray(salt, dtype=np.uint64) + np.uint64(1)) * _GAMMA


@cache
def _int_salt_steps(salt: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return (np.asarray(salt, dtype=np.uint64) + np.uint64(1)) * _GAMMA


def uniforms(keys: np.ndarray, salt: int | np.ndarray) -> np.ndarray:
    """Uniform(0, 1) (open interval) for each key and salt (broadcast)."""
    return stepped_uniforms(keys, salt_steps(salt))


def stepped_uniforms(keys: np.ndarray, steps: np.ndarray) -> np.ndarray:
    h = mix64(keys + steps)
    h >>= _S11
    u = h.astype(np.float64)
    u += _HALF
    u *= _TO_UNIT
    return u


def taste_steps(option_ids: np.ndarray) -> np.ndarray:
    """The salt steps of the taste shocks of ``option_ids`` (see :func:`gumbel_noise`)."""
    return salt_steps(option_ids.astype(np.uint64) + (np.uint64(SALT_TASTE) << np.uint64(48)))


def gumbel_noise(keys: np.ndarray, steps: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Standard Gumbel noise ``(len(keys), len(steps))`` from :func:`taste_steps` (``steps``
    of shape ``(len(keys), m)``: each key its own steps)."""
    g = stepped_uniforms(keys[:, None], steps)
    np.log(g, out=g)  # -log(-log(u)), in place
    np.negative(g, out=g)
    np.log(g, out=g)
    np.negative(g, out=g)
    return g if dtype is np.float64 else g.astype(dtype)


def gumbel_matrix(keys: np.ndarray, option_ids: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Standard Gumbel noise ``(len(keys), len(option_ids))``: one taste shock per offer id."""
    return gumbel_noise(keys, taste_steps(option_ids), dtype)
