"""Dated events in a scenario (``events:``): policy and market shocks applied at the start of a day.

Each event has a ``day`` (0-based; applied at the start of that day, before the day's FX
move, costs and decisions) and a ``kind``:

- ``tax_change``: a region's ``duty_rate``, ``vat_rate`` and/or ``de_minimis_local`` change
  (a de-minimis threshold removed is ``de_minimis_local: 0``; a tariff change is
  ``duty_rate``); every price, order and stock transfer from that day on uses the new tax.
- ``fx_jump``: the region's exchange rate (local per base) is multiplied by ``multiplier``
  (a devaluation of the local currency is ``multiplier > 1``); the random walk goes on
  from there, and consumers keep judging prices against the rate they know (the reference
  rate does not move), so our landed prices move by the jump times the pricing strategy's
  FX pass-through at its next decision.
- ``lane_disruption``: a lane stage keeps ``capacity_multiplier`` of its servers over
  ``[day, end_day)`` (port congestion, a strike, a closed route), exactly like a scheduled
  ``lanes[].disruptions`` entry.
- ``marketing_cost``: from that day, a unit of marketing spend in ``region`` (every region
  when left out) buys ``1 / multiplier`` of the awareness it bought before (a CAC shock).
- ``competitor_entry`` / ``competitor_exit``: the named competitor's offers are on the market
  from ``day`` on (and not before) / no longer from ``day`` on: consumers stop seeing them
  and our strategies stop observing their prices.

Events can carry an ``id`` so that an uncertainties file can draw their date or size
(``events[devaluation].multiplier``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.errors import Problem

if TYPE_CHECKING:
    from sim.model import MarketModel

_Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
_Day = Annotated[int, Field(ge=0, le=100_000)]
_Multiplier = Annotated[float, Field(ge=0.01, le=100.0, allow_inf_nan=False)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    id: _Id | None = None
    day: _Day
    about: str = ""


class TaxChange(_Event):
    """A region's duty, VAT and/or de-minimis threshold change from ``day`` on."""

    kind: Literal["tax_change"]
    region: _Id
    duty_rate: Annotated[float, Field(ge=0.0, le=5.0)] | None = None
    vat_rate: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    de_minimis_local: Annotated[float, Field(ge=0.0, le=1e12)] | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> TaxChange:
        if self.duty_rate is None and self.vat_rate is None and self.de_minimis_local is None:
            raise ValueError("@duty_rate: set duty_rate, vat_rate or de_minimis_local")
        return self

    def tax_update(self) -> dict[str, float]:
        """The tax fields this event sets."""
        fields = ("duty_rate", "vat_rate", "de_minimis_local")
        return {f: getattr(self, f) for f in fields if getattr(self, f) is not None}


class FxJump(_Event):
    """The region's exchange rate (local per base) is multiplied by ``multiplier``."""

    kind: Literal["fx_jump"]
    region: _Id
    multiplier: _Multiplier


class LaneDisruption(_Event):
    """A lane stage keeps ``capacity_multiplier`` of its servers over ``[day, end_day)``."""

    kind: Literal["lane_disruption"]
    lane: _Id
    stage: _Id
    end_day: Annotated[int, Field(ge=1, le=100_000)]
    capacity_multiplier: Annotated[float, Field(ge=0.0, le=1.0)]

    @model_validator(mode="after")
    def _ordered(self) -> LaneDisruption:
        if self.end_day <= self.day:
            raise ValueError(
                f"@end_day: `day < end_day` must hold, got {self.day=}, {self.end_day=}"
            )
        return self


class CompetitorChange(_Event):
    """A competitor enters (absent before ``day``) or leaves (absent from ``day`` on)."""

    kind: Literal["competitor_entry", "competitor_exit"]
    competitor: _Id


class MarketingCostShock(_Event):
    """Marketing spend in ``region`` (every region if None) buys ``1 / multiplier`` of the
    awareness it did."""

    kind: Literal["marketing_cost"]
    region: _Id | None = None
    multiplier: _Multiplier


Event = Annotated[
    TaxChange | FxJump | LaneDisruption | MarketingCostShock | CompetitorChange,
    Field(discriminator="kind"),
]


def event_problems(scenario: Any, source: str) -> list[Problem]:
    """Events that name a region, lane or stage the scenario does not have."""
    regions = [r.id for r in scenario.regions]
    competitors = [c.id for c in scenario.competitors]
    lanes = {lane.id: [s.name for s in lane.stages] for lane in scenario.lanes}
    problems = []
    for i, event in enumerate(scenario.events):
        region = getattr(event, "region", None)
        if region is not None and region not in regions:
            problems.append(
                Problem(source, f"events[{i}].region", f"unknown region; known: {regions}")
            )
        if isinstance(event, CompetitorChange) and event.competitor not in competitors:
            problems.append(
                Problem(
                    source, f"events[{i}].competitor", f"unknown competitor; known: {competitors}"
                )
            )
        if isinstance(event, LaneDisruption):
            if event.lane not in lanes:
                problems.append(
                    Problem(source, f"events[{i}].lane", f"unknown lane; known: {list(lanes)}")
                )
            elif event.stage not in lanes[event.lane]:
                problems.append(
                    Problem(
                        source, f"events[{i}].stage", f"unknown stage; known: {lanes[event.lane]}"
                    )
                )
    return problems


def apply_events(model: MarketModel, day: int) -> None:
    """Apply the scenario's events dated ``day`` (called at the start of the day)."""
    if day == 0:  # a competitor that enters later is off the market until then
        for event in model.scenario.events:
            if event.kind == "competitor_entry" and event.day > 0:
                _competitor(model, event.competitor).active[:] = False
    due = [e for e in model.scenario.events if e.day == day]
    if not due:
        return
    # the model gets its own regions list: events never change the caller's scenario
    regions = list(model.scenario.regions)
    model.scenario = model.scenario.model_copy(update={"regions": regions})
    model.firm.scenario = model.scenario
    model.firm.regions = regions
    for event in due:
        _APPLY[event.kind](model, event)


def _region_index(model: MarketModel, region_id: str | None) -> list[int]:
    ids = model.region_ids
    return list(range(len(ids))) if region_id is None else [ids.index(region_id)]


def _tax_change(model: MarketModel, event: TaxChange) -> None:
    (r,) = _region_index(model, event.region)
    region = model.scenario.regions[r]
    tax = region.tax.model_copy(update=event.tax_update())
    model.scenario.regions[r] = region.model_copy(update={"tax": tax})


def _fx_jump(model: MarketModel, event: FxJump) -> None:
    (r,) = _region_index(model, event.region)
    model.fx_local_per_base[r] *= event.multiplier


def _lane_disruption(model: MarketModel, event: LaneDisruption) -> None:
    from sim.scenario import Disruption

    disruption = Disruption(
        stage=event.stage,
        start_day=event.day,
        end_day=event.end_day,
        capacity_multiplier=event.capacity_multiplier,
    )
    model.lanes[event.lane].schedule_disruption(disruption)


def _marketing_cost(model: MarketModel, event: MarketingCostShock) -> None:
    for r in _region_index(model, event.region):
        region = model.scenario.regions[r]
        aw = region.awareness
        awareness = aw.model_copy(
            update={"p_per_1k_spend_daily": aw.p_per_1k_spend_daily / event.multiplier}
        )
        model.scenario.regions[r] = region.model_copy(update={"awareness": awareness})
        model.consumers[r].spec = model.scenario.regions[r]
        model.marketing.half[r] = model.marketing.half[r] * event.multiplier  # paid channels


def _competitor(model: MarketModel, competitor_id: str) -> Any:
    return next(c for c in model.competitors if c.spec.id == competitor_id)


def _competitor_entry(model: MarketModel, event: CompetitorChange) -> None:
    _competitor(model, event.competitor).active[:] = True


def _competitor_exit(model: MarketModel, event: CompetitorChange) -> None:
    _competitor(model, event.competitor).active[:] = False


_APPLY: dict[str, Any] = {
    "tax_change": _tax_change,
    "fx_jump": _fx_jump,
    "lane_disruption": _lane_disruption,
    "marketing_cost": _marketing_cost,
    "competitor_entry": _competitor_entry,
    "competitor_exit": _competitor_exit,
}
EVENT_KINDS = tuple(_APPLY)
