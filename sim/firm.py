"""Our firm: listings and prices, warehouses and stock, localization state, cash and the ledger."""

from __future__ import annotations

import math
from typing import Any

import mesa
import numpy as np

from sim.calendar import DAYS_PER_MONTH, month_of_day
from sim.contract import PAYMENT_METHODS, LocalizationChoice
from sim.credit import affordable_units
from sim.demand_cover import DemandCover
from sim.inventory import Inventory, Transfer
from sim.kpis import FLOW_KPIS
from sim.orders import OrderBook
from sim.prices import landed_price_local, tax_components_local
from sim.scenario import Lane, Scenario, local_lane, outbound_lane
from sim.staffing import StaffingRule
from sim.treasury import Treasury


class FirmAgent(mesa.Agent):
    """The seller whose strategies we evaluate."""

    def __init__(self, model: mesa.Model, scenario: Scenario):
        super().__init__(model)
        sc = scenario
        self.scenario = sc
        self.regions = sc.regions
        self.n_regions = len(sc.regions)
        self.products = sc.products
        self.n_products = len(sc.products)
        self.category_index = {c: i for i, c in enumerate(sc.categories)}
        self.product_category = np.array(
            [self.category_index[p.category] for p in sc.products], dtype=np.int64
        )
        self.unit_cost_base = np.array([p.unit_cost_base for p in sc.products])
        self.quality = np.array([p.quality for p in sc.products])
        self.eco_score = np.array([p.eco_score for p in sc.products])
        self.product_tags = [frozenset(p.tags) for p in sc.products]
        self.treasury = Treasury(sc.firm.starting_cash_base, sc.firm.finance)

        # warehouses, stock and lanes
        self.warehouses = sc.firm.warehouses
        self.warehouse_index = {w.id: i for i, w in enumerate(self.warehouses)}
        self.warehouse_region = [
            None if w.region is None else [r.id for r in sc.regions].index(w.region)
            for w in self.warehouses
        ]
        self.inventory = Inventory(len(self.warehouses), self.n_products)
        self.on_hand = self.inventory.on_hand  # the same arrays, never rebound
        self.on_order = self.inventory.on_order
        # a warehouse abroad serves its region only once stock has arrived there
        self.ready = np.array([w.region is None for w in self.warehouses], dtype=bool)
        self.reorder_point, self.order_quantity = self._inventory_policy()
        self.demand_cover = DemandCover.from_rules(sc, self.warehouse_index)
        if self.demand_cover is not None:
            self.inventory.track_sales()
        self.outbound: list[Lane] = [outbound_lane(sc, r.id) for r in sc.regions]  # type: ignore[misc]
        self.local: list[Lane | None] = [local_lane(sc, r.id) for r in sc.regions]

        # listings, prices, localization
        fx_ref = np.array([r.fx.local_per_base for r in sc.regions])
        self.listed = np.zeros((self.n_regions, self.n_products), dtype=bool)
        self.listed_since = np.full((self.n_regions, self.n_products), -1, dtype=np.int64)
        self.price_local = (self.unit_cost_base[None, :] * 1.5) * fx_ref[:, None]
        default_methods = frozenset(sc.firm.supported_payment_methods)
        self.default_methods = default_methods
        self.localization = [
            LocalizationChoice(payment_methods=default_methods) for _ in sc.regions
        ]
        self.payment_fee = np.array(
            [sc.firm.payment_fee_rate.get(m, np.nan) for m in PAYMENT_METHODS]
        )
        self.marketing_monthly_base = self._marketing_budgets()

        # ledger: today's flows per region and firm level; one (flows x regions) array whose
        # rows ``today[name]`` are views, so a region's flows are one column and the day's
        # reset one fill
        self.flows_today = np.zeros((len(FLOW_KPIS), self.n_regions))
        self.today = dict(zip(FLOW_KPIS, self.flows_today, strict=True))
        self.firm_today = dict.fromkeys(FLOW_KPIS, 0.0)
        self.orders = OrderBook()
        self.staffing = None if sc.firm.staffing is None else StaffingRule(sc.firm.staffing)
        self.supplier_arrivals: dict[int, list[Transfer]] = {}
        self.lane_transfers: dict[int, Transfer] = {}
        self._next_transfer_id = 0
        self._buy_opening_stock()

    def _buy_opening_stock(self, listed_only: bool = False) -> None:
        """Opening stock is bought, shipped and cleared before day 0 and paid on day 0 (with
        ``launch.opening_stock_listed_only``: after day 0's decisions, for the listed
        products only; see :meth:`buy_listed_opening_stock`)."""
        if self.scenario.firm.launch.opening_stock_listed_only and not listed_only:
            return
        product_ids = [p.id for p in self.scenario.products]
        for w, wh in enumerate(self.warehouses):
            opening = np.full(self.n_products, wh.initial_units, dtype=np.int64)
            for product_id, product_units in wh.initial_units_by_product.items():
                opening[product_ids.index(product_id)] = product_units
            if not opening.any():
                continue
            products = np.arange(self.n_products)
            if listed_only:
                products = np.flatnonzero(self.listed.any(axis=0))
                if not len(products):
                    continue
            units = opening[products]
            units = affordable_units(self, w, products, units)  # within cash and credit
            if units.any():
                self.buy_landed(0, w, products[units > 0], units[units > 0])

    def buy_listed_opening_stock(self) -> None:
        """Day 0, after the decisions: the opening stock of the products listed somewhere
        (only with ``launch.opening_stock_listed_only``)."""
        if self.scenario.firm.launch.opening_stock_listed_only:
            self._buy_opening_stock(listed_only=True)

    def buy_landed(self, day: int, w: int, products: np.ndarray, units: np.ndarray) -> None:
        """Stock bought, shipped and cleared into warehouse ``w`` at once (opening stock, a
        launch's stock commitment): unit cost plus the stock lane's freight and import duty
        of a warehouse abroad; paid after the supplier's terms from ``day``."""
        landing = self.landing_base(w, products, units)
        self.inventory.buy(day, w, products, units, self.unit_cost_base[products], landing)
        self.ready[w] = True
        self.treasury.pay_on(
            day + self.scenario.firm.finance.supplier_payment_days,
            float((units * self.unit_cost_base[products]).sum()),
        )
        r = self.warehouse_region[w]
        self.book("purchases_base", r, float((units * self.unit_cost_base[products]).sum()))
        self.book("capitalised_base", r, float(landing.sum()))

    def landing_base(self, w: int, products: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Import duty and the stock lane's freight per product of stock bought into ``w``."""
        wh = self.warehouses[w]
        landing = self.import_duty_base(w, products, units)
        lane = self.stock_lane(wh.replenish_from, wh.region) if wh.region is not None else None
        freight = 0.0
        if lane is not None:
            total = int(units.sum())
            freight = total * lane.cost_per_unit_base + lane.cost_per_shipment_base * math.ceil(
                total / lane.max_units_per_shipment
            )
        return landing + freight * units / units.sum()

    def import_duty_base(self, w: int, products: np.ndarray, units: np.ndarray) -> np.ndarray:
        """Import duty per product on stock entering warehouse ``w`` (customs value = unit
        cost; none for a home warehouse)."""
        r = self.warehouse_region[w]
        if r is None:
            return np.zeros(len(products))
        return self.regions[r].tax.duty_rate * units * self.unit_cost_base[products]

    def _inventory_policy(self) -> tuple[np.ndarray, np.ndarray]:
        """Reorder point and order quantity per warehouse and product (-1: never reorder);
        rules for one product override a warehouse's rule for all products."""
        sc = self.scenario
        shape = (len(self.warehouses), self.n_products)
        reorder_point = np.full(shape, -1, dtype=np.int64)
        order_quantity = np.zeros(shape, dtype=np.int64)
        for rule in sorted(sc.firm.inventory_policy, key=lambda r: r.product is not None):
            w = self.warehouse_index[rule.warehouse]
            cols = (
                slice(None)
                if rule.product is None
                else [p.id for p in sc.products].index(rule.product)
            )
            reorder_point[w, cols] = rule.reorder_point
            order_quantity[w, cols] = rule.order_quantity
        return reorder_point, order_quantity

    def _marketing_budgets(self) -> np.ndarray:
        """Monthly marketing budget per region and calendar month (base currency)."""
        budgets = []
        for r in self.scenario.regions:
            b = self.scenario.firm.marketing_budget_monthly_base.get(r.id, 0.0)
            budgets.append(b if isinstance(b, list) else [b] * 12)
        return np.array(budgets, dtype=float)

    # ------------------------------------------------------------------ helpers
    def serving_warehouse(self, r: int) -> int:
        """Warehouse shipping to region ``r`` today."""
        lane = self.serving_lane(r)
        return self.warehouse_index[lane.origin]

    def serving_lane(self, r: int) -> Lane:
        """Lane carrying region ``r``'s orders today (the local one once its warehouse is open)."""
        local = self.local[r]
        if (
            self.localization[r].local_warehouse
            and local is not None
            and self.ready[self.warehouse_index[local.origin]]
        ):
            return local
        return self.outbound[r]

    def wanted_warehouses(self) -> set[str]:
        """Warehouses in use or chosen (a chosen one not yet open is being stocked)."""
        out = {self.serving_lane(r).origin for r in range(self.n_regions)}
        for r, local in enumerate(self.local):
            if local is not None and self.localization[r].local_warehouse:
                out.add(local.origin)
        return out

    def is_cross_border(self, r: int) -> bool:
        """Whether orders to region ``r`` cross a border (duty applies above de minimis)."""
        return self.serving_lane(r) is self.outbound[r]

    def consumer_price_local(self, r: int, price_local: np.ndarray) -> np.ndarray:
        """Landed consumer price in region ``r`` (see :func:`sim.prices.landed_price_local`)."""
        return landed_price_local(price_local, **self._tax_terms(r))

    def sale_taxes_local(self, r: int, price_local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Import duty and VAT (local currency) in region ``r``'s landed prices of ``price_local``
        (see :func:`sim.prices.tax_components_local`)."""
        return tax_components_local(price_local, **self._tax_terms(r))

    def _tax_terms(self, r: int) -> dict[str, Any]:
        """Region ``r``'s tax rates and whether its orders cross a border today."""
        tax = self.regions[r].tax
        return {
            "vat_rate": tax.vat_rate,
            "duty_rate": tax.duty_rate,
            "de_minimis_local": tax.de_minimis_local,
            "cross_border": self.is_cross_border(r),
        }

    def landed_cost_base(self, r: int) -> np.ndarray:
        """Unit cost plus freight (and import duty on stock held locally) per unit."""
        lane = self.serving_lane(r)
        cost = self.unit_cost_base + lane.cost_per_unit_base
        if lane is not self.outbound[r]:
            wh = self.warehouses[self.warehouse_index[lane.origin]]
            stock_lane = self.stock_lane(wh.replenish_from, wh.region)
            if stock_lane is not None:
                cost = cost + stock_lane.cost_per_unit_base
            duty_region = next(x for x in self.regions if x.id == wh.region)
            cost = cost + duty_region.tax.duty_rate * self.unit_cost_base
        return cost

    def stock_lane(self, origin: str, region_id: str | None) -> Lane | None:
        """Lane carrying stock from warehouse ``origin`` to ``region_id``."""
        for lane in self.scenario.lanes:
            if lane.carries == "stock" and lane.origin == origin and lane.destination == region_id:
                return lane
        return None

    def book_running_costs(self, d: int, entered: np.ndarray) -> np.ndarray:
        """Book day ``d``'s share of the monthly running costs; return marketing per region.

        Marketing, compliance and localization (translation, local service, extra payment
        methods, a local warehouse in use) are booked for the regions ``entered``; fixed
        costs and home warehouses at firm level. No marketing while cash and credit are out.
        """
        sc = self.scenario
        month = int(month_of_day(d))
        spend = np.where(entered, self.marketing_monthly_base[:, month] / DAYS_PER_MONTH, 0.0)
        if self.treasury.stopped:
            spend[:] = 0.0  # cash and credit have run out: marketing stops
        for r, region in enumerate(sc.regions):
            if not entered[r]:
                continue
            self.book("marketing_base", r, spend[r])
            self.book(
                "fixed_base", r, region.regulation.compliance_cost_monthly_base / DAYS_PER_MONTH
            )
            self.book("localization_base", r, self._localization_monthly(r) / DAYS_PER_MONTH)
        home_fixed = sum(w.monthly_fixed_cost_base for w in sc.firm.warehouses if w.region is None)
        self.book(
            "fixed_base", None, (sc.firm.fixed_costs_monthly_base + home_fixed) / DAYS_PER_MONTH
        )
        if self.staffing is not None:  # the operations team steps with the orders
            self.book("fixed_base", None, self.staffing.cost_today(d, len(self.orders)))
        return spend

    def _localization_monthly(self, r: int) -> float:
        lc = self.scenario.firm.localization_costs
        loc = self.localization[r]
        monthly = 0.0
        if loc.human_translation:
            monthly += lc.human_translation_monthly_base
        if loc.local_service:
            monthly += lc.local_service_monthly_base
        monthly += lc.payment_method_monthly_base * len(loc.payment_methods - self.default_methods)
        local = self.local[r]
        if loc.local_warehouse and local is not None:
            wh = self.warehouses[self.warehouse_index[local.origin]]
            monthly += wh.monthly_fixed_cost_base
        return monthly

    def book(self, name: str, r: int | None, amount: float) -> None:
        """Add ``amount`` to today's flow ``name`` for region ``r`` (None = firm level)."""
        if r is None:
            self.firm_today[name] += amount
        else:
            self.today[name][r] += amount

    def reset_day(self) -> None:
        """Clear today's flows."""
        self.flows_today.fill(0.0)
        self.firm_today.update(dict.fromkeys(FLOW_KPIS, 0.0))

    def payment_supported(self, r: int) -> np.ndarray:
        """Boolean per payment method code: supported in region ``r``."""
        methods = self.localization[r].payment_methods
        return np.array([m in methods for m in PAYMENT_METHODS], dtype=bool)

    def new_transfer_id(self) -> int:
        """Id for a stock transfer (shares the lane's order-id field)."""
        self._next_transfer_id += 1
        return self._next_transfer_id
