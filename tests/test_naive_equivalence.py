"""The naive benchmark model (one Mesa agent per consumer) matches the vectorized model.

``benchmarks/naive.py`` re-implements the consumer behaviour of ``sim/consumers.py`` with one
Mesa agent per consumer and Python loops; the benchmark's speed ratio only means something if
both models simulate the same market. The two use different random draws (Poisson counts per
day vs an exact occasion calendar, inversion vs Gumbel-max), so the check is statistical:
independent replications of each, per-replication KPI totals compared by Welch's t-test.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `benchmarks` is not an installed package
    sys.path.insert(0, str(ROOT))

from benchmarks.naive import NaiveMarketModel, poisson  # noqa: E402
from benchmarks.scenario import bench_data, bench_scenario  # noqa: E402
from sim.contract import MarketView, RetentionAction, RetentionDecision  # noqa: E402
from sim.model import MarketModel  # noqa: E402
from sim.validation import parse_scenario  # noqa: E402
from strategies.base import RetentionStrategy  # noqa: E402
from strategies.params import Param  # noqa: E402
from tests.helpers import new_model  # noqa: E402

N = 4_000
DAYS = 90
REPLICATIONS = 12
# 10 % aware at the start (the benchmark uses 2 %) so that the random early path of the Bass
# diffusion does not swamp the comparison of the other mechanisms.
INITIAL_AWARE = 0.1
# Per-KPI level of the two-sided Welch test; with the 9 KPIs below the family-wise false
# alarm rate is <= 9 x 0.001 < 1 % (and the seeds are fixed, so the outcome is reproducible).
ALPHA = 0.001
# Independently of the test, the two means must lie within this many standard errors of
# their difference.
MAX_SE = 4.0


class WinBack(RetentionStrategy):
    """Test-only retention: lapsed customers get a 14-day offer that changes every lever."""

    name: ClassVar[str] = "test_winback"
    params: ClassVar[tuple[Param, ...]] = ()

    def decide(self, view: MarketView, rng: np.random.Generator) -> RetentionDecision:
        actions = []
        for rid, region in view.regions.items():
            c = region.customers
            target = c.customer_ids[(c.recency_days > 20) & (c.satisfaction > 0.3)]
            if len(target):
                actions.append(
                    RetentionAction(
                        region_id=rid,
                        action="winback",
                        customer_ids=target,
                        cost_per_customer_base=0.5,
                        dropout_multiplier=0.6,
                        rate_multiplier=2.0,
                        utility_bonus=0.4,
                        duration_days=14,
                        rebate_share=0.05,
                    )
                )
        return RetentionDecision(tuple(actions))


def _totals(model: MarketModel) -> dict[str, float]:
    df = model.run()
    rows = df[df["region"] == "ALL"]
    out = {
        k: float(rows[k].sum())
        for k in (
            "occasions",
            "market_units",
            "units",
            "new_customers",
            "revenue_base",
            "churned_customers",
            "retention_base",
            "deliveries",
        )
    }
    out["aware_share_end"] = float(rows["aware_share"].iloc[-1])
    return out


@pytest.fixture(scope="module")
def replications() -> dict[str, list[dict[str, float]]]:
    data = bench_data(N, DAYS)
    data["regions"][0]["awareness"]["initial_share"] = INITIAL_AWARE
    scenario = parse_scenario(data)
    out: dict[str, list[dict[str, float]]] = {"vectorized": [], "naive": []}
    for seed in range(REPLICATIONS):
        out["vectorized"].append(
            _totals(new_model(scenario, seed=seed, strategies={"retention": WinBack()}))
        )
        out["naive"].append(
            _totals(
                new_model(
                    scenario,
                    model_cls=NaiveMarketModel,
                    seed=1000 + seed,
                    strategies={"retention": WinBack()},
                )
            )
        )
    return out


KPIS = [
    "occasions",
    "market_units",
    "units",
    "new_customers",
    "revenue_base",
    "churned_customers",
    "retention_base",
    "deliveries",
    "aware_share_end",
]


@pytest.mark.parametrize("kpi", KPIS)
def test_naive_model_matches_vectorized_kpis(
    replications: dict[str, list[dict[str, float]]], kpi: str
) -> None:
    a = np.array([r[kpi] for r in replications["vectorized"]])
    b = np.array([r[kpi] for r in replications["naive"]])
    assert a.mean() > 0 and b.mean() > 0, f"{kpi}: the mechanism is not exercised"
    se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    diff = b.mean() - a.mean()
    p = stats.ttest_ind(a, b, equal_var=False).pvalue
    detail = (
        f"{kpi}: vectorized mean {a.mean():.4g}, naive mean {b.mean():.4g}, difference "
        f"{diff:.4g} = {diff / se:.2f} SE ({100 * diff / a.mean():.2f} %); Welch p = {p:.4g}; "
        f"{REPLICATIONS} replications each of N = {N}, {DAYS} days; tolerances: "
        f"p >= {ALPHA}, |difference| <= {MAX_SE} SE"
    )
    assert p >= ALPHA, detail
    assert abs(diff) <= MAX_SE * se, detail


def test_equivalence_check_has_power(replications: dict[str, list[dict[str, float]]]) -> None:
    """The replications resolve differences of a few percent in the main flows."""
    for kpi in ("occasions", "units", "new_customers"):
        a = np.array([r[kpi] for r in replications["vectorized"]])
        rel_se = a.std(ddof=1) / math.sqrt(len(a)) / a.mean()
        assert MAX_SE * math.sqrt(2) * rel_se < 0.1, (
            f"{kpi}: relative SE {rel_se:.3%} per model is too large for the check to detect "
            f"a 10 % difference"
        )


@pytest.mark.parametrize("lam", [0.01, 0.3, 4.0])
def test_poisson_by_inversion(lam: float) -> None:
    rnd = random.Random(5)
    draws = np.array([poisson(lam, rnd.random()) for _ in range(100_000)])
    se = math.sqrt(lam / len(draws))
    assert abs(draws.mean() - lam) < 5 * se, f"mean {draws.mean():.5f} vs {lam} (5 SE = {5 * se})"
    assert draws.var() == pytest.approx(lam, rel=0.05)


def test_naive_model_has_one_mesa_agent_per_consumer() -> None:
    scenario = bench_scenario(500, 10)
    model = new_model(scenario, seed=1, model_cls=NaiveMarketModel)
    pop = model.consumers[0]
    assert len(pop.agents) == 500
    assert len(model.agents) >= 500  # consumers + firm + competitors + lanes
    model.run()
    ids = pop.customer_ids()
    assert pop.customer[ids].all()
    assert pop.n_customers == len(ids)
