"""Mesa 3.3's per-model agent-id counters held weakly, so a finished model can be freed.

``mesa.Agent._ids`` is a class-level ``defaultdict`` keyed by model: every model ever built
stays referenced by it for the life of the process (mesa issue #3179, fixed upstream by
PR #3180 after 3.3.1). A process that runs many models one after another (``marketsim check``
with one worker ran out of memory at 12 GB; the app server; a local executor's workers) then
keeps every model's consumer arrays. :func:`install` replaces the mapping by one with the same
behaviour (a counter from 1 per model) whose keys are weak references: agent ids are unchanged,
and a model no longer referenced elsewhere is freed. A Mesa without ``Agent._ids`` (fixed) is
left alone.
"""

from __future__ import annotations

import itertools
import weakref
from collections import defaultdict
from typing import Any

import mesa


class WeakIdCounters(weakref.WeakKeyDictionary):
    """``{model: itertools.count(1)}`` with weakly held models; a missing model gets a new
    counter, as the ``defaultdict`` it replaces."""

    def __getitem__(self, model: Any) -> Any:
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


def install() -> None:
    """Hold Mesa's agent-id counters weakly (idempotent; keeps counters already handed out)."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, defaultdict):
        weak = WeakIdCounters()
        for model, counter in ids.items():
            weak[model] = counter
        mesa.Agent._ids = weak
