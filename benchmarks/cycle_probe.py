"""The warehouse_cycle fact's estimators against the true cycle on one paired model run.

Runs replication ``--rep`` of a scenario's baseline and ``regional_warehouse`` variant as
``marketsim check --full`` seeds it (whole market, 730 days) and prints per warehouse region,
variant / baseline:

- observed: mean gap between a customer's consecutive orders inside the run
  (the check's estimator before wc27);
- alive: alive customer-days / repeat orders (KPIs ``customer_years`` x 365 /
  ``repeat_orders``): the days an alive customer takes per order with us;
- at_risk: days from each customer's first order to the horizon / repeat orders (order log);
- factor: the variant's customer rate factor at the end of the run (``sim.delivery_rate``).

    .venv/bin/python -m benchmarks.cycle_probe scenarios/eu_eco_entry.yaml
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.probe_args import replication_parser
from experiments.check import variants
from experiments.files import load_scenario
from experiments.replications import build_model
from sim.calendar import DAYS_PER_YEAR


def cycles(scenario, seed: int, rep: int, days: int) -> dict[str, dict[str, float]]:
    """Per region: the three cycle estimates (days), delivery days and the rate factor."""
    model = build_model(scenario, np.random.SeedSequence([seed, 0, rep]), days)
    kpis = model.run()
    book = model.firm.orders
    region = book.column("region").astype(np.int64)
    consumer, day = book.column("consumer").astype(np.int64), book.column("day").astype(np.int64)
    out = {}
    for r, rid in enumerate(model.region_ids):
        mine = region == r
        key, d = consumer[mine], day[mine]
        order = np.lexsort((d, key))
        key, d = key[order], d[order]
        first = np.r_[True, key[1:] != key[:-1]]
        gaps = np.diff(d)[~first[1:]]
        k = kpis[kpis["region"] == rid]
        repeat = float(k["repeat_orders"].sum())
        out[rid] = {
            "observed": float(gaps.mean()) if len(gaps) else np.nan,
            "alive": float(k["customer_years"].sum()) * DAYS_PER_YEAR / repeat,
            "at_risk": float((days - d[first]).sum()) / repeat,
            "delivery": float(k["delivery_days_total"].sum() / k["deliveries"].sum()),
            "factor": float(model.consumers[r].customer_rate),
            "gaps": float(len(gaps)),
            "repeat": repeat,
        }
    return out


def main() -> None:
    """Print each estimator's variant / baseline ratio per region."""
    ap = replication_parser(__doc__ or "")
    args = ap.parse_args()
    base = load_scenario(args.scenario)
    variant = variants.regional_warehouse(base)
    t0 = time.time()
    b = cycles(base, base.seed, args.rep, args.days)
    v = cycles(variant, base.seed, args.rep, args.days)
    print(f"{args.scenario} rep {args.rep}, {args.days} days, {time.time() - t0:.0f} s")
    print(
        "region  delivery b->v   factor  observed b/v/ratio     alive b/v/ratio        "
        "at_risk b/v/ratio      gaps b/v"
    )
    for rid in b:
        x, y = b[rid], v[rid]
        cols = "  ".join(
            f"{x[e]:5.0f} {y[e]:5.0f} {y[e] / x[e]:.3f}" for e in ("observed", "alive", "at_risk")
        )
        print(
            f"{rid:6s}  {x['delivery']:5.1f} -> {y['delivery']:4.1f}  x{y['factor']:5.2f}  "
            f"{cols}   {x['gaps']:.0f}/{y['gaps']:.0f}"
        )


if __name__ == "__main__":
    main()
