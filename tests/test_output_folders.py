"""Output folders: owned by one command, one writer (lock), no escape, corruption detected."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from experiments.cli import main
from experiments.compare import compare
from experiments.executors import LocalExecutor
from experiments.files import file_sha256
from experiments.outfolder import LOCK_NAME, acquire_lock, claim_folder, folder_owner
from experiments.replications import path_segment
from experiments.results import OutputPathError, safe_path
from experiments.store import read_manifest
from sim.errors import StorageError
from tests.golden.check import table_hash

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"
DEFAULT = ROOT / "scenarios" / "default.yaml"
VARIANTS = {
    "low": {"pricing": {"name": "cost_plus", "params": {"markup": 0.5}}},
    "high": {"pricing": {"name": "cost_plus", "params": {"markup": 0.7}}},
}
TABLES = ("replications.csv", "summary_ci.csv", "differences.csv", "ranking.csv")


def _run(argv: list[str], capsys) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ------------------------------------------------------------------- ownership (CLI, fast)
def test_out_is_an_existing_file_refused_before_the_run(tmp_path, capsys) -> None:
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    for argv in (
        ["run", str(TINY), "--days", "3"],
        ["run", str(TINY), "--days", "3", "--reps", "2", "--workers", "1"],
        ["compare", str(DEFAULT), "--variants", str(ROOT / "examples/variants.yaml")],
        ["entry", str(ROOT / "examples/entry_options.yaml")],
        ["tune", str(TINY), "--trials", "1"],
    ):
        code, err = _run([*argv, "--out", str(target)], capsys)
        assert code == 2, err
        assert "is a file" in err and "--force" in err and "Traceback" not in err
        assert target.read_text() == "keep me"


def test_folder_with_other_files_refused_and_force_replaces_it(tmp_path, capsys) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("precious")
    code, err = _run(["run", str(TINY), "--days", "3", "--out", str(out)], capsys)
    assert code == 2 and "other files (thesis.tex)" in err
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    code, err = _run(["run", str(TINY), "--days", "3", "--out", str(out), "--force"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["horizon.csv", "kpis.csv", "summary.json"]
    file_out = tmp_path / "was_a_file"
    file_out.write_text("x")
    code, err = _run(["run", str(TINY), "--days", "3", "--out", str(file_out), "--force"], capsys)
    assert code == 0 and (file_out / "kpis.csv").is_file(), err


def test_same_command_reuses_its_folder_another_is_refused(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert _run(["run", str(TINY), "--days", "3", "--out", str(out)], capsys)[0] == 0
    assert folder_owner(out) == "run"
    assert _run(["run", str(TINY), "--days", "4", "--out", str(out)], capsys)[0] == 0
    code, err = _run(["run", str(TINY), "--days", "3", "--reps", "2", "--out", str(out)], capsys)
    assert code == 2 and "results of `marketsim run`, not `run --reps`" in err
    assert not (out / "manifest.json").exists()


def test_compare_into_a_tune_folder_is_refused(tmp_path, capsys) -> None:
    out = tmp_path / "tuned"
    out.mkdir()
    for name in ("trials.csv", "best_strategies.yaml", "study.db"):
        (out / name).write_text("")
    (out / "manifest.json").write_text(json.dumps({"command": "tune", "runs": {}}))
    before = sorted(p.name for p in out.iterdir())
    argv = ["compare", str(DEFAULT), "--variants", str(ROOT / "examples/variants.yaml")]
    code, err = _run([*argv, "--days", "3", "--reps", "1", "--out", str(out)], capsys)
    assert code == 2 and "`marketsim tune`, not `compare`" in err
    assert sorted(p.name for p in out.iterdir()) == before
    with pytest.raises(StorageError, match="tune"):  # the library refuses it as well
        compare(TINY, VARIANTS, reps=1, days=3, out=out)


def test_a_tune_killed_before_its_manifest_is_recognised_from_its_lock(tmp_path) -> None:
    out = tmp_path / "t"
    out.mkdir()
    (out / "study.db").write_text("")
    lock = {"pid": _dead_pid(), "host": socket.gethostname(), "command": "tune"}
    (out / LOCK_NAME).write_text(json.dumps(lock))
    assert folder_owner(out) == "tune"
    claim_folder(out, "tune").release()
    with pytest.raises(StorageError, match="other files"):
        claim_folder(out, "compare")


def test_force_never_replaces_the_working_folder(tmp_path, monkeypatch) -> None:
    (tmp_path / "x").write_text("")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StorageError, match="refusing to replace"):
        claim_folder(tmp_path, "run", force=True)
    assert (tmp_path / "x").exists()


def test_library_writers_check_the_folder_too(tmp_path, clean_compare) -> None:
    from experiments.entry import rank_entry_options
    from experiments.replicate import replicate
    from experiments.simulate import simulate

    with pytest.raises(StorageError, match="`marketsim compare`, not `entry`"):
        rank_entry_options(ROOT / "examples/entry_options.yaml", reps=1, out=clean_compare)
    with pytest.raises(StorageError, match="`marketsim compare`, not `run --reps`"):
        replicate(TINY, 1, days=3, workers=1, out=clean_compare)
    result = simulate(TINY, days=3)
    with pytest.raises(StorageError, match="`marketsim compare`, not `run`"):
        result.write(clean_compare)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("")
    with pytest.raises(StorageError, match="other files"):
        result.write(other)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]


# ---------------------------------------------------------------- --transactions (CLI)
def test_transactions_path_checked_before_the_run(tmp_path, capsys) -> None:
    out = tmp_path / "out"
    folder = tmp_path / "tx_dir"
    folder.mkdir()
    base = ["run", str(TINY), "--days", "3", "--out", str(out)]
    code, err = _run([*base, "--transactions", str(folder)], capsys)
    assert code == 2 and "is a folder" in err
    assert not out.exists()  # refused before the simulation wrote anything
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    code, err = _run([*base, "--transactions", str(link)], capsys)
    assert code == 2 and "symbolic link" in err and not (tmp_path / "elsewhere.csv").exists()
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n")
    code, err = _run([*base, "--transactions", str(other)], capsys)
    assert code == 2 and "not a transaction log" in err and other.read_text() == "a,b\n1,2\n"
    tx = tmp_path / "tx.csv"
    assert _run([*base, "--transactions", str(tx)], capsys)[0] == 0
    assert _run([*base, "--transactions", str(tx)], capsys)[0] == 0  # our own export: replaced
    assert _run([*base, "--transactions", str(other), "--force"], capsys)[0] == 0
    assert other.read_text().startswith("customer_id,region,date,")


# --------------------------------------------------------------------------- one writer
def test_second_writer_refused_and_stale_lock_taken_over(tmp_path, capsys) -> None:
    out = tmp_path / "busy"
    out.mkdir()
    held = acquire_lock(out, "run")  # this (live) process writes the folder
    try:
        code, err = _run(["run", str(TINY), "--days", "3", "--out", str(out)], capsys)
        assert code == 2 and "is being written by `marketsim run`" in err
        assert f"pid {os.getpid()}" in err
    finally:
        held.release()
    assert not (out / LOCK_NAME).exists()
    stale = {"pid": _dead_pid(), "host": socket.gethostname(), "command": "run"}
    (out / LOCK_NAME).write_text(json.dumps(stale))
    code, err = _run(["run", str(TINY), "--days", "3", "--out", str(out)], capsys)
    assert code == 0, err
    assert not (out / LOCK_NAME).exists()  # released after the run
    live = {"pid": os.getppid(), "host": socket.gethostname(), "command": "run"}
    (out / LOCK_NAME).write_text(json.dumps(live))  # a live process: refused
    with pytest.raises(StorageError, match="is being written"):
        claim_folder(out, "run")
    (out / LOCK_NAME).write_text(json.dumps({**live, "pid_start": "1"}))  # pid reused since
    claim_folder(out, "run").release()
    other_host = {"pid": _dead_pid(), "host": "elsewhere.invalid", "command": "run"}
    (out / LOCK_NAME).write_text(json.dumps(other_host))  # cannot tell: refused
    with pytest.raises(StorageError, match=r"elsewhere\.invalid"):
        claim_folder(out, "run")


# ------------------------------------------------------------------------------ escapes
@pytest.mark.parametrize(
    "relative", ["../escape.csv", "runs/../../escape.csv", "/tmp/escape.csv", "a/../../x"]
)
def test_safe_path_refuses_paths_leaving_the_folder(tmp_path, relative) -> None:
    with pytest.raises(OutputPathError):
        safe_path(tmp_path / "out", relative)


def test_symlink_inside_the_folder_cannot_lead_out(tmp_path) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside"
    out.mkdir()
    outside.mkdir()
    (out / "runs").symlink_to(outside, target_is_directory=True)
    (out / "kpis.csv").symlink_to(outside / "kpis.csv")
    for relative in ("runs/x/part-0.parquet", "kpis.csv"):
        with pytest.raises(OutputPathError):
            safe_path(out, relative)
    (out / "manifest.json").write_text(json.dumps({"command": "compare", "runs": {}}))
    with pytest.raises(StorageError, match="outside"):
        compare(TINY, VARIANTS, reps=1, days=3, workers=1, out=out)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "segment"),
    [("low", "low"), ("a/b", "a%2Fb"), ("..", "%2E%2E"), (".", "%2E"), ("/etc", "%2Fetc")],
)
def test_names_from_input_files_become_one_path_segment(name, segment) -> None:
    assert path_segment(name) == segment


def test_odd_variant_names_stay_inside_and_read_back(tmp_path) -> None:
    out = tmp_path / "out"
    odd = {"../../evil": VARIANTS["low"], "a/b=c d": VARIANTS["high"]}
    result = compare(TINY, odd, reps=1, days=3, workers=1, out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    runs = pd.read_parquet(out / "runs")
    assert set(runs["variant"].astype(str)) == set(odd)
    assert set(result.ranking["variant"]) == set(odd)


# ------------------------------------------------------------------------ corruption
@pytest.fixture(scope="module")
def clean_compare(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "out"
    with LocalExecutor(1) as ex:
        compare(TINY, VARIANTS, reps=2, days=10, executor=ex, out=out)
    return out


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: pd.read_csv(out / name) for name in TABLES}


def test_corrupt_replication_files_are_recomputed_with_a_warning(
    tmp_path, clean_compare, caplog
) -> None:
    out = _copy(clean_compare, tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["outputs"]) == sorted([*TABLES, "summary.json", "timeseries.csv"])
    for name, digest in manifest["outputs"].items():
        assert file_sha256(out / name) == digest
    runs = manifest["runs"]
    files = [out / e["file"] for e in runs.values()]
    assert all(len(e["sha256"]) == 64 for e in runs.values())
    data = files[0].read_bytes()
    files[0].write_bytes(data[: len(data) // 2])  # truncated
    altered = bytearray(files[1].read_bytes())
    altered[len(altered) // 2] ^= 0xFF
    files[1].write_bytes(bytes(altered))  # altered
    shutil.copyfile(files[3], files[2])  # foreign: a readable table of another replication
    untouched = files[3].stat().st_mtime_ns
    with caplog.at_level(logging.WARNING, logger="experiments.store"):
        compare(TINY, VARIANTS, reps=2, days=10, workers=1, out=out)
    warned = [r.getMessage() for r in caplog.records if "recomputing" in r.getMessage()]
    assert len(warned) == 3, warned
    assert files[3].stat().st_mtime_ns == untouched  # sound files reused
    for name, frame in _tables(clean_compare).items():
        pd.testing.assert_frame_equal(_tables(out)[name], frame, check_exact=True, obj=name)


@pytest.mark.parametrize(
    "manifest", ['{"command": "compare", "runs": []}', '{"command": "compare", "runs": null}', "{"]
)
def test_manifest_of_the_wrong_shape_is_treated_as_empty(
    tmp_path, clean_compare, caplog, manifest
) -> None:
    out = _copy(clean_compare, tmp_path / "out")
    (out / "manifest.json").write_text(manifest)
    with caplog.at_level(logging.WARNING, logger="experiments.store"):
        assert read_manifest(out / "manifest.json")["runs"] == {}
    assert "recomputing every replication" in caplog.text
    compare(TINY, VARIANTS, reps=2, days=10, workers=1, out=out)
    assert len(json.loads((out / "manifest.json").read_text())["runs"]) == 4
    for name, frame in _tables(clean_compare).items():
        pd.testing.assert_frame_equal(_tables(out)[name], frame, check_exact=True, obj=name)


# ------------------------------------------------------------------------------ kill -9
def _spawn(argv: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", *argv],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: SIGKILL reaches the workers too
    )


def _finished(out: Path) -> dict[str, tuple[int, str]]:
    """Per stored replication: (file mtime, manifest finish time)."""
    try:
        runs = read_manifest(out / "manifest.json")["runs"]  # with the journal
    except (OSError, ValueError, KeyError):
        return {}
    return {k: ((out / e["file"]).stat().st_mtime_ns, e["finished"]) for k, e in runs.items()}


def _kill_after(argv: list[str], out: Path, runs: int) -> dict[str, tuple[int, str]]:
    """Start ``marketsim argv``, SIGKILL its process group once ``runs`` replications are
    stored; return what was stored before the kill."""
    proc = _spawn(argv)
    deadline = time.time() + 180
    try:
        while time.time() < deadline and proc.poll() is None:
            if len(_finished(out)) >= runs:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"finished before {runs} replications; make it longer"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (out / LOCK_NAME).exists()  # left behind by the killed process: stale
    return _finished(out)


def _assert_reused(before: dict[str, tuple[int, str]], out: Path) -> None:
    after = _finished(out)
    changed = [k for k, v in before.items() if after.get(k) != v]
    assert not changed, f"recomputed: {changed}"


def test_compare_killed_at_1_3_5_replications_resumes_to_identical_tables(tmp_path) -> None:
    variants = tmp_path / "variants.yaml"
    variants.write_text(
        "variants:\n"
        "  - {name: low, pricing: {name: cost_plus, params: {markup: 0.5}}}\n"
        "  - {name: high, pricing: {name: cost_plus, params: {markup: 0.7}}}\n"
    )
    base = ["compare", str(TINY), "--variants", str(variants), "--reps", "6", "--days", "30"]
    out = tmp_path / "killed"
    argv = [*base, "--workers", "1", "--out", str(out)]
    stored: dict[str, tuple[int, str]] = {}
    for point in (1, 3, 5):
        now = _kill_after(argv, out, max(point, len(stored) + 1))
        _assert_reused(stored, out)
        print(f"compare killed after {len(now)} stored replications; none recomputed")
        stored = now
    assert not (out / "summary.json").exists()
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", *argv], cwd=ROOT, capture_output=True, check=False
    )
    assert done.returncode == 0
    _assert_reused(stored, out)
    assert len(_finished(out)) == 12 and not (out / LOCK_NAME).exists()
    fresh = tmp_path / "fresh"
    cmd = [sys.executable, "-m", "experiments.cli", *base, "--workers", "2", "--out", str(fresh)]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False).returncode == 0
    for name in (*TABLES, "timeseries.csv"):
        assert table_hash(out / name) == table_hash(fresh / name), name


def test_tune_killed_twice_resumes_without_recomputing(tmp_path) -> None:
    out = tmp_path / "tune"
    argv = [
        "tune", str(TINY), "--trials", "4", "--reps", "2", "--days", "30",
        "--tune", str(ROOT / "examples/tune.yaml"), "--workers", "1",
        "--heartbeat", "1", "--grace", "2", "--out", str(out),
    ]  # fmt: skip
    stored: dict[str, tuple[int, str]] = {}
    for point in (2, 5):
        now = _kill_after(argv, out, max(point, len(stored) + 1))
        _assert_reused(stored, out)
        print(f"tune killed after {len(now)} stored replications; none recomputed")
        stored = now
    cmd = [sys.executable, "-m", "experiments.cli", *argv]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False).returncode == 0
    _assert_reused(stored, out)
    trials = pd.read_csv(out / "trials.csv")
    assert (trials["state"] == "COMPLETE").sum() == 4
    hashes = {name: table_hash(out / name) for name in ("trials.csv", "best_strategies.yaml")}
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False).returncode == 0
    assert {name: table_hash(out / name) for name in hashes} == hashes  # nothing new, same tables
