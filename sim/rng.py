"""Named random streams derived from one `numpy.random.SeedSequence` per run."""

from __future__ import annotations

import zlib

import numpy as np

SeedLike = int | np.random.SeedSequence


def as_seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """Accept an int seed or an existing SeedSequence (e.g. ``SeedSequence([seed, s, k])``)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative int or a SeedSequence, got {seed!r}")
    return np.random.SeedSequence(int(seed))


class RandomStreams:
    """Independent generators keyed by a name and optional integers.

    A stream's seed depends only on the run's root ``SeedSequence`` and its key, never on the
    order in which streams are requested, so adding a mechanism does not shift the draws of
    the others (which keeps common random numbers aligned across strategy variants).
    """

    def __init__(self, seed: SeedLike):
        self.root = as_seed_sequence(seed)
        self._cache: dict[tuple[str, tuple[int, ...]], np.random.Generator] = {}

    def seed_sequence(self, name: str, *keys: int) -> np.random.SeedSequence:
        """The child SeedSequence for ``(name, *keys)``."""
        tag = zlib.crc32(name.encode("utf-8"))
        return np.random.SeedSequence(
            entropy=self.root.entropy,
            spawn_key=(*self.root.spawn_key, tag, *(int(k) for k in keys)),
            pool_size=self.root.pool_size,
        )

    def get(self, name: str, *keys: int) -> np.random.Generator:
        """The generator for ``(name, *keys)``; the same object on every call."""
        key = (name, tuple(int(k) for k in keys))
        gen = self._cache.get(key)
        if gen is None:
            gen = np.random.Generator(np.random.PCG64(self.seed_sequence(name, *keys)))
            self._cache[key] = gen
        return gen
