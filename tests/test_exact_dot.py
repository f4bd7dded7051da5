"""Dot products in a fixed order (sim.exact_dot): the same bits on every CPU and BLAS kernel."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import fresh_python, kernel_sensitive_tables, whole_day_histories
from threadpoolctl import threadpool_limits

from sim.bgnbd import BgNbdParams, conditional_expected_purchases
from sim.exact_dot import dot


def test_dot_is_the_product_summed_in_numpy_order() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.random((5, 1000)), rng.random(1000)
    assert np.array_equal(dot(a, b), np.array([np.sum(row * b) for row in a]))
    assert dot(a[0], b) == np.sum(a[0] * b)
    np.testing.assert_allclose(dot(a, b), a @ b, rtol=1e-12)  # the same product as BLAS's
    assert dot(np.array([2, 3]), np.array([0.5, 1.0])) == 4.0  # integer counts times values


def test_quadrature_values_equal_on_one_and_on_four_blas_threads() -> None:
    """The quadrature's weighted sums (a <= 1: 3 x 8,192 rows x 48 nodes) do not call BLAS,
    so its thread count cannot change them."""
    x, t_x, big_t = whole_day_histories(8192)
    params = BgNbdParams(0.9, 120.0, 1.0, 8.0)
    horizons = np.array([[365.0], [730.0], [1095.0]])
    with threadpool_limits(limits=4, user_api="blas"):
        many = conditional_expected_purchases(params, horizons, x, t_x, big_t, "quadrature")
    with threadpool_limits(limits=1, user_api="blas"):
        one = conditional_expected_purchases(params, horizons, x, t_x, big_t, "quadrature")
    assert np.array_equal(many, one)


@pytest.mark.parametrize("coretype", ["Prescott", "Sandybridge"])
def test_a_run_is_the_same_under_another_blas_kernel(coretype: str) -> None:
    """A fresh process with OpenBLAS told to use an older CPU's kernel (its dot products sum
    in another order) gives the same tables as this one. Before stop 30 the tiny scenario's
    expected purchases and customer equity differed in their last digits under ``Prescott``
    (the golden tables recorded on one machine failed on another)."""
    code = (
        "import sys\n"
        "from tests.helpers import kernel_sensitive_tables\n"
        "sys.stdout.write(kernel_sensitive_tables())\n"
    )
    out = fresh_python(code, OPENBLAS_CORETYPE=coretype)
    assert out == kernel_sensitive_tables()
