"""The check's regional_warehouse variant with and without finance, one paired run.

Replication 0 as ``marketsim check --full`` seeds it (whole market, 730 days): baseline, the
warehouse on the scenario's own credit line (what a planner's ``compare`` runs), and the
check's variant, the same with an unlimited credit line (interest still charged, as the
check's trial_pack and marketplace variants); per variant the units lost to
empty stock, net profit, credit drawn at the end and, per warehouse region, alive
customer-days per repeat order (the warehouse_cycle fact's estimator) and its ratio to the
baseline, the share of parcels delivered late and customers lost per customer-year (net of
win-backs: the local_warehouse_churn lever's KPI).

    .venv/bin/python -m benchmarks.warehouse_cash scenarios/gulf_entry.yaml
"""

from __future__ import annotations

import numpy as np

from benchmarks.probe_args import replication_parser
from experiments.check.facts import warehouse_regions
from experiments.check.variants import FACT_VARIANTS, localized
from experiments.files import load_scenario
from experiments.replications import build_model
from sim.calendar import DAYS_PER_YEAR
from sim.scenario import Scenario


def probe(scenario: Scenario, rep: int = 0, days: int = 730) -> dict[str, dict[str, float]]:
    """Per variant: stockouts, net profit, credit at the end and alive days per repeat order
    in each warehouse region (keys ``cycle_<region>``)."""
    financed = FACT_VARIANTS["regional_warehouse"](scenario)
    own_credit = localized(scenario, local_warehouse=True)
    if financed is None or own_credit is None:
        raise SystemExit("no region with a local or regional warehouse, or a chosen localization")
    variants = {"baseline": scenario, "warehouse": own_credit, "warehouse_financed": financed}
    out: dict[str, dict[str, float]] = {}
    for name, sc in variants.items():
        model = build_model(sc, np.random.SeedSequence([scenario.seed, 0, rep]), days)
        model.run(days=days)
        k = model.kpi_frame()
        total = k[k["region"] == "ALL"]
        row = {
            "stockouts": float(k.loc[k["region"] != "ALL", "stockouts"].sum()),
            "net_profit_base": float(total["net_profit_base"].sum()),
            "credit_end_base": float(total["credit_drawn_base"].to_numpy()[-1]),
        }
        for r in warehouse_regions(scenario):
            x = k[k["region"] == r]
            years = x["customer_years"].sum()
            row[f"cycle_{r}"] = years * DAYS_PER_YEAR / x["repeat_orders"].sum()
            delivered = x["deliveries"].sum()
            row[f"late_{r}"] = 1.0 - x["on_time_deliveries"].sum() / delivered
            lost = x["churned_customers"].sum() - x["reactivated_customers"].sum()
            row[f"churn_{r}"] = lost / years  # the local_warehouse_churn lever's KPI
        out[name] = row
    return out


def main() -> None:
    p = replication_parser(__doc__ or "")
    a = p.parse_args()
    res = probe(load_scenario(a.scenario), a.rep, a.days)
    base = res["baseline"]
    for name, row in res.items():
        cycles = {
            k[6:]: f"{v:.0f} days (x{v / base[k]:.3f})" for k, v in row.items() if k[:6] == "cycle_"
        }
        per_region = {
            k[5:]: f"late {v:.1%}, churn {row['churn_' + k[5:]]:.3f}/customer-year"
            for k, v in row.items()
            if k[:5] == "late_"
        }
        print(
            f"{name:<20} stockouts {row['stockouts']:>8.0f}  net profit "
            f"{row['net_profit_base']:>11,.0f}  credit at end {row['credit_end_base']:>10,.0f}  "
            f"alive days per repeat order {cycles}  {per_region}"
        )


if __name__ == "__main__":
    main()
