"""Sales channel per region: our own site, or a marketplace (commission, order fee, traffic).

A marketplace charges ``commission_share`` of what the buyer pays (incl. VAT and duty; not
refunded on returns: assumption, most marketplaces keep part or all of it) plus
``fee_per_order_base`` per order, booked as ``marketplace_fees_base`` when the sale is made.
Its traffic makes consumers find our listings: ``initial_awareness_share`` more of them are
aware on day 0 and ``traffic_p_daily`` is added to the Bass innovation rate (both capped so
shares stay probabilities).
"""

from __future__ import annotations

import numpy as np

from sim.scenario import Region, Scenario


def consumer_region(region: Region) -> Region:
    """The region as its consumers see it: awareness raised by marketplace traffic."""
    if region.sales.channel != "marketplace":
        return region
    mp, aw = region.sales.marketplace, region.awareness
    if not (mp.initial_awareness_share or mp.traffic_p_daily):
        return region
    awareness = aw.model_copy(
        update={
            "initial_share": min(1.0, aw.initial_share + mp.initial_awareness_share),
            "p_base_daily": aw.p_base_daily + mp.traffic_p_daily,
        }
    )
    return region.model_copy(update={"awareness": awareness})


class Channels:
    """Marketplace fees per region (own-site regions cost nothing here)."""

    def __init__(self, scenario: Scenario):
        on = [r.sales.channel == "marketplace" for r in scenario.regions]
        self.marketplace = np.array(on, dtype=bool)
        terms = [r.sales.marketplace for r in scenario.regions]
        self.commission = self.marketplace * np.array([t.commission_share for t in terms])
        self.fee_per_order = self.marketplace * np.array([t.fee_per_order_base for t in terms])

    def fees_base(self, r: int, paid_base: np.ndarray) -> float:
        """Commission and order fees on a batch of orders paid ``paid_base`` (base)."""
        if not self.marketplace[r]:
            return 0.0
        return float(self.commission[r] * paid_base.sum() + self.fee_per_order[r] * len(paid_base))
