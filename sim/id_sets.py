"""Id batches: sorted distinct ids (a sort or a mask pass), positions grouped by a small key."""

from __future__ import annotations

import numpy as np

#: a batch of at least n / _MASK_RATIO ids is deduplicated through a mask of n flags; a
#: smaller one by a sort (numpy 2.4: a sort beats the mask pass below about n / 5 ids, and
#: ``np.unique``'s hash table by 10-30x on thousands of integers; benchmarks/RESULTS.md)
_MASK_RATIO = 4


def sorted_unique(a: np.ndarray) -> np.ndarray:
    """``np.unique(a)`` of a 1-D integer array (the same sorted values and dtype): a sort and
    one comparison pass."""
    a = np.sort(a)
    if len(a) > 1:
        keep = np.empty(len(a), dtype=bool)
        keep[0] = True
        np.not_equal(a[1:], a[:-1], out=keep[1:])
        a = a[keep]
    return a


def unique_first(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(a, return_index=True)`` of a 1-D integer array: the sorted distinct values
    and the position of each one's first occurrence (a stable sort keeps it first)."""
    order = a.argsort(kind="stable")
    b = a.take(order)
    keep = np.empty(len(b), dtype=bool)
    keep[:1] = True
    np.not_equal(b[1:], b[:-1], out=keep[1:])
    return b[keep], order[keep]


def sorted_distinct(ids: np.ndarray, n: int) -> np.ndarray:
    """``np.unique(ids)`` (same values, order and dtype) for ids in ``[0, n)``; a batch that
    is already strictly increasing (sorted by an earlier call) is copied as it is."""
    ids = np.asarray(ids)
    if len(ids) > 1 and bool((ids[1:] > ids[:-1]).all()):
        return ids.copy()
    if len(ids) * _MASK_RATIO < n:
        return sorted_unique(ids)
    seen = np.zeros(n, dtype=bool)
    seen[ids] = True
    return np.flatnonzero(seen).astype(ids.dtype, copy=False)


def positions_by_key(keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Each distinct key (ascending) with the positions holding it, in their original order."""
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    if not len(ordered):
        return []
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(ordered)]
    return [(int(ordered[s]), order[s:e]) for s, e in zip(starts, ends, strict=True)]
