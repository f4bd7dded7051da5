"""The contract between the model and strategies: kinds, read-only views and decisions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args

import numpy as np

Kind = Literal["pricing", "selection", "retention", "localization"]
KINDS: tuple[Kind, ...] = ("pricing", "selection", "retention", "localization")
PaymentMethod = Literal["card", "ewallet", "cod", "instalments", "mobile_money", "bank_transfer"]
#: payment method codes in code order (index = the code consumers and the firm use)
PAYMENT_METHODS: tuple[str, ...] = get_args(PaymentMethod)


# ----------------------------------------------------------------------------- views
def frozen_array(values: Any, dtype: Any = None) -> np.ndarray:
    """A read-only copy, so a strategy cannot write into the model through its view."""
    arr = np.array(values, dtype=dtype, copy=True)
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class CustomerView:
    """Our own customers in one region, as RFM arrays (one entry per customer)."""

    customer_ids: np.ndarray
    recency_days: np.ndarray
    frequency: np.ndarray
    monetary_base: np.ndarray
    satisfaction: np.ndarray
    tenure_days: np.ndarray


@dataclass(frozen=True)
class LocalizationChoice:
    """Localization levers in one region."""

    human_translation: bool = False
    payment_methods: frozenset[str] = frozenset()
    local_warehouse: bool = False
    local_service: bool = False


@dataclass(frozen=True)
class RecentBooks:
    """Our booked flows in one region over the recent window (base currency, sim.kpis names).

    What a seller reads off its own ledger: revenue (net of VAT, duty included), import duty
    (net of duty refunded on returns), refunds, cost of goods sold and freight (per unit, per
    shipment, return to origin; ``shipment_fees_base`` is its per-shipment part on the order
    lanes, a cost per departure rather than per unit), so a strategy can price over the costs
    it actually books.
    """

    revenue_base: float = 0.0
    duty_base: float = 0.0
    refunds_base: float = 0.0
    cogs_base: float = 0.0
    freight_base: float = 0.0
    shipment_fees_base: float = 0.0


@dataclass(frozen=True)
class RegionView:
    """What our firm can observe in one region (arrays are per product unless noted)."""

    region_id: str
    language: str
    taboo_tags: frozenset[str]
    fx_local_per_base: float
    fx_reference_local_per_base: float
    vat_rate: float
    duty_rate: float
    de_minimis_local: float
    has_local_warehouse_option: bool
    listed: np.ndarray
    listed_since_day: np.ndarray
    price_local: np.ndarray
    landed_cost_base: np.ndarray
    inventory_units: np.ndarray
    units_sold_recent: np.ndarray
    views_recent: np.ndarray
    revenue_recent_base: np.ndarray
    competitor_ids: tuple[str, ...]
    competitor_categories: tuple[str, ...]
    competitor_price_local: np.ndarray
    competitor_price_change_recent: np.ndarray
    customers: CustomerView
    marketing_spent_base: float
    localization: LocalizationChoice
    mean_delivery_days_recent: float
    on_time_rate_recent: float
    price_history_local: np.ndarray = field(repr=False, default_factory=lambda: frozen_array([]))
    units_history: np.ndarray = field(repr=False, default_factory=lambda: frozen_array([]))
    views_history: np.ndarray = field(repr=False, default_factory=lambda: frozen_array([]))
    #: dissimilarity of the seller nests (``choice.seller_nest_lambda``; 1 = flat logit)
    seller_nest_lambda: float = 1.0
    #: our booked revenue and variable costs over the recent window (see :class:`RecentBooks`)
    books_recent: RecentBooks = field(default_factory=RecentBooks)

    @property
    def conversion_recent(self) -> np.ndarray:
        """Units per view over the recent window (0 where never viewed)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            conv = np.where(self.views_recent > 0, self.units_sold_recent / self.views_recent, 0.0)
        return frozen_array(conv)


@dataclass(frozen=True)
class MarketView:
    """A read-only snapshot of the market for our firm's strategies."""

    day: int
    horizon_days: int
    decision_interval_days: int
    recent_window_days: int
    currency: str
    product_ids: tuple[str, ...]
    product_categories: tuple[str, ...]
    product_tags: tuple[frozenset[str], ...]
    unit_cost_base: np.ndarray
    quality: np.ndarray
    eco_score: np.ndarray
    regions: Mapping[str, RegionView]
    #: prior of each product's appeal in a region (utility units; ``products[].fit``): the
    #: seller knows the prior, never the appeal drawn (it learns it from its sales)
    fit_prior_mean: np.ndarray = field(default_factory=lambda: frozen_array([]))
    fit_prior_sd: np.ndarray = field(default_factory=lambda: frozen_array([]))
    #: the prior mean per region id and product (``products[].fit.region_mean``; empty: the
    #: same ``fit_prior_mean`` in every region)
    fit_region_mean: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: what a new listing costs: one-off launch cost (base) and stock commitment (units)
    launch_cost_base: float = 0.0
    launch_stock_units: int = 0

    @property
    def region_ids(self) -> tuple[str, ...]:
        """Region ids in scenario order."""
        return tuple(self.regions)


# ----------------------------------------------------------------------------- decisions
@dataclass(frozen=True)
class PricingDecision:
    """Price in local currency (before duty and VAT) per product, per region."""

    prices_local: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class SelectionDecision:
    """Which products are listed, per region (boolean per product)."""

    listed: Mapping[str, np.ndarray]


@dataclass(frozen=True)
class RetentionAction:
    """One intervention aimed at a group of our customers in one region."""

    region_id: str
    action: str
    customer_ids: np.ndarray
    cost_per_customer_base: float
    dropout_multiplier: float = 1.0
    rate_multiplier: float = 1.0
    utility_bonus: float = 0.0
    duration_days: int = 30
    rebate_share: float = 0.0
    #: chance a contacted customer acts on the offer within its window (a lapsed one
    #: returns to the alive state); see ``sim.retention_state``
    response_probability: float = 0.0
    #: the offer's value, booked on the order that redeems it (first order in the window)
    cost_per_redemption_base: float = 0.0
    #: cap the dropout multiplier at 1 / rate_multiplier: extra occasions add no dropout per day
    hazard_neutral: bool = False
    #: a programme membership (enrolled or renewed), not an offer: counted in
    #: ``loyalty_members``, not in ``offers_sent``, and never won back or redeemed
    membership: bool = False


@dataclass(frozen=True)
class RetentionDecision:
    """Retention actions to start now."""

    actions: tuple[RetentionAction, ...] = ()


@dataclass(frozen=True)
class LocalizationDecision:
    """Localization levers per region (regions not named keep their current choice)."""

    choices: Mapping[str, LocalizationChoice]


# ----------------------------------------------------------------------------- checks
@dataclass(frozen=True)
class StrategyContext:
    """Scenario facts a strategy's ``check`` may validate its parameters against."""

    region_ids: tuple[str, ...]
    #: regions with a warehouse abroad whose lane carries orders to the region's consumers
    local_warehouse_regions: frozenset[str] = frozenset()


# ----------------------------------------------------------------------------- deciders
class Decider(Protocol):
    """What the model needs of a strategy: its kind, its name and ``decide``."""

    kind: str
    name: str

    def decide(self, view: MarketView, rng: np.random.Generator) -> Any:
        """Return the decision of this strategy's kind for ``view``."""
