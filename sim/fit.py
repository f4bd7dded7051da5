"""Product-market fit: hidden appeal per product and region, listing launches and their outcomes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.launch_stock import LaunchStock

if TYPE_CHECKING:
    from sim.model import MarketModel


class ProductFit:
    """The appeal our products really have in each region, and every listing we launch.

    * **Appeal**: drawn once per run from each product's prior ``products[].fit`` (Normal
      mean, sd; utility units; ``region_mean`` sets the mean per region) for every region,
      from the named stream ``fit``, so the
      strategy variants of one replication meet the same appeals (common random numbers).
      It enters our offers' utility (:meth:`offer_appeal`); strategies see the prior only.
    * **Launches**: a product newly listed in a region pays ``firm.launch.cost_base``
      (``launch_cost_base``) and buys ``firm.launch.stock_units`` units into the warehouse
      serving the region (purchases, landed value, supplier terms: ``FirmAgent.buy_landed``).
      A delisted product's stock stays where it is: unsold, it goes dead after the
      warehouse's ``dead_stock_days`` and is written off (``sim.inventory``). With
      ``stock_location: destination`` the units are held for the listing alone
      (``sim.launch_stock``).
    * **Outcomes**: each listing's units sold in its region over the ``review_days`` after
      launch (:meth:`listing_table`), and dead-stock write-offs by cause (KPIs).
    """

    def __init__(self, model: MarketModel):
        self.model = model
        sc = model.scenario
        n_regions, n_products = len(sc.regions), len(sc.products)
        self.prior_mean = np.array([p.fit.mean for p in sc.products], dtype=float)
        self.prior_sd = np.array([p.fit.sd for p in sc.products], dtype=float)
        #: prior mean per region and product (``products[].fit.region_mean`` overrides)
        self.region_mean = np.array(
            [[p.fit.mean_in(r.id) for p in sc.products] for r in sc.regions], dtype=float
        ).reshape(n_regions, n_products)
        #: whether any product has an appeal other than 0 (otherwise offers are untouched)
        self.active = bool(np.any(self.region_mean != 0.0) or np.any(self.prior_sd > 0.0))
        self.appeal = np.zeros((n_regions, n_products))
        if self.active:
            z = model.streams.get("fit").standard_normal((n_regions, n_products))
            self.appeal = self.region_mean + self.prior_sd[None, :] * z
        self.terms = sc.firm.launch
        #: launch stock held at the destination (``firm.launch.stock_location``)
        self.destination = LaunchStock(model)
        # one entry per listing ever launched (small: launches are rare)
        self._region = np.empty(0, dtype=np.int64)
        self._product = np.empty(0, dtype=np.int64)
        self._launch_day = np.empty(0, dtype=np.int64)
        self._delist_day = np.empty(0, dtype=np.int64)
        self._units = np.empty(0, dtype=np.int64)  # sold in the region within review_days
        self._open = np.full((n_regions, n_products), -1, dtype=np.int64)  # live listing

    def region_prior_view(self) -> dict[str, np.ndarray]:
        """The prior mean per region id (read-only arrays) for the strategies' view."""
        out = {}
        for rid, mean in zip(self.model.region_ids, self.region_mean, strict=True):
            row = mean.copy()
            row.flags.writeable = False
            out[rid] = row
        return out

    # ------------------------------------------------------------------ consumers' offers
    def offer_appeal(self, r: int, products: np.ndarray) -> np.ndarray:
        """The hidden appeal of ``products`` in region ``r`` (utility units)."""
        return self.appeal[r, products]

    # ------------------------------------------------------------------ launches
    def on_listing(self, r: int, launched: np.ndarray, delisted: np.ndarray) -> None:
        """Region ``r``'s listings change today: book the launches of ``launched`` products
        (boolean per product) and close the records of ``delisted`` ones."""
        m = self.model
        d, firm = m.day, m.firm
        if delisted.any():
            self._delist_day[self._open[r, delisted]] = d
            self._open[r, delisted] = -1
        products = np.flatnonzero(launched)
        n = len(products)
        if not n:
            return
        firm.book("launches", r, n)
        firm.book("launch_cost_base", r, n * self.terms.cost_base)
        if self.terms.stock_units:
            units = np.full(n, self.terms.stock_units, dtype=np.int64)
            w = firm.serving_warehouse(r)
            firm.buy_landed(d, w, products, units)
            if self.destination.active:
                self.destination.reserve(d, r, w, products, units)
        start = len(self._region)
        self._region = np.concatenate([self._region, np.full(n, r)])
        self._product = np.concatenate([self._product, products])
        self._launch_day = np.concatenate([self._launch_day, np.full(n, d)])
        self._delist_day = np.concatenate([self._delist_day, np.full(n, -1)])
        self._units = np.concatenate([self._units, np.zeros(n, dtype=np.int64)])
        self._open[r, products] = np.arange(start, start + n)

    # ------------------------------------------------------------------ the day's end
    def end_day(self, d: int) -> None:
        """Add today's sales to listings in their review window; book dead stock by cause."""
        units_today = self.model.fulfilment.units_today
        if len(self._region):
            age = d - self._launch_day
            live = (age >= 0) & (age < self.terms.review_days)
            self._units[live] += units_today[self._region[live], self._product[live]]
        self.destination.end_day(d)
        firm = self.model.firm
        log = firm.inventory.dead_log
        if not log:
            return
        listed_anywhere = firm.listed.any(axis=0)
        for w, products, units, values in log:
            r = firm.warehouse_region[w]
            unlisted = ~listed_anywhere[products]
            firm.book("dead_stock_units", r, int(units.sum()))
            firm.book("dead_stock_base", r, float(values.sum()))
            firm.book("dead_stock_unlisted_units", r, int(units[unlisted].sum()))
            firm.book("dead_stock_unlisted_base", r, float(values[unlisted].sum()))
        log.clear()

    # ------------------------------------------------------------------ results
    def listing_table(self) -> pd.DataFrame:
        """One row per listing launched: region, product, launch and delisting day (-1:
        still listed), the stock committed, units sold in the region within ``review_days``
        of launch, whether that window ended before the horizon (``complete``), the prior
        and the appeal drawn (known to the analyst after the run, never to the strategies)."""
        m = self.model
        region_ids = np.array(m.region_ids, dtype=object)
        product_ids = np.array([p.id for p in m.scenario.products], dtype=object)
        review = self.terms.review_days
        return pd.DataFrame(
            {
                "region": region_ids[self._region],
                "product": product_ids[self._product],
                "launch_day": self._launch_day,
                "delist_day": self._delist_day,
                "stock_units": np.full(len(self._region), self.terms.stock_units),
                "units_review": self._units,
                "review_days": np.full(len(self._region), review),
                "complete": self._launch_day + review <= m.day,
                "prior_mean": self.region_mean[self._region, self._product],
                "prior_sd": self.prior_sd[self._product],
                "appeal": self.appeal[self._region, self._product],
            }
        )
