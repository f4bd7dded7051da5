"""competitive_index's floor covers the variable cost per unit the firm books (ledger view)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

import marketsim as ms
from sim.contract import RecentBooks
from strategies import registry, testing
from strategies.pricing import cost_floor_base

ROOT = Path(__file__).resolve().parents[1]
KENYA = ROOT / "scenarios" / "kenya_entry.yaml"


def _kenya_view(days: int = 60):
    scenario = ms.load_scenario(KENYA)
    model = testing.new_model(scenario, seed=1, days=days)
    model.run(days=days)
    return model, model.build_view()


def test_books_in_the_view_are_the_ledgers_last_window() -> None:
    model, view = _kenya_view()
    kpis = model.kpi_frame()
    w = view.recent_window_days
    last = kpis[(kpis["region"] == "KE") & (kpis["day"] >= view.day - w)]
    books = view.regions["KE"].books_recent
    for name in ("revenue_base", "duty_base", "refunds_base", "cogs_base", "freight_base"):
        assert np.isclose(getattr(books, name), last[name].sum(), rtol=1e-9), name
    assert books.revenue_base > 0 and books.refunds_base > 0
    # Kenya's air lane charges 80 USD a departure: part of the freight, never all of it
    assert 0 < books.shipment_fees_base < books.freight_base


def test_floor_covers_booked_extra_costs_and_refunds() -> None:
    """On the old code the floor was landed x (1 + min_margin) whatever the books said."""
    _, view = _kenya_view()
    r = view.regions["KE"]
    units = np.asarray(r.units_sold_recent, float)
    landed = np.asarray(r.landed_cost_base, float)
    sold = units.sum()
    # a ledger: 2 USD a unit beyond landed (return-to-origin freight), 150 USD of shipment
    # fees (left out: per departure), refunds 10% of list revenue
    books = RecentBooks(
        revenue_base=1000.0,
        duty_base=200.0,
        refunds_base=80.0,
        cogs_base=float(landed @ units),
        freight_base=2.0 * sold + 150.0,
        shipment_fees_base=150.0,
    )
    # rivals far below any cost, so the floor binds for every product
    cheap = np.full(len(r.competitor_price_local), 1e-3)
    r2 = dataclasses.replace(r, books_recent=books, competitor_price_local=cheap)
    view2 = dataclasses.replace(view, regions={"KE": r2})
    expected = (landed + 2.0) * 1.1 / 0.9
    assert np.allclose(cost_floor_base(r2, 0.1), expected)
    strategy = registry.get("pricing", "competitive_index")(fx_pass_through=0.0)
    prices = strategy.decide(view2, np.random.default_rng(0)).prices_local["KE"]
    fx = r.fx_reference_local_per_base
    assert np.allclose(prices, expected * fx)
    assert (prices > landed * 1.1 * fx * 1.2).all()  # the old floor is ~25% lower here


def test_floor_is_the_old_one_before_any_sale() -> None:
    _, view = _kenya_view()
    r = dataclasses.replace(view.regions["KE"], books_recent=RecentBooks())
    r = dataclasses.replace(r, units_sold_recent=np.zeros_like(r.units_sold_recent))
    assert np.allclose(cost_floor_base(r, 0.1), np.asarray(r.landed_cost_base) * 1.1)
