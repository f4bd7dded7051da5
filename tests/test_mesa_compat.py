"""A finished model is freed: Mesa 3.3's agent-id counters no longer keep every model alive."""

from __future__ import annotations

import gc
import weakref

import mesa
import numpy as np

from experiments.files import load_scenario
from experiments.replications import build_model
from tests.helpers import TINY_PATH


def _run_one() -> tuple[weakref.ref, list[int]]:
    model = build_model(load_scenario(TINY_PATH), np.random.SeedSequence([7, 0, 0]), 5)
    model.run()
    return weakref.ref(model), sorted(a.unique_id for a in model.agents)


def test_a_finished_model_is_freed_and_agent_ids_still_count_from_1() -> None:
    ref, ids = _run_one()
    gc.collect()
    assert ref() is None, "the model is still referenced after its run (mesa#3179)"
    assert ids == list(range(1, len(ids) + 1))  # each model's own counter, as in Mesa
    _, again = _run_one()
    assert again == ids
    assert len(mesa.Agent._ids) <= 1  # no entry left behind by finished models
