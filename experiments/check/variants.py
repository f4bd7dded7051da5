"""Counterfactual scenario variants the fact and lever measures compare with the baseline.

Each builder takes the (scaled) baseline scenario and returns the variant, or None when it
does not apply to that scenario (e.g. no region with a consent flow).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.check.runs import VariantBuilder, edit_scenario
from experiments.replications import with_strategies
from sim.scenario import Scenario

LATE_EXTRA_DAYS = 6.0  # "delays above 5 days" (DOMAIN): every order arrives 6 days past its promise
#: invest with every lever off; a variant switches on the one it studies
_NO_LEVERS = {
    "human_translation": False,
    "pay_ewallet": False,
    "pay_cod": False,
    "local_warehouse": False,
    "local_service": False,
}


def localized(scenario: Scenario, **levers: Any) -> Scenario | None:
    """The scenario with ``invest`` switching on only ``levers`` (None when the scenario
    already chooses a localization strategy: the comparison would not isolate the lever)."""
    if scenario.strategies.localization.name != "none":
        return None
    params = {**_NO_LEVERS, **levers}
    return with_strategies(scenario, {"localization": {"name": "invest", "params": params}})


def mt_regions(scenario: Scenario) -> list[str]:
    """Regions where our listings are machine-translated at a conversion penalty."""
    source = scenario.firm.source_language
    return [
        r.id
        for r in scenario.regions
        if r.language != source and r.choice.machine_translation_penalty > 0
    ]


def consent_regions(scenario: Scenario) -> list[str]:
    """Regions with a consent flow that costs conversion."""
    return [r.id for r in scenario.regions if r.regulation.consent_penalty > 0]


def warehouse_regions(scenario: Scenario) -> list[str]:
    """Regions a local or regional warehouse can serve (a lane carries its orders there)."""
    from sim.scenario import local_lane

    return [r.id for r in scenario.regions if local_lane(scenario, r.id) is not None]


def human_translation(scenario: Scenario) -> Scenario | None:
    """Human-translated listings everywhere (machine translation is the baseline)."""
    return localized(scenario, human_translation=True) if mt_regions(scenario) else None


def no_consent(scenario: Scenario) -> Scenario | None:
    """No consent-flow friction (consent penalty 0 wherever it was positive)."""
    if not consent_regions(scenario):
        return None

    def edit(d: dict[str, Any]) -> None:
        for region in d["regions"]:
            region["regulation"]["consent_penalty"] = 0.0

    return edit_scenario(scenario, edit, "no consent flow")


def _mean_days(duration: dict[str, Any], per_day: float = 1.0) -> float:
    """Mean of a scenario duration (deterministic value or distribution mean), in days."""
    value = duration["value"] if duration["dist"] == "deterministic" else duration["mean"]
    return float(value) / per_day


def expected_delivery_days(lane: dict[str, Any]) -> float:
    """A lane's mean order-to-door days without queueing: stage service times, the expected
    customs inspection delay and the last mile."""
    days = sum(_mean_days(stage["service_hours"], 24.0) for stage in lane["stages"])
    customs = lane.get("customs")
    if customs:
        delay = customs.get("delay_hours") or {"dist": "deterministic", "value": 0.0}
        days += customs.get("inspection_probability", 0.0) * _mean_days(delay, 24.0)
    mile = lane.get("last_mile_days") or {"dist": "deterministic", "value": 0.0}
    return days + _mean_days(mile)


def late_deliveries(scenario: Scenario) -> Scenario | None:
    """Every order arrives 6 days after its lane's promise (mean), promises unchanged: the
    last mile takes ``promise - expected delivery`` (when positive) plus 6 days longer, so a
    lane that beats its promise by weeks is late by DOMAIN's "more than 5 days" too."""

    def edit(d: dict[str, Any]) -> None:
        for lane in d["lanes"]:
            if lane.get("carries", "orders") != "orders":
                continue
            slack = max(0.0, lane["promised_days"] - expected_delivery_days(lane))
            extra = slack + LATE_EXTRA_DAYS
            mile = lane.get("last_mile_days") or {"dist": "deterministic", "value": 0.0}
            if mile["dist"] == "deterministic":
                mile = {"dist": "deterministic", "value": mile["value"] + extra}
            else:  # same spread, mean ``extra`` days later
                sd = mile.get("sd", mile.get("mean", 0.0))
                mile = {"dist": "lognormal", "mean": mile["mean"] + extra, "sd": sd}
            lane["last_mile_days"] = mile

    return edit_scenario(scenario, edit, "6 days past the promise")


def _unlimited_credit(d: dict[str, Any]) -> None:
    """Finance a variant: an unlimited credit line (interest still charged)."""
    d["firm"].setdefault("finance", {})["credit_limit_base"] = None


def financed(scenario: Scenario, label: str = "financed") -> Scenario:
    """The scenario with an unlimited credit line, interest still charged: for variants that
    study a mechanism (delivery speed, an offer's response) whose cost could otherwise use up
    a thin-margin firm's cash and credit, so that the measure would read the firm's cash. A
    run that never draws past the scenario's own line is bit-identical to the unfinanced one."""
    return edit_scenario(scenario, _unlimited_credit, label)


def regional_warehouse(scenario: Scenario) -> Scenario | None:
    """Orders ship from the local warehouse wherever the scenario has one, financed as
    :func:`trial_pack` (unlimited credit line, interest still charged).

    The fact and the lever rows are about delivery speed. Setup, rent and the warehouse's
    opening and safety stock used up every shipped scenario's cash within a quarter and its
    credit line later; reorders then stopped and the warehouse stocked out (22k-109k units
    lost in one two-year run against 0-2.8k in the baselines), so the rows read the firm's
    cash (benchmarks/warehouse_cash.py; docs/validation.md "Every warehouse variant runs out
    of cash and stock"). A planner's own ``compare`` with a warehouse stays unfinanced."""
    if not warehouse_regions(scenario):
        return None
    built = localized(scenario, local_warehouse=True)
    return None if built is None else financed(built, "warehouse, financed")


def local_service(scenario: Scenario) -> Scenario | None:
    """Local customer service everywhere, nothing else localized."""
    return localized(scenario, local_service=True)


def no_marketing(scenario: Scenario) -> Scenario | None:
    """No marketing budget in any region (the single budget and every paid channel)."""
    from experiments.acquisition import with_marketing

    return with_marketing(scenario, 0.0)


def triple_marketing(scenario: Scenario) -> Scenario | None:
    """Every marketing budget (single and per channel) three times as large."""
    from experiments.acquisition import with_marketing

    return with_marketing(scenario, 3.0)


#: DOMAIN's trial pack as it is run in practice: a $9.9 first order (extra cost 0:
#: assumption) and a reminder with a coupon when the pack runs out. Assumptions: the pack is
#: a ~3-week supply (after_days 21), the coupon is valid 30 days, the reminder costs 0.2 USD
#: (an e-mail / SMS, as rfm_tiers' coupon) and the coupon 2 USD when redeemed (as win_back's);
#: response 0.24 is calibrated so that, with each shipped market's own repeat buying (about
#: 6% of first-time buyers order again within 90 days unprompted on default), about 28% of
#: trial buyers order again within the fact's 90-day window (DOMAIN "a $9.9 trial converted
#: 28%"); the window is a quarter: the pack's 3 weeks, the coupon's 30 days and a month to spare.
#: Default at markup 0.65 on the whole market (10 paired reps x 730 days, the financed
#: variant below): 26.7% [26.5%, 27.0%]; 28% would need about 0.255.
TRIAL_FOLLOWUP = {
    "after_days": 21,
    "duration_days": 30,
    "response_probability": 0.24,
    "cost_per_contact_base": 0.2,
    "cost_per_redemption_base": 2.0,
}
TRIAL_PACK = {"price_base": 9.9, "followup": TRIAL_FOLLOWUP}


def trial_pack(scenario: Scenario) -> Scenario | None:
    """A $9.9 trial pack for first-time buyers in every region (None when the scenario
    already has one), financed: the credit line is unlimited (interest still charged).

    The fact is the buyers' response to the pack. Sold below landed cost to every first-time
    buyer for two years, the pack can use up a thin-margin firm's cash and credit; the firm
    then stops reorders and the follow-up coupons (``sim.trial_pack``) and the measure reads
    the firm's cash, not the pack (default at markup 0.65: 183 / 283 days stopped in
    replications 0 / 1, 22.5% repeat; financed, no day stopped, 26.7%)."""
    if scenario.firm.trial_pack is not None:
        return None

    def edit(d: dict[str, Any]) -> None:
        d["firm"]["trial_pack"] = {**TRIAL_PACK, "followup": dict(TRIAL_FOLLOWUP)}
        _unlimited_credit(d)

    return edit_scenario(scenario, edit, "trial pack")


def strategy(kind: str, name: str) -> VariantBuilder:
    """The scenario with one kind's strategy replaced by ``name`` (default parameters)."""

    def build(scenario: Scenario) -> Scenario | None:
        if getattr(scenario.strategies, kind).name == name:
            return None
        return with_strategies(scenario, {kind: {"name": name, "params": {}}})

    return build


def penetration(scenario: Scenario) -> Scenario | None:
    """Penetration pricing that ramps back to the baseline's own margin: over a cost-plus
    baseline its ``target_markup`` and ``fx_pass_through`` are the baseline's (per region
    where they are), so the row measures the launch discount alone; over another baseline,
    its defaults."""
    pricing = scenario.strategies.pricing
    if pricing.name == "penetration":
        return None
    params: dict[str, Any] = {}
    if pricing.name == "cost_plus":
        given = dict(pricing.params)
        if "markup" in given:
            params["target_markup"] = given["markup"]
        if "fx_pass_through" in given:
            params["fx_pass_through"] = given["fx_pass_through"]
    return with_strategies(scenario, {"pricing": {"name": "penetration", "params": params}})


def rfm_tiers(scenario: Scenario) -> Scenario | None:
    """The ``rfm_tiers`` retention strategy at its default parameters, financed as
    :func:`trial_pack`: the fact is the share of targeted customers the offers win back; two
    years of offers (~322k USD on sea_entry) ran sea's firm out of cash on days 491-538, after
    which it stopped restocking and the offers met empty shelves (docs/validation.md, sto27).
    The lever row ``retention=rfm_tiers`` keeps the scenario's own credit line."""
    built = strategy("retention", "rfm_tiers")(scenario)
    return None if built is None else financed(built, "rfm_tiers, financed")


# ----------------------------------------------------------------------------- selling, payments
def cod_instalments(scenario: Scenario) -> Scenario | None:
    """Cash on delivery and instalments accepted everywhere (nothing else localized)."""
    return localized(scenario, pay_cod=True, pay_instalments=True)


def no_mobile_money(scenario: Scenario) -> Scenario | None:
    """Mobile money no longer accepted (where the scenario accepts it)."""
    if "mobile_money" not in scenario.firm.supported_payment_methods:
        return None

    def edit(d: dict[str, Any]) -> None:
        methods = d["firm"]["supported_payment_methods"]
        d["firm"]["supported_payment_methods"] = [m for m in methods if m != "mobile_money"]

    return edit_scenario(scenario, edit, "no mobile money")


def no_bundles(scenario: Scenario) -> Scenario | None:
    """Bundles offered but never taken: the same customers, the same orders, list baskets."""
    if scenario.firm.bundles is None or not scenario.firm.bundles.take_rate:
        return None

    def edit(d: dict[str, Any]) -> None:
        d["firm"]["bundles"]["take_rate"] = 0.0

    return edit_scenario(scenario, edit, "no bundles")


#: typical marketplace terms for the lever (assumption: ~15% referral fee, a small order
#: fee, traffic worth 5% more aware consumers and an extra 0.1%/day discovery hazard)
MARKETPLACE_TERMS = {
    "commission_share": 0.15,
    "fee_per_order_base": 0.3,
    "initial_awareness_share": 0.05,
    "traffic_p_daily": 0.001,
}


def marketplace(scenario: Scenario) -> Scenario | None:
    """Every own-site region sells on a marketplace with :data:`MARKETPLACE_TERMS`, financed
    as :func:`trial_pack` (unlimited credit line, interest still charged).

    The lever is the marketplace's traffic. Its commission can use up a thin-margin firm's
    cash and credit; the firm then stops restocking, and the new customers the traffic brings
    meet stockouts, so the row read the firm's cash (kenya_entry, 5 paired replications: views
    +31-35% in every one, new customers +333 to +17,073 as spending stopped 196 to 59 days)."""
    if all(r.sales.channel == "marketplace" for r in scenario.regions):
        return None

    def edit(d: dict[str, Any]) -> None:
        for region in d["regions"]:
            sales = region.setdefault("sales", {})
            if sales.get("channel", "own_site") == "own_site":
                sales["channel"] = "marketplace"
                sales["marketplace"] = dict(MARKETPLACE_TERMS)
        _unlimited_credit(d)

    return edit_scenario(scenario, edit, "on a marketplace")


#: fact variants by name (levers add their own)
FACT_VARIANTS: Mapping[str, VariantBuilder] = {
    "human_translation": human_translation,
    "no_consent": no_consent,
    "late_deliveries": late_deliveries,
    "regional_warehouse": regional_warehouse,
    "cod_instalments": cod_instalments,
    "no_mobile_money": no_mobile_money,
    "no_bundles": no_bundles,
    "list_everything": strategy("selection", "all_products"),
    "rfm_tiers": rfm_tiers,
    "trial_pack": trial_pack,
}
