"""The KPI catalogue: every column of the tidy daily table with its unit, aggregation,
direction and the rows it is defined in (``sim.kpis`` derives the column sets and the row
arithmetic from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sim.calendar import DAYS_PER_YEAR

Aggregation = Literal["sum", "mean", "last", "ratio"]


@dataclass(frozen=True)
class Kpi:
    """One KPI column of the tidy daily table.

    Money and count KPIs are always finite in the rows they are defined for (a run that
    would write inf or NaN into one stops with a :class:`~sim.errors.ScenarioError`).
    Ratios and means are NaN, written as an empty CSV cell, exactly when their denominator
    is 0 (:attr:`undefined_when` says when).

    Attributes:
        defined_in: The rows that carry a value: ``"every"`` row, only the firm-wide
            ``"ALL"`` row, or only the ``"regions"`` rows; the others hold NaN.
        undefined: For a mean that is not a ratio of two columns, when it is NaN.
    """

    name: str
    unit: str
    aggregation: Aggregation
    direction: Literal["maximize", "minimize", "none"]
    help: str
    numerator: str = ""
    denominator: str = ""
    defined_in: Literal["every", "ALL", "regions"] = "every"
    undefined: str = ""
    scale: float = 1.0  # a ratio's multiplier (e.g. 365 to annualise)

    @property
    def undefined_when(self) -> str:
        """When a defined row holds NaN (empty in CSV); ``""`` when it is always finite."""
        if self.aggregation == "ratio":
            return f"{self.denominator} is 0"
        return self.undefined


BEFORE_HORIZON = "before the horizon (valued on the run's last day only)"

# Flow quantities (summed over days) first; ratios are derived from flows so that totals are
# exact rather than averages of daily ratios.
KPIS: tuple[Kpi, ...] = (
    Kpi(
        "gmv_base",
        "base",
        "sum",
        "none",
        "gross merchandise value: what buyers paid incl. VAT and duty",
    ),
    Kpi(
        "revenue_base", "base", "sum", "maximize", "sales net of VAT (incl. duty charged to buyers)"
    ),
    Kpi(
        "refunds_base", "base", "sum", "minimize", "refunds of returned or lost orders, net of VAT"
    ),
    Kpi("vat_collected_base", "base", "sum", "none", "VAT charged on sales (pass-through)"),
    Kpi("vat_reversed_base", "base", "sum", "none", "VAT given back on refunds (pass-through)"),
    Kpi("vat_remitted_base", "base", "sum", "none", "VAT collected - VAT reversed (pass-through)"),
    Kpi(
        "duty_base",
        "base",
        "sum",
        "minimize",
        "import duty on cross-border parcels, net of duty refunds",
    ),
    Kpi(
        "cogs_base",
        "base",
        "sum",
        "none",
        "landed cost of goods sold (price + inbound freight + duty)",
    ),
    Kpi(
        "freight_base",
        "base",
        "sum",
        "minimize",
        "order freight (stock freight is in inventory value)",
    ),
    Kpi("payment_fees_base", "base", "sum", "minimize", "payment fees on the amounts charged"),
    Kpi(
        "marketplace_fees_base",
        "base",
        "sum",
        "minimize",
        "marketplace commission and per-order fees (regions selling on a marketplace)",
    ),
    Kpi(
        "fx_cost_base",
        "base",
        "sum",
        "minimize",
        "currency conversion fees on proceeds net of VAT and duty",
    ),
    Kpi("marketing_base", "base", "sum", "none", "marketing spend"),
    Kpi("localization_base", "base", "sum", "none", "translation, payment, service, warehouse"),
    Kpi("retention_base", "base", "sum", "none", "retention offers and loyalty rebates"),
    Kpi("retention_contact_base", "base", "sum", "none", "retention_base paid per contact"),
    Kpi("retention_redeemed_base", "base", "sum", "none", "retention_base paid per redemption"),
    Kpi("offers_sent", "customers", "sum", "none", "customers sent a retention offer"),
    Kpi("loyalty_members", "customers", "sum", "none", "memberships enrolled or renewed"),
    Kpi(
        "offers_redeemed",
        "customers",
        "sum",
        "maximize",
        "contacted customers won back: first order with us inside the offer's window",
    ),
    Kpi(
        "reactivated_customers",
        "customers",
        "sum",
        "maximize",
        "lapsed (dropped-out) customers who came back answering an offer",
    ),
    Kpi("trial_packs", "orders", "sum", "none", "first orders sold as a trial pack"),
    Kpi("fixed_base", "base", "sum", "minimize", "fixed and compliance costs"),
    Kpi("holding_base", "base", "sum", "minimize", "stock holding cost (per unit and day)"),
    Kpi(
        "writeoff_base",
        "base",
        "sum",
        "minimize",
        "dead stock and stock lost in transit, at landed value",
    ),
    Kpi(
        "launch_cost_base",
        "base",
        "sum",
        "minimize",
        "one-off launch costs of new listings (firm.launch.cost_base each)",
    ),
    Kpi("interest_base", "base", "sum", "minimize", "interest on credit drawn"),
    Kpi(
        "gross_profit_base", "base", "sum", "maximize", "revenue - refunds - duty - COGS - freight"
    ),
    Kpi("net_profit_base", "base", "sum", "maximize", "revenue - every cost line"),
    Kpi(
        "purchases_base", "base", "sum", "none", "stock received from suppliers, at purchase price"
    ),
    Kpi("capitalised_base", "base", "sum", "none", "inbound freight and duty added to stock value"),
    Kpi("receipts_base", "base", "sum", "none", "cash received (settled sales)", defined_in="ALL"),
    Kpi("payments_base", "base", "sum", "none", "cash paid, except interest", defined_in="ALL"),
    Kpi(
        "spending_stopped",
        "days",
        "sum",
        "minimize",
        "days on which cash and credit had run out (reorders, marketing, retention stopped)",
        defined_in="ALL",
    ),
    Kpi(
        "inventory_base_days",
        "base x days",
        "sum",
        "none",
        "inventory value summed over days (for turnover)",
        defined_in="ALL",
    ),
    Kpi("units", "units", "sum", "maximize", "units sold"),
    Kpi("orders", "orders", "sum", "maximize", "orders taken"),
    Kpi("occasions", "occasions", "sum", "none", "purchase occasions in the market"),
    Kpi("market_units", "orders", "sum", "none", "inside-good purchases (orders) from anyone"),
    Kpi("new_customers", "customers", "sum", "maximize", "first purchases from us"),
    Kpi(
        "new_customers_paid",
        "customers",
        "sum",
        "none",
        "new customers whose awareness came from a paid channel (sim.acquisition)",
    ),
    Kpi("new_customers_wom", "customers", "sum", "maximize", "new customers from word of mouth"),
    Kpi(
        "new_customers_organic",
        "customers",
        "sum",
        "none",
        "new customers aware on day 0 or through organic discovery (p_base)",
    ),
    Kpi("repeat_orders", "orders", "sum", "maximize", "orders by returning customers"),
    Kpi("churned_customers", "customers", "sum", "minimize", "our customers who dropped out"),
    Kpi(
        "customer_years",
        "customer-years",
        "sum",
        "none",
        "customer-years at risk: our alive customers at each day's end / 365",
    ),
    Kpi(
        "customer_occasions",
        "occasions",
        "sum",
        "none",
        "purchase occasions of consumers who were already our customers",
    ),
    Kpi("deliveries", "orders", "sum", "none", "orders delivered (not lost)"),
    Kpi("delivery_days_total", "days", "sum", "none", "sum of delivery times"),
    Kpi("on_time_deliveries", "orders", "sum", "maximize", "delivered within promised days"),
    Kpi("demanded_units", "units", "sum", "none", "units chosen, before stock limits"),
    Kpi(
        "chosen_orders",
        "orders",
        "sum",
        "none",
        "orders buyers chose from us, before stock limits and payment",
    ),
    Kpi("stockouts", "units", "sum", "minimize", "units lost to empty stock"),
    Kpi("checkouts", "orders", "sum", "none", "buyers who reached payment with stock available"),
    Kpi("failed_payments", "orders", "sum", "minimize", "sales lost to failed payments"),
    Kpi(
        "cod_refusals", "orders", "sum", "minimize", "cash-on-delivery parcels refused at the door"
    ),
    Kpi("returns", "orders", "sum", "minimize", "orders with a returned unit"),
    Kpi("returned_units", "units", "sum", "minimize", "units returned"),
    Kpi("bundle_offers", "orders", "sum", "none", "orders by growing customers offered a bundle"),
    Kpi("bundle_orders", "orders", "sum", "maximize", "bundle offers taken"),
    Kpi(
        "bundle_offer_gmv_base",
        "base",
        "sum",
        "none",
        "what buyers paid on orders with a bundle offer",
    ),
    Kpi(
        "bundle_discount_base",
        "base",
        "sum",
        "none",
        "bundle discounts given at checkout (list value, excl. taxes; already out of revenue)",
    ),
    Kpi("lost_orders", "orders", "sum", "minimize", "orders lost in transit"),
    Kpi("complaints", "orders", "sum", "minimize", "deliveries that ended in a complaint"),
    Kpi("views", "views", "sum", "none", "listing views by aware consumers"),
    Kpi("launches", "listings", "sum", "none", "new listings (products listed in a region)"),
    Kpi("launches_blocked", "listings", "sum", "minimize", "launches refused: cash, credit out"),
    Kpi(
        "dead_stock_units",
        "units",
        "sum",
        "minimize",
        "units written off as dead stock (no sale for dead_stock_days)",
    ),
    Kpi("dead_stock_base", "base", "sum", "minimize", "dead stock written off, at landed value"),
    Kpi(
        "dead_stock_unlisted_units",
        "units",
        "sum",
        "minimize",
        "of the dead stock units: products listed in no region (never listed or delisted)",
    ),
    Kpi(
        "dead_stock_unlisted_base",
        "base",
        "sum",
        "minimize",
        "of the dead stock value: products listed in no region (never listed or delisted)",
    ),
    Kpi(
        "market_share",
        "share",
        "ratio",
        "maximize",
        "our orders / all inside purchases (a purchase is one order, whatever its basket)",
        "orders",
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
        "churn_rate_annual",
        "per customer-year",
        "ratio",
        "minimize",
        "annualised churn: churned customers / customer-years at risk",
        "churned_customers",
        "customer_years",
    ),
    Kpi(
        "share_of_wallet",
        "share",
        "ratio",
        "maximize",
        "share of our customers' purchase occasions that bought from us",
        "repeat_orders",
        "customer_occasions",
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
    Kpi(
        "complaint_rate",
        "share",
        "ratio",
        "minimize",
        "complaints / deliveries",
        "complaints",
        "deliveries",
    ),
    Kpi(
        "payment_success_rate",
        "share",
        "ratio",
        "maximize",
        "orders / checkouts (after one retry)",
        "orders",
        "checkouts",
    ),
    Kpi("conversion_rate", "share", "ratio", "maximize", "orders / views", "orders", "views"),
    Kpi("units_per_order", "units", "ratio", "none", "units / orders", "units", "orders"),
    Kpi(
        "order_value_base",
        "base",
        "ratio",
        "none",
        "what buyers paid per order (GMV / orders)",
        "gmv_base",
        "orders",
    ),
    Kpi(
        "bundle_order_value_base",
        "base",
        "ratio",
        "none",
        "GMV per order of customers offered a bundle",
        "bundle_offer_gmv_base",
        "bundle_offers",
    ),
    Kpi(
        "inventory_turnover",
        "per year",
        "ratio",
        "maximize",
        "COGS / mean inventory value, annualised",
        "cogs_base",
        "inventory_base_days",
        defined_in="ALL",
        scale=DAYS_PER_YEAR,
    ),
    Kpi(
        "cac_base",
        "base",
        "ratio",
        "minimize",
        "blended CAC: marketing per new customer (every source)",
        "marketing_base",
        "new_customers",
    ),
    Kpi(
        "paid_cac_base",
        "base",
        "ratio",
        "minimize",
        "paid CAC: marketing per new customer acquired by a paid channel",
        "marketing_base",
        "new_customers_paid",
    ),
    Kpi(
        "market_growth_yoy",
        "share",
        "last",
        "none",
        "market growth: purchase occasions over the last 365 days / the 365 before - 1",
        undefined="before day 729 (two full years) or no occasion in the first year",
    ),
    Kpi("active_customers", "customers", "last", "maximize", "customers alive and buying recently"),
    Kpi("customers", "customers", "last", "none", "customers ever acquired"),
    Kpi("aware_share", "share", "last", "maximize", "share of consumers aware of us"),
    Kpi(
        "satisfaction",
        "score",
        "last",
        "maximize",
        "mean satisfaction of our customers",
        undefined="none of our customers is alive (e.g. before the first sale)",
    ),
    Kpi("in_transit", "orders", "last", "none", "orders on their way"),
    Kpi("inventory_units", "units", "last", "none", "units on hand serving the region"),
    Kpi("listings_live", "listings", "last", "none", "products listed (region: there; ALL: sum)"),
    Kpi("fx_local_per_base", "rate", "last", "none", "exchange rate", defined_in="regions"),
    Kpi("cash_base", "base", "last", "maximize", "cash on hand", defined_in="ALL"),
    Kpi("credit_drawn_base", "base", "last", "minimize", "credit line drawn", defined_in="ALL"),
    Kpi("receivables_base", "base", "last", "none", "sales not yet settled", defined_in="ALL"),
    Kpi(
        "payables_base", "base", "last", "none", "supplier invoices not yet paid", defined_in="ALL"
    ),
    Kpi(
        "inventory_value_base",
        "base",
        "last",
        "none",
        "stock on hand and in transit at landed cost",
        defined_in="ALL",
    ),
    Kpi(
        "days_of_cover",
        "days",
        "last",
        "none",
        "units on hand / mean daily units sold over the recent window",
        defined_in="ALL",
        undefined="nothing was sold in the recent window",
    ),
    # valued on the horizon day only (``sim.equity``): beside profit, never added to it
    Kpi(
        "expected_purchases",
        "orders",
        "last",
        "none",
        "expected purchases with us over the next equity_years (BG/NBD per customer)",
        undefined=BEFORE_HORIZON,
    ),
    Kpi(
        "contribution_per_order_base",
        "base",
        "last",
        "maximize",
        "net revenue - COGS, freight, duty, fees, refunds, retention, per order "
        "(last contribution_window_days)",
        undefined=BEFORE_HORIZON + "; no order in the run",
    ),
    Kpi(
        "customer_equity_base",
        "base",
        "last",
        "maximize",
        "discounted expected purchases x contribution per order",
        undefined=BEFORE_HORIZON,
    ),
    Kpi(
        "repurchase_rate",
        "share",
        "last",
        "maximize",
        "share of customers whose first order is >= W days before the horizon with a second "
        "order within W days (W = repurchase_window_days)",
        undefined=BEFORE_HORIZON + "; no first order W days before the horizon",
    ),
    Kpi(
        "clv_base",
        "base",
        "last",
        "maximize",
        "CLV: (realised contribution + customer equity) per customer",
        undefined=BEFORE_HORIZON + "; no customer",
    ),
    Kpi(
        "profit_plus_equity_base",
        "base",
        "last",
        "maximize",
        "net profit over the run + customer equity at the horizon",
        undefined=BEFORE_HORIZON,
    ),
)
