"""Scenario schema, product-market fit: the appeal prior of products and listing launch terms."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sim.calendar import MAX_HORIZON_DAYS
from sim.schema_types import NonNegative, Strict

#: a product's hidden appeal is at most this many utility units from its prior mean
MAX_FIT_SD = 5.0


#: a prior mean of a product's appeal (utility units)
FitMean = Annotated[float, Field(ge=-10.0, le=10.0, allow_inf_nan=False)]


class FitPrior(Strict):
    """Prior of a product's appeal in each region, in utility units added to our offer.

    The appeal is drawn once per run and region from Normal(``mean``, ``sd``) (the named
    stream ``fit``, so every strategy variant of a replication meets the same appeals). The
    seller sees this prior, never the draw; it learns the appeal only from what it sells.
    The defaults (0, 0) make every appeal exactly 0: the model without fit uncertainty.
    """

    mean: FitMean = 0.0
    sd: Annotated[float, Field(ge=0.0, le=MAX_FIT_SD, allow_inf_nan=False)] = 0.0
    region_mean: dict[str, FitMean] = Field(default_factory=dict)
    """Prior mean in the regions named (region id -> utility units), overriding ``mean``
    there: what the seller knows of the product's fit in each market before selling (its
    research, category x region affinity). The appeal is drawn around it, so the prior the
    strategies see stays unbiased (default: ``mean`` everywhere)."""

    def mean_in(self, region_id: str) -> float:
        """The prior mean of the product's appeal in region ``region_id``."""
        return self.region_mean.get(region_id, self.mean)


class LaunchTerms(Strict):
    """What listing a product in a region costs (every new listing, relistings included)."""

    cost_base: NonNegative = 0.0
    """One-off launch cost per new listing (base currency): the trial cost of a product in
    a region (samples, photos, listing set-up, launch promotion). Booked as `launch_cost_base`."""
    stock_units: Annotated[int, Field(ge=0, le=10_000_000)] = 0
    """Minimum stock commitment per new listing (units): bought at unit cost and put into
    the warehouse serving the region at launch (stock-lane freight and import duty of a
    warehouse abroad capitalised, paid on the supplier's terms). Unsold, it is written off
    by the warehouse's `dead_stock_days` rule like any stock."""
    review_days: Annotated[int, Field(ge=1, le=MAX_HORIZON_DAYS)] = 90
    """Window after launch over which a listing's outcome is recorded (units sold in its
    region; DOMAIN: expected sales within 3 months)."""
    restock_listed_only: bool = False
    """Whether the warehouses' (s, Q) policies reorder only products listed in some region
    (default False: every product with a policy is reordered when its position falls to the
    reorder point, listed or not, so a written-off unlisted product is bought again)."""
    stock_location: Literal["serving_warehouse", "destination"] = "serving_warehouse"
    """Where a launch's stock commitment is held. ``serving_warehouse`` (default): in the
    warehouse serving the region, pooled with its stock (any region it serves may sell it).
    ``destination``: held for that listing alone in the region (marketplace fulfilment stock,
    FBA-like; ``sim.launch_stock``): sold first to the region's orders, never to other
    regions', written off when the listing is delisted or sells nothing in the region for the
    warehouse's ``dead_stock_days``."""
    destination_holding_cost_per_unit_day_base: NonNegative = 0.0
    """Holding cost per unit and day of launch stock held at the destination (base currency;
    only with ``stock_location: destination``); the serving warehouse's own rate is charged
    on it too, so the difference is booked (as `holding_base`), never below 0."""
    opening_stock_listed_only: bool = False
    """Whether the warehouses' opening stock (``initial_units``) is bought only for the
    products the selection lists on day 0, after the day's decisions (default False: for
    every product, before day 0, whatever the selection)."""
