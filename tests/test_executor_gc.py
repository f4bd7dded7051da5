"""Executors free each task's model before the next task, so dead models (reference cycles
holding hundreds of MB of arrays) do not pile up in a long-lived worker or in the driver."""

from __future__ import annotations

import gc
import os
import weakref
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from experiments.executors import LocalExecutor, usable_cores
from experiments.replications import build_model
from sim.model import MarketModel
from tests.helpers import make_scenario

DAYS = 20  # a short run: the model's size, not its horizon, is what is freed
SEEDS = list(range(6))  # more tasks than workers: every worker runs several in turn


def _run_tiny(seed: int) -> tuple[MarketModel, pd.DataFrame]:
    model = build_model(make_scenario(), np.random.SeedSequence(seed), DAYS)
    return model, model.run()


def models_left_then_run(seed: int) -> tuple[int, int, pd.DataFrame]:
    """In a pool worker, with Python's automatic collection off (only the executor frees
    cycles): the worker's pid, the models earlier tasks left in memory, and one tiny run's
    KPI table."""
    gc.disable()
    left = sum(1 for o in gc.get_objects() if isinstance(o, MarketModel))
    return os.getpid(), left, _run_tiny(seed)[1]


def test_in_process_task_model_is_freed_when_the_task_returns() -> None:
    """workers=1 runs in the driver: the task's model is gone once its result is yielded
    (fails without the executor's collection: the model's own cycles keep it alive)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        with LocalExecutor(1) as ex:
            out = list(ex.map_unordered(lambda s: weakref.ref(_run_tiny(s)[0]), [1]))
        assert out[0][1]() is None
    finally:
        if was_enabled:
            gc.enable()


def test_pool_workers_start_each_task_without_earlier_models() -> None:
    """Two pool workers, six tasks: no task finds a model of an earlier task in its worker
    (fails without the executor's collection), and every KPI table equals the in-process
    run of the same seed (collecting garbage changes no result)."""
    if usable_cores() < 2:
        pytest.skip("a pool of two workers needs two usable cores")
    with LocalExecutor(2) as ex:
        assert ex.workers == 2
        got = {seed: res for seed, res in ex.map_unordered(models_left_then_run, SEEDS)}
    tasks_per_worker = Counter(pid for pid, _, _ in got.values())
    assert max(tasks_per_worker.values()) >= 2  # a worker ran tasks in turn: the test can fail
    assert os.getpid() not in tasks_per_worker
    assert {seed: left for seed, (_, left, _) in got.items()} == dict.fromkeys(SEEDS, 0)
    for seed in SEEDS:
        pd.testing.assert_frame_equal(got[seed][2], _run_tiny(seed)[1])
