"""Per-order keys of a parcel's last-mile days and loss: (region, consumer, order number)."""

from __future__ import annotations

import numpy as np

from sim import keyed
from sim.rng import RandomStreams

#: the named stream each region's parcel key comes from (one stream per region index)
STREAM = "parcels"


class ParcelKeys:
    """One counter-based key per order, from its region, consumer and order number (``seq``).

    A lane draws an order's last-mile days and lost flag from uniforms of this key
    (``sim.lanes``), so the same order of the same customer (the consumer's n-th order with
    us) travels the same last mile and is lost or not in every strategy variant, however many
    other orders share its shipment or its lane: lateness is paired across variants (common
    random numbers). The key does not name the lane: an order moved to another lane of its
    region keeps its uniforms (the same quantile of the other lane's distribution).

    Attributes:
        region_keys: Per region index, the base key (uint64) drawn from stream ``parcels``.
    """

    def __init__(self, streams: RandomStreams, regions: int) -> None:
        """Draw each region's base key from its own ``parcels`` stream.

        Args:
            streams: The run's named streams.
            regions: Number of regions (region indices ``0 .. regions - 1``).
        """
        self.region_keys = np.array(
            [streams.get(STREAM, r).integers(0, 2**63, dtype=np.int64) for r in range(regions)],
            dtype=np.uint64,
        )

    def keys(self, region: np.ndarray, consumer: np.ndarray, seq: np.ndarray) -> np.ndarray:
        """The key (uint64) of each order given by its region index, consumer index and
        order number with us (``seq``, the order book's columns)."""
        base = self.region_keys[np.asarray(region, dtype=np.int64)]
        return keyed.occasion_keys(base, np.asarray(consumer), np.asarray(seq))
