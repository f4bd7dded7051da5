"""Id batches: sorted distinct ids by a mask pass, positions grouped by a small integer key."""

from __future__ import annotations

import numpy as np

#: a batch of at least n / _MASK_RATIO ids is deduplicated through a mask of n flags
_MASK_RATIO = 512


def sorted_distinct(ids: np.ndarray, n: int) -> np.ndarray:
    """``np.unique(ids)`` (same values, order and dtype) for ids in ``[0, n)``; a batch that
    is already strictly increasing (sorted by an earlier call) is copied as it is."""
    ids = np.asarray(ids)
    if len(ids) > 1 and bool((ids[1:] > ids[:-1]).all()):
        return ids.copy()
    if len(ids) * _MASK_RATIO < n:
        return np.unique(ids)
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
