"""Built-in localization strategies.

Costs are not set here: the model books the scenario's ``firm.localization_costs`` (setup
when a lever is switched on, monthly while it stays on, the local warehouse's monthly fixed
cost) for whatever the strategy chooses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from sim.contract import (
    PAYMENT_METHODS,
    LocalizationChoice,
    LocalizationDecision,
    MarketView,
    StrategyContext,
)
from strategies.base import LocalizationStrategy
from strategies.params import Param
from strategies.registry import register


@register
class NoLocalization(LocalizationStrategy):
    """No localization: machine translation, default payment methods, cross-border shipping.

    Listings stay machine-translated, only the firm's default payment methods are accepted,
    orders ship cross-border and there is no local customer service.
    """

    name: ClassVar[str] = "none"
    params: ClassVar[tuple[Param, ...]] = ()

    def decide(self, view: MarketView, rng: np.random.Generator) -> LocalizationDecision:
        return LocalizationDecision({rid: r.localization for rid, r in view.regions.items()})


_LEVERS = (
    Param("human_translation", "bool", False, help="human-translated listings"),
    Param(
        "payment_methods",
        "str_list",
        (),
        choices=PAYMENT_METHODS,
        help="payment methods added to the firm's defaults",
    ),
    Param("local_warehouse", "bool", False, help="ship from the region's warehouse"),
    Param("local_service", "bool", False, help="local customer service"),
)


@register
class Invest(LocalizationStrategy):
    """Invest: human translation, local payment methods, local warehouse, local service.

    Rule: in the targeted regions (``regions``; empty = all) switch on the chosen levers:
    human translation removes the machine-translation penalty on conversion; each payment
    method accepted (added to the firm's default methods, never removed) spares its users
    the unsupported-payment penalty; a local warehouse ships orders over the region's local
    lane from stock held there (used only where the scenario has one); local customer
    service softens the satisfaction hit of late deliveries. ``per_region`` sets levers
    per region (fields omitted there take the global values; a listed region is targeted
    even when not in ``regions``), e.g. ``{BR: {payment_methods: [cod, instalments],
    local_warehouse: true}}``. The global booleans form the tuning search space.
    """

    name: ClassVar[str] = "invest"
    params: ClassVar[tuple[Param, ...]] = (
        Param("regions", "str_list", (), help="regions to localize (empty = all)"),
        Param("human_translation", "bool", True, help="human-translated listings"),
        Param("pay_card", "bool", False, help="accept cards"),
        Param("pay_ewallet", "bool", True, help="accept e-wallets"),
        Param("pay_cod", "bool", True, help="accept cash on delivery"),
        Param("pay_instalments", "bool", False, help="accept instalments"),
        Param("pay_mobile_money", "bool", False, help="accept mobile money"),
        Param("pay_bank_transfer", "bool", False, help="accept bank transfers"),
        Param("local_warehouse", "bool", False, help="use local warehouses where available"),
        Param("local_service", "bool", False, help="local customer service"),
        Param(
            "per_region",
            "mapping",
            {},
            fields=_LEVERS,
            help="levers per region id, overriding the global ones",
        ),
    )

    @classmethod
    def check(cls, values: Mapping[str, Any], context: StrategyContext) -> list[tuple[str, str]]:
        """Regions must exist; an explicit local warehouse needs a local lane in the region."""
        ids = list(context.region_ids)
        problems = []
        for i, rid in enumerate(values["regions"]):
            if rid not in ids:
                problems.append((f"params.regions[{i}]", f"unknown region {rid!r}; known: {ids}"))
        for rid, levers in values["per_region"].items():
            if rid not in ids:
                problems.append((f"params.per_region.{rid}", f"unknown region; known: {ids}"))
            elif levers.get("local_warehouse") and rid not in context.local_warehouse_regions:
                problems.append(
                    (
                        f"params.per_region.{rid}.local_warehouse",
                        f"region {rid!r} has no local warehouse with a lane carrying orders "
                        "to its consumers",
                    )
                )
        return problems

    def global_methods(self) -> frozenset[str]:
        """Payment methods switched on by the global ``pay_*`` booleans."""
        return frozenset(m for m in PAYMENT_METHODS if self.values[f"pay_{m}"])

    def decide(self, view: MarketView, rng: np.random.Generator) -> LocalizationDecision:
        targeted = set(self.regions or view.regions) | set(self.per_region)
        methods = self.global_methods()
        choices = {}
        for rid, r in view.regions.items():
            current = r.localization
            if rid not in targeted:
                choices[rid] = current
                continue
            own = self.per_region.get(rid, {})
            # global switch: where available; an explicit per-region request is passed on
            # as is (the scenario check and the model reject it without a local lane)
            warehouse = own.get(
                "local_warehouse", self.local_warehouse and r.has_local_warehouse_option
            )
            choices[rid] = LocalizationChoice(
                human_translation=own.get("human_translation", self.human_translation),
                payment_methods=current.payment_methods
                | frozenset(own.get("payment_methods", methods)),
                local_warehouse=bool(warehouse),
                local_service=own.get("local_service", self.local_service),
            )
        return LocalizationDecision(choices)
