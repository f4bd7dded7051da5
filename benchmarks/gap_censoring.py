"""Window bias of the observed repurchase cycle: BG/NBD buyers at rate k x r against r (numpy).

Customers are acquired uniformly over a ``days``-long run (their first order on arrival), buy
at a Gamma(r, alpha_days) rate thereafter and drop out after each purchase with a Beta(a, b)
probability; the fast arm multiplies every rate by ``k`` and divides the dropout by ``k`` (the
model's ``rate_keeps_dropout_per_day``), with the same draws (common random numbers). Per arm:

- observed: mean gap between consecutive orders inside the window (the check's before wc27);
- alive: alive customer-days / repeat orders (the true pooled cycle, needs the latent state);
- at_risk: customer-days from first order to the horizon / repeat orders (order log only).

Each estimator's ratio fast / slow is printed against the true 1/k.

    .venv/bin/python -m benchmarks.gap_censoring --per-year 0.8 --k 6
"""

from __future__ import annotations

import argparse

import numpy as np


def simulate(
    rng: np.random.Generator,
    n: int,
    days: float,
    shape: float,
    alpha_days: float,
    a: float,
    b: float,
    k: float,
) -> dict[str, float]:
    """One arm's gap sums: observed gaps, alive days, at-risk days, repeat orders."""
    start = rng.uniform(0.0, days, n)
    rate = rng.gamma(shape, 1.0 / alpha_days, n) * k  # purchases a day
    p = np.minimum(rng.beta(a, b, n) / k, 1.0)  # dropout per purchase (per day kept)
    # arrival, rate and dropout draws are shared by both arms (same seed); waits are not
    observed_sum = observed_n = alive_days = 0.0
    t = start.copy()
    alive = np.ones(n, dtype=bool)
    while alive.any():
        idx = np.flatnonzero(alive)
        wait = rng.exponential(1.0, len(idx)) / rate[idx]
        nxt = t[idx] + wait
        inside = nxt < days
        alive_days += float(np.minimum(nxt, days).sum() - t[idx].sum())
        observed_sum += float(wait[inside].sum())
        observed_n += float(inside.sum())
        t[idx] = nxt
        dies = rng.uniform(size=len(idx)) < p[idx]
        alive[idx[~inside | dies]] = False
    at_risk = float((days - start).sum())
    return {
        "observed": observed_sum / observed_n,
        "alive": alive_days / observed_n,
        "at_risk": at_risk / observed_n,
    }


def main() -> None:
    """Print each estimator's fast / slow cycle ratio against 1/k."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-year", type=float, default=0.8, help="mean purchases a year")
    ap.add_argument("--shape", type=float, default=0.6, help="Gamma shape r of the rate")
    ap.add_argument("--a", type=float, default=1.0, help="Beta a of the dropout")
    ap.add_argument("--b", type=float, default=12.5, help="Beta b of the dropout")
    ap.add_argument("--k", type=float, nargs="+", default=[2.0, 4.0, 6.0, 8.0])
    ap.add_argument("--days", type=float, default=730.0)
    ap.add_argument("--n", type=int, default=200_000, help="customers per arm")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    alpha_days = args.shape / (args.per_year / 365.0)

    def arm(k: float) -> dict[str, float]:
        """One arm at rate x ``k``, the same seed for every arm (common random numbers)."""
        rng = np.random.default_rng(args.seed)
        return simulate(rng, args.n, args.days, args.shape, alpha_days, args.a, args.b, k)

    base = arm(1.0)
    print(
        f"{args.per_year}/yr, r {args.shape}, alpha {alpha_days:.0f} d, Beta({args.a}, "
        f"{args.b}), {args.days:g} days; baseline cycles (days): "
        + ", ".join(f"{key} {v:.0f}" for key, v in base.items())
    )
    print("k     1/k    observed  alive  at_risk")
    for k in args.k:
        fast = arm(k)
        ratios = "  ".join(f"{fast[key] / base[key]:.3f}" for key in base)
        print(f"{k:<5g} {1 / k:.3f}  {ratios}")


if __name__ == "__main__":
    main()
