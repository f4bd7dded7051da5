"""Daily demand per warehouse and product under the check's variants, for sizing (s, Q)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from experiments.check.variants import FACT_VARIANTS
from experiments.files import load_scenario
from experiments.replications import build_model
from sim.scenario import Scenario

Fulfil = Callable[[np.ndarray, np.ndarray], np.ndarray]


def record_demand(scenario: Scenario, seed: int, rep: int, days: int) -> dict[str, np.ndarray]:
    """One run (replication ``rep`` seeded as the check seeds it): units demanded (every
    buyer's choice of our product, stock or not: choice does not see stock) and filled per
    (warehouse, product, day). Counts first units only: eu_eco_entry has no baskets."""
    model = build_model(scenario, np.random.SeedSequence([seed, 0, rep]), days)
    firm = model.firm
    n_w, n_p = firm.on_hand.shape
    demand = np.zeros((n_w, n_p, days), dtype=np.int64)
    filled = np.zeros((n_w, n_p, days), dtype=np.int64)
    inner = model.fulfilment.fulfiller

    def fulfiller(r: int, d: int) -> Fulfil:
        fulfil = inner(r, d)

        def wrapped(consumers: np.ndarray, products: np.ndarray) -> np.ndarray:
            w = firm.serving_warehouse(r)
            out = fulfil(consumers, products)
            np.add.at(demand[w, :, d], products, 1)
            np.add.at(filled[w, :, d], products[out], 1)
            return out

        return wrapped

    model.fulfilment.fulfiller = fulfiller
    model.run()
    return {"demand": demand, "filled": filled}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--variant", default="baseline")
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--rep", type=int, default=0)
    ap.add_argument("--seed", type=int, help="the run's seed (default: the scenario's)")
    ap.add_argument("--lead-days", type=int, default=14)
    ap.add_argument("--from-day", type=int, default=365, help="first day of the demand window")
    ap.add_argument("--save", type=Path, help="write the demand and filled arrays (.npz)")
    args = ap.parse_args(argv)
    scenario = load_scenario(args.scenario)
    if args.variant != "baseline":
        scenario = FACT_VARIANTS[args.variant](scenario)
    seed = scenario.seed if args.seed is None else args.seed
    out = record_demand(scenario, seed, args.rep, args.days)
    demand, filled = out["demand"], out["filled"]
    if args.save:
        np.savez_compressed(args.save, demand=demand, filled=filled)
    names = [p.id for p in scenario.products]
    wh = [w.id for w in scenario.firm.warehouses]
    print(
        f"variant {args.variant} rep {args.rep}: first units demanded {demand.sum()}, "
        f"filled {filled.sum()} ({filled.sum() / max(demand.sum(), 1):.1%})"
    )
    L, a = args.lead_days, args.from_day
    for w in range(len(wh)):
        if demand[w].sum() == 0:
            continue
        print(f"warehouse {wh[w]}: fill {filled[w].sum() / demand[w].sum():.1%}")
        print(
            "  product                    y1/day  y2/day  sd_day  L-sum mean  sd   p97"
            "  fill_y1 fill_y2"
        )
        for p, name in enumerate(names):
            dd = demand[w, p]
            if dd.sum() == 0:
                continue
            win = dd[a:]
            sums = np.convolve(win, np.ones(L, dtype=np.int64), "valid")
            f1 = filled[w, p, :a].sum() / max(dd[:a].sum(), 1)
            f2 = filled[w, p, a:].sum() / max(win.sum(), 1)
            print(
                f"  {name:26s} {dd[:a].mean():6.1f} {win.mean():7.1f} {win.std():7.1f} "
                f"{sums.mean():10.0f} {sums.std():5.0f} {np.percentile(sums, 97):5.0f} "
                f"{f1:7.1%} {f2:7.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
