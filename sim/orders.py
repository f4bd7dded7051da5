"""The order book: compact, growable per-order arrays (no Python object per order)."""

from __future__ import annotations

import numpy as np

STATUS_IN_TRANSIT = 0
STATUS_DELIVERED = 1
STATUS_LOST = 2
STATUS_RETURNED = 3

_FIELDS: dict[str, np.dtype] = {
    "region": np.dtype(np.int16),
    "consumer": np.dtype(np.int32),
    "product": np.dtype(np.int16),
    "day": np.dtype(np.int16),
    "units": np.dtype(np.int16),
    "status": np.dtype(np.int8),
    "delivered_day": np.dtype(np.int16),
    "paid_base": np.dtype(np.float32),
    "price_local": np.dtype(np.float32),
    "warehouse": np.dtype(np.int16),
    "seq": np.dtype(np.int32),  # the consumer's order number with us (1 = first order)
}


class OrderBook:
    """Every order our firm took, as columns indexed by order id (ids are 0, 1, 2, ...)."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self._cols = {name: np.zeros(max(capacity, 16), dtype=dt) for name, dt in _FIELDS.items()}

    def __len__(self) -> int:
        return self.n

    def column(self, name: str) -> np.ndarray:
        """A view of one column over the orders taken so far."""
        return self._cols[name][: self.n]

    def append(self, **columns: np.ndarray | int | float) -> np.ndarray:
        """Add ``k`` orders (arrays of equal length or scalars); return their ids."""
        k = max(np.size(v) for v in columns.values())
        need = self.n + k
        cap = len(self._cols["region"])
        if need > cap:
            new_cap = max(need, 2 * cap)
            for name, col in self._cols.items():
                grown = np.zeros(new_cap, dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self._cols[name] = grown
        ids = np.arange(self.n, need, dtype=np.int64)
        for name, value in columns.items():
            self._cols[name][self.n : need] = value
        self._cols["status"][self.n : need] = STATUS_IN_TRANSIT
        self._cols["delivered_day"][self.n : need] = -1
        self.n = need
        return ids

    def set(self, name: str, ids: np.ndarray, value: np.ndarray | int | float) -> None:
        """Write ``value`` into column ``name`` at ``ids``."""
        self._cols[name][ids] = value

    def status_counts(self) -> dict[str, int]:
        """Orders by status (in transit, delivered and kept, lost, returned)."""
        counts = np.bincount(self.column("status"), minlength=4)
        return {
            "in_transit": int(counts[STATUS_IN_TRANSIT]),
            "delivered": int(counts[STATUS_DELIVERED]),
            "lost": int(counts[STATUS_LOST]),
            "returned": int(counts[STATUS_RETURNED]),
        }
