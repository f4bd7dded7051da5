"""Theory checks: the model's mechanisms against their closed forms, with stated tolerances.

Each check builds a small world in which a closed form holds (logit shares, Bass diffusion,
BG/NBD repeat purchasing, the Erlang C wait of an M/M/c stage, logit Bertrand-Nash prices),
runs the model with a fixed seed and returns one :class:`TheoryCheck` row. ``perturb`` edits
the model's side of the comparison (a scenario mapping, or the check's parameter mapping) so
that a test can show the checker fails when the model does not follow the theory. The test
suite (``tests/test_theory.py``, ``tests/test_lanes.py``) calls these same functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.choice import logit_shares, sample_choices
from sim.diffusion import bass_cdf
from sim.scenario import Scenario

Perturb = Callable[[dict[str, Any]], Any] | None
#: the smallest complete scenario, the base of every theory world
TINY_PATH = Path(__file__).resolve().parents[2] / "scenarios" / "tiny.yaml"


@dataclass(frozen=True)
class TheoryCheck:
    """One theory-check row: the closed form, the model's value and whether they agree.

    ``theory`` and ``model`` are the values at the worst point of the check (the largest
    deviation); ``details`` holds every compared value.
    """

    name: str
    what: str
    theory: float
    model: float
    tolerance: str
    passed: bool
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    def row(self) -> dict[str, Any]:
        """The row of the theory table."""
        return {
            "check": self.name,
            "what": self.what,
            "theory": self.theory,
            "model": self.model,
            "tolerance": self.tolerance,
            "verdict": "pass" if self.passed else "fail",
        }


def tiny_world(*edits: Perturb) -> Scenario:
    """``scenarios/tiny.yaml`` validated after each edit (in order) changed its data."""
    import yaml

    from sim.validation import parse_scenario
    from strategies.registry import scenario_strategy_problems

    data = yaml.safe_load(TINY_PATH.read_text(encoding="utf-8"))
    for edit in edits:
        if edit is not None:
            out = edit(data)
            if isinstance(out, dict):
                data = out
    return parse_scenario(data, "tiny.yaml (modified)", check_strategies=scenario_strategy_problems)


def run_world(scenario: Scenario, seed: int, *, keep_prices: bool = False):
    """Run ``scenario`` with its strategies; the model, its KPI rows of the first region and
    (with ``keep_prices``) our daily price table."""
    from experiments.replications import build_model

    model = build_model(scenario, seed, scenario.horizon_days)
    prices = []
    while model.day < model.horizon_days:
        model.step()
        if keep_prices:
            prices.append(model.firm.price_local[0].copy())
    frame = model.kpi_frame()
    rows = frame[frame["region"] == scenario.regions[0].id].reset_index(drop=True)
    return model, rows, np.array(prices)


def no_sales(d: dict[str, Any]) -> None:
    """Our firm never sells (no stock, no replenishment): no customers, so neither word of
    mouth nor dropout is perturbed by our service."""
    d["firm"]["warehouses"][0]["initial_units"] = 0
    d["firm"]["inventory_policy"] = []


def _worst(z: np.ndarray, theory: np.ndarray, model: np.ndarray) -> tuple[float, float]:
    i = int(np.argmax(np.abs(z)))
    return float(theory.flat[i]), float(model.flat[i])


# =========================================================================== 1. logit shares
def logit_sampler(seed: int = 20240601, perturb: Perturb = None) -> TheoryCheck:
    """Gumbel-max sampler vs closed-form logit shares: n = 200,000 rows, 4 options + outside;
    each empirical share (outside included) within 3 SE = 3 sqrt(p(1-p)/n), float32 and
    float64 utilities. ``perturb`` edits ``{"utilities", "outside"}`` given to the sampler."""
    n = 200_000
    u, u0 = np.array([0.3, -0.5, 1.1, 0.0]), 0.2
    inside = logit_shares(u, u0)
    p = np.r_[inside, 1.0 - inside.sum()]
    se = np.sqrt(p * (1 - p) / n)
    sampled = {"utilities": u.copy(), "outside": u0}
    if perturb is not None:
        perturb(sampled)
    zs, shares = [], []
    for dtype in (np.float64, np.float32):
        v = np.tile(sampled["utilities"], (n, 1)).astype(dtype)
        choice = sample_choices(v, sampled["outside"], np.random.default_rng(seed))
        counts = np.bincount(np.where(choice < 0, 4, choice), minlength=5)
        shares.append(counts / n)
        zs.append((counts / n - p) / se)
    z, share = np.array(zs), np.array(shares)
    theory, model = _worst(z, np.tile(p, (2, 1)), share)
    return TheoryCheck(
        "logit_sampler",
        "Gumbel-max choice sampler vs softmax shares (200k draws, float64 and float32)",
        theory,
        model,
        "each share within 3 SE",
        bool(np.all(np.abs(z) < 3)),
        {"logit": p, "shares": share, "z": z},
    )


LOGIT_ALPHA = 0.08  # tiny.yaml's segment (quality 2.0, eco 0.5, delivery 0.05 per day)


def _logit_world(d: dict[str, Any]) -> None:
    r = d["regions"][0]
    r["population"] = 20_000
    r["fx"] = {"local_per_base": 2.0, "daily_volatility": 0.0}
    r["awareness"] = {"initial_share": 1.0}
    # many occasions, hardly any dropout
    r["repeat"] = {"r": 1.0, "alpha_days": 2.0, "a": 1.0, "b": 1000.0}
    r["choice"]["loyalty_weight"] = 0.0  # deliveries would otherwise move utilities
    seg = r["segments"][0]
    seg["price_sensitivity"] = {"mean": LOGIT_ALPHA, "cv": 0.0}
    seg["payment_preferences"] = {"card": 1.0}  # card is supported: no payment penalty
    d["competitors"][0]["behaviour"] = {"kind": "fixed"}
    d["firm"]["warehouses"][0]["initial_units"] = 10_000_000  # effectively infinite stock
    d["firm"]["inventory_policy"] = []
    d["horizon_days"] = 30


def logit_theory_shares(sc: Scenario, list_price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Duty rate per product and closed-form shares (our products, the competitor's offer,
    outside) of the logit world: utilities as in ``Observer.offers`` and the consumers'
    occasion round (landed price with duty above de minimis and VAT, over the reference FX;
    machine-translation and consent constants; promised delivery days)."""
    region, seg = sc.regions[0], sc.regions[0].segments[0]
    fx, tax = region.fx.local_per_base, region.tax
    duty = np.where(list_price > tax.de_minimis_local, tax.duty_rate, 0.0)
    landed = list_price * (1 + duty) * (1 + tax.vat_rate)
    constant = region.regulation.consent_penalty
    if region.language != sc.firm.source_language:
        constant += region.choice.machine_translation_penalty
    alpha = seg.price_sensitivity.mean
    ours = np.array(
        [
            seg.quality_weight * p.quality
            + seg.eco_weight * p.eco_score
            - alpha * landed[i] / fx
            - seg.delivery_weight_per_day * sc.lanes[0].promised_days
            - constant
            for i, p in enumerate(sc.products)
        ]
    )
    o = sc.competitors[0].offers[0]
    comp = (
        seg.quality_weight * o.quality
        + seg.eco_weight * o.eco_score
        - alpha * o.price_local / fx
        - seg.delivery_weight_per_day * o.delivery_days
    )
    inside = logit_shares(np.r_[ours, comp], region.choice.outside_utility)
    return duty, np.r_[inside, 1.0 - inside.sum()]


def choice_counts_z(
    model: Any, frame: Any, n_products: int, p: np.ndarray
) -> tuple[int, np.ndarray, np.ndarray]:
    """Occasions, counts of (each of our products, the competitor, outside) of a model run,
    and each count's z-score against the shares ``p`` (same order)."""
    n = int(frame["occasions"].sum())
    per_product = np.bincount(
        model.firm.orders.column("product").astype(np.int64), minlength=n_products
    )
    units, market = int(frame["units"].sum()), int(frame["market_units"].sum())
    counts = np.r_[per_product, market - units, n - market]
    return n, counts, (counts / n - p) / np.sqrt(p * (1 - p) / n)


def logit_model(seed: int = 11, perturb: Perturb = None) -> TheoryCheck:
    """Full model, one segment (cv = 0), everyone aware, one fixed competitor, infinite stock,
    no loyalty term: counts of (our products, competitor, outside) over ~300k occasions each
    within 3 SE of the closed-form logit shares computed from the unperturbed scenario."""
    theory_sc = tiny_world(_logit_world)
    model, frame, prices = run_world(tiny_world(_logit_world, perturb), seed, keep_prices=True)
    duty, p = logit_theory_shares(theory_sc, prices[0])
    n, counts, z = choice_counts_z(model, frame, len(theory_sc.products), p)
    theory, got = _worst(z, p, counts / n)
    ok = (
        bool(np.all(np.abs(z) < 3))
        and bool(np.all(prices == prices[0]))  # the closed form needs fixed prices
        and int(frame["stockouts"].sum()) == 0
    )
    return TheoryCheck(
        "logit_model",
        "model choice counts (ours, competitor, outside) vs logit shares, ~300k occasions",
        theory,
        got,
        "each share within 3 SE",
        ok,
        {
            "logit": p,
            "shares": counts / n,
            "z": z,
            "occasions": n,
            "units": int(frame["units"].sum()),
            "market_units": int(frame["market_units"].sum()),
            "per_product": counts[: len(theory_sc.products)],
            "prices_fixed": bool(np.all(prices == prices[0])),
            "stockouts": int(frame["stockouts"].sum()),
            "duty": duty,
        },
    )


# =========================================================================== 2. Bass awareness
BASS_P, BASS_Q = 0.003, 0.08


def _bass_world(d: dict[str, Any]) -> None:
    r = d["regions"][0]
    r["population"] = 100_000
    r["awareness"] = {
        "initial_share": 0.0,
        "p_base_daily": BASS_P,
        "p_per_1k_spend_daily": 0.002,  # no spend, so no effect
        "q_daily": BASS_Q,
    }
    d["firm"]["marketing_budget_monthly_base"] = {}
    no_sales(d)
    d["horizon_days"] = 121


def bass_awareness(seed: int = 3, perturb: Perturb = None) -> TheoryCheck:
    """N = 100,000, fully mixed, no marketing spend, no customers, p = 0.003 and q = 0.08 per
    day, initial share 0: the aware share recorded on day d (end of the day, time d + 1)
    within 2% absolute of ``bass_cdf(d + 1)`` for every day up to 120."""
    _, frame, _ = run_world(tiny_world(_bass_world, perturb), seed)
    t = frame["day"].to_numpy() + 1.0
    aware = frame["aware_share"].to_numpy()
    theory = bass_cdf(t, BASS_P, BASS_Q)
    dev = np.abs(aware - theory)
    i = int(np.argmax(dev))
    ok = (
        dev.max() < 0.02
        and aware[-1] > 0.9  # the curve has actually been traversed
        and frame["customers"].max() == 0
        and frame["marketing_base"].sum() == 0
    )
    return TheoryCheck(
        "bass_awareness",
        "aware share vs Bass F(t), p=0.003 q=0.08 per day, N=100k, days 1-121",
        float(theory[i]),
        float(aware[i]),
        "within 0.02 absolute every day",
        bool(ok),
        {"t": t, "aware": aware, "bass": theory, "worst_day": float(t[i])},
    )


# =========================================================================== 3. BG/NBD
BG = {"r": 0.8, "alpha_days": 20.0, "a": 1.2, "b": 6.0}
BGNBD_TIMES = (30, 90, 180, 365)


def bgnbd_expected_purchases(t: float, r: float, alpha: float, a: float, b: float) -> float:
    """BG/NBD E[X(t)] (Fader, Hardie & Lee 2005, eq. 9; the calibration's closed form)."""
    from experiments.calibration import expected_repeat_purchases
    from experiments.calibration.bgnbd import BgNbdParams

    return float(expected_repeat_purchases(BgNbdParams(r, alpha, a, b), [t])[0])


def _bgnbd_world(d: dict[str, Any]) -> None:
    r = d["regions"][0]
    r["population"] = 200_000
    r["repeat"] = dict(BG)
    r["seasonality"] = [1.0] * 12
    r["service"] = {"dissatisfaction_dropout_uplift": 0.0}
    no_sales(d)
    d["horizon_days"] = 365


def bgnbd_occasions(seed: int = 5, perturb: Perturb = None) -> TheoryCheck:
    """Unperturbed population (seasonality 1, no customers of ours), N = 200,000, BG/NBD r =
    0.8, alpha = 20 days, a = 1.2, b = 6: mean occasions per consumer in [0, t) within 3%
    relative of E[X(t)] at t = 30, 90, 180, 365."""
    sc = tiny_world(_bgnbd_world, perturb)
    _, frame, _ = run_world(sc, seed)
    cum = np.cumsum(frame["occasions"].to_numpy()) / sc.regions[0].population
    theory = np.array([bgnbd_expected_purchases(t, *BG.values()) for t in BGNBD_TIMES])
    sim = np.array([cum[t - 1] for t in BGNBD_TIMES])
    rel = sim / theory - 1
    i = int(np.argmax(np.abs(rel)))
    return TheoryCheck(
        "bgnbd_occasions",
        "mean occasions per consumer vs BG/NBD E[X(t)] at t = 30, 90, 180, 365 days, N=200k",
        float(theory[i]),
        float(sim[i]),
        "within 3% relative",
        bool(np.all(np.abs(rel) < 0.03) and frame["customers"].max() == 0),
        {"t": BGNBD_TIMES, "simulated": sim, "theory": theory, "relative": rel},
    )


# =========================================================================== 4. Erlang C
def erlang_c(c: int, a: float) -> float:
    """Probability an arrival waits in an M/M/c queue with offered load ``a = lambda/mu``."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


ERLANG = {"servers": 2, "service_mean_hours": 1.0, "utilisation": 0.7}


def simulate_mmc(
    servers: int, service_mean_hours: float, arrival_rate: float, n: int, seed: int
) -> dict[str, Any]:
    """Feed ``n`` Poisson arrivals into a one-stage lane (``servers`` exponential servers);
    the lane agent, the arrival times and the hourly queue lengths after the first 2,000."""
    import mesa
    import simpy

    from sim.lanes import LaneAgent
    from sim.scenario import Exponential, Lane, Stage

    service = Exponential(dist="exponential", mean=service_mean_hours)
    stage = Stage(name="s", servers=servers, service_hours=service)
    lane = Lane(id="l", origin="W", destination="R", mode="air", stages=[stage], promised_days=5)
    env = simpy.Environment()
    agent = LaneAgent(
        mesa.Model(rng=np.random.default_rng(0)), lane, env, np.random.default_rng(seed)
    )
    arrivals = np.cumsum(np.random.default_rng(seed + 1).exponential(1.0 / arrival_rate, size=n))
    t0, t1 = float(arrivals[2_000]), float(arrivals[-1])
    queue: list[int] = []

    def feeder():  # submits each pre-drawn arrival at its hour (keeps few processes alive)
        for i, t in enumerate(arrivals):
            yield env.timeout(t - env.now)
            agent.submit_shipment(float(t), np.array([i]), 1)

    def sampler():  # queue length on an hourly grid over the post-warm-up window
        yield env.timeout(t0)
        while env.now < t1:
            queue.append(len(agent.resources["s"].queue))
            yield env.timeout(1.0)

    env.process(feeder())
    env.process(sampler())
    env.run()
    return {"agent": agent, "arrivals": arrivals, "queue": np.asarray(queue), "t0": t0, "t1": t1}


def erlang_wait(seed: int = 7, perturb: Perturb = None, n: int = 250_000) -> TheoryCheck:
    """M/M/2 lane stage at utilisation 0.7: simulated mean queue wait (after a 2,000-shipment
    warm-up) within 5% of Erlang C's W_q = C(c, a) / (c mu - lambda). With 250,000 shipments
    the run-to-run relative sd of the mean wait is ~1.8%, so 5% is ~3 sd. ``perturb`` edits
    the lane's ``{"servers", "service_mean_hours", "utilisation"}``; the arrival rate and the
    theory use the declared values."""
    c, mean, rho = ERLANG["servers"], ERLANG["service_mean_hours"], ERLANG["utilisation"]
    lam = rho * c / mean
    lane = dict(ERLANG)
    if perturb is not None:
        perturb(lane)
    run = simulate_mmc(lane["servers"], lane["service_mean_hours"], lam, n, seed)
    waits = np.asarray(run["agent"].stage_wait_hours["s"])
    w_sim = float(waits[2_000:].mean())
    w_theory = erlang_c(c, lam * mean) / (c / mean - lam)
    return TheoryCheck(
        "erlang_c_wait",
        f"M/M/{c} lane stage at utilisation {rho}: mean queue wait vs Erlang C (250k shipments)",
        w_theory,
        w_sim,
        "within 5% relative",
        abs(w_sim - w_theory) / w_theory < 0.05,
        {**run, "waits": waits, "arrival_rate": lam},
    )


# =========================================================================== 5. Bertrand-Nash
NASH_ALPHA, NASH_U0 = 0.08, -0.5
NASH_COMPS = (
    {"cost": 14.0, "quality": 0.5, "eco": 0.2, "days": 3.0, "price": 30.0},
    {"cost": 20.0, "quality": 0.8, "eco": 0.4, "days": 5.0, "price": 25.0},
)


def _nash_world(d: dict[str, Any]) -> None:
    r = d["regions"][0]
    r["population"] = 2_000
    r["fx"] = {"local_per_base": 1.0, "daily_volatility": 0.0}
    r["tax"] = {"duty_rate": 0.0, "vat_rate": 0.0, "de_minimis_local": 0.0}
    r["taboo_tags"] = ["pork"]
    r["choice"]["outside_utility"] = NASH_U0
    r["segments"][0]["price_sensitivity"] = {"mean": NASH_ALPHA, "cv": 0.0}
    for p in d["products"]:
        p["tags"] = [*p.get("tags", []), "pork"]
    d["competitors"] = [
        {
            "id": f"rival{i}",
            "behaviour": {"kind": "best_response", "reprice_every_days": 1},
            "offers": [
                {
                    "region": "XA",
                    "category": "home",
                    "price_local": c["price"],
                    "cost_local": c["cost"],
                    "quality": c["quality"],
                    "eco_score": c["eco"],
                    "delivery_days": c["days"],
                }
            ],
        }
        for i, c in enumerate(NASH_COMPS)
    ]
    d["horizon_days"] = 60


def nash_prices(sc: Scenario) -> dict[str, np.ndarray]:
    """The logit Bertrand-Nash prices p_j - c_j = 1 / (alpha (1 - s_j)) of the Nash world
    (solved with fsolve), their shares and the residual of the first-order conditions."""
    from scipy.optimize import fsolve

    seg = sc.regions[0].segments[0]
    cost = np.array([c["cost"] for c in NASH_COMPS])
    nonprice = np.array(
        [
            seg.quality_weight * c["quality"]
            + seg.eco_weight * c["eco"]
            - seg.delivery_weight_per_day * c["days"]
            for c in NASH_COMPS
        ]
    )

    def shares(p: np.ndarray) -> np.ndarray:
        e = np.exp(nonprice - NASH_ALPHA * p)
        return e / (np.exp(NASH_U0) + e.sum())

    def foc(p: np.ndarray) -> np.ndarray:
        return p - cost - 1.0 / (NASH_ALPHA * (1.0 - shares(p)))

    nash = fsolve(foc, cost + 1.0 / NASH_ALPHA, xtol=1e-12)
    return {"prices": nash, "shares": shares(nash), "residual": foc(nash)}


def bertrand_nash(seed: int = 2, perturb: Perturb = None) -> TheoryCheck:
    """One region, one segment (cv = 0), FX 1, no tax, our products taboo there, two
    single-product best-response competitors repricing daily: after 60 days their prices
    solve the logit Bertrand-Nash system within 0.5% relative."""
    theory_sc = tiny_world(_nash_world)
    model, frame, _ = run_world(tiny_world(_nash_world, perturb), seed)
    prices = np.array([c.price_local[0] for c in model.competitors])
    nash = nash_prices(theory_sc)
    rel = np.abs(prices / nash["prices"] - 1)
    i = int(np.argmax(rel))
    ok = rel.max() < 0.005 and frame["units"].sum() == 0 and frame["market_units"].sum() > 0
    return TheoryCheck(
        "bertrand_nash",
        "best-response competitor prices after 60 days vs logit Bertrand-Nash fixed point",
        float(nash["prices"][i]),
        float(prices[i]),
        "within 0.5% relative",
        bool(ok),
        {**nash, "model_prices": prices, "relative": rel},
    )


def nested_logit_sampler(seed: int = 20240601, perturb: Perturb = None) -> TheoryCheck:
    """The seller-nested logit's sampler (``experiments.check.theory_nested``)."""
    from experiments.check.theory_nested import nested_sampler

    return nested_sampler(seed, perturb)


def nested_logit_model(seed: int = 11, perturb: Perturb = None) -> TheoryCheck:
    """The model under the seller-nested logit (``experiments.check.theory_nested``)."""
    from experiments.check.theory_nested import nested_model

    return nested_model(seed, perturb)


#: every theory check, in table order
THEORY_CHECKS: Mapping[str, Callable[..., TheoryCheck]] = {
    "logit_sampler": logit_sampler,
    "logit_model": logit_model,
    "nested_logit_sampler": nested_logit_sampler,
    "nested_logit_model": nested_logit_model,
    "bass_awareness": bass_awareness,
    "bgnbd_occasions": bgnbd_occasions,
    "erlang_c_wait": erlang_wait,
    "bertrand_nash": bertrand_nash,
}


def run_theory_checks() -> list[TheoryCheck]:
    """Every theory check with its fixed seed (a few seconds each)."""
    return [fn() for fn in THEORY_CHECKS.values()]
