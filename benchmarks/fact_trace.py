"""Per-replication trace of a fact's runs: retention tiers' win-back, conversion and stock."""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.check.retention_facts import RFM_WIN_BACK, win_back_rates
from experiments.check.runs import CheckTask, RunStats, run_check_task
from experiments.check.variants import FACT_VARIANTS
from experiments.files import load_scenario
from sim.scenario import Scenario

#: KPI flows summed per region (views and orders make the conversion the facts compare)
FLOWS = ("views", "orders", "demanded_units", "units", "stockouts", "failed_payments")


def run(base: Scenario, variant: str, rep: int, days: int) -> RunStats:
    """Replication ``rep`` of ``variant`` exactly as ``marketsim check`` runs it (full level:
    the whole market, the scenario's seed, window 365 days)."""
    scenario = base
    if variant != "baseline":
        built = FACT_VARIANTS[variant](base)
        if built is None:
            raise SystemExit(f"variant {variant} does not apply to this scenario")
        scenario = built
    task = CheckTask(variant, scenario, rep, scenario.seed, days, min(365, days // 2))
    return run_check_task(task)


def flows(stats: RunStats, split_day: int) -> pd.DataFrame:
    """Per region and year (y1: days < split_day, y2: the rest): the summed FLOWS."""
    k = stats.kpis[stats.kpis["region"] != "ALL"].copy()
    k["year"] = np.where(k["day"] < split_day, "y1", "y2")
    out = k.groupby(["region", "year"])[list(FLOWS)].sum()
    out["conversion"] = out["orders"] / out["views"]
    out["lost_share"] = out["stockouts"] / out["demanded_units"].clip(lower=1)
    return out


def tiers(stats: RunStats) -> pd.DataFrame:
    """Per region and rfm tier: contacted, responded, won back and the win-back share."""
    o = stats.offers
    if not len(o):
        return pd.DataFrame()
    cols = ["contacted", "responded", "won_back", "not_won_back"]
    t = o[o["action"].isin(list(RFM_WIN_BACK))].groupby(["action", "region"])[cols].sum()
    t["win_back"] = t["won_back"] / (t["won_back"] + t["not_won_back"])
    return t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--variants", nargs="+", default=["baseline"], help="check variant names")
    ap.add_argument("--reps", nargs="+", type=int, default=[0])
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--by-region", action="store_true", help="print every region's flows")
    args = ap.parse_args(argv)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    # read once: every run of the loop traces the file as it was at the start (stop 29's
    # "in-process leak" was this file edited while a loop re-read it before each run)
    base = load_scenario(args.scenario)
    conv: dict[tuple[str, int], pd.Series] = {}
    for rep in args.reps:
        for variant in args.variants:
            t0 = time.time()
            stats = run(base, variant, rep, args.days)
            gc.collect()  # frees the finished model's arrays now, as the check's executors do
            f = flows(stats, 365)
            total = f.groupby("year")[list(FLOWS)].sum()
            by_region = f.groupby("region")[["orders", "views"]].sum()
            by_region.loc["pooled"] = by_region.sum()
            conv[(variant, rep)] = by_region["orders"] / by_region["views"]
            print(f"== {variant} rep {rep} ({time.time() - t0:.0f} s)")
            print(
                "  all regions: conversion "
                + ", ".join(f"{y} {r.orders / r.views:.4f}" for y, r in total.iterrows())
                + "; units lost to empty stock "
                + ", ".join(
                    f"{y} {r.stockouts:.0f} of {r.demanded_units:.0f} "
                    f"({r.stockouts / max(r.demanded_units, 1):.1%})"
                    for y, r in total.iterrows()
                )
            )
            every = stats.kpis[stats.kpis["region"] == "ALL"]
            stopped = every.loc[every["spending_stopped"] > 0, "day"]
            print(
                f"  days with cash and credit run out: {len(stopped)}"
                + (f" (first day {int(stopped.min())})" if len(stopped) else "")
                + f"; credit drawn at the end {every['credit_drawn_base'].to_numpy()[-1]:,.0f}"
            )
            if args.by_region:
                print(f.round(4).to_string())
            if variant == "rfm_tiers" or len(stats.offers):
                rates = win_back_rates(stats.offers, RFM_WIN_BACK)
                print(
                    "  win-back: "
                    + ", ".join(
                        f"{t} {rates[t]:.1%} ({(rates[t] - RFM_WIN_BACK[t]) * 100:+.1f} pp)"
                        for t in RFM_WIN_BACK
                    )
                )
                print(tiers(stats).round(3).to_string())
            sys.stdout.flush()
    if "baseline" in args.variants and "human_translation" in args.variants:
        print("== machine_translation: 1 - conversion baseline / human_translation")
        for rep in args.reps:
            b, v = conv[("baseline", rep)], conv[("human_translation", rep)]
            cut = 1 - b / v
            print(f"  rep {rep}: " + ", ".join(f"{r} {c:.1%}" for r, c in cut.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
