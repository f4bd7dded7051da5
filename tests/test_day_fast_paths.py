"""The model day's fast paths (issue 13's speed work): the same state as the plain steps."""

from __future__ import annotations

import numpy as np

from sim.orders import CHUNK, OrderBook
from tests.helpers import make_scenario, new_model, run_until


def test_set_columns_writes_what_set_writes_across_chunks() -> None:
    """Several columns written with the ids located once equal one ``set`` per column, for
    ids spanning two chunks in any order."""
    books = [OrderBook(), OrderBook()]
    for book in books:
        book.append(region=0, consumer=np.arange(CHUNK + 50), product=0, day=3, units=1)
    ids = np.array([CHUNK + 7, 2, CHUNK - 1, 40, CHUNK + 49])
    values = {
        "status": np.array([1, 3, 2, 4, 1]),
        "late_days": np.array([0.5, 0.0, 2.25, 1.0, 0.0]),
        "delivered_day": np.array([9, 8, -1, 7, 6]),
    }
    books[0].set_columns(ids, values)
    for name, v in values.items():
        books[1].set(name, ids, v)
    for name in values:
        assert np.array_equal(books[0].column(name), books[1].column(name))


def test_ledger_rows_are_views_of_the_day_array() -> None:
    """A booked flow shows in the region's column; the day's reset clears every flow."""
    m = new_model(make_scenario(), seed=1)
    firm = m.firm
    firm.book("revenue_base", 0, 12.5)
    firm.book("revenue_base", None, 1.0)
    row = list(firm.today).index("revenue_base")
    assert firm.flows_today[row, 0] == 12.5 and firm.today["revenue_base"][0] == 12.5
    firm.reset_day()
    assert not firm.flows_today.any() and firm.firm_today["revenue_base"] == 0.0


def test_decision_views_share_what_no_decision_changes() -> None:
    """While decisions run, the four views share the history arrays (old code: built four
    times); outside, each view is built afresh and sees a competitor's new price."""
    m = new_model(make_scenario(), seed=3)
    run_until(m, 5)
    obs = m.observer
    obs.open_decisions()
    first, second = obs.market_view(), obs.market_view()
    obs.release_customer_views()
    region = next(iter(first.regions))
    a, b = first.regions[region], second.regions[region]
    assert a.units_history is b.units_history
    assert a.competitor_price_local is b.competitor_price_local
    assert not a.units_history.flags.writeable
    fresh = obs.market_view().regions[region]
    assert fresh.units_history is not a.units_history
    assert np.array_equal(fresh.units_history, a.units_history)
    comp = m.competitors[0]
    comp.price_local[:] = comp.price_local * 2.0
    moved = obs.market_view().regions[region].competitor_price_local
    assert not np.array_equal(moved, a.competitor_price_local)
