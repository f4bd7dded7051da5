"""Observation: the offers consumers see, what competitors observe and our strategies' view."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.consumers import CategoryOffers
from sim.contract import CustomerView, MarketView, RecentBooks, RegionView, frozen_array
from sim.kpis import ratio
from sim.prices import to_reference

if TYPE_CHECKING:
    from sim.model import MarketModel
    from sim.scenario import ChoiceParams, Segment

#: the ledger flows of :class:`~sim.contract.RecentBooks`, in its field order
BOOKED_FLOWS = ("revenue_base", "duty_base", "refunds_base", "cogs_base", "freight_base")

#: competitor offer attributes consumers see (name, dtype)
_COMPETITOR_COLUMNS = (
    ("active", bool),
    ("quality", float),
    ("eco_score", float),
    ("price_local", float),
    ("delivery_days", float),
)


class RecentHistory:
    """What our firm saw over the last ``window_days`` days, per region (ring buffers)."""

    def __init__(self, n_regions: int, n_products: int, window_days: int):
        w = window_days
        self.window_days = w
        self.units = np.zeros((n_regions, w, n_products), dtype=np.int64)
        self.views = np.zeros((n_regions, w, n_products), dtype=np.int64)
        self.revenue = np.zeros((n_regions, w, n_products))
        self.price = np.zeros((n_regions, w, n_products))
        self.delivery = np.zeros((n_regions, w, 3))  # deliveries, days total, on time
        self.books = np.zeros((n_regions, w, len(BOOKED_FLOWS) + 1))  # sim.contract.RecentBooks
        #: today's per-shipment freight of order lanes per region (sim.logistics), part of
        #: the freight booked; stored by :meth:`remember`
        self.shipment_fees_today = np.zeros(n_regions)
        self.marketing_total = np.zeros(n_regions)

    def remember(
        self,
        day: int,
        r: int,
        units: np.ndarray,
        views: np.ndarray,
        revenue: np.ndarray,
        price: np.ndarray,
        delivery: tuple[float, float, float],
        books: tuple[float, ...],
    ) -> None:
        """Store day ``day``'s observations of region ``r`` (overwriting the oldest day)."""
        w = day % self.window_days
        self.units[r, w] = units
        self.views[r, w] = views
        self.revenue[r, w] = revenue
        self.price[r, w] = price
        self.delivery[r, w] = delivery
        self.books[r, w] = (*books, self.shipment_fees_today[r])
        self.shipment_fees_today[r] = 0.0


class Observer:
    """Builds read-only observations of the model's state (nothing here changes it).

    * :meth:`offers`: the offers consumers of a region see, per category;
    * :meth:`our_min_price` ... : what a competitor can observe (see
      :class:`sim.competitors.MarketObservation`);
    * :meth:`market_view`: the :class:`~sim.contract.MarketView` our strategies decide from.
    """

    def __init__(self, model: MarketModel):
        self.model = model
        sc = model.scenario
        self.history = RecentHistory(
            len(sc.regions), model.firm.n_products, sc.settings.recent_window_days
        )
        self._customer_views: dict[tuple[int, int], CustomerView] = {}
        #: per region, the view fields no decision changes, while decisions run (or None)
        self._observed: dict[int, dict[str, Any]] | None = None
        self._kept_offers: dict[int, tuple[tuple, list[CategoryOffers]]] = {}  # per region
        self._not_taboo: dict[int, np.ndarray] = {}  # per region: products not taboo there
        comps = model.competitors
        # every competitor offer in scenario order (the numbering of ``comp_ids``)
        none = [np.zeros(0, dtype=np.int64)]
        self._comp_region = np.concatenate([c.region for c in comps] or none)
        self._comp_category = np.concatenate([c.category for c in comps] or none)
        self._comp_seller = np.concatenate(
            [np.full(len(c.region), k) for k, c in enumerate(comps)] or none
        )

    # ------------------------------------------------------------------ consumers' offers
    def our_offer_mask(self, r: int) -> np.ndarray:
        """Our products on offer in region ``r``: listed and not taboo there."""
        firm = self.model.firm
        if r not in self._not_taboo:
            taboo = set(self.model.scenario.regions[r].taboo_tags)
            ok = np.array([not (tags & taboo) for tags in firm.product_tags], dtype=bool)
            self._not_taboo[r] = ok
        return firm.listed[r] & self._not_taboo[r]

    def offers(self, r: int) -> list[CategoryOffers]:
        """Today's offers per category in region ``r`` (prices in reference-base units).

        The offers are kept per region and the same (read-only) objects are returned while
        everything they are built from is unchanged: the key below holds every input that
        can change during a run (the firm-level constant, reference FX, promised days, our
        offer mask and consumer prices, the competitors' active flags and prices); the
        rest (product and competitor attributes, categories, sellers, the hidden appeal) is
        fixed when the model is built. Listings, prices and line-ups change on a few days
        only, so most days reuse yesterday's offers (and the choice terms kept on them,
        ``sim.offer_terms``).
        """
        m = self.model
        firm, region = m.firm, m.scenario.regions[r]
        fx_ref = m.fx_reference[r]
        lane = firm.serving_lane(r)
        loc = firm.localization[r]
        constant = region.regulation.consent_penalty
        if region.language != m.scenario.firm.source_language and not loc.human_translation:
            constant += region.choice.machine_translation_penalty
        mask = self.our_offer_mask(r)
        consumer_price = firm.consumer_price_local(r, firm.price_local[r])
        active, comp_price = (self._competitor_column(k) for k in ("active", "price_local"))
        key = (constant, fx_ref, lane.promised_days, mask.tobytes(), consumer_price.tobytes())
        key += (active.tobytes(), comp_price.tobytes())
        kept = self._kept_offers.get(r)
        if kept is not None and kept[0] == key:
            return kept[1]
        comp = self._competitor_offers()
        in_region = comp["active"] & (self._comp_region == r)
        out = []
        for c in range(len(m.categories)):
            ours = np.flatnonzero(mask & (firm.product_category == c))
            sel = np.flatnonzero(in_region & (self._comp_category == c))
            ours_constant = np.full(len(ours), -constant)
            if m.fit.active:  # the hidden appeal (sim.fit)
                ours_constant = ours_constant + m.fit.offer_appeal(r, ours)
            out.append(
                CategoryOffers(
                    our_products=ours,
                    our_quality=firm.quality[ours],
                    our_eco=firm.eco_score[ours],
                    our_price_ref=to_reference(consumer_price[ours], fx_ref),
                    our_delivery_days=np.full(len(ours), lane.promised_days),
                    our_constant=ours_constant,
                    comp_quality=comp["quality"][sel],
                    comp_eco=comp["eco_score"][sel],
                    comp_price_ref=to_reference(comp["price_local"][sel], fx_ref),
                    comp_delivery_days=comp["delivery_days"][sel],
                    comp_ids=sel,
                    comp_sellers=self._comp_seller[sel],
                )
            )
        for offer in out:  # shared by the days that reuse them
            for a in vars(offer).values():
                a.setflags(write=False)
        self._kept_offers[r] = (key, out)
        return out

    def _competitor_offers(self) -> dict[str, np.ndarray]:
        """Every competitor offer's current attributes, in ``comp_ids`` order."""
        return {name: self._competitor_column(name) for name, _ in _COMPETITOR_COLUMNS}

    def _competitor_column(self, name: str) -> np.ndarray:
        """One attribute of every competitor offer, in ``comp_ids`` order."""
        dtype = dict(_COMPETITOR_COLUMNS)[name]
        comps = self.model.competitors
        return np.concatenate([getattr(c, name) for c in comps] or [np.zeros(0, dtype)])

    # ------------------------------------------------------------------ competitors' view
    def our_min_price(self, r: int, c: int) -> float | None:
        """Our lowest landed consumer price (local) in region ``r``, category ``c``."""
        firm = self.model.firm
        mask = self.our_offer_mask(r) & (firm.product_category == c)
        if not mask.any():
            return None
        prices = firm.consumer_price_local(r, firm.price_local[r][mask])
        return float(prices.min())

    def segments(self, r: int) -> list[Segment]:
        """Consumer segments of region ``r``."""
        return self.model.scenario.regions[r].segments

    def choice_params(self, r: int) -> ChoiceParams:
        """Choice parameters (outside utility, penalties) of region ``r``."""
        return self.model.scenario.regions[r].choice

    def fx_reference(self, r: int) -> float:
        """Reference exchange rate of region ``r`` (local per base)."""
        return self.model.fx_reference[r]

    def aware_share(self, r: int) -> float:
        """Share of region ``r``'s consumers aware of our firm."""
        pop = self.model.consumers[r]
        return pop.n_aware / pop.n

    def payment_supported(self, r: int) -> np.ndarray:
        """Per payment method code: whether we accept it in region ``r``."""
        return self.model.firm.payment_supported(r)

    # ------------------------------------------------------------------ strategies' view
    def market_view(self) -> MarketView:
        """The read-only market view our strategies decide from (observable data only)."""
        m = self.model
        sc, firm = m.scenario, m.firm
        return MarketView(
            day=m.day,
            horizon_days=m.horizon_days,
            decision_interval_days=sc.strategies.decision_interval_days,
            recent_window_days=self.history.window_days,
            currency=sc.currency,
            product_ids=tuple(p.id for p in sc.products),
            product_categories=tuple(p.category for p in sc.products),
            product_tags=tuple(firm.product_tags),
            unit_cost_base=frozen_array(firm.unit_cost_base),
            quality=frozen_array(firm.quality),
            eco_score=frozen_array(firm.eco_score),
            fit_prior_mean=frozen_array(m.fit.prior_mean),
            fit_prior_sd=frozen_array(m.fit.prior_sd),
            fit_region_mean=m.fit.region_prior_view(),
            launch_cost_base=sc.firm.launch.cost_base,
            launch_stock_units=sc.firm.launch.stock_units,
            regions={region.id: self._region_view(r) for r, region in enumerate(sc.regions)},
        )

    def open_decisions(self) -> None:
        """From now until :meth:`release_customer_views`, region views share what no
        decision changes (the recent history and the competitors' offers: written at the
        end of a day and when competitors reprice, after the decisions); read-only arrays."""
        self._observed = {}

    def _region_view(self, r: int) -> RegionView:
        m = self.model
        firm, region = m.firm, m.scenario.regions[r]
        observed = self._observed.get(r) if self._observed is not None else None
        if observed is None:
            observed = self._observed_parts(r)
            if self._observed is not None:
                self._observed[r] = observed
        wh = firm.serving_warehouse(r)
        return RegionView(
            region_id=region.id,
            language=region.language,
            taboo_tags=frozenset(region.taboo_tags),
            fx_local_per_base=float(m.fx_local_per_base[r]),
            fx_reference_local_per_base=float(m.fx_reference[r]),
            vat_rate=region.tax.vat_rate,
            duty_rate=region.tax.duty_rate,
            de_minimis_local=region.tax.de_minimis_local,
            has_local_warehouse_option=firm.local[r] is not None,
            listed=frozen_array(firm.listed[r]),
            listed_since_day=frozen_array(firm.listed_since[r]),
            price_local=frozen_array(firm.price_local[r]),
            landed_cost_base=frozen_array(firm.landed_cost_base(r)),
            inventory_units=frozen_array(firm.on_hand[wh]),
            customers=self._customer_view(r),
            localization=firm.localization[r],
            seller_nest_lambda=region.choice.seller_nest_lambda,
            **observed,
        )

    def _observed_parts(self, r: int) -> dict[str, Any]:
        """The fields of region ``r``'s view that no decision changes (see
        :meth:`open_decisions`)."""
        m, h = self.model, self.history
        w = h.window_days
        order = [(m.day - 1 - k) % w for k in range(w)]  # newest first
        comp_ids, comp_cats, comp_prices, comp_changes = [], [], [], []
        for comp in m.competitors:
            mask = (comp.region == r) & comp.active
            comp_ids += [comp.spec.id] * int(mask.sum())
            comp_cats += [m.categories[c] for c in comp.category[mask]]
            comp_prices.append(comp.price_local[mask])
            comp_changes.append(comp.last_change_local[mask])
        deliv = h.delivery[r].sum(axis=0)
        return {
            "units_sold_recent": frozen_array(h.units[r].sum(axis=0)),
            "views_recent": frozen_array(h.views[r].sum(axis=0)),
            "revenue_recent_base": frozen_array(h.revenue[r].sum(axis=0)),
            "competitor_ids": tuple(comp_ids),
            "competitor_categories": tuple(comp_cats),
            "competitor_price_local": frozen_array(np.concatenate(comp_prices or [[]])),
            "competitor_price_change_recent": frozen_array(np.concatenate(comp_changes or [[]])),
            "marketing_spent_base": float(h.marketing_total[r]),
            "mean_delivery_days_recent": ratio(deliv[1], deliv[0]),
            "on_time_rate_recent": ratio(deliv[2], deliv[0]),
            "books_recent": RecentBooks(*(float(x) for x in h.books[r].sum(axis=0))),
            "price_history_local": frozen_array(h.price[r][order]),
            "units_history": frozen_array(h.units[r][order]),
            "views_history": frozen_array(h.views[r][order]),
        }

    def _customer_view(self, r: int) -> CustomerView:
        """RFM arrays of our customers in region ``r`` (cached for the day: a strategy phase
        does not change them)."""
        d = self.model.day
        key = (d, r)
        cached = self._customer_views.get(key)
        if cached is not None:
            return cached
        pop = self.model.consumers[r]
        ids = pop.customer_ids()
        at = ids.astype(np.intp)  # np.take with native indices: the cheapest gather

        def column(values: np.ndarray) -> np.ndarray:
            return _read_only(np.take(values, at))

        view = CustomerView(
            customer_ids=frozen_array(ids),
            recency_days=_read_only(np.subtract(d, np.take(pop.last_day, at), dtype=np.int64)),
            frequency=column(pop.frequency),
            monetary_base=column(pop.monetary_base),
            satisfaction=column(pop.satisfaction),
            tenure_days=_read_only(np.subtract(d, np.take(pop.first_day, at), dtype=np.int64)),
        )
        self._customer_views = {k: v for k, v in self._customer_views.items() if k[0] == d}
        self._customer_views[key] = view
        return view

    def release_customer_views(self) -> None:
        """Drop the cached RFM copies and the shared view parts (until the next decision
        day)."""
        self._customer_views = {}
        self._observed = None


def _read_only(values: np.ndarray) -> np.ndarray:
    """A freshly computed array, made read-only (no copy: nothing else holds it)."""
    values.flags.writeable = False
    return values
