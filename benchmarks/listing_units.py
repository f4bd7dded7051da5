"""Listing probe: a scenario's 90-day units per new listing under all_products, for launch stock."""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from experiments.check.variants import FACT_VARIANTS
from experiments.files import load_scenario
from experiments.replications import build_model

#: calibration seeds: SeedSequence([CALIBRATION_SEED, 0, k]); the check uses the scenario's own
CALIBRATION_SEED = 20261201


def probe(path: str, reps: int, days: int, seed: int) -> pd.DataFrame:
    """Every complete listing of ``reps`` all_products runs of ``days`` days (column ``rep``)."""
    base = load_scenario(path)
    scenario = FACT_VARIANTS["list_everything"](base) or base  # None: already all_products
    frames = []
    for k in range(reps):
        t0 = time.perf_counter()
        model = build_model(scenario, np.random.SeedSequence([seed, 0, k]), days)
        model.run()
        t = model.fit.listing_table()
        frames.append(t[t["complete"]].assign(rep=k))
        print(f"rep {k}: {len(frames[-1])} listings, {time.perf_counter() - t0:.0f} s", flush=True)
    return pd.concat(frames, ignore_index=True)


def main() -> None:
    """Print the success share, percentiles of 90-day units and the dead share per commitment."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--days", type=int, default=120, help="horizon (days): >= launch + review")
    ap.add_argument("--seed", type=int, default=CALIBRATION_SEED)
    ap.add_argument("--stock", type=int, nargs="*", default=[], help="commitments to score (units)")
    args = ap.parse_args()
    t = probe(args.scenario, args.reps, args.days, args.seed)
    expected = t.groupby(["region", "product", "launch_day"])["units_review"].transform("mean")
    success = (t["units_review"] >= expected).groupby(t["rep"]).mean()
    units = t["units_review"].to_numpy(float)
    print(f"{len(t)} listings, launch days {sorted(t['launch_day'].unique())[:10]}")
    print(f"success share {success.mean():.1%} (sd over reps {success.std():.1%})")
    for q in (40, 45, 50, 55):
        print(f"p{q} of 90-day units: {np.percentile(units, q):.1f}")
    print(f"stock_units now {int(t['stock_units'].iloc[0])}")
    for s in [int(t["stock_units"].iloc[0]), *args.stock]:
        dead = (t["units_review"] < s).groupby(t["rep"]).mean()
        print(f"commitment {s}: dead share {dead.mean():.1%}")
    by = t.groupby(["region", "product"])["units_review"].agg(["mean", "median", "count"])
    print(by.round(1).to_string())


if __name__ == "__main__":
    main()
