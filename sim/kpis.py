"""KPIs: the column sets and row arithmetic derived from the catalogue (``sim.kpi_catalogue``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sim.errors import Problem, ScenarioError, UsageError
from sim.kpi_catalogue import BEFORE_HORIZON, KPIS, Kpi

KPI_BY_NAME = {k.name: k for k in KPIS}


def kpi_named(name: str, what: str = "kpi") -> Kpi:
    """The catalogue entry of ``name``; a UsageError naming ``what`` and the valid names."""
    kpi = KPI_BY_NAME.get(name)
    if kpi is None:
        raise UsageError(f"{what}: unknown KPI {name!r}; valid: {sorted(KPI_BY_NAME)}")
    return kpi


FLOW_KPIS = tuple(k.name for k in KPIS if k.aggregation == "sum")
#: KPIs valued on the horizon day only (NaN on the other days)
HORIZON_KPIS = tuple(k.name for k in KPIS if k.undefined.startswith(BEFORE_HORIZON))
STOCK_KPIS = tuple(k.name for k in KPIS if k.aggregation == "last")
RATIO_KPIS = tuple(k for k in KPIS if k.aggregation == "ratio")
#: every cost line of the P&L: net profit = revenue - their sum
COST_KPIS = (
    "refunds_base",
    "cogs_base",
    "freight_base",
    "duty_base",
    "payment_fees_base",
    "marketplace_fees_base",
    "fx_cost_base",
    "marketing_base",
    "localization_base",
    "retention_base",
    "fixed_base",
    "holding_base",
    "writeoff_base",
    "launch_cost_base",
    "interest_base",
)
#: cost lines that are not paid in cash the day they are booked (stock was paid when bought;
#: interest is charged on the credit line directly)
NON_CASH_COSTS = ("cogs_base", "writeoff_base", "interest_base")
#: flows that only the firm as a whole has (region rows hold NaN)
ALL_ONLY_FLOWS = tuple(k.name for k in KPIS if k.aggregation == "sum" and k.defined_in == "ALL")
ALL_REGIONS = "ALL"
#: stock KPIs of the firm as a whole (region rows hold NaN)
FIRM_STOCKS = tuple(k.name for k in KPIS if k.aggregation == "last" and k.defined_in == "ALL")
KPI_COLUMNS = ["day", "region", *[k.name for k in KPIS]]
#: KPIs that are never NaN or inf in a region row / in the ALL row.
FINITE_IN_REGION_ROWS = tuple(
    k.name for k in KPIS if not k.undefined_when and k.defined_in in ("every", "regions")
)
FINITE_IN_ALL_ROW = tuple(
    k.name for k in KPIS if not k.undefined_when and k.defined_in in ("every", "ALL")
)


def require_finite(
    row: Mapping[str, Any], scenario_name: str, names: Sequence[str] | None = None
) -> None:
    """Check that every money and count KPI of a daily row (or those in ``names``) is finite.

    Raises:
        ScenarioError: If one is inf or NaN: the scenario's numbers overflow the model's
            arithmetic (names the day, region, KPIs and values).
    """
    if names is None:
        names = FINITE_IN_ALL_ROW if row["region"] == ALL_REGIONS else FINITE_IN_REGION_ROWS
    bad = [k for k in names if not math.isfinite(row[k])]
    if bad:
        values = ", ".join(f"{k}={row[k]}" for k in bad[:5])
        raise ScenarioError(
            [
                Problem(
                    scenario_name,
                    f"day {row['day']}, region {row['region']}",
                    f"{values}: the scenario's numbers overflow (e.g. huge costs, prices or "
                    "populations); use values of a realistic size",
                )
            ]
        )


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is zero."""
    return float(numerator) / float(denominator) if denominator else float("nan")


def finish_flows(flows: dict[str, float]) -> None:
    """Add the derived flows (VAT remitted, gross and net profit) to a row of flows."""
    flows["vat_remitted_base"] = flows["vat_collected_base"] - flows["vat_reversed_base"]
    flows["gross_profit_base"] = (
        flows["revenue_base"]
        - flows["refunds_base"]
        - flows["duty_base"]
        - flows["cogs_base"]
        - flows["freight_base"]
    )
    flows["net_profit_base"] = flows["revenue_base"] - sum(flows[k] for k in COST_KPIS)


def kpi_ratio(kpi: Kpi, flows: Mapping[str, float]) -> float:
    """A ratio KPI from summed flows: scale x numerator / denominator (NaN when it is 0)."""
    return kpi.scale * ratio(flows[kpi.numerator], flows[kpi.denominator])


def ratios(flows: Mapping[str, float]) -> dict[str, float]:
    """The ratio KPIs of a row of flows."""
    return {k.name: kpi_ratio(k, flows) for k in RATIO_KPIS}
