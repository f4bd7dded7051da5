"""The P&L statement and the balance at the horizon, from a run's KPI totals (one region)."""

from __future__ import annotations

from collections.abc import Mapping

from sim.kpis import COST_KPIS

#: (KPI, label) of the P&L lines in statement order; costs are shown with a minus sign
PNL_HEAD = (
    ("gmv_base", "gross merchandise value (paid by buyers)"),
    ("vat_collected_base", "VAT collected (pass-through, not revenue)"),
    ("revenue_base", "revenue, net of VAT"),
)
COST_LABELS = {
    "refunds_base": "refunds (net of VAT)",
    "duty_base": "import duty on parcels (net of refunds)",
    "cogs_base": "cost of goods sold (landed)",
    "freight_base": "order freight",
    "payment_fees_base": "payment fees",
    "marketplace_fees_base": "marketplace commission and order fees",
    "fx_cost_base": "FX conversion fees",
    "marketing_base": "marketing",
    "localization_base": "localization",
    "retention_base": "retention offers and rebates",
    "fixed_base": "fixed and compliance costs",
    "holding_base": "stock holding",
    "writeoff_base": "dead stock and lost stock written off",
    "launch_cost_base": "launch costs of new listings",
    "interest_base": "interest on credit",
}
BALANCE = (
    ("cash_base", "cash"),
    ("credit_drawn_base", "credit drawn"),
    ("receivables_base", "sales not yet settled"),
    ("payables_base", "supplier invoices not yet paid"),
    ("inventory_value_base", "inventory at landed cost"),
    ("vat_remitted_base", "VAT remitted (collected - reversed)"),
)


GROSS_COSTS = ("refunds_base", "duty_base", "cogs_base", "freight_base")


def pnl_lines(row: Mapping[str, float]) -> list[tuple[str, str, float]]:
    """(KPI, label, signed amount) of the statement: GMV, VAT, revenue, the costs of the sales,
    gross profit, every other cost, net profit (costs negative)."""
    lines = [(k, label, float(row[k])) for k, label in PNL_HEAD]
    lines[1] = (lines[1][0], lines[1][1], -lines[1][2] + 0.0)
    other = [k for k in COST_KPIS if k not in GROSS_COSTS]
    lines += [(k, COST_LABELS[k], -float(row[k]) + 0.0) for k in GROSS_COSTS]
    lines.append(("gross_profit_base", "gross profit", float(row["gross_profit_base"])))
    lines += [(k, COST_LABELS[k], -float(row[k]) + 0.0) for k in other]
    lines.append(("net_profit_base", "net profit", float(row["net_profit_base"])))
    return lines


def balance_lines(row: Mapping[str, float]) -> list[tuple[str, str, float]]:
    """(KPI, label, amount) of the firm's position at the horizon (an ``ALL`` totals row)."""
    return [(k, label, float(row[k])) for k, label in BALANCE]


def format_pnl(row: Mapping[str, float], currency: str, exhausted_day: int | None = None) -> str:
    """The statement, the balance and the cash verdict as fixed-width text."""
    out = [f"P&L, all regions ({currency})"]
    for k, label, value in pnl_lines(row):
        rule = "=" if k in ("revenue_base", "gross_profit_base", "net_profit_base") else " "
        out.append(f"  {rule} {label:<44}{value:>14,.0f}")
    out.append(f"At the horizon ({currency})")
    for _, label, value in balance_lines(row):
        out.append(f"    {label:<44}{value:>14,.0f}")
    turnover, cover = row.get("inventory_turnover"), row.get("days_of_cover")
    if turnover == turnover and cover == cover:
        out.append(f"    inventory turnover {turnover:.1f} a year, {cover:.0f} days of cover")
    if exhausted_day is None:
        out.append("  Cash and credit never ran out.")
    else:
        days = int(row.get("spending_stopped", 0))
        out.append(
            f"  Cash and credit ran out on day {exhausted_day}: reorders, marketing and "
            f"retention stopped on {days} days."
        )
    return "\n".join(out)


def format_horizon(row: Mapping[str, float], currency: str, years: int, rate: float) -> str:
    """The value at the horizon (one ``horizon.csv`` row), beside profit, never added to it."""
    return "\n".join(
        [
            f"Value at the horizon ({currency}; beside profit, not part of it)",
            f"    customer equity: {row['expected_purchases']:,.0f} expected purchases over "
            f"{years} years x {row['contribution_per_order_base']:,.2f} contribution per order,"
            f" discounted at {rate:.0%}: {row['customer_equity_base']:,.0f}",
            f"    net profit + customer equity: {row['profit_plus_equity_base']:,.0f}; CLV per "
            f"customer {row['clv_base']:,.2f}",
        ]
    )
