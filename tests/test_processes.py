"""Bounded resources and process hygiene: capped worker counts, no worker outliving a killed
or terminated command, internal errors without tracebacks, quiet broken pipes."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import experiments.cli.validate as validate_cli
from experiments.cli.main import (
    EXIT_INTERNAL,
    EXIT_TERMINATED,
    Terminated,
    main,
    sigterm_as_interrupt,
)
from experiments.executors import (
    WORKER_MEMORY_BYTES,
    LocalExecutor,
    capped_workers,
    usable_cores,
    worker_limit,
)
from sim.validation import memory_limit_bytes
from tests.helpers import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"
MARKETSIM = [sys.executable, "-m", "experiments.cli"]
GONE_WITHIN_S = 10.0


# ============================================================================ /proc helpers
def _parents() -> dict[int, list[int]]:
    """Children of every process, from /proc/<pid>/stat."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # ended while we looked
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, grandchildren, ...)."""
    kids, found, todo = _parents(), [], [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_long_compare(tmp_path: Path, workers: str, *extra: str) -> subprocess.Popen:
    variants = tmp_path / "variants.yaml"
    variants.write_text(VARIANTS)
    args = ["compare", str(TINY), "--variants", str(variants), "--reps", "2000"]
    args += ["--days", "60", "--workers", workers, "--out", str(tmp_path / "out"), *extra]
    return subprocess.Popen(
        [*MARKETSIM, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _wait_for_descendants(proc: subprocess.Popen, count: int, timeout: float = 120) -> list[int]:
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        found = descendants(proc.pid)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    proc.kill()
    pytest.fail(f"compare never had {count} child processes: {proc.communicate()[1]}")


def _signal_and_wait(
    proc: subprocess.Popen, sig: signal.Signals, children: list[int], label: str
) -> str:
    """Send ``sig`` to the command; assert ``children`` are all gone within GONE_WITHIN_S."""
    os.kill(proc.pid, sig)
    sent = time.perf_counter()
    _, stderr = proc.communicate(timeout=60)
    while time.perf_counter() - sent < GONE_WITHIN_S and any(map(running, children)):
        time.sleep(0.05)
    elapsed = time.perf_counter() - sent
    left = [pid for pid in children if running(pid)]
    for pid in left:  # do not leak them into the rest of the suite
        os.kill(pid, signal.SIGKILL)
    print(f"{label} {sig.name}: {len(children)} children gone after {elapsed:.1f} s")
    assert not left, f"still running {GONE_WITHIN_S} s after {sig.name}: {left}"
    return stderr


# ============================================================================ worker caps
def test_worker_limit_is_bounded_by_cores_and_memory() -> None:
    assert 1 <= worker_limit() <= usable_cores()
    assert worker_limit() <= memory_limit_bytes() // WORKER_MEMORY_BYTES or worker_limit() == 1
    assert worker_limit(memory_per_worker=memory_limit_bytes()) == 1
    assert capped_workers(None) == worker_limit()
    assert capped_workers(1) == 1


def test_huge_worker_request_is_capped_with_one_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="experiments.executors"):
        pool = LocalExecutor(1024)
    assert pool.workers == worker_limit() <= usable_cores()
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "1024 workers requested" in warnings[0], warnings
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="experiments.executors"):
        assert LocalExecutor(1).workers == 1
    assert not caplog.records  # nothing to say when the request fits


def test_cli_huge_worker_request_starts_at_most_the_cap(tmp_path) -> None:
    """`--workers 1024` once started 236 processes: now the pool never exceeds the cap."""
    proc = _start_long_compare(tmp_path, "1024")
    try:
        _wait_for_descendants(proc, 2 + worker_limit())  # fork server, tracker, workers
        time.sleep(3)  # the pool starts workers as tasks are submitted: give it time to grow
        peak = len(descendants(proc.pid))
    finally:
        proc.kill()
        _, stderr = proc.communicate(timeout=30)
    assert peak <= 2 + worker_limit(), peak
    if worker_limit() < 1024:
        assert stderr.count("workers requested") == 1, stderr


# ============================================================================ parent death
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_children_end_with_their_command(tmp_path, sig) -> None:
    """Fork server, resource tracker and both workers are gone within seconds of the
    `compare` process being killed (SIGKILL) or terminated (SIGTERM: exit 143)."""
    proc = _start_long_compare(tmp_path, "2")
    children = _wait_for_descendants(proc, 4)  # fork server, resource tracker, 2 workers
    stderr = _signal_and_wait(proc, sig, children, "local")
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == EXIT_TERMINATED, stderr
        assert "marketsim: terminated" in stderr and "Traceback" not in stderr


def test_local_dask_cluster_ends_with_its_command(tmp_path) -> None:
    """The local Dask cluster's worker processes exit with a SIGKILLed `compare` too."""
    pytest.importorskip("distributed")
    proc = _start_long_compare(tmp_path, "2", "--executor", "dask")
    children = _wait_for_descendants(proc, 3)  # resource tracker, 2 Dask workers
    time.sleep(2)  # the workers are computing
    _signal_and_wait(proc, signal.SIGKILL, children, "dask")


def test_sigterm_raises_terminated_and_the_handler_is_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at the next bytecode; never reached
    assert signal.getsignal(signal.SIGTERM) == before


# ============================================================================ error reporting
def _broken_strategies(args) -> int:
    raise RuntimeError("boom from a test")


def test_internal_error_is_one_line_without_debug(monkeypatch, capsys) -> None:
    monkeypatch.setattr(validate_cli, "cmd_strategies", _broken_strategies)
    assert main(["strategies"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: boom from a test" in err
    assert "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="boom from a test"):
        main(["--debug", "strategies"])


def test_internal_error_traceback_only_with_debug() -> None:
    script = (
        "import sys\n"
        "import experiments.cli.validate as v\n"
        "from experiments.cli.main import main\n"
        "def broken(args):\n"
        "    raise RuntimeError('boom from a test')\n"
        "v.cmd_strategies = broken\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    quiet = subprocess.run(
        [sys.executable, "-c", script, "strategies"], cwd=ROOT, capture_output=True, text=True
    )
    assert quiet.returncode == EXIT_INTERNAL and "Traceback" not in quiet.stderr, quiet.stderr
    loud = subprocess.run(
        [sys.executable, "-c", script, "--debug", "strategies"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert loud.returncode == 1 and "Traceback" in loud.stderr, loud.stderr
    assert "RuntimeError: boom from a test" in loud.stderr


def test_strategies_piped_into_head_exits_cleanly() -> None:
    marketsim = " ".join(MARKETSIM)
    res = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{marketsim} strategies | head -1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 1 and res.stderr == ""


def test_reader_gone_before_output_is_not_an_error() -> None:
    """The reader closed its end before anything was written: every write breaks."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        res = subprocess.run(
            [*MARKETSIM, "strategies"], cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE
        )
    finally:
        os.close(write_end)
    assert res.returncode == 0 and res.stderr == b"", res.stderr


def test_workers_are_capped_by_the_memory_their_scenario_needs(tmp_path) -> None:
    import argparse

    import yaml

    from experiments.cli.common import open_executor, planned_worker_bytes
    from experiments.executors import RUN_MEMORY_FACTOR
    from sim.validation import BYTES_PER_CONSUMER
    from tests.helpers import TINY_PATH

    data = yaml.safe_load(TINY_PATH.read_text(encoding="utf-8"))
    # a market whose runs need 0.6 x the memory budget: one worker fits, two do not
    per_consumer = RUN_MEMORY_FACTOR * BYTES_PER_CONSUMER
    data["regions"][0]["population"] = int(0.6 * memory_limit_bytes() / per_consumer)
    big = tmp_path / "big.yaml"
    big.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert planned_worker_bytes([big]) > memory_limit_bytes() // 2
    assert planned_worker_bytes([big], scale=0.01) < planned_worker_bytes([big]) // 10
    assert planned_worker_bytes([tmp_path / "missing.yaml"]) == WORKER_MEMORY_BYTES
    flags = argparse.Namespace(executor="local", workers=8, scheduler=None)
    with open_executor(flags, [TINY_PATH, big]) as pool:
        assert pool.workers == 1
    with open_executor(flags, [TINY_PATH]) as pool:
        assert pool.workers == min(8, worker_limit())


def test_entry_and_explore_plan_workers_for_their_scenarios(tmp_path) -> None:
    """entry and explore planned 256 MiB a worker whatever their scenario (before: the
    executor's default); now the base scenario's estimate, and for explore the largest
    future an uncertainty's range allows."""
    import yaml

    from experiments.entry import planned_worker_bytes as entry_bytes
    from experiments.executors import scenario_worker_bytes
    from experiments.explore.workflow import planned_worker_bytes as explore_bytes
    from experiments.files import load_scenario

    root = Path(__file__).resolve().parents[1]
    default = load_scenario(root / "scenarios" / "default.yaml")
    planned = scenario_worker_bytes([default])
    assert planned > WORKER_MEMORY_BYTES
    assert entry_bytes(root / "examples" / "entry_options.yaml") == planned
    uncertain = {
        "scenario": str(root / "scenarios" / "default.yaml"),
        "uncertainties": [
            {
                "name": "duty",
                "path": "regions[ID].tax.duty_rate",
                "dist": "uniform",
                "low": 0.0,
                "high": 0.4,
            }
        ],
    }
    path = tmp_path / "u.yaml"
    path.write_text(yaml.safe_dump(uncertain), encoding="utf-8")
    assert explore_bytes(path) == planned  # a duty rate does not grow the market
    uncertain["uncertainties"].append(
        {
            "name": "size",
            "path": "regions[*].population",
            "apply": "multiply",
            "dist": "uniform",
            "low": 0.5,
            "high": 3.0,
        }
    )
    path.write_text(yaml.safe_dump(uncertain), encoding="utf-8")
    grown = explore_bytes(path) - WORKER_MEMORY_BYTES
    assert 2.5 * (planned - WORKER_MEMORY_BYTES) < grown <= 3.0 * (planned - WORKER_MEMORY_BYTES)
