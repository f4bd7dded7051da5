"""KPI catalogue: names, units, how each aggregates over days, and the direction that is better."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Aggregation = Literal["sum", "mean", "last", "ratio"]


@dataclass(frozen=True)
class Kpi:
    """One KPI column of the tidy daily table."""

    name: str
    unit: str
    aggregation: Aggregation
    direction: Literal["maximize", "minimize", "none"]
    help: str
    numerator: str = ""
    denominator: str = ""


# Flow quantities (summed over days) first; ratios are derived from flows so that totals are
# exact rather than averages of daily ratios.
KPIS: tuple[Kpi, ...] = (
    Kpi("revenue_base", "base", "sum", "maximize", "gross receipts incl. duties and VAT"),
    Kpi("refunds_base", "base", "sum", "minimize", "refunds for returned or lost orders"),
    Kpi("cogs_base", "base", "sum", "none", "unit cost of goods sold"),
    Kpi("freight_base", "base", "sum", "minimize", "lane costs (orders and stock transfers)"),
    Kpi("duties_vat_base", "base", "sum", "none", "duties and VAT remitted"),
    Kpi("payment_fees_base", "base", "sum", "minimize", "payment processing fees"),
    Kpi("fx_cost_base", "base", "sum", "minimize", "currency conversion fees"),
    Kpi("marketing_base", "base", "sum", "none", "marketing spend"),
    Kpi("localization_base", "base", "sum", "none", "translation, payment, service, warehouse"),
    Kpi("retention_base", "base", "sum", "none", "retention offers and loyalty rebates"),
    Kpi("fixed_base", "base", "sum", "minimize", "fixed and compliance costs"),
    Kpi(
        "gross_profit_base", "base", "sum", "maximize", "revenue - refunds - taxes - COGS - freight"
    ),
    Kpi("net_profit_base", "base", "sum", "maximize", "gross profit - every other cost"),
    Kpi("units", "units", "sum", "maximize", "units sold"),
    Kpi("orders", "orders", "sum", "maximize", "orders taken"),
    Kpi("occasions", "occasions", "sum", "none", "purchase occasions in the market"),
    Kpi("market_units", "units", "sum", "none", "inside-good units bought from anyone"),
    Kpi("new_customers", "customers", "sum", "maximize", "first purchases from us"),
    Kpi("repeat_orders", "orders", "sum", "maximize", "orders by returning customers"),
    Kpi("churned_customers", "customers", "sum", "minimize", "our customers who dropped out"),
    Kpi("deliveries", "orders", "sum", "none", "orders delivered (not lost)"),
    Kpi("delivery_days_total", "days", "sum", "none", "sum of delivery times"),
    Kpi("on_time_deliveries", "orders", "sum", "maximize", "delivered within promised days"),
    Kpi("demanded_units", "units", "sum", "none", "units chosen, before stock limits"),
    Kpi("stockouts", "units", "sum", "minimize", "units lost to empty stock"),
    Kpi("returns", "orders", "sum", "minimize", "orders returned"),
    Kpi("lost_orders", "orders", "sum", "minimize", "orders lost in transit"),
    Kpi("views", "views", "sum", "none", "listing views by aware consumers"),
    Kpi(
        "market_share",
        "share",
        "ratio",
        "maximize",
        "our units / all inside units",
        "units",
        "market_units",
    ),
    Kpi(
        "repeat_purchase_rate",
        "share",
        "ratio",
        "maximize",
        "repeat orders / orders",
        "repeat_orders",
        "orders",
    ),
    Kpi(
        "mean_delivery_days",
        "days",
        "ratio",
        "minimize",
        "mean delivery time",
        "delivery_days_total",
        "deliveries",
    ),
    Kpi(
        "on_time_rate",
        "share",
        "ratio",
        "maximize",
        "on-time share of deliveries",
        "on_time_deliveries",
        "deliveries",
    ),
    Kpi(
        "fill_rate",
        "share",
        "ratio",
        "maximize",
        "units sold / units demanded",
        "units",
        "demanded_units",
    ),
    Kpi(
        "return_rate", "share", "ratio", "minimize", "returns / deliveries", "returns", "deliveries"
    ),
    Kpi("conversion_rate", "share", "ratio", "maximize", "units / views", "units", "views"),
    Kpi(
        "cac_base",
        "base",
        "ratio",
        "minimize",
        "marketing per new customer",
        "marketing_base",
        "new_customers",
    ),
    Kpi("active_customers", "customers", "last", "maximize", "customers alive and buying recently"),
    Kpi("customers", "customers", "last", "none", "customers ever acquired"),
    Kpi("aware_share", "share", "last", "maximize", "share of consumers aware of us"),
    Kpi("satisfaction", "score", "last", "maximize", "mean satisfaction of our customers"),
    Kpi("in_transit", "orders", "last", "none", "orders on their way"),
    Kpi("inventory_units", "units", "last", "none", "units on hand serving the region"),
    Kpi("fx_local_per_base", "rate", "last", "none", "exchange rate"),
    Kpi("cash_base", "base", "last", "maximize", "firm cash (ALL rows only)"),
)
KPI_BY_NAME = {k.name: k for k in KPIS}
FLOW_KPIS = tuple(k.name for k in KPIS if k.aggregation == "sum")
STOCK_KPIS = tuple(k.name for k in KPIS if k.aggregation == "last")
RATIO_KPIS = tuple(k for k in KPIS if k.aggregation == "ratio")
COST_KPIS = (
    "refunds_base",
    "cogs_base",
    "freight_base",
    "duties_vat_base",
    "payment_fees_base",
    "fx_cost_base",
    "marketing_base",
    "localization_base",
    "retention_base",
    "fixed_base",
)
ALL_REGIONS = "ALL"


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is zero."""
    return float(numerator) / float(denominator) if denominator else float("nan")
