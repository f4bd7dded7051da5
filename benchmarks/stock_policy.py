"""Fill rate and mean stock of (s, Q) policies replayed on recorded daily demand."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks.stock_chain import replay_chain


def replay(
    demand: np.ndarray,
    s: int,
    q: int,
    lead_days: int,
    opening: int,
    cover_days: float | None = None,
    window_days: int = 28,
) -> tuple[np.ndarray, np.ndarray]:
    """Lost-sales (s, Q) with daily review on ``demand`` (products x days): units filled
    and units on hand at each day's end, per product and day (as sim.logistics: at most one
    order a day, arriving ``lead_days`` later; with ``cover_days`` the point follows recent
    sales, as sim.demand_cover). One warehouse of
    :func:`benchmarks.stock_chain.replay_chain`, every product listed."""
    n_p = demand.shape[0]
    filled, held = replay_chain(
        demand[None],
        np.full(n_p, s),
        np.full(n_p, q),
        lead_days,
        np.full(n_p, opening),
        [],
        [],
        [],
        listed=np.ones(n_p, dtype=bool),
        home_cover_days=cover_days,
        home_window_days=window_days,
    )
    return filled[0], held[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="+", type=Path, help="stock_demand --save outputs")
    ap.add_argument("--warehouse", type=int, default=0)
    ap.add_argument("--lead-days", type=int, default=14)
    ap.add_argument("--opening", type=int, default=800)
    ap.add_argument("--s", type=int, nargs="+", default=[600])
    ap.add_argument("--q", type=int, nargs="+", default=[1500])
    ap.add_argument("--from-day", type=int, default=365)
    ap.add_argument(
        "--cover",
        type=float,
        nargs="+",
        default=[0.0],
        help="days of recent sales the reorder point covers at least (0: fixed s)",
    )
    ap.add_argument("--window", type=int, default=28, help="span of the recent-sales mean")
    args = ap.parse_args(argv)
    demand = np.concatenate(
        [np.load(f)["demand"][args.warehouse] for f in args.files], axis=0
    )  # every product of every run: one demand series per row
    a = args.from_day
    print(
        f"{demand.shape[0]} product-runs; year-2 demand per product-day: mean "
        f"{demand[:, a:].mean():.1f}, p90 of product means "
        f"{np.percentile(demand[:, a:].mean(axis=1), 90):.1f}"
    )
    print(
        "     s      Q  cover   fill_y1  fill_y2  worst_y2  on_hand_y1  on_hand_y2"
        " (units per product)"
    )
    for s in args.s:
        for q in args.q:
            for cover in args.cover:
                filled, held = replay(
                    demand, s, q, args.lead_days, args.opening, cover or None, args.window
                )
                f1 = filled[:, :a].sum() / demand[:, :a].sum()
                f2 = filled[:, a:].sum() / demand[:, a:].sum()
                per = filled[:, a:].sum(axis=1) / np.maximum(demand[:, a:].sum(axis=1), 1)
                print(
                    f"{s:6d} {q:6d} {cover:6.1f} {f1:8.1%} {f2:8.1%} {per.min():8.1%} "
                    f"{held[:, :a].mean():11.0f} {held[:, a:].mean():11.0f}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
