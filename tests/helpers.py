"""Small scenario builders shared by the tests."""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.contract import SelectionDecision
from sim.model import MarketModel
from sim.scenario import Scenario
from sim.validation import parse_scenario
from strategies import testing
from strategies.base import Strategy
from strategies.registry import scenario_strategy_problems

ROOT = Path(__file__).resolve().parent.parent
TINY_PATH = ROOT / "scenarios" / "tiny.yaml"
# two cost-plus variants of the tiny scenario (a variants file for compare tests)
VARIANTS = """
baseline: low
variants:
  - name: low
    pricing: {name: cost_plus, params: {markup: 0.5}}
  - name: high
    pricing: {name: cost_plus, params: {markup: 0.7}}
"""


@cache
def _tiny_text() -> str:
    return TINY_PATH.read_text(encoding="utf-8")


def load_tiny() -> dict[str, Any]:
    """A fresh parsed copy of ``scenarios/tiny.yaml`` (safe to modify)."""
    return yaml.safe_load(_tiny_text())


def make_scenario(modify: Callable[[dict[str, Any]], Any] | None = None) -> Scenario:
    """Validate tiny.yaml after ``modify`` edits a deep copy of its data in place.

    ``modify`` may also return a replacement dict (anything else it returns is ignored).
    """
    data = copy.deepcopy(load_tiny())
    if modify is not None:
        out = modify(data)
        if isinstance(out, dict):
            data = out
    return parse_scenario(data, "tiny.yaml (modified)", check_strategies=scenario_strategy_problems)


def new_model(
    scenario: Scenario,
    *,
    strategies: Mapping[str, Strategy] | None = None,
    model_cls: type[MarketModel] = MarketModel,
    **kwargs: Any,
) -> MarketModel:
    """A ``model_cls`` for ``scenario`` with its chosen strategies (``strategies`` override
    some kinds); ``kwargs`` (seed, days, ...) go to the model."""
    return testing.new_model(scenario, strategies, model_cls=model_cls, **kwargs)


def ample_stock(d: dict[str, Any], horizon_days: int = 365) -> None:
    """Edit tiny.yaml's data in place: stock that never runs out, 20,000 consumers of
    whom 60% are aware, and ``horizon_days`` days."""
    d["horizon_days"] = horizon_days
    d["regions"][0]["population"] = 20_000
    d["regions"][0]["awareness"]["initial_share"] = 0.6
    d["firm"]["warehouses"][0]["initial_units"] = 200_000
    d["firm"]["inventory_policy"] = []


def run_until(m: MarketModel, day: int) -> None:
    """Step ``m`` until its day reaches ``day``."""
    while m.day < day:
        m.step()


@dataclass
class ListThenDelist:
    """A selection strategy for two-product test scenarios: lists both products everywhere on
    day 0 and delists the second (the lamp) from ``stop_day`` on, in ``regions`` (all when
    None)."""

    stop_day: int
    regions: tuple[str, ...] | None = None
    kind: str = "selection"
    name: str = "list_then_delist"

    def decide(self, view, rng):
        keep = np.array([True, view.day < self.stop_day])
        every = np.array([True, True])
        return SelectionDecision(
            {r: keep if self.regions is None or r in self.regions else every for r in view.regions}
        )


#: a 2% slice of sea_entry for 240 days: retention offers, a regional warehouse with its stock
#: chain and stockouts, human translation; each run a few seconds
SLICE = 0.02
SLICE_DAYS = 240


def sliced_check_run(variant: str) -> str:
    """SHA-256 of one sea_entry check replication of ``variant`` on the slice (KPIs, offers
    and listings)."""
    from experiments.check.runs import CheckTask, run_check_task, scale_market
    from experiments.check.variants import FACT_VARIANTS
    from experiments.files import load_scenario

    raw = yaml.safe_load((ROOT / "scenarios" / "sea_entry.yaml").read_text())
    scale_market(raw, SLICE)
    base = load_scenario(raw)
    scenario = FACT_VARIANTS[variant](base) if variant != "baseline" else base
    stats = run_check_task(CheckTask(variant, scenario, 1, scenario.seed, SLICE_DAYS, 120))
    text = "".join(f.to_csv(index=False) for f in (stats.kpis, stats.offers, stats.listings))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def whole_day_histories(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whole-day customer histories (x, t_x, T) as a run's customers have them."""
    rng = np.random.default_rng(seed)
    big_t = rng.integers(1, 365, n).astype(float)
    t_x = np.floor(rng.random(n) * big_t)
    x = np.where(t_x > 0, rng.integers(1, 9, n), 0).astype(float)
    return x, t_x, big_t


def kernel_sensitive_tables() -> str:
    """Hashes of the tiny scenario's KPIs (120 days, seed 7, the golden case) and of the sliced
    sea_entry warehouse run (customer valuation, pricing, retention offers, stock chain)."""
    from experiments.files import load_scenario

    tiny = new_model(load_scenario(TINY_PATH), seed=7, days=120).run()
    digest = hashlib.sha256(tiny.to_csv(index=False).encode("utf-8")).hexdigest()
    return f"{digest} {sliced_check_run('regional_warehouse')}"


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment for a fresh Python: the repository on ``PYTHONPATH``, another
    hash seed (it must not matter either), and ``extra`` variables."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONHASHSEED"] = "12345"
    return {**env, **extra}


def fresh_python(code: str, timeout_s: float = 300, **extra_env: str) -> str:
    """What ``code`` writes to stdout in a fresh Python process started in the repository."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=subprocess_env(**extra_env),
        timeout=timeout_s,
    )
    return done.stdout.strip()
