"""Replications: common random numbers, worker-count invariance, resume after SIGKILL, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.cli import main
from experiments.executors import LocalExecutor
from experiments.files import file_sha256, load_scenario
from experiments.replications import ReplicationTask, run_replications, with_strategies
from experiments.stats import replication_totals
from experiments.store import read_manifest
from tests.helpers import VARIANTS

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "scenarios" / "tiny.yaml"


def _profits(seed_offset_b: int, reps: int = 30) -> tuple[np.ndarray, np.ndarray]:
    scenario = load_scenario(TINY)
    sha = file_sha256(TINY)
    a = with_strategies(scenario, {"pricing": {"name": "cost_plus", "params": {"markup": 0.5}}})
    b = with_strategies(scenario, {"pricing": {"name": "cost_plus", "params": {"markup": 0.7}}})
    tasks = [ReplicationTask(a, 0, sha, "a", k, 7, 30) for k in range(reps)]
    tasks += [ReplicationTask(b, 0, sha, "b", k + seed_offset_b, 7, 30) for k in range(reps)]
    res = run_replications(tasks, LocalExecutor(2))
    per = replication_totals({(t.variant, t.rep): res[t.key] for t in tasks}, ("variant", "rep"))
    per = per[per["region"] == "ALL"]
    pa = per[per["variant"] == "a"].sort_values("rep")["net_profit_base"].to_numpy()
    pb = per[per["variant"] == "b"].sort_values("rep")["net_profit_base"].to_numpy()
    return pa, pb


def test_common_random_numbers_reduce_variance() -> None:
    """Var(A - B) with shared seeds is well below Var(A - B) with independent seeds.

    30 paired replications of tiny.yaml (30 days), markups 0.5 vs 0.7. With 29 degrees of
    freedom each, a ratio of sample variances has a 95% range of about x0.48 to x2.1 around
    the true ratio, so the bound is 0.5 ("well below" 1); measured 0.13.
    """
    a, b = _profits(0)
    a2, b2 = _profits(1000)
    var_crn = np.var(a - b, ddof=1)
    var_ind = np.var(a2 - b2, ddof=1)
    ratio = var_crn / var_ind
    print(f"Var(A-B) CRN {var_crn:,.0f} vs independent {var_ind:,.0f}: ratio {ratio:.3f}")
    assert ratio < 0.5, f"CRN variance ratio {ratio:.3f} (CRN {var_crn:.0f}, indep {var_ind:.0f})"


def _compare(out: Path, workers: int, reps: int = 4) -> int:
    variants = out.parent / "variants.yaml"
    variants.write_text(VARIANTS)
    return main(
        [
            "compare",
            str(TINY),
            "--variants",
            str(variants),
            "--reps",
            str(reps),
            "--days",
            "30",
            "--workers",
            str(workers),
            "--out",
            str(out),
        ]
    )


def test_one_and_two_workers_identical(tmp_path: Path) -> None:
    assert _compare(tmp_path / "w1", 1) == 0
    assert _compare(tmp_path / "w2", 2) == 0
    for name in ("replications.csv", "differences.csv", "ranking.csv", "summary_ci.csv"):
        a = pd.read_csv(tmp_path / "w1" / name)
        b = pd.read_csv(tmp_path / "w2" / name)
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_resume_after_sigkill_reuses_finished_replications(tmp_path: Path) -> None:
    """Kill a running compare with SIGKILL, rerun: finished replications are reused and the
    final tables equal an uninterrupted run."""
    variants = tmp_path / "variants.yaml"
    variants.write_text(VARIANTS)
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "experiments.cli",
        "compare",
        str(TINY),
        "--variants",
        str(variants),
        "--reps",
        "12",
        "--days",
        "60",
        "--workers",
        "1",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "manifest.json"
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and proc.poll() is None:
        if manifest.exists():
            try:
                done = len(read_manifest(manifest)["runs"])
            except (json.JSONDecodeError, KeyError):
                done = 0
            if done >= 3:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "compare finished before it could be killed; make it longer"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    runs = read_manifest(manifest)["runs"]  # manifest.json and its journal
    assert 3 <= len(runs) < 24
    assert not (out / "summary.json").exists()
    before = {k: (out / v["file"]).stat().st_mtime_ns for k, v in runs.items()}
    assert _run(cmd) == 0
    after = json.loads(manifest.read_text())["runs"]
    assert len(after) == 24
    for key, mtime in before.items():  # reused, not recomputed
        assert (out / after[key]["file"]).stat().st_mtime_ns == mtime
    fresh = tmp_path / "fresh"
    assert _run([*cmd[:-1], str(fresh)]) == 0
    for name in ("replications.csv", "differences.csv", "ranking.csv"):
        pd.testing.assert_frame_equal(
            pd.read_csv(out / name), pd.read_csv(fresh / name), check_exact=True
        )


def _run(cmd: list[str]) -> int:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False).returncode


@pytest.mark.parametrize(
    ("variants", "extra", "message"),
    [
        ("variants: []\n", [], "empty"),
        ("variants:\n  - name: a\n    pricing: {name: nope}\n", [], "unknown pricing strategy"),
        (
            "variants:\n  - name: a\n    pricing: {name: cost_plus, params: {markup: -1}}\n",
            [],
            "variants[0].pricing.params.markup",
        ),
        ("variants:\n  - {name: a}\n  - {name: a}\n", [], "duplicate variant"),
        ("baseline: zz\nvariants:\n  - {name: a}\n", [], "baseline"),
        ("variants:\n  - {name: a}\n", ["--kpi", "happiness"], "unknown KPI"),
        ("variants: [", [], "invalid YAML"),
    ],
)
def test_bad_compare_input_exits_2(tmp_path, capsys, variants, extra, message) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(variants)
    out = tmp_path / "out"
    code = main(["compare", str(TINY), "--variants", str(path), "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not (out / "summary.json").exists()


def test_run_reps_reports_confidence_intervals(tmp_path: Path) -> None:
    out = tmp_path / "reps"
    assert (
        main(["run", str(TINY), "--reps", "3", "--days", "20", "--workers", "1", "--out", str(out)])
        == 0
    )
    summary = pd.read_csv(out / "summary_ci.csv")
    row = summary[(summary["region"] == "ALL") & (summary["kpi"] == "revenue_base")].iloc[0]
    assert row["n"] == 3 and row["low"] <= row["mean"] <= row["high"]
    per_rep = pd.read_csv(out / "replications.csv")
    revenue = per_rep[per_rep["region"] == "ALL"]["revenue_base"]
    assert row["mean"] == pytest.approx(revenue.mean())
    manifest = json.loads((out / "manifest.json").read_text())
    assert {tuple(r["seed_entropy"]) for r in manifest["runs"].values()} == {
        (7, 0, 0),
        (7, 0, 1),
        (7, 0, 2),
    }
    assert "numpy" in manifest["package_versions"]
