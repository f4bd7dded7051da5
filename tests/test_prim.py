"""PRIM recovers planted boxes; discovery describes them for a planner."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from experiments.explore.analysis import discover
from experiments.explore.prim import prim


def _futures(seed: int, n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "duty_rate": rng.uniform(0.0, 0.8, n),
            "customs_days": rng.uniform(1.0, 15.0, n),
            "fx_volatility": rng.uniform(0.0, 0.02, n),
            "word_of_mouth": rng.uniform(0.01, 0.1, n),
        }
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prim_recovers_a_planted_box_within_10_percent(seed: int) -> None:
    x = _futures(seed)
    loses = (x["duty_rate"] > 0.48) & (x["customs_days"] > 9.0)
    res = prim(x, loses.to_numpy())
    assert set(res.box.limits) == {"duty_rate", "customs_days"}
    assert res.box.limits["duty_rate"][0] == pytest.approx(0.48, rel=0.10)
    assert res.box.limits["customs_days"][0] == pytest.approx(9.0, rel=0.10)
    assert res.box.limits["duty_rate"][1] == x["duty_rate"].max()  # open above
    assert res.box.coverage > 0.9 and res.box.density > 0.9
    traj = res.trajectory
    assert traj["chosen"].sum() == 1 and traj["mass"].is_monotonic_decreasing
    assert traj.iloc[0]["coverage"] == 1.0


def test_prim_recovers_a_two_sided_box() -> None:
    x = _futures(4, 2000)
    case = x["fx_volatility"].between(0.005, 0.015) & (x["word_of_mouth"] < 0.04)
    res = prim(x, case.to_numpy(), peel_alpha=0.03)
    low, high = res.box.limits["fx_volatility"]
    assert low == pytest.approx(0.005, rel=0.10) and high == pytest.approx(0.015, rel=0.10)
    assert res.box.limits["word_of_mouth"][1] == pytest.approx(0.04, rel=0.10)


def test_discovery_states_the_losing_box_in_words() -> None:
    x = _futures(5)
    x.index.name = "future"
    profit = np.where((x["duty_rate"] > 0.48) & (x["customs_days"] > 9.0), -1000.0, 500.0)
    outcomes = pd.DataFrame(
        {
            "future": np.r_[x.index, x.index],
            "option": ["enter_br"] * len(x) + ["stay_home"] * len(x),
            "net_profit_base": np.r_[profit, np.zeros(len(x))],
        }
    )
    found = discover(x, outcomes, "net_profit_base", 1.0)
    loses = [f for f in found.findings if f.startswith("enter_br loses money")]
    assert len(loses) == 1
    rows = found.boxes[found.boxes["option"] == "enter_br"]
    assert set(rows["question"]) == {"loses money", "is not the best option"}
    box = rows[rows["question"] == "loses money"].set_index("factor")
    assert set(box.index) == {"duty_rate", "customs_days"}
    duty, days = box.loc["duty_rate", "low"], box.loc["customs_days", "low"]
    assert duty == pytest.approx(0.48, rel=0.1) and days == pytest.approx(9.0, rel=0.1)
    assert f"duty_rate >= {duty:.4g} and customs_days >= {days:.4g}: the box holds" in loses[0]
    assert "of those futures (coverage)" in loses[0]
    assert "stay_home loses money in 0% of the futures: no box to find" in found.skipped


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_same_box_as_ema_workbench_prim(seed: int) -> None:
    """EMA Workbench's PRIM (a test peer) picks the same box at the same trajectory point."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its optional back-ends warn when absent
        from ema_workbench.analysis import prim as ema_prim

    x = _futures(seed)
    loses = ((x["duty_rate"] > 0.48) & (x["customs_days"] > 9.0)).to_numpy()
    theirs = ema_prim.Prim(x, loses, threshold=0.8, peel_alpha=0.05, paste_alpha=0.05).find_box()
    traj = theirs.peeling_trajectory
    pick = int((traj["coverage"] * traj["density"]).idxmax())  # our choice rule
    theirs.select(pick)
    ours = prim(x, loses).box
    span = x.max() - x.min()
    for factor in x.columns:
        low, high = ours.limits.get(factor, (x[factor].min(), x[factor].max()))
        assert abs(low - theirs.box_lim[factor][0]) < 0.02 * span[factor], factor
        assert abs(high - theirs.box_lim[factor][1]) < 0.02 * span[factor], factor
    chosen = traj.loc[pick]
    assert ours.coverage == pytest.approx(chosen["coverage"], abs=0.03)
    assert ours.density == pytest.approx(chosen["density"], abs=0.03)


def test_cases_everywhere_give_no_box_and_say_so() -> None:
    x = _futures(6, 400)
    res = prim(x, np.ones(len(x), dtype=bool) & (np.arange(len(x)) % 20 != 0))
    assert res.box.limits == {}
    assert res.sentence("X loses money") == (
        "X loses money in 95% of all futures; no smaller box of the uncertainties "
        "concentrates these cases better (PRIM keeps every future)"
    )
