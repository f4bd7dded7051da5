"""The result store's journal: one line per finished run, folded into manifest.json rarely."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

import experiments.store
from experiments.files import load_scenario
from experiments.replications import ReplicationTask, run_task
from experiments.store import JOURNAL, ResultStore, read_manifest
from tests.helpers import TINY_PATH


@pytest.fixture(scope="module")
def finished() -> tuple[list[ReplicationTask], object]:
    """Tasks of one tiny scenario and one real result (stored under every task's key)."""
    scenario = load_scenario(TINY_PATH)
    tasks = [ReplicationTask(scenario, 0, "ab" * 32, "v", rep, 7, 5) for rep in range(40)]
    return tasks, run_task(tasks[0])


class CountingStore(ResultStore):
    """Counts manifest rewrites."""

    rewrites = 0

    def save(self) -> None:
        type(self).rewrites += 1
        super().save()


def test_every_run_is_recorded_at_once_and_the_manifest_rewritten_rarely(
    tmp_path: Path, finished, monkeypatch
) -> None:
    tasks, result = finished
    monkeypatch.setattr(experiments.store, "JOURNAL_MIN_LINES", 8)  # 256 in use
    CountingStore.rewrites = 0
    store = CountingStore.open(tmp_path, "compare", {})
    for n, task in enumerate(tasks, start=1):
        store.save_result(task, result)
        if n in (1, 7, 9, 31, 33, len(tasks)):
            # what a resumed command would find if this one were killed now
            assert len(read_manifest(tmp_path / "manifest.json")["runs"]) == n
    # one rewrite at open, then at 8, 16 and 32 runs (the journal holds at least 8 entries
    # and half the manifest's): 4 rewrites for 40 runs, where one per run made it quadratic
    assert CountingStore.rewrites == 4
    store.save()  # the command ends: the journal is folded in and removed
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert len(on_disk["runs"]) == len(tasks) and not (tmp_path / JOURNAL).exists()
    assert store.load(tasks[-1]) is not None


def test_a_cut_journal_line_is_skipped_and_that_run_recomputed(
    tmp_path: Path, finished, caplog
) -> None:
    tasks, result = finished
    store = ResultStore.open(tmp_path, "compare", {})
    for task in tasks[:3]:
        store.save_result(task, result)
    journal = tmp_path / JOURNAL
    text = journal.read_text()
    journal.write_text(text[: len(text) - 40])  # a kill in the middle of the last line
    with caplog.at_level(logging.WARNING, logger="experiments.store"):
        reopened = ResultStore.open(tmp_path, "compare", {})
    assert "1 damaged line(s) skipped" in caplog.text
    assert [reopened.load(t) is not None for t in tasks[:3]] == [True, True, False]
    assert not journal.exists()  # folded into manifest.json when the store was reopened
    assert len(json.loads((tmp_path / "manifest.json").read_text())["runs"]) == 2
