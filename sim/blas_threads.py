"""One BLAS thread around the model's large matrix-vector products: the same values, less CPU.

OpenBLAS splits a product of more than ~9,000 elements over its threads. The horizon
valuation's quadrature (``sim.equity``) makes a few dozen of them per run. On a machine that
runs other work, every thread hand-off costs more CPU than the product itself: 0.47 CPU s
against 0.23 s on one thread at 10^6 consumers. One thread computes each row with the same
kernel, so the values are the same (``tests/test_blas_threads.py`` checks this).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _controller() -> ThreadpoolController:
    """The process's BLAS and OpenMP libraries, found once (a few ms); limits are cheap."""
    return ThreadpoolController()


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """Run the block with one BLAS thread; the earlier thread count is restored after it."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
