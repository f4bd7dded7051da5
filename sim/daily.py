"""The daily KPI rows: one per region plus ``ALL``, recorded into the model's DataCollector."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from operator import add, itemgetter
from typing import TYPE_CHECKING, Any

from sim.acquisition import GrowthBook
from sim.calendar import DAYS_PER_YEAR
from sim.equity import WINDOW_FLOWS, HorizonBook, contribution_base, horizon_rows
from sim.kpi_totals import KpiDetail, KpiTotals
from sim.kpis import (
    ALL_ONLY_FLOWS,
    ALL_REGIONS,
    COST_KPIS,
    FIRM_STOCKS,
    FLOW_KPIS,
    HORIZON_KPIS,
    NON_CASH_COSTS,
    finish_flows,
    ratio,
    ratios,
    require_finite,
)
from sim.observe import BOOKED_FLOWS

if TYPE_CHECKING:
    from sim.model import MarketModel

#: the flow KPIs of a row, in catalogue order
_flow_values = itemgetter(*FLOW_KPIS)
_ALL_ONLY_NAN = dict.fromkeys(ALL_ONLY_FLOWS, float("nan"))  # region rows lack these flows
_HORIZON_NAN = dict.fromkeys(HORIZON_KPIS, float("nan"))  # valued on the horizon day only
#: what :meth:`HorizonBook.add_day` reads of a row besides its contribution
_HORIZON_READS = (*(k for k in WINDOW_FLOWS if k != "contribution_base"), "net_profit_base")


class DailyKpis:
    """Records the day's KPI rows (one per region plus ``ALL``) into the model's DataCollector.

    The ``kpis`` table holds every row; :attr:`total` is today's ``ALL`` row, which the
    model reporters read (so ``mesa.batch_run`` returns one row of firm totals per day).
    """

    def __init__(self, model: MarketModel, detail: KpiDetail = "daily"):
        self.model = model
        self.total: dict[str, Any] = {}
        # kpi_detail="totals": horizon totals only, no daily table (sim.kpi_totals)
        self.totals = (
            KpiTotals(len(model.region_ids) + 1, model.horizon_days, model.scenario.name)
            if detail == "totals"
            else None
        )
        # firm-wide units per day over the recent window (days of cover)
        self._units_sold: deque[float] = deque(maxlen=model.scenario.settings.recent_window_days)
        valuation = model.scenario.valuation
        self.horizon = HorizonBook(len(model.region_ids), valuation.contribution_window_days)
        self.growth = GrowthBook(len(model.region_ids), model.horizon_days)

    def record(self, d: int) -> None:
        """Build day ``d``'s rows, remember what the firm observed, pay the day's cash costs."""
        m = self.model
        firm = m.firm
        full = self.totals is None or d == m.horizon_days - 1  # totals: rows on the horizon day
        rows = []
        # the ALL flows: 0.0 + each region's flows in order + the firm-level flows, added
        # flow by flow in Python floats as a loop over the KPIs would (same sums to the bit)
        totals: Iterable[float] = [0.0] * len(FLOW_KPIS)
        for r, region_id in enumerate(m.region_ids):
            flows = self._region_flows(r)
            totals = list(map(add, totals, _flow_values(flows)))
            row = {"day": d, "region": region_id, **flows}
            if full:
                row.update(ratios(flows))
            row.update(_ALL_ONLY_NAN)
            if full:
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
                tuple(flows[name] for name in BOOKED_FLOWS),
            )
        totals = dict(zip(FLOW_KPIS, map(add, totals, _flow_values(firm.firm_today)), strict=True))
        self._close_books(totals)
        all_row = {"day": d, "region": ALL_REGIONS, **totals}
        if full:
            all_row.update(ratios(totals))
            all_row.update(self._all_stocks(rows))
        self._value_horizon(d, rows, all_row)
        rows.append(all_row)
        if self.totals is not None:
            self.totals.add(d, rows)  # flows summed, checked finite
        if full:
            for row in rows:
                require_finite(row, m.scenario.name)
        if self.totals is None:
            for row in rows:
                m.datacollector.add_table_row("kpis", row)
        elif full:
            self.totals.keep_last(rows)
        self.total = all_row
        firm.reset_day()

    def _region_flows(self, r: int) -> dict[str, float]:
        m = self.model
        occ = m.fulfilment.occasions[r]
        # the ledger's column of region r as Python floats (``float(today[k][r])`` each)
        flows = dict(zip(FLOW_KPIS, m.firm.flows_today[:, r].tolist(), strict=True))
        flows["occasions"] = occ.occasions
        flows["market_units"] = occ.market_units
        flows["demanded_units"] = occ.demanded_units
        flows["chosen_orders"] = occ.chosen_orders
        flows["stockouts"] = occ.stockouts - flows["failed_payments"]  # both went unfilled
        flows["churned_customers"] = occ.churned_customers
        flows["customer_occasions"] = occ.customer_occasions
        flows["customer_years"] = m.consumers[r].n_alive_customers / DAYS_PER_YEAR
        flows["views"] = float(occ.views.sum())
        flows.update(m.consumers[r].acq.take_flows())  # new customers by source
        self.growth.add(m.day, r, occ.occasions)
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

    def _value_horizon(self, d: int, rows: list[dict[str, Any]], all_row: dict[str, Any]) -> None:
        """Feed the horizon book; on the horizon day add the horizon KPIs (else NaN)."""
        m = self.model
        # the book reads these flows of each row only (not a copy of the whole row)
        self.horizon.add_day(
            [
                {"contribution_base": contribution_base(row), **{k: row[k] for k in _HORIZON_READS}}
                for row in rows
            ],
            all_row["net_profit_base"],
        )
        if d != m.horizon_days - 1:
            if self.totals is None:  # rows of the daily table (totals keep flows only)
                for row in (*rows, all_row):
                    row.update(_HORIZON_NAN)
            return
        region_values, all_values = horizon_rows(m, self.horizon)
        for row, values in zip(rows, region_values, strict=True):
            row.update(values)
        all_row.update(all_values)

    def _region_stocks(self, d: int, r: int) -> dict[str, float]:
        m = self.model
        pop, firm = m.consumers[r], m.firm
        return {
            "active_customers": pop.active_customers(d, m.scenario.settings.active_window_days),
            "customers": pop.n_customers,
            "aware_share": pop.n_aware / pop.n,
            "market_growth_yoy": self.growth.yoy(d, r),
            "satisfaction": pop.mean_satisfaction(),
            "in_transit": int(m.fulfilment.placed[r] - m.deliveries.completed[r]),
            "inventory_units": int(firm.on_hand[firm.serving_warehouse(r)].sum()),
            "listings_live": int(firm.listed[r].sum()),
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
        return {
            "active_customers": sum(row["active_customers"] for row in rows),
            "customers": sum(p.n_customers for p in pops),
            "aware_share": sum(p.n_aware for p in pops) / sum(p.n for p in pops),
            "market_growth_yoy": self.growth.yoy(m.day),
            "satisfaction": ratio(sat_sum, alive_customers),
            "in_transit": int(sum(row["in_transit"] for row in rows)),
            "inventory_units": on_hand,
            "listings_live": int(sum(row["listings_live"] for row in rows)),
            "fx_local_per_base": float("nan"),
            "cash_base": treasury.cash_base,
            "credit_drawn_base": treasury.credit_drawn_base,
            "receivables_base": treasury.receivable_base,
            "payables_base": treasury.payable_base,
            "inventory_value_base": inventory.value_base(),
            "days_of_cover": ratio(on_hand, sum(self._units_sold) / len(self._units_sold)),
        }
