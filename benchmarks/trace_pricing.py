"""Trace one run's prices per category and region against the rivals' (pricing levers' reasons).

    .venv/bin/python -m benchmarks.trace_pricing scenarios/sea_entry.yaml --pricing penetration

Prints, every ``--every`` days: per region the last window's booked lines (share of revenue:
refunds, duty, COGS, freight and its per-shipment part, gross margin) and per category our
landed consumer prices of the listed products, the rivals' prices (with their behaviour kind)
and their median (the competitive index's reference); then per region and year orders, inside
purchases, share, revenue, gross margin and net profit, and firm-wide marketing, stockouts and
new customers. ``--pricing scenario`` keeps the scenario's own pricing (the lever's baseline).
"""

from __future__ import annotations

import argparse

import numpy as np
import yaml

from sim.model import MarketModel
from sim.validation import parse_scenario
from strategies.registry import build_strategies, create


def _share(part: float, whole: float) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--pricing", default="competitive_index", help="a pricing name or 'scenario'")
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--every", type=int, default=28, help="days between prints")
    ap.add_argument("--scale", type=float, default=1.0, help="population multiplier")
    args = ap.parse_args()
    with open(args.scenario, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    for region in data["regions"]:
        region["population"] = int(region["population"] * args.scale)
    sc = parse_scenario(data, args.scenario)
    strategies = build_strategies(sc.strategies)
    if args.pricing != "scenario":
        strategies["pricing"] = create("pricing", args.pricing)
    m = MarketModel(sc, strategies=strategies, days=args.days)
    firm, history = m.firm, m.observer.history
    print(f"{sc.name} seed {sc.seed} pricing {args.pricing} population x{args.scale}")
    print("rivals:", [(c.spec.id, c.behaviour.kind) for c in m.competitors])
    books = np.zeros((len(m.region_ids), history.books.shape[2]))
    while m.day < args.days:
        m.step()
        d = m.day
        books += history.books[:, (d - 1) % history.window_days]
        if d % args.every and d != args.days:
            continue
        print(f"--- day {d}")
        for r, rid in enumerate(m.region_ids):
            rev, duty, refunds, cogs, freight, fees = books[r]
            gross = rev - duty - refunds - cogs - freight
            print(
                f"  {rid}: revenue {rev:,.0f} refunds {_share(refunds, rev)} duty "
                f"{_share(duty, rev)} cogs {_share(cogs, rev)} freight {_share(freight, rev)} "
                f"(shipment fees {_share(fees, rev)}) gross margin {_share(gross, rev)}"
            )
            ours = firm.consumer_price_local(r, firm.price_local[r])
            for c, cat in enumerate(m.categories):
                listed = [j for j, p in enumerate(sc.products) if p.category == cat]
                listed = [j for j in listed if firm.listed[r, j]]
                if not listed:
                    continue
                rivals = [
                    (comp.spec.id, comp.behaviour.kind, float(comp.price_local[k]))
                    for comp in m.competitors
                    for k in np.flatnonzero((comp.region == r) & (comp.category == c) & comp.active)
                ]
                median = np.median([p for *_, p in rivals]) if rivals else float("nan")
                mine = ", ".join(f"{sc.products[j].id}={ours[j]:,.1f}" for j in listed)
                theirs = "; ".join(f"{i}({k})={p:,.1f}" for i, k, p in rivals)
                print(f"    {cat}: ours [{mine}] | median rival {median:,.1f} | {theirs}")
        books[:] = 0.0
    k = m.kpi_frame()
    for rid in [*m.region_ids, "ALL"]:
        s = k[k["region"] == rid]
        for lo in range(0, args.days, 365):
            w = s[(s["day"] >= lo) & (s["day"] < lo + 365)]
            gross = (
                w.revenue_base - w.refunds_base - w.duty_base - w.cogs_base - w.freight_base
            ).sum()
            rev = w.revenue_base.sum()
            print(
                f"{rid} days {lo}-{lo + 365}: orders {w.orders.sum():,.0f} inside purchases "
                f"{w.market_units.sum():,.0f} share {_share(w.orders.sum(), w.market_units.sum())} "
                f"revenue {rev:,.0f} gross margin {_share(gross, rev)} "
                f"net profit {w.net_profit_base.sum():,.0f}"
            )
    a = k[k["region"] == "ALL"]
    stop = a[(a["marketing_base"] <= 0) & (a["day"] > 30)]["day"]
    print(
        f"cash and credit ran out: {firm.treasury.stopped} (first day without marketing: "
        f"{stop.min() if len(stop) else None})"
    )
    for lo in range(0, args.days, 365):
        w = a[(a["day"] >= lo) & (a["day"] < lo + 365)]
        print(
            f"ALL days {lo}-{lo + 365}: marketing {w.marketing_base.sum():,.0f} stockouts "
            f"{w.stockouts.sum():,.0f} demanded {w.demanded_units.sum():,.0f} "
            f"new customers {w.new_customers.sum():,.0f}"
        )


if __name__ == "__main__":
    main()
