"""Delivery experience (sim.experience): days late graded, complaints, service recovery, the
rate clock restarting at delivery, and the transaction log's late days."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim import keyed
from sim.consumers import NO_OCCASION
from sim.experience import Completed, complaint_probability, damage, recovery_share
from sim.schema_experience import Experience
from tests.helpers import make_scenario, new_model

GRADED = {
    "late_days_full": 8.0,
    "late_rate_multiplier": 0.3,
    "complaint_probability": 0.02,
    "complaint_uplift_per_late_day": 0.5,
    "complaint_late_days_cap": 6.0,
    "recovery_max": 0.6,
    "recovery_half_life_hours": 12.0,
    "response_hours": 36.0,
    "local_response_hours": 2.0,
}


def _model(experience: dict | None = None, **kwargs):
    def edit(d):
        if experience is not None:
            d["regions"][0]["experience"] = experience

    return new_model(make_scenario(edit), **kwargs)


def _completed(consumers, late_days, **flags):
    n = len(consumers)
    late_days = np.asarray(late_days, dtype=float)
    none = np.zeros(n, dtype=bool)
    return Completed(
        np.asarray(consumers),
        late_days,
        late_days > 0,
        flags.get("returned", none),
        flags.get("lost", none),
        flags.get("complaint", none),
    )


def test_days_late_grade_the_damage():
    """A parcel 1 day late hurts less than one 8 days late: satisfaction, loyalty, intent."""
    model = _model(GRADED)
    pop = model.consumers[0]
    idx = np.array([10, 11, 12])
    pop.satisfaction[idx] = 0.7
    pop.loyalty[idx] = 0.5
    model.experience.apply(0, 5, _completed(idx, [0.0, 1.0, 8.0]))
    sat, loy, intent = pop.satisfaction[idx], pop.loyalty[idx], pop.intent[idx]
    assert sat[0] > sat[1] > sat[2]
    assert loy[0] > loy[1] > loy[2]
    assert intent[0] == 1.0 and 1.0 > intent[1] > intent[2]
    # 8 days late is the full damage: the rate multiplier itself
    assert float(intent[2]) == pytest.approx(0.3, abs=1e-3)
    spec = Experience(late_days_full=8.0)
    assert list(damage(spec, np.array([0.0, 1.0, 8.0, 20.0]))) == [0.0, 0.125, 1.0, 1.0]
    assert list(damage(Experience(), np.array([0.0, 0.5, 9.0]))) == [0.0, 1.0, 1.0]


def test_complaint_rate_rises_about_300_percent_beyond_five_days():
    spec = Experience(**GRADED)
    p = complaint_probability(spec, np.array([0.0, 6.0, 10.0]))
    assert p[1] / p[0] == pytest.approx(4.0) and p[2] == p[1]  # +300%, capped
    # the draws: 200k parcels each, ratio within 4 SE of 4
    model = _model(GRADED)
    n = 200_000
    keys = keyed.occasion_keys(np.uint64(99), np.arange(n), np.ones(n, dtype=np.int64))
    region = np.zeros(n, dtype=np.int64)
    delivered = np.ones(n, dtype=bool)
    on_time = model.experience.draw_complaints(keys, region, delivered, np.zeros(n)).mean()
    late = model.experience.draw_complaints(keys, region, delivered, np.full(n, 6.0)).mean()
    se = 4.0 * np.sqrt(1 / (on_time * n) + 1 / (late * n))  # delta method on log ratio
    assert abs(late / on_time - 4.0) < 4 * se
    # the KPIs count them: complaints / deliveries
    model.run(days=40)
    k = model.kpi_frame()
    k = k[k["region"] == "ALL"]
    rate = k["complaints"].sum() / k["deliveries"].sum()
    assert 0.02 <= rate <= 0.08 and k["complaint_rate"].notna().any()


def test_service_recovery_depends_on_response_hours():
    """Local service (2 h) undoes more of a late parcel's damage than the home team (36 h)."""
    spec = Experience(**GRADED)
    fast, slow = recovery_share(spec, True), recovery_share(spec, False)
    assert fast == pytest.approx(0.6 * 0.5 ** (2 / 12)) and slow == pytest.approx(0.6 / 8)
    sats = []
    for local in (False, True):
        model = _model(GRADED)
        model.firm.localization[0] = replace(model.firm.localization[0], local_service=local)
        pop = model.consumers[0]
        idx = np.array([3, 4])
        pop.satisfaction[idx] = 0.7
        model.experience.apply(0, 5, _completed(idx, [8.0, 0.0], complaint=np.array([0, 1], bool)))
        sats.append(pop.satisfaction[idx].copy())
    assert (sats[1] > sats[0]).all()  # late parcel and complaint both recover faster


def test_rate_clock_restarts_at_delivery():
    """With the clock restarting, buyers have no occasion while their parcel travels and get
    one after it completes; without it (default) they keep their scheduled occasion."""
    model = _model({"restart_clock_at_delivery": True}, days=40)
    pop = model.consumers[0]
    model.run(days=20)
    book = model.firm.orders
    status = book.column("status")
    waiting = np.unique(book.column("consumer")[status == 0])
    waiting = waiting[pop.alive[waiting]]
    assert len(waiting) and (pop.next_day[waiting] == NO_OCCASION).all()
    done_day = book.column("delivered_day")
    done = np.unique(book.column("consumer")[(done_day >= 0) & (done_day < 19)])
    done = done[pop.alive[done] & ~np.isin(done, waiting)]
    assert (pop.next_day[done] != NO_OCCASION).sum() > 0.5 * len(done)
    base = _model(days=40)
    base.run(days=20)
    b = base.firm.orders
    transit = np.unique(b.column("consumer")[b.column("status") == 0])
    assert (base.consumers[0].next_day[transit] != NO_OCCASION).any()


def test_transactions_carry_late_days_and_returns():
    def edit(d):
        d["lanes"][0]["promised_days"] = 3  # most parcels late

    model = new_model(make_scenario(edit), days=40)
    model.run()
    tx = model.transactions()
    arrived = tx["delivery_days"].notna()
    assert (tx.loc[arrived, "late_days"] >= 0).all() and tx.loc[~arrived, "late_days"].isna().all()
    assert (tx.loc[arrived, "late_days"] > 0).mean() > 0.5
    assert (tx["returned"] == (tx["status"] == "returned")).all()
    assert tx["returned"].any()


def test_late_parcels_cut_repeat_buying_with_the_mechanism():
    """Paired CRN on the tiny scenario: parcels 6 days later cut second orders clearly more
    with a rate cut after late parcels than without (fails on the on/off-only rule)."""

    def run(experience, extra_days):
        def edit(d):
            d["horizon_days"] = 120
            d["regions"][0]["population"] = 20000
            if experience:
                d["regions"][0]["experience"] = experience
            mile = d["lanes"][0]["last_mile_days"]
            mile["mean"] += extra_days

        model = new_model(make_scenario(edit), seed=3)
        model.run()
        return model.consumers[0].repurchase_counts(120, 60)

    def cut(experience):
        (n0, r0), (n1, r1) = run(experience, 0.0), run(experience, 6.0)
        return 1 - (r1 / n1) / (r0 / n0)

    plain = cut(None)
    graded = cut({"late_days_full": 5.0, "late_rate_multiplier": 0.2})
    assert graded > plain + 0.08


def test_warehouse_cycle_is_measured_where_cross_border_is_slow():
    """The fact compares DOMAIN's 15 -> 3 days: only regions whose cross-border delivery
    takes >= 10 days count; without one the row is not measurable and says the ratio."""
    import pandas as pd

    from experiments.check import facts
    from experiments.check.runs import RunStats
    from experiments.files import load_scenario
    from tests.helpers import ROOT

    sc = load_scenario(ROOT / "scenarios" / "eu_eco_entry.yaml")

    def stats(variant, days, cycle):
        kpis = pd.DataFrame(
            [
                {
                    "day": 0,
                    "region": r,
                    "delivery_days_total": days[r] * 100,
                    "deliveries": 100,
                    "customer_years": cycle[r] * 10 / 365,
                    "repeat_orders": 10,
                }
                for r in days
            ]
        )
        return RunStats(variant, 0, 365, kpis, {})

    def ctx(pl_days):
        base = [stats("baseline", {"DE": 5, "PL": pl_days}, {"DE": 80, "PL": 100}) for _ in "ab"]
        wh = [stats("regional_warehouse", {"DE": 2, "PL": 2}, {"DE": 76, "PL": 50}) for _ in "ab"]
        runs = {"baseline": base, "regional_warehouse": wh}
        return facts.FactContext(sc, runs, 730, 365)

    m = facts.repurchase_cycle(ctx(14.0))
    assert list(m.values) == [0.5, 0.5] and m.note.startswith("PL: delivery 14.0 -> 2.0")
    with pytest.raises(facts.NotMeasurable, match=r"cycle x0\.70"):
        facts.repurchase_cycle(ctx(6.0))


def _bgnbd_run(variant: str, k: float, days: int = 730, n: int = 20_000) -> object:
    """A synthetic run of one slow region: customers acquired uniformly over ``days``, each
    buying at a Gamma(0.6, 1/274 per day) rate x ``k`` (0.8 a year at k 1) and dropping out
    after a purchase with a Beta(1, 12.5) chance / ``k`` (dropout per day kept); the KPIs the
    cycle needs and the order log's gap sums (the estimator before wc27)."""
    import pandas as pd

    from experiments.check.runs import RunStats

    rng = np.random.default_rng(7)
    t = rng.uniform(0, days, n)
    rate, p = rng.gamma(0.6, 1 / 274, n) * k, rng.beta(1.0, 12.5, n) / k
    alive, alive_days, gap_sum, gaps = np.ones(n, bool), 0.0, 0.0, 0
    while alive.any():
        i = np.flatnonzero(alive)
        wait = rng.exponential(1.0, len(i)) / rate[i]
        inside = t[i] + wait < days
        alive_days += float(np.minimum(wait, days - t[i]).sum())
        gap_sum, gaps = gap_sum + float(wait[inside].sum()), gaps + int(inside.sum())
        t[i] += wait
        alive[i[~inside | (rng.uniform(size=len(i)) < p[i])]] = False
    row = {"day": 0, "region": "PL", "delivery_days_total": 14.0, "deliveries": 1}
    row |= {"customer_years": alive_days / 365, "repeat_orders": gaps}
    repeat = {"PL": {"gaps": float(gaps), "gap_days_sum": gap_sum}}
    return RunStats(variant, 0, 365, pd.DataFrame([row]), repeat)


def test_warehouse_cycle_is_not_cut_off_by_the_run_end():
    """x4 on every customer's rate (dropout per day kept) is a cycle of exactly 1/4: the fact
    reads it within 0.02; the mean observed gap between orders (the estimator before wc27)
    read ~0.47 on this case, because long gaps never complete inside 730 days."""
    from experiments.check import facts
    from experiments.files import load_scenario
    from tests.helpers import ROOT

    sc = load_scenario(ROOT / "scenarios" / "eu_eco_entry.yaml")
    sc = sc.model_copy(update={"regions": [r for r in sc.regions if r.id == "PL"]})
    runs = {"baseline": [_bgnbd_run("baseline", 1.0)]}
    runs["regional_warehouse"] = [_bgnbd_run("regional_warehouse", 4.0)]
    m = facts.repurchase_cycle(facts.FactContext(sc, runs, 730, 365))
    assert abs(float(m.values[0]) - 0.25) < 0.02, m.values
