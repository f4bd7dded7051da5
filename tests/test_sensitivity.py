"""Sensitivity indices through explore's own path: Ishigami, and a toy scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.testing import assert_allclose

from experiments.explore import explore
from experiments.explore.designs import make_design
from experiments.explore.sensitivity import ranked_factors, sensitivity
from experiments.explore.uncertainties import load_uncertainties
from tests.helpers import TINY_PATH

ISHIGAMI = """uncertainties:
  - {name: x1, path: "a.x1", dist: uniform, low: -3.141592653589793, high: 3.141592653589793}
  - {name: x2, path: "a.x2", dist: uniform, low: -3.141592653589793, high: 3.141592653589793}
  - {name: x3, path: "a.x3", dist: uniform, low: -3.141592653589793, high: 3.141592653589793}
"""


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_ishigami_sobol_indices_within_salib_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "ishigami.yaml"
    path.write_text(ISHIGAMI)
    spec, _ = load_uncertainties(path)  # no scenario: only the file is checked
    design = make_design(spec, "sobol", 1024, seed=101)
    assert len(design) == 1024 * (3 + 2)
    table, note = sensitivity(design, ishigami(design.values.to_numpy()), seed=101)
    assert note == ""
    s1 = table[table["index"] == "S1"]["value"].to_numpy()
    st = table[table["index"] == "ST"]["value"].to_numpy()
    # analytic values; SALib's own test of Ishigami uses atol=5e-2, rtol=1e-1
    assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=5e-2, rtol=1e-1)
    assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=5e-2, rtol=1e-1)
    assert ranked_factors(table) == ["x1", "x2", "x3"]


def test_ishigami_morris_ranks_x3_last_on_sigma_only(tmp_path: Path) -> None:
    path = tmp_path / "ishigami.yaml"
    path.write_text(ISHIGAMI)
    spec, _ = load_uncertainties(path)
    design = make_design(spec, "morris", 200, seed=5)
    table, _ = sensitivity(design, ishigami(design.values.to_numpy()), seed=5)
    mu = table[table["index"] == "mu_star"].set_index("factor")["value"]
    sigma = table[table["index"] == "sigma"].set_index("factor")["value"]
    assert mu["x1"] > mu["x3"] and mu["x2"] > mu["x3"]
    assert sigma["x3"] > 0.5 * mu["x3"]  # x3 acts only through its interaction with x1


def test_toy_scenario_profit_depends_on_one_uncertainty_only(tmp_path: Path) -> None:
    """Fixed costs move profit one for one; the KPI windows change no money at all."""
    path = tmp_path / "toy.yaml"
    path.write_text(
        f"scenario: {TINY_PATH}\n"
        "uncertainties:\n"
        "  - {name: fixed_costs, path: firm.fixed_costs_monthly_base, dist: uniform,"
        " low: 0, high: 20000}\n"
        "  - {name: active_window, path: settings.active_window_days, dist: uniform,"
        " integer: true, low: 30, high: 120}\n"
        "  - {name: recent_window, path: settings.recent_window_days, dist: uniform,"
        " integer: true, low: 7, high: 56}\n"
    )
    result = explore(path, design="sobol", futures=8, days=20, workers=2)
    st = result.sensitivity[result.sensitivity["index"] == "ST"].set_index("factor")["value"]
    assert st["fixed_costs"] > 0.9
    assert st["active_window"] < 0.05 and st["recent_window"] < 0.05
