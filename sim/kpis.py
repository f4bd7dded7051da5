"""KPIs: the catalogue (units, aggregation, direction) and the daily row per region and ALL."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from sim.calendar import DAYS_PER_YEAR
from sim.errors import Problem, ScenarioError, UsageError

if TYPE_CHECKING:
    from sim.model import MarketModel

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
        "fx_cost_base",
        "base",
        "sum",
        "minimize",
        "currency conversion fees on proceeds net of VAT and duty",
    ),
    Kpi("marketing_base", "base", "sum", "none", "marketing spend"),
    Kpi("localization_base", "base", "sum", "none", "translation, payment, service, warehouse"),
    Kpi("retention_base", "base", "sum", "none", "retention offers and loyalty rebates"),
    Kpi("fixed_base", "base", "sum", "minimize", "fixed and compliance costs"),
    Kpi("holding_base", "base", "sum", "minimize", "stock holding cost (per unit and day)"),
    Kpi(
        "writeoff_base",
        "base",
        "sum",
        "minimize",
        "dead stock and stock lost in transit, at landed value",
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
        "marketing per new customer",
        "marketing_base",
        "new_customers",
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
)
KPI_BY_NAME = {k.name: k for k in KPIS}


def kpi_named(name: str, what: str = "kpi") -> Kpi:
    """The catalogue entry of ``name``; a UsageError naming ``what`` and the valid names."""
    kpi = KPI_BY_NAME.get(name)
    if kpi is None:
        raise UsageError(f"{what}: unknown KPI {name!r}; valid: {sorted(KPI_BY_NAME)}")
    return kpi


FLOW_KPIS = tuple(k.name for k in KPIS if k.aggregation == "sum")
STOCK_KPIS = tuple(k.name for k in KPIS if k.aggregation == "last")
RATIO_KPIS = tuple(k for k in KPIS if k.aggregation == "ratio")
#: every cost line of the P&L: net profit = revenue - their sum
COST_KPIS = (
    "refunds_base",
    "cogs_base",
    "freight_base",
    "duty_base",
    "payment_fees_base",
    "fx_cost_base",
    "marketing_base",
    "localization_base",
    "retention_base",
    "fixed_base",
    "holding_base",
    "writeoff_base",
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


def require_finite(row: Mapping[str, Any], scenario_name: str) -> None:
    """Check that every money and count KPI of a daily row is finite.

    Raises:
        ScenarioError: If one is inf or NaN: the scenario's numbers overflow the model's
            arithmetic (names the day, region, KPIs and values).
    """
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


class DailyKpis:
    """Records the day's KPI rows (one per region plus ``ALL``) into the model's DataCollector.

    The ``kpis`` table holds every row; :attr:`total` is today's ``ALL`` row, which the
    model reporters read (so ``mesa.batch_run`` returns one row of firm totals per day).
    """

    def __init__(self, model: MarketModel):
        self.model = model
        self.total: dict[str, Any] = {}
        self._units_sold: list[float] = []  # firm-wide units per day (days of cover)

    @staticmethod
    def reporters() -> dict[str, Any]:
        """Mesa model reporters: every KPI of the day's ``ALL`` row."""
        return {k.name: partial(_all_row_kpi, name=k.name) for k in KPIS}

    def record(self, d: int) -> None:
        """Build day ``d``'s rows, remember what the firm observed, pay the day's cash costs."""
        m = self.model
        firm = m.firm
        rows = []
        totals = {k: 0.0 for k in FLOW_KPIS}
        for r, region_id in enumerate(m.region_ids):
            flows = self._region_flows(r)
            for k in FLOW_KPIS:
                totals[k] += flows[k]
            row = {"day": d, "region": region_id, **flows}
            row.update(ratios(flows))
            for k in ALL_ONLY_FLOWS:
                row[k] = float("nan")
            row.update(self._region_stocks(d, r))
            rows.append(row)
            m.observer.history.remember(
                d,
                r,
                m.fulfilment.units_today[r],
                m.fulfilment.occasions[r].views,
                m.fulfilment.revenue_today[r],
                firm.price_local[r],
                (flows["deliveries"], flows["delivery_days_total"], flows["on_time_deliveries"]),
            )
        for k in FLOW_KPIS:
            totals[k] += firm.firm_today[k]
        self._close_books(totals)
        all_row = {"day": d, "region": ALL_REGIONS, **totals, **ratios(totals)}
        all_row.update(self._all_stocks(rows))
        rows.append(all_row)
        for row in rows:
            require_finite(row, m.scenario.name)
        for row in rows:
            m.datacollector.add_table_row("kpis", row)
        self.total = all_row
        firm.reset_day()

    def _region_flows(self, r: int) -> dict[str, float]:
        m = self.model
        occ = m.fulfilment.occasions[r]
        flows = {k: float(m.firm.today[k][r]) for k in FLOW_KPIS}
        flows["occasions"] = occ.occasions
        flows["market_units"] = occ.market_units
        flows["demanded_units"] = occ.demanded_units
        flows["stockouts"] = occ.stockouts
        flows["churned_customers"] = occ.churned_customers
        flows["views"] = float(occ.views.sum())
        finish_flows(flows)
        return flows

    def _close_books(self, totals: dict[str, float]) -> None:
        """Pay the day's cash costs and add the firm-only flows to the ``ALL`` flows."""
        firm = self.model.firm
        treasury = firm.treasury
        cash_costs = sum(totals[k] for k in COST_KPIS if k not in NON_CASH_COSTS)
        treasury.pay(cash_costs + totals["capitalised_base"])
        totals["receipts_base"] = treasury.receipts_today
        totals["payments_base"] = treasury.payments_today
        totals["spending_stopped"] = float(treasury.stopped)
        totals["inventory_base_days"] = firm.inventory.value_base()
        finish_flows(totals)
        self._units_sold.append(totals["units"])

    def _region_stocks(self, d: int, r: int) -> dict[str, float]:
        m = self.model
        pop, firm = m.consumers[r], m.firm
        return {
            "active_customers": pop.active_customers(d, m.scenario.settings.active_window_days),
            "customers": pop.n_customers,
            "aware_share": pop.n_aware / pop.n,
            "satisfaction": pop.mean_satisfaction(),
            "in_transit": int(m.fulfilment.placed[r] - m.deliveries.completed[r]),
            "inventory_units": int(firm.on_hand[firm.serving_warehouse(r)].sum()),
            "fx_local_per_base": float(m.fx_local_per_base[r]),
            **{k: float("nan") for k in FIRM_STOCKS},
        }

    def _all_stocks(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        m = self.model
        pops = m.consumers
        alive_customers = sum(p.n_alive_customers for p in pops)
        sat_sum = sum(p.satisfaction_sum for p in pops)
        treasury, inventory = m.firm.treasury, m.firm.inventory
        on_hand = int(inventory.on_hand.sum())
        window = self._units_sold[-m.scenario.settings.recent_window_days :]
        return {
            "active_customers": sum(row["active_customers"] for row in rows),
            "customers": sum(p.n_customers for p in pops),
            "aware_share": sum(p.n_aware for p in pops) / sum(p.n for p in pops),
            "satisfaction": ratio(sat_sum, alive_customers),
            "in_transit": int(sum(row["in_transit"] for row in rows)),
            "inventory_units": on_hand,
            "fx_local_per_base": float("nan"),
            "cash_base": treasury.cash_base,
            "credit_drawn_base": treasury.credit_drawn_base,
            "receivables_base": treasury.receivable_base,
            "payables_base": treasury.payable_base,
            "inventory_value_base": inventory.value_base(),
            "days_of_cover": ratio(on_hand, sum(window) / len(window)),
        }


def _all_row_kpi(model: MarketModel, name: str) -> Any:
    return model.kpis.total[name]
