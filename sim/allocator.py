"""glibc's malloc told to keep a run's large freed arrays for reuse: far fewer page faults.

A model day allocates and frees many arrays of 0.1-30 MB at 10^6 consumers (a round's
utility matrices, the strategies' customer views, the valuation's chunks). By default glibc
maps each one above its mmap threshold fresh from the kernel and gives the heap's freed top
back to it, so the next day faults the same pages in again: 0.43 of 6.2 CPU s at 10^6 x 365
were the kernel's (210,000 minor faults). With blocks up to 32 MB served from the heap and up
to 64 MB of freed heap top kept, that is 0.10 s (43,000 faults); peak RSS is unchanged
(benchmarks/RESULTS.md). Values are untouched: only where memory comes from changes.

The setting is process-wide and made once, by the first model built (``sim.model``). A
process that sets ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` itself keeps its
own; a C library without ``mallopt`` (not glibc) is left alone.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 << 20  # blocks below this come from the heap (glibc's dynamic cap)
TRIM_THRESHOLD_BYTES = 64 << 20  # freed heap top kept up to this size
_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
_state: dict[str, bool] = {}


def keep_freed_memory() -> bool:
    """Set the two thresholds once per process; True when they are set (now or before)."""
    if "set" not in _state:
        _state["set"] = _set_thresholds()
    return _state["set"]


def _set_thresholds() -> bool:
    if not sys.platform.startswith("linux") or any(k in os.environ for k in _ENV):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
