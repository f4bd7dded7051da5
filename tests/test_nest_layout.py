"""The padded nest layout's inclusive values equal ``sim.nested_choice.inclusive_values`` on
each row's own columns, bit for bit (multi nests gathered, one-offer nests as lam x value)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.nest_layout import inclusive, nest_layout
from sim.nested_choice import _plan, inclusive_values

ROWS = [  # (our offers, rival sellers): multi and single nests, a nest multi in one row only
    (2, [0, 0, 1, 1, 1]),
    (0, [2, 2, 2, 2, 0]),
    (3, [1]),
    (1, [0, 1, 2]),  # four one-offer nests: the fourth is single in every row
]


@pytest.mark.parametrize("lam", [0.3, 0.6, 0.95])
def test_inclusive_values_of_a_padded_layout_are_the_per_row_ones(lam: float) -> None:
    plans = [_plan(n_ours, np.array(s, dtype=np.int64).tobytes()) for n_ours, s in ROWS]
    width = max(len(p.nests) for p in plans)
    n_nests = max(len(p.ids) for p in plans)
    steps = np.zeros((len(plans), width + 1 + n_nests + 1), dtype=np.uint64)
    nl = nest_layout(plans, steps, width)
    assert len(nl.multi) and len(nl.single)  # both kinds present
    rng = np.random.default_rng(3)
    n = 4000
    row = rng.integers(0, len(plans), n)
    scaled = (rng.normal(0, 3, (n, width + 1)) / lam).astype(np.float32)
    scaled[rng.random((n, width + 1)) < 0.25] = -np.inf  # unavailable offers (whole nests too)
    scaled[:, width] = -np.inf  # column J
    for r, p in enumerate(plans):  # padding columns of a row are -inf, as a layout has them
        scaled[row == r, len(p.nests) : width] = -np.inf
    got = inclusive(scaled, nl, row, lam)
    for r, p in enumerate(plans):
        at = row == r
        want = inclusive_values(scaled[at, : len(p.nests)], p.columns, lam)
        k = len(p.ids)
        assert np.array_equal(got[at, :k], want)
        assert np.all(got[at, k:] == -np.inf)  # nests the row does not have
