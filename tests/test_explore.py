"""`explore`: CRN across options, worker invariance, resume after kill -9, ranking, OCBA."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marketsim
from experiments.explore import ExploreResult, explore
from experiments.explore.result import TABLES
from experiments.explore.robust import ocba, ocba_allocation, robust_table
from experiments.outputs import command_of, outputs_of, read_summary, read_table
from experiments.store import read_manifest
from tests.golden.check import table_hash
from tests.helpers import ROOT, TINY_PATH, VARIANTS

UNCERTAINTIES = f"""scenario: {TINY_PATH}
uncertainties:
  - {{name: duty, path: "regions[XA].tax.duty_rate", dist: uniform, low: 0.0, high: 1.0}}
  - {{name: wom, path: "regions[*].awareness.q_daily", dist: uniform, low: 0.01, high: 0.2}}
  - {{name: customs_hours, path: "lanes[cn-xa-air].stages[customs].service_hours.mean",
      dist: uniform, low: 2, high: 100}}
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    u, v = tmp_path / "u.yaml", tmp_path / "v.yaml"
    u.write_text(UNCERTAINTIES)
    v.write_text(VARIANTS)
    return u, v


def _tables(out: Path) -> dict[str, str]:
    return {t.name: table_hash(out / t.name) for t in TABLES}


def test_identical_for_one_and_two_workers_and_paired_by_future(files, tmp_path: Path) -> None:
    u, v = files
    one = explore(u, variants=v, futures=4, days=15, workers=1, out=tmp_path / "one")
    two = explore(u, variants=v, futures=4, days=15, workers=2, out=tmp_path / "two")
    assert _tables(tmp_path / "one") == _tables(tmp_path / "two")
    assert isinstance(one, ExploreResult) and one.robust.equals(two.robust)
    out = one.outcomes
    assert len(out) == 8 and set(out["option"]) == {"low", "high"}
    # every future's values reached the model: the futures' scenarios all differ
    assert out.groupby("option")["scenario"].nunique().tolist() == [4, 4]
    for table in TABLES:
        read_table(tmp_path / "one", table, families={"factor": ["duty"], "kpi": ["units"]})
    _assert_declared(tmp_path / "one", factor=list(one.futures.columns), kpi=_kpis(one))
    manifest = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert {e["seed_entropy"][1] for e in manifest["runs"].values()} == {0}  # CRN everywhere
    assert manifest["command"] == "explore" and len(manifest["runs"]) == 8


def _kpis(res: ExploreResult) -> list[str]:
    fixed = {"fidelity", "future", "option", "scenario", "reps"}
    return [c for c in res.outcomes.columns if c not in fixed]


def _assert_declared(out: Path, **families: list[str]) -> None:
    """What explore wrote is what `outputs_of("explore")` declares (columns, summary keys)."""
    declared = outputs_of("explore")
    written = [t for t in declared.tables if (out / t.name).exists()]
    assert {t.name for t in TABLES} <= {t.name for t in written}
    for table in written:
        assert list(pd.read_csv(out / table.name, nrows=0).columns) == table.names(**families)
        read_table(out, table, families=families)
    summary = read_summary(out)
    assert {k.name for k in declared.summary} <= set(summary)
    assert command_of(summary, out) == "explore"


def _stored(out: Path) -> dict[str, tuple[int, str]]:
    try:
        runs = read_manifest(out / "manifest.json")["runs"]  # with the journal
    except (OSError, ValueError, KeyError):
        return {}
    return {k: ((out / e["file"]).stat().st_mtime_ns, e["finished"]) for k, e in runs.items()}


def test_resumes_after_kill_9_to_identical_tables(files, tmp_path: Path) -> None:
    u, v = files
    base = ["explore", str(u), "--variants", str(v), "--futures", "6", "--days", "30"]
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.cli", *base, "--workers", "1", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 180
    try:
        while time.time() < deadline and proc.poll() is None and len(_stored(out)) < 3:
            time.sleep(0.02)
        assert proc.poll() is None, "finished before 3 runs; make it longer"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    before = _stored(out)
    assert 3 <= len(before) < 12 and not (out / "summary.json").exists()
    cmd = [sys.executable, "-m", "experiments.cli", *base, "--workers", "1", "--out", str(out)]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False).returncode == 0
    after = _stored(out)
    assert len(after) == 12 and all(after[k] == v for k, v in before.items())  # reused
    fresh = tmp_path / "fresh"
    cmd = [sys.executable, "-m", "experiments.cli", *base, "--workers", "2", "--out", str(fresh)]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False).returncode == 0
    assert _tables(out) == _tables(fresh)
    html = (fresh / "report" / "report.html").read_text(encoding="utf-8")
    summary = json.loads((fresh / "summary.json").read_text())
    assert "Robust choice across futures" in html and summary["robust_choice"] in html
    headings = [h for h in re.findall(r"<h2>(.*?)</h2>", html) if h != "How to read this"]
    assert headings[0] == "Robust choice across futures"  # the report leads with it


def test_robust_table_regret_cvar_and_p_best() -> None:
    outcomes = pd.DataFrame(
        {
            "future": [0, 0, 1, 1, 2, 2],
            "option": ["a", "b"] * 3,
            "v": [10.0, 8.0, -5.0, 1.0, 4.0, 4.0],
        }
    )
    t = robust_table(outcomes, "v").set_index("option")
    assert t.loc["a", "max_regret"] == 6.0 and t.loc["b", "max_regret"] == 2.0
    assert t.loc["a", "mean_regret"] == pytest.approx(2.0)
    assert t.loc["b", "rank"] == 1  # minimax regret
    assert t.loc["a", "p_best"] == pytest.approx(0.5) and t.loc["b", "p_best"] == pytest.approx(0.5)
    assert t.loc["a", "cvar5"] == -5.0 and t.loc["a", "p_loss"] == pytest.approx(1 / 3)
    by_mean = robust_table(outcomes, "v", criterion="mean")
    assert by_mean.iloc[0]["option"] == "b" and by_mean.iloc[0]["mean"] == pytest.approx(13 / 3)
    assert robust_table(outcomes, "v", sign=-1.0, criterion="mean").iloc[0]["option"] == "a"
    low_is_good = robust_table(outcomes, "v", sign=-1.0).set_index("option")
    assert low_is_good.loc["a", "max_regret"] == 2.0 and low_is_good.loc["a", "cvar5"] == 10.0


def test_ocba_spends_runs_on_close_options() -> None:
    alloc = ocba_allocation(np.array([10.0, 9.5, 0.0]), np.array([2.0, 2.0, 2.0]), 1000)
    assert alloc[1] > 10 * alloc[2] and alloc[0] > alloc[2]
    rng = np.random.default_rng(0)
    data = {
        "best": rng.normal(10.0, 2.0, 400),
        "close": rng.normal(9.0, 2.0, 400),
        "far": rng.normal(0.0, 2.0, 400),
    }
    values, rounds = ocba(
        lambda n: {o: data[o][:k] for o, k in n.items()}, list(data), 400, budget=600
    )
    used = rounds[-1]
    assert sum(used.values()) == 600 and used["far"] < 30 < used["close"]
    assert max(values, key=lambda o: values[o].mean()) == "best"


@pytest.mark.parametrize(("budget", "first"), [(8, 2), (3, 1), (17, 5), (40, 10)])
def test_ocba_spends_its_budget_exactly(budget: int, first: int) -> None:
    """The first round fits the budget (n0 = 10 each, fewer when the budget is smaller), and
    no round overshoots it; every run of the budget is spent."""
    rng = np.random.default_rng(1)
    data = {o: rng.normal(m, 2.0, 50) for o, m in (("a", 1.0), ("b", 0.5), ("c", 0.0))}
    _, rounds = ocba(
        lambda n: {o: data[o][:k] for o, k in n.items()}, list(data), 50, budget=budget
    )
    assert rounds[0] == dict.fromkeys(data, first)
    assert [sum(r.values()) <= budget for r in rounds] == [True] * len(rounds)
    assert sum(rounds[-1].values()) == budget


def test_screening_and_ocba_report_their_runs(files, tmp_path: Path) -> None:
    u, _ = files
    variants = {
        "m02": {"pricing": {"name": "cost_plus", "params": {"markup": 0.2}}},
        "m09": {"pricing": {"name": "cost_plus", "params": {"markup": 0.9}}},
        "m10": {"pricing": {"name": "cost_plus", "params": {"markup": 1.0}}},
    }
    res = marketsim.explore(
        u,
        variants=variants,
        futures=12,
        days=10,
        screen_scale=0.2,
        finalists=2,
        ocba_budget=22,
        workers=1,
        out=tmp_path / "out",
    )
    assert res.runs["screen_runs"] == 36 and len(res.screening) == 3
    assert (tmp_path / "out" / "screening.csv").exists()
    _assert_declared(tmp_path / "out", factor=list(res.futures.columns), kpi=_kpis(res))
    assert set(res.robust["option"]) == set(res.runs["finalists"]) and len(res.robust) == 2
    assert len(res.runs["ocba_rounds"]) >= 2
    assert res.runs["full_runs"] == 22 < res.runs["equal_allocation_runs"] == 24  # the budget
    assert res.runs["ocba_rounds"][0] == dict.fromkeys(res.runs["finalists"], 10)
    assert set(res.outcomes["fidelity"]) == {"screen", "full"}
    assert any("OCBA" in n for n in res.notes)


def test_screening_on_a_sample_of_futures(files) -> None:
    """``screen_futures``: screening runs only the first futures; full fidelity runs all."""
    u, _ = files
    variants = {
        "m02": {"pricing": {"name": "cost_plus", "params": {"markup": 0.2}}},
        "m10": {"pricing": {"name": "cost_plus", "params": {"markup": 1.0}}},
    }
    res = marketsim.explore(
        u,
        variants=variants,
        futures=6,
        days=10,
        screen_scale=0.2,
        screen_futures=2,
        finalists=1,
        workers=1,
    )
    screened = res.outcomes[res.outcomes["fidelity"] == "screen"]
    assert res.runs["screen_runs"] == 4 and set(screened["future"]) == {0, 1}
    assert res.runs["full_runs"] == 6 and len(res.robust) == 1
    with pytest.raises(marketsim.UsageError, match="screen-futures"):
        marketsim.explore(u, variants=variants, futures=2, screen_scale=0.2, screen_futures=0)


@pytest.mark.slow  # a local Dask cluster takes ~30 s to start on the shared machine
def test_dask_executor_gives_the_same_tables(files) -> None:
    from experiments.executors import DaskExecutor

    u, v = files
    local = explore(u, variants=v, futures=3, days=10, workers=1)
    with DaskExecutor(workers=2) as ex:
        remote = explore(u, variants=v, futures=3, days=10, executor=ex)
    pd.testing.assert_frame_equal(local.outcomes, remote.outcomes, check_exact=True)
    pd.testing.assert_frame_equal(local.robust, remote.robust, check_exact=True)


def test_entry_options_file_as_the_options(files, tmp_path: Path) -> None:
    u, _ = files
    options = tmp_path / "options.yaml"
    options.write_text(
        f"scenario: {TINY_PATH}\n"
        "options:\n"
        "  - {name: now, regions: [{region: XA, entry_month: 0}]}\n"
        "  - {name: later, regions: [{region: XA, entry_month: 1}]}\n"
    )
    res = explore(u, options=options, futures=3, days=40, workers=1)
    assert set(res.robust["option"]) == {"now", "later"}
    later = res.outcomes[res.outcomes["option"] == "later"]
    now = res.outcomes[res.outcomes["option"] == "now"]
    assert (later["units"].to_numpy() < now["units"].to_numpy()).all()  # a month less selling
    assert res.source.file == str(TINY_PATH.resolve())
