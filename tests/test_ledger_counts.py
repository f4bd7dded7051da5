"""Counting and ledger defects (issue 12): memberships, failed payments, revivals, credit."""

from __future__ import annotations

import numpy as np

from sim.contract import RetentionAction, RetentionDecision, SelectionDecision
from strategies.retention import LoyaltyProgram
from tests.helpers import ample_stock, make_scenario, new_model, run_until


def _ample_200(d: dict) -> None:
    """tiny.yaml with stock that never runs out, over 200 days."""
    ample_stock(d, horizon_days=200)


def test_loyalty_memberships_are_not_counted_as_offers() -> None:
    """Old code: every renewed membership was booked as an offer sent (and each member's
    purchase as an offer redeemed)."""
    m = new_model(make_scenario(_ample_200), seed=2)
    run_until(m, 120)
    view = m.observer.market_view()
    decision = LoyaltyProgram(min_orders=1).decide(view, np.random.default_rng())
    members = sum(len(a.customer_ids) for a in decision.actions)
    assert members > 50
    m.decisions.apply_retention(decision)
    run_until(m, 160)
    a = m.kpi_frame().query("region == 'ALL'")
    assert a["loyalty_members"].sum() == members
    assert a["offers_sent"].sum() == 0
    assert a["offers_redeemed"].sum() == 0
    assert m.offers.table().empty
    assert a["retention_base"].sum() > 0  # the programme still costs: fees and rebates


def _card_world(d: dict) -> None:
    d["regions"][0]["population"] = 5_000
    d["regions"][0]["segments"][0]["payment_preferences"] = {"card": 1.0}
    d["regions"][0]["payments"] = {"success_rate": {"card": 0.5}}
    d["firm"]["supported_payment_methods"] = ["card"]


def test_a_failed_payment_releases_its_stock_to_the_next_buyer() -> None:
    """One unit left, two buyers: the first one's card fails. Old code: the failed buyer
    held the unit, so the second one was a stockout; now the second one buys it."""
    m = new_model(make_scenario(_card_world), seed=4)
    m.step()
    f = m.fulfilment
    candidates = np.arange(200, dtype=np.int64)
    _, paid = f._pay(0, candidates)
    a, b = candidates[~paid][0], candidates[paid][0]
    w = m.firm.serving_warehouse(0)
    m.firm.on_hand[w, 0] = 1
    before = m.firm.today["checkouts"][0], m.firm.today["failed_payments"][0]
    filled = f.fulfiller(0, m.day)(np.array([a, b]), np.array([0, 0]))
    assert filled.tolist() == [False, True]
    assert m.firm.on_hand[w, 0] == 0
    after = m.firm.today["checkouts"][0], m.firm.today["failed_payments"][0]
    assert (after[0] - before[0], after[1] - before[1]) == (2, 1)  # both reached payment


def test_a_revived_customer_loses_stale_rate_multipliers() -> None:
    """Old code: a lapsed customer kept the rate multiplier of a retention action that
    ended while they were lapsed, and the late-delivery intent cut, after answering an
    offer; a running action's multiplier stays."""
    m = new_model(make_scenario(_ample_200), seed=3)
    run_until(m, 150)
    pop = m.consumers[0]
    ids = pop.customer_ids()
    lapsed = ids[~pop.alive[ids]].astype(np.int64)
    assert len(lapsed) > 20
    pop.rate_multiplier[lapsed] = 1.5  # a multiplier left behind by an expired action
    pop.intent = np.ones(pop.capacity, dtype=np.float16)
    pop.intent[lapsed] = 0.37  # the cut of a late parcel before they lapsed
    action = RetentionAction("XA", "test", lapsed, 0.0, duration_days=20, response_probability=1.0)
    m.decisions.apply_retention(RetentionDecision((action,)))
    run_until(m, 175)
    back = lapsed[pop.alive[lapsed]]
    assert len(back) > 0.5 * len(lapsed)
    assert (pop.rate_multiplier[back] == 1.0).all()
    assert (pop.intent[back] != np.float16(0.37)).all()  # reset (or moved by a new delivery)


def _short_of_cash(d: dict) -> None:
    d["firm"]["starting_cash_base"] = 1000.0
    d["firm"]["finance"] = {"credit_limit_base": 2000.0}


def test_the_opening_stock_is_bought_within_cash_and_credit() -> None:
    """Old code: the opening stock (6,400 at purchase price) was bought whatever the
    3,000 of cash and credit; now it is cut in proportion to what they can pay."""
    m = new_model(make_scenario(_short_of_cash), seed=1)
    firm = m.firm
    cost = float((firm.on_hand[0] * firm.unit_cost_base).sum())
    assert 0.9 * 3000.0 < cost <= 3000.0
    assert (firm.on_hand[0] > 0).all()  # every product gets its share
    m.step()
    a = m.kpi_frame().query("region == 'ALL'")
    assert float(a["purchases_base"].sum()) == cost


def _costly_launches(d: dict) -> None:
    d["firm"]["launch"] = {"cost_base": 500.0, "stock_units": 50}


def test_launches_wait_while_cash_and_credit_are_out() -> None:
    """Old code: a new listing paid its launch cost and stock commitment even on a day
    when cash and credit had run out (reorders, marketing and offers had stopped)."""
    m = new_model(make_scenario(_costly_launches), seed=1)
    m.step()
    firm = m.firm
    firm.listed[0] = False  # delist everything, then relaunch on a day with no cash left
    firm.treasury.stopped = True
    bought = firm.inventory.totals.bought_units
    m.decisions.apply_selection(SelectionDecision({"XA": np.ones(firm.n_products, dtype=bool)}))
    assert not firm.listed[0].any()
    assert firm.today["launches_blocked"][0] == firm.n_products
    assert firm.today["launches"][0] == 0 and firm.today["launch_cost_base"][0] == 0
    assert firm.inventory.totals.bought_units == bought
    firm.treasury.stopped = False  # cash back: the launch goes ahead
    m.decisions.apply_selection(SelectionDecision({"XA": np.ones(firm.n_products, dtype=bool)}))
    assert firm.listed[0].all() and firm.today["launches"][0] == firm.n_products
