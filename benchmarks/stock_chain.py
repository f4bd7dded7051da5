"""Replay a home warehouse's (s, Q) feeding local warehouses' (s, Q) on recorded daily demand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from sim.demand_cover import DemandCover


def replay_chain(
    demand: np.ndarray,
    home_s: np.ndarray,
    home_q: np.ndarray,
    home_lead_days: int,
    home_opening: np.ndarray,
    local_s: list[int],
    local_q: list[int],
    local_lead_days: list[int],
    listed: np.ndarray | None = None,
    home_cover_days: float | None = None,
    home_window_days: int = 28,
) -> tuple[np.ndarray, np.ndarray]:
    """Lost sales, daily review, at most one order a day per warehouse (as sim.logistics).

    ``demand`` is (warehouses x products x days), warehouse 0 the home one (supplier lead
    ``home_lead_days``, per-product ``home_s`` / ``home_q``), the others replenished from it
    with what it has on hand (partial transfers), arriving ``local_lead_days`` later. Each day:
    arrivals, sales, then the reorders in warehouse order (home first). Only ``listed``
    products (default: those someone demands in the run) open with stock and are reordered
    (restock_listed_only). With ``home_cover_days`` the home reorder point follows sales as
    sim.demand_cover does: the larger of ``home_s`` and that many days of the recent units
    sold (filled, not demanded), an exponentially weighted mean over ``home_window_days``.
    Returns units filled and units on hand at each day's end, both (warehouses x products x
    days)."""
    n_w, n_p, days = demand.shape
    if listed is None:
        listed = demand.sum(axis=(0, 2)) > 0
    lead = [home_lead_days, *local_lead_days]
    s = np.zeros((n_w, n_p), dtype=np.int64)
    q = np.zeros((n_w, n_p), dtype=np.int64)
    s[0], q[0] = home_s, home_q
    for w in range(1, n_w):
        s[w], q[w] = local_s[w - 1], local_q[w - 1]
    on_hand = np.zeros((n_w, n_p), dtype=np.int64)
    on_hand[0] = np.where(listed, home_opening, 0)
    on_order = np.zeros((n_w, n_p), dtype=np.int64)
    arriving = np.zeros((n_w, n_p, days + max(lead) + 1), dtype=np.int64)
    filled = np.zeros_like(demand)
    held = np.zeros_like(demand)
    cover = None
    if home_cover_days is not None:  # the sim's own rule, on the home warehouse alone
        cover = DemandCover(np.full((1, n_p), home_cover_days), np.full((1, n_p), home_window_days))
    for d in range(days):
        on_hand += arriving[:, :, d]
        on_order -= arriving[:, :, d]
        sold = np.minimum(on_hand, demand[:, :, d])
        on_hand -= sold
        filled[:, :, d] = sold
        point = s.copy()
        if cover is not None:
            cover.observe(sold[:1])
            point[0] = cover.reorder_points(0, s[0])
        for w in range(n_w):
            due = listed & (on_hand[w] + on_order[w] <= point[w])
            units = np.where(due, q[w], 0)
            if w > 0:
                units = np.minimum(units, on_hand[0])
                on_hand[0] -= units
            arriving[w, :, d + lead[w]] += units
            on_order[w] += units
        held[:, :, d] = on_hand
    return filled, held


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "files", nargs="+", type=Path, help="stock_demand --save outputs (warehouse 0 = home)"
    )
    ap.add_argument("--home-lead-days", type=int, default=12)
    ap.add_argument("--home-opening", type=int, nargs="+", required=True, help="units per product")
    ap.add_argument(
        "--factor",
        type=float,
        nargs="+",
        required=True,
        help="per product: x the home (s, Q), rounded to 50 (the prior's factor; 1: the base)",
    )
    ap.add_argument("--s", type=int, nargs="+", required=True, help="home s of the base policy")
    ap.add_argument("--q", type=int, nargs="+", required=True, help="home Q of the base policy")
    ap.add_argument(
        "--local",
        nargs="+",
        required=True,
        help="local policies to try, each S1/Q1,S2/Q2 (one s/Q per local warehouse, in order)",
    )
    ap.add_argument("--local-lead-days", type=int, nargs="+", required=True)
    ap.add_argument("--from-day", type=int, default=365)
    args = ap.parse_args(argv)
    # every product of every run: the chain is per product, so runs stack along products
    demand = np.concatenate([np.load(f)["demand"] for f in args.files], axis=1)
    n_runs = len(args.files)
    factor = np.tile(np.array(args.factor), n_runs)
    opening = np.tile(np.array(args.home_opening), n_runs)
    a = args.from_day
    local_y2 = demand[1:, :, a:].sum(axis=0).mean(axis=1)
    print(
        f"{n_runs} runs: year-2 demand per product-day at the local warehouses "
        f"{local_y2.mean():.1f} (p90 of products {np.percentile(local_y2, 90):.1f}, max "
        f"{local_y2.max():.1f}), at home {demand[0, :, a:].mean():.1f}"
    )
    print(
        "home s/Q     local s/Q             fill_y1  fill_y2  worst_y2  on_hand_y2: home  local"
        "  total (units per product)"
    )
    for s in args.s:
        for q in args.q:
            home_s = np.floor(s * factor / 50 + 0.5).astype(np.int64) * 50  # to 50, half up
            home_q = np.floor(q * factor / 50 + 0.5).astype(np.int64) * 50
            for local in args.local:
                pairs = [tuple(int(x) for x in p.split("/")) for p in local.split(",")]
                filled, held = replay_chain(
                    demand,
                    home_s,
                    np.maximum(home_q, 1),
                    args.home_lead_days,
                    opening,
                    [p[0] for p in pairs],
                    [p[1] for p in pairs],
                    args.local_lead_days,
                )
                f1 = filled[:, :, :a].sum() / demand[:, :, :a].sum()
                f2 = filled[:, :, a:].sum() / demand[:, :, a:].sum()
                per = filled[:, :, a:].sum(axis=(0, 2)) / np.maximum(
                    demand[:, :, a:].sum(axis=(0, 2)), 1
                )
                home = held[0, :, a:].mean()
                loc = held[1:, :, a:].sum(axis=0).mean()
                print(
                    f"{s:5d}/{q:<5d}  {local:20s} {f1:8.1%} {f2:8.1%} {per.min():8.1%} "
                    f"{home:16.0f} {loc:6.0f} {home + loc:6.0f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
