"""Built-in retention strategies.

Actions target our own customers as the view lists them (the firm cannot tell a customer
who silently dropped out from one who is merely quiet, so offers may reach both). The model
books ``cost_per_customer_base`` for every targeted customer and loyalty rebates on
purchases.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from sim.contract import CustomerView, MarketView, RetentionAction, RetentionDecision
from strategies._common import RunState
from strategies.base import RetentionStrategy
from strategies.params import Param
from strategies.registry import register
from strategies.value_tables import per_value


@register
class NoRetention(RetentionStrategy):
    """No retention spending: customers are left to their own purchase and dropout process."""

    name: ClassVar[str] = "none"
    params: ClassVar[tuple[Param, ...]] = ()

    def decide(self, view: MarketView, rng: np.random.Generator) -> RetentionDecision:
        return RetentionDecision(())


TIERS = ("care", "coupon", "personal")
_TIER_DEFAULTS = {
    # tier: (threshold, cost per contact USD, dropout multiplier, rate multiplier,
    #        response probability, value per redeemed offer USD)
    # Thresholds: DOMAIN's risk bands 70-85 / 86-95 / > 95 (as percentiles of the base).
    # Responses: calibrated so that the share of contacts ordering within the 30-day window
    # is DOMAIN's 28 / 41 / 62 % on the four shipped scenarios (measured with
    # `marketsim check --full`; the non-responders' own orders make up the rest).
    # Costs, assumption: a care message 0.5, a coupon e-mail 0.2 plus its 5 USD value when
    # used, a personalised offer 1.0 plus 10 USD when used; dropout and rate multipliers keep
    # the earlier assumption (the offer's extra occasions carry no extra dropout per day).
    "care": (70.0, 0.5, 0.72, 1.1, 0.25, 0.0),
    "coupon": (86.0, 0.2, 0.59, 1.2, 0.40, 5.0),
    "personal": (95.0, 1.0, 0.38, 1.3, 0.62, 10.0),
}
_TIER_LABEL = {
    "care": "care offer",
    "coupon": "compensation coupon",
    "personal": "personalised offer",
}


def _tier_params() -> tuple[Param, ...]:
    out = []
    for tier in TIERS:
        thr, cost, drop, rate, response, value = _TIER_DEFAULTS[tier]
        label = _TIER_LABEL[tier]
        out += [
            Param(
                f"{tier}_threshold", "float", thr, low=0.0, high=100.0, help=f"{label} from risk"
            ),
            Param(f"{tier}_cost", "float", cost, low=0.0, high=200.0, help=f"{label} cost each"),
            Param(
                f"{tier}_dropout", "float", drop, low=0.0, high=1.0, help=f"{label} dropout mult."
            ),
            Param(f"{tier}_rate", "float", rate, low=1.0, high=3.0, help=f"{label} rate mult."),
            Param(
                f"{tier}_response", "float", response, low=0.0, high=1.0, help=f"{label} response"
            ),
            Param(
                f"{tier}_value", "float", value, low=0.0, high=200.0, help=f"{label} per redemption"
            ),
        ]
    return tuple(out)


def churn_risk(
    customers: CustomerView,
    recency_scale_days: float,
    w_recency: float = 0.6,
    w_frequency: float = 0.2,
    w_satisfaction: float = 0.2,
) -> np.ndarray:
    """Churn-risk score 0-100 per customer from recency, frequency and satisfaction.

    ``risk = 100 x (w_r R + w_f F + w_s S) / (w_r + w_f + w_s)`` with recency term
    ``R = 1 - exp(-recency_days / recency_scale_days)``, frequency term ``F = 1 /
    frequency`` (one-time buyers 1, loyal buyers near 0) and satisfaction term
    ``S = 1 - satisfaction``. Recency dominates with the default weights (0.6, 0.2, 0.2):
    a one-time buyer with satisfaction 0.7 reaches 70 after about 1.3 recency scales
    (26 days with the default 20-day scale).
    """
    # the recency and frequency terms per distinct day count and order count (the same
    # floats as computing them customer by customer: strategies.value_tables)
    r_part = per_value(
        customers.recency_days,
        lambda rec: w_recency * (1.0 - np.exp(-np.maximum(rec, 0.0) / recency_scale_days)),
    )
    f_part = per_value(customers.frequency, lambda f: w_frequency / np.maximum(f, 1.0))
    if r_part is None or f_part is None:
        rec = np.asarray(customers.recency_days, dtype=float)
        freq = np.maximum(np.asarray(customers.frequency, dtype=float), 1.0)
        r_term = 1.0 - np.exp(-np.maximum(rec, 0.0) / recency_scale_days)
        r_part, f_part = w_recency * r_term, w_frequency / freq
    sat = np.clip(np.asarray(customers.satisfaction, dtype=float), 0.0, 1.0)
    total = w_recency + w_frequency + w_satisfaction
    score = (r_part + f_part + w_satisfaction * (1.0 - sat)) / total
    return 100.0 * score


def percentile_rank(score: np.ndarray, bins: int = 10_000) -> np.ndarray:
    """Percentile rank 0-100 of each 0-100 score (mid-rank: ties share their average), in
    O(n) from a histogram of ``bins`` equal bins (scores within one bin count as ties)."""
    k = np.clip((np.asarray(score) * (bins / 100.0)).astype(np.int64), 0, bins - 1)
    counts = np.bincount(k, minlength=bins)
    below = np.cumsum(counts) - counts
    per_bin = 100.0 * (below + 0.5 * counts) / len(k)  # the same arithmetic, once per bin
    return np.take(per_bin, k)


@register
class RfmTiers(RetentionStrategy):
    """RFM tiers: a 0-100 churn-risk score; care offer, coupon or personalised offer by tier.

    Rule: score every customer (see :func:`churn_risk`: recency dominant, low frequency and
    low satisfaction raise it); risk in [care_threshold, coupon_threshold) gets a care offer,
    [coupon_threshold, personal_threshold) a compensation coupon and >= personal_threshold
    a personalised offer. The score is the customer's percentile among the region's customers
    by default (``score="percentile"``), so the tiers hold 15 / 10 / 5 % of the base. Each
    tier costs per contact and per redeemed offer, gets a response from a share of the
    customers it contacts (lapsed ones come back; see ``sim.retention_state``), and lowers
    the dropout probability and raises the purchase rate (without adding dropout per day)
    for ``duration_days``, the offer's window. With the defaults 28 / 41 / 62 % of the
    contacted customers order again within the window (DOMAIN's win-back rates). Customers
    targeted within the last ``cooldown_days`` are skipped.
    """

    name: ClassVar[str] = "rfm_tiers"
    params: ClassVar[tuple[Param, ...]] = (
        Param("recency_scale_days", "float", 20.0, low=1.0, high=365.0, help="recency decay"),
        Param("w_recency", "float", 0.6, low=0.0, high=1.0, help="risk weight of recency"),
        Param("w_frequency", "float", 0.2, low=0.0, high=1.0, help="risk weight of 1/frequency"),
        Param("w_satisfaction", "float", 0.2, low=0.0, high=1.0, help="weight of dissatisfaction"),
        Param(
            "score",
            "choice",
            "percentile",
            choices=("formula", "percentile"),
            help="risk as the formula's value or its percentile rank",
        ),
        *_tier_params(),
        Param("duration_days", "int", 30, low=1, high=180, help="how long an offer works"),
        Param("cooldown_days", "int", 30, low=0, high=365, help="no new offer within this"),
    )

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self._state = RunState()

    @classmethod
    def validate_values(cls, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        problems = []
        if values["w_recency"] + values["w_frequency"] + values["w_satisfaction"] <= 0:
            problems.append(("params.w_recency", "the three risk weights must not all be 0"))
        thresholds = [values[f"{t}_threshold"] for t in TIERS]
        if not thresholds[0] <= thresholds[1] <= thresholds[2]:
            problems.append(
                (
                    "params.coupon_threshold",
                    f"tier thresholds must be ordered care <= coupon <= personal, got {thresholds}",
                )
            )
        return problems

    def risk(self, customers: CustomerView) -> np.ndarray:
        """Churn-risk score 0-100 with this strategy's weights (``score="percentile"``: the
        customer's percentile rank of that score among the region's customers, ties
        averaged, so the tiers hold fixed shares of the base: 15 / 10 / 5 % by default)."""
        raw = churn_risk(
            customers,
            self.recency_scale_days,
            self.w_recency,
            self.w_frequency,
            self.w_satisfaction,
        )
        if self.score == "percentile" and len(raw):
            return percentile_rank(raw)
        return raw

    def decide(self, view: MarketView, rng: np.random.Generator) -> RetentionDecision:
        state = self._state.begin(view)
        last: dict[str, np.ndarray] = state.setdefault("last_targeted", {})
        actions = []
        for rid, r in view.regions.items():
            cust = r.customers
            ids = np.asarray(cust.customer_ids, dtype=np.int64)
            if not len(ids):
                continue
            seen = last.get(rid, np.zeros(0, dtype=np.int32))  # day last targeted (int32)
            if len(seen) <= ids.max():
                never = np.full(ids.max() + 1 - len(seen), -(10**9), dtype=np.int32)
                seen = np.concatenate([seen, never])
            free = view.day - np.take(seen, ids) >= self.cooldown_days  # not cooling down
            risk = self.risk(cust)
            bounds = [self.values[f"{t}_threshold"] for t in TIERS] + [np.inf]
            # the customers some tier can take (at or above the lowest threshold, not cooling
            # down), in their order: each tier's selection among them only
            cand = ((risk >= min(bounds[:-1])) & free).nonzero()[0]
            cand_risk = risk.take(cand)
            for k, tier in enumerate(TIERS):
                sel = cand[(cand_risk >= bounds[k]) & (cand_risk < bounds[k + 1])]
                if not len(sel):
                    continue
                target = ids.take(sel)
                seen[target] = view.day
                actions.append(
                    RetentionAction(
                        region_id=rid,
                        action=tier,
                        customer_ids=target,
                        cost_per_customer_base=self.values[f"{tier}_cost"],
                        dropout_multiplier=self.values[f"{tier}_dropout"],
                        rate_multiplier=self.values[f"{tier}_rate"],
                        duration_days=self.duration_days,
                        response_probability=self.values[f"{tier}_response"],
                        cost_per_redemption_base=self.values[f"{tier}_value"],
                        hazard_neutral=True,
                    )
                )
            last[rid] = seen
        return RetentionDecision(tuple(actions))


@register
class LoyaltyProgram(RetentionStrategy):
    """Loyalty programme: repeat buyers become members with a rebate, a bonus and less churn.

    Rule: customers with at least ``min_orders`` orders who bought within ``lapse_days``
    are members until the next decision (membership is renewed at every decision). Members
    get ``rebate_share`` of each purchase back (paid by us, booked on their purchases), a
    member-price utility bonus and a lower dropout probability; the programme also costs
    ``cost_per_member`` per member and decision period.

    Effect size: ``dropout_multiplier`` 0.8 follows Gopalakrishnan, Jiang, Nevskaya and
    Thomadsen (2021, Marketing Science 40(3), "Can non-tiered customer loyalty programs be
    profitable?"): a programme raised customer value ~30% over five years, more than 80% of
    it through lower attrition and a negligible change in spend per visit; a lifetime ~1.25
    times as long is attrition x ~0.8 (assumption: lifetime ~ 1 / attrition). It acts on
    members only (repeat buyers, a few % of customer-years on ``default``), so
    ``marketsim check`` measures it on first-year repeat buyers (lever
    ``retention=loyalty_program``, KPI ``repeat_customers_lost``).
    """

    name: ClassVar[str] = "loyalty_program"
    params: ClassVar[tuple[Param, ...]] = (
        Param("min_orders", "int", 2, low=1, high=50, help="orders needed to join"),
        Param("lapse_days", "int", 180, low=7, high=730, help="membership lapses after this"),
        Param("rebate_share", "float", 0.05, low=0.0, high=0.3, help="share of spend rebated"),
        Param("utility_bonus", "float", 0.3, low=0.0, high=3.0, help="member utility bonus"),
        Param("dropout_multiplier", "float", 0.8, low=0.0, high=1.0, help="member dropout mult."),
        Param("cost_per_member", "float", 0.05, low=0.0, high=20.0, help="admin cost per period"),
    )

    def decide(self, view: MarketView, rng: np.random.Generator) -> RetentionDecision:
        actions = []
        for rid, r in view.regions.items():
            c = r.customers
            members = (np.asarray(c.frequency) >= self.min_orders) & (
                np.asarray(c.recency_days) <= self.lapse_days
            )
            if not members.any():
                continue
            actions.append(
                RetentionAction(
                    region_id=rid,
                    action="loyalty",
                    customer_ids=np.asarray(c.customer_ids, dtype=np.int64)[members],
                    cost_per_customer_base=self.cost_per_member,
                    dropout_multiplier=self.dropout_multiplier,
                    utility_bonus=self.utility_bonus,
                    rebate_share=self.rebate_share,
                    duration_days=max(1, view.decision_interval_days),
                    membership=True,
                )
            )
        return RetentionDecision(tuple(actions))


@register
class WinBack(RetentionStrategy):
    """Win-back: a coupon for every customer silent for after_days days, once per lapse.

    Rule: at the first decision after a customer's recency reaches ``after_days`` (recency
    in [after_days, after_days + decision interval)), send one coupon: a utility bonus and a
    purchase-rate multiplier (with the dropout probability divided by it, so the coupon's
    extra occasions add no dropout per day) for ``duration_days``, at ``cost_per_coupon``
    each. A share ``response`` of the recipients acts on it (a lapsed one comes back; see
    ``sim.retention_state``); the coupon's ``coupon_value`` is booked on the order that uses
    it. A customer who buys again and lapses again gets a new coupon. Defaults: response
    0.33 (assumption: a little below ``rfm_tiers``' compensation coupon, 0.40 for DOMAIN's
    41 % tier: this coupon goes out on silence alone, not on a risk score); assumption:
    sending costs 0.2 USD and the coupon is worth 2 USD when used.
    """

    name: ClassVar[str] = "win_back"
    params: ClassVar[tuple[Param, ...]] = (
        Param("after_days", "int", 45, low=7, high=365, help="days without a purchase"),
        Param("utility_bonus", "float", 0.5, low=0.0, high=3.0, help="coupon utility bonus"),
        Param("rate_multiplier", "float", 1.3, low=1.0, high=3.0, help="purchase-rate mult."),
        Param("duration_days", "int", 21, low=1, high=120, help="coupon validity"),
        Param("cost_per_coupon", "float", 0.2, low=0.0, high=100.0, help="cost per coupon sent"),
        Param("response", "float", 0.33, low=0.0, high=1.0, help="share acting on the coupon"),
        Param("coupon_value", "float", 2.0, low=0.0, high=100.0, help="cost per redeemed coupon"),
    )

    def decide(self, view: MarketView, rng: np.random.Generator) -> RetentionDecision:
        actions = []
        interval = max(1, view.decision_interval_days)
        for rid, r in view.regions.items():
            rec = np.asarray(r.customers.recency_days)
            due = (rec >= self.after_days) & (rec < self.after_days + interval)
            if not due.any():
                continue
            actions.append(
                RetentionAction(
                    region_id=rid,
                    action="win_back",
                    customer_ids=np.asarray(r.customers.customer_ids, dtype=np.int64)[due],
                    cost_per_customer_base=self.cost_per_coupon,
                    rate_multiplier=self.rate_multiplier,
                    utility_bonus=self.utility_bonus,
                    duration_days=self.duration_days,
                    response_probability=self.response,
                    cost_per_redemption_base=self.coupon_value,
                    hazard_neutral=True,
                )
            )
        return RetentionDecision(tuple(actions))
