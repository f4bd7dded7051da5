"""Per-value tables (strategies.value_tables) give the floats of the direct computation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from strategies.retention import churn_risk
from strategies.value_tables import per_value


def _plain_churn_risk(c: SimpleNamespace, scale: float, wr: float, wf: float, ws: float):
    """The score computed customer by customer (churn_risk before its tables)."""
    rec = np.asarray(c.recency_days, dtype=float)
    freq = np.maximum(np.asarray(c.frequency, dtype=float), 1.0)
    sat = np.clip(np.asarray(c.satisfaction, dtype=float), 0.0, 1.0)
    r_term = 1.0 - np.exp(-np.maximum(rec, 0.0) / scale)
    score = (wr * r_term + wf / freq + ws * (1.0 - sat)) / (wr + wf + ws)
    return 100.0 * score


def test_per_value_equals_the_elementwise_function() -> None:
    rng = np.random.default_rng(2)
    for dtype in (np.int16, np.int32, np.int64, np.uint16):
        low = 0 if np.dtype(dtype).kind == "u" else -40
        v = rng.integers(low, 400, 50_000).astype(dtype)
        got = per_value(v, lambda x: 1.0 - np.exp(-np.maximum(x, 0.0) / 17.0))
        assert got is not None
        assert np.array_equal(got, 1.0 - np.exp(-np.maximum(v.astype(float), 0.0) / 17.0))
    assert per_value(rng.random(10), np.exp) is None  # not integers
    assert per_value(np.array([0, 1 << 20]), np.exp) is None  # too wide a span
    assert per_value(np.zeros(0, dtype=np.int64), np.exp) is None


def test_churn_risk_is_the_customer_by_customer_score() -> None:
    rng = np.random.default_rng(4)
    n = 200_000
    for span in (365, 1 << 20):  # tabulated, and the direct fallback
        view = SimpleNamespace(
            recency_days=rng.integers(-3, span, n).astype(np.int64),
            frequency=rng.integers(0, 30, n).astype(np.int32),
            satisfaction=(rng.random(n) * 1.2 - 0.1).astype(np.float32),
        )
        for args in ((20.0, 0.6, 0.2, 0.2), (7.5, 0.3, 0.5, 0.0)):
            got = churn_risk(view, *args)
            assert np.array_equal(got, _plain_churn_risk(view, *args))
