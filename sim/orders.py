"""The order book: compact per-order columns in fixed-size chunks (no Python object per order)."""

from __future__ import annotations

import numpy as np

STATUS_IN_TRANSIT = 0
STATUS_DELIVERED = 1
STATUS_LOST = 2
STATUS_RETURNED = 3
STATUS_REFUSED = 4  # a cash-on-delivery parcel refused at the door, back to origin
#: status names by code
ORDER_STATUSES = ("in_transit", "delivered", "lost", "returned", "refused")

_FIELDS: dict[str, np.dtype] = {
    "region": np.dtype(np.int8),  # at most 64 regions
    "consumer": np.dtype(np.int32),
    "product": np.dtype(np.int16),
    "day": np.dtype(np.int16),
    "units": np.dtype(np.int16),
    "returned_units": np.dtype(np.int16),
    "bundle": np.dtype(np.int8),  # 0 none, 1 bundle offered and declined, 2 bundle bought
    "status": np.dtype(np.int8),
    "delivered_day": np.dtype(np.int16),
    "paid_base": np.dtype(np.float32),  # what the buyer paid, incl. VAT and duty
    "vat_base": np.dtype(np.float32),
    "duty_base": np.dtype(np.float32),
    "method": np.dtype(np.int8),  # payment method code (sim.contract.PAYMENT_METHODS)
    "price_local": np.dtype(np.float32),
    "warehouse": np.dtype(np.int8),  # at most 100 warehouses
    "seq": np.dtype(np.int32),  # the consumer's order number with us (1 = first order)
    "late_days": np.dtype(np.float32),  # days beyond the promise once completed (0 on time)
}
CHUNK_BITS = 16
CHUNK = 1 << CHUNK_BITS  # orders per chunk: growing never copies what is already stored
_SCAN_CHUNKS = 8  # ids spanning at most this many chunks are grouped by scanning, not sorting


class OrderBook:
    """Every order our firm took, as columns indexed by order id (ids are 0, 1, 2, ...)."""

    def __init__(self) -> None:
        self.n = 0
        self._chunks: list[dict[str, np.ndarray]] = []

    def __len__(self) -> int:
        return self.n

    def _chunk(self, c: int) -> dict[str, np.ndarray]:
        while len(self._chunks) <= c:
            self._chunks.append({k: np.zeros(CHUNK, dtype=dt) for k, dt in _FIELDS.items()})
        return self._chunks[c]

    def append(self, **columns: np.ndarray | int | float) -> np.ndarray:
        """Add ``k`` orders (arrays of equal length or scalars); return their ids."""
        k = max(v.size if isinstance(v, np.ndarray) else np.size(v) for v in columns.values())
        ids = np.arange(self.n, self.n + k, dtype=np.int64)
        done = 0
        while done < k:
            pos = self.n + done
            c, off = pos >> CHUNK_BITS, pos & (CHUNK - 1)
            m = min(k - done, CHUNK - off)
            chunk = self._chunk(c)
            for name, value in columns.items():
                v = np.asarray(value)
                chunk[name][off : off + m] = v if v.ndim == 0 else v[done : done + m]
            chunk["status"][off : off + m] = STATUS_IN_TRANSIT
            chunk["delivered_day"][off : off + m] = -1
            done += m
        self.n += k
        return ids

    def _groups(self, ids: np.ndarray) -> list[tuple[int, slice | np.ndarray, np.ndarray]]:
        """(chunk, positions in ``ids``, offsets in the chunk) for each chunk ``ids`` touch,
        in chunk order."""
        ids = np.asarray(ids, dtype=np.int64)
        chunk = ids >> CHUNK_BITS
        lo, hi = (int(chunk.min()), int(chunk.max())) if len(ids) else (0, 0)
        if lo == hi:
            return [(lo, slice(None), ids & (CHUNK - 1))]
        # a day's orders span few chunks: one pass per chunk in range beats sorting
        spanned = range(lo, hi + 1) if hi - lo <= _SCAN_CHUNKS else np.unique(chunk)
        out = []
        for c in spanned:
            sel = np.flatnonzero(chunk == c)
            if len(sel):
                out.append((int(c), sel, ids[sel] & (CHUNK - 1)))
        return out

    def take(self, name: str, ids: np.ndarray) -> np.ndarray:
        """Column ``name`` at order ids ``ids``."""
        return self.take_columns((name,), ids)[name]

    def take_columns(self, names: tuple[str, ...], ids: np.ndarray) -> dict[str, np.ndarray]:
        """Columns ``names`` at order ids ``ids`` (the ids are located once for all)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = {name: np.empty(len(ids), dtype=_FIELDS[name]) for name in names}
        if len(ids) == 0:
            return out
        for c, sel, off in self._groups(ids):
            chunk = self._chunks[c]
            for name in names:
                out[name][sel] = chunk[name][off]
        return out

    def set(self, name: str, ids: np.ndarray, value: np.ndarray | int | float) -> None:
        """Write ``value`` (scalar or one value per id) into column ``name`` at ``ids``."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        v = np.asarray(value)
        for c, sel, off in self._groups(ids):
            self._chunks[c][name][off] = v if v.ndim == 0 else v[sel]

    def set_columns(self, ids: np.ndarray, values: dict[str, np.ndarray]) -> None:
        """:meth:`set` of several columns (one value per id each), the ids located once."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        for c, sel, off in self._groups(ids):
            chunk = self._chunks[c]
            for name, v in values.items():
                chunk[name][off] = v[sel]

    def column(self, name: str) -> np.ndarray:
        """One column over every order taken so far (a copy)."""
        if self.n == 0:
            return np.empty(0, dtype=_FIELDS[name])
        return np.concatenate([ch[name] for ch in self._chunks])[: self.n]

    def status_counts(self) -> dict[str, int]:
        """Orders by status (in transit, delivered and kept, lost, returned, refused)."""
        counts = np.bincount(self.column("status"), minlength=len(ORDER_STATUSES))
        return {name: int(counts[code]) for code, name in enumerate(ORDER_STATUSES)}
