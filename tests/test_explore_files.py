"""Uncertainties files: field paths, distributions, copula groups, and one problem per mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from experiments.explore.designs import make_design
from experiments.explore.paths import PathError, assign, current_values
from experiments.explore.uncertainties import future_data, load_uncertainties, parse_future
from experiments.files import load_scenario
from sim.errors import ScenarioError
from tests.helpers import ROOT, TINY_PATH


def _write(tmp_path: Path, body: str, name: str = "u.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"scenario: {TINY_PATH}\n{body}", encoding="utf-8")
    return path


def _problems(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ScenarioError) as info:
        load_uncertainties(path)
    return [(p.source, p.path, p.message) for p in info.value.problems]


def test_each_mistake_is_one_problem_with_file_and_field_path(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """uncertainties:
  - {name: a, path: "regions[XA].tax.dutty_rate", dist: uniform, low: 0, high: 1}
  - {name: b, path: "regions[ZZ].tax.duty_rate", dist: uniform, low: 0, high: 1}
  - {name: c, path: "regions[XA].tax.duty_rate", dist: uniform, low: 0.1, high: 6}
  - {name: d, path: "regions[*].fx.daily_volatility", dist: triangular,
     low: 0, mode: 0.1, high: 0.2}
  - {name: e, path: "regions[XA].tax.vat_rate", dist: categorical, values: [0.2, 1.5]}
""",
    )
    found = _problems(path)
    assert [(p[0], p[1]) for p in found] == [
        (str(path), "uncertainties[0].path"),
        (str(path), "uncertainties[1].path"),
        (str(path), "uncertainties[2].high"),
        (str(path), "uncertainties[4].values[1]"),
    ]
    assert "unknown field 'dutty_rate'" in found[0][2]
    assert "no element 'ZZ'" in found[1][2] and "XA" in found[1][2]
    assert "regions[0].tax.duty_rate" in found[2][2] and "5" in found[2][2]
    assert "regions[0].tax.vat_rate" in found[3][2]


def test_empty_design_and_bad_ranges_are_refused(tmp_path: Path) -> None:
    empty = _write(tmp_path, "uncertainties: []\n", "empty.yaml")
    assert _problems(empty) == [(str(empty), "uncertainties", "the uncertainties list is empty")]
    bad = _write(
        tmp_path,
        """uncertainties:
  - {name: a, path: "regions[XA].tax.duty_rate", dist: uniform, low: 0.5, high: 0.5}
  - {name: a, path: "regions[XA].tax.vat_rate", dist: uniform, low: 0.1, high: 0.2}
groups:
  - {name: g, members: [a, zz], correlation: 0.5}
""",
        "bad.yaml",
    )
    found = _problems(bad)
    assert [p[1] for p in found] == ["uncertainties[0].high"]  # schema first, then the rest
    assert "`low < high` must hold" in found[0][2]
    bad.write_text(bad.read_text().replace("high: 0.5}", "high: 0.6}"))
    assert [p[1] for p in _problems(bad)] == ["uncertainties[1].name", "groups[0].members[1]"]


def test_cli_prints_one_line_per_problem_and_exits_2(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """uncertainties:
  - {name: a, path: "regions[XA].nope", dist: uniform, low: 0, high: 1}
  - {name: b, path: "regions[XA].tax.duty_rate", dist: uniform, low: -1, high: 1}
""",
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "experiments.cli",
            "explore",
            str(path),
            "--out",
            str(tmp_path / "o"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"{path}: uncertainties[0].path: unknown field 'nope'")
    assert lines[1].startswith(f"{path}: uncertainties[1].low: regions[XA].tax.duty_rate = -1")
    assert not (tmp_path / "o").exists()


def test_paths_select_by_id_name_position_and_wildcard() -> None:
    data = load_scenario(ROOT / "scenarios" / "default.yaml").model_dump(mode="json")
    assign(data, "regions[*].fx.daily_volatility", 0.03)
    assert current_values(data, "regions[*].fx.daily_volatility") == [0.03, 0.03]
    assign(data, "lanes[cn-id-air].stages[customs].service_hours.mean", 20.0)
    assert current_values(data, "lanes[0].stages[customs].service_hours.mean") == [20.0]
    assert current_values(data, "regions[DE].acquisition.channels.search.adstock_decay_daily") != []
    with pytest.raises(PathError, match="not a list"):
        current_values(data, "firm[0]")
    with pytest.raises(PathError, match="has 2 elements"):
        current_values(data, "regions[7].population")


def test_multiply_keeps_whole_numbers_whole(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """uncertainties:
  - {name: pop, path: "regions[*].population", apply: multiply, dist: uniform,
     low: 0.5, high: 2}
  - {name: servers, path: "lanes[*].stages[*].servers", dist: uniform, integer: true,
     low: 1, high: 4}
""",
    )
    spec, scenario = load_uncertainties(path)
    base = scenario.model_dump(mode="json")
    future = parse_future(future_data(base, spec.uncertainties, [1.234, 3]), "t")
    assert future.regions[0].population == round(5000 * 1.234)
    assert all(s.servers == 3 for s in future.lanes[0].stages)
    values = make_design(spec, "lhs", 40, 3).values
    assert set(values["servers"]) == {1, 2, 3, 4}


def test_distributions_and_copula_have_the_declared_shape(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """uncertainties:
  - {name: u, path: "regions[XA].tax.duty_rate", dist: uniform, low: 0.1, high: 0.3}
  - {name: t, path: "regions[XA].tax.vat_rate", dist: triangular, low: 0, mode: 0.1, high: 0.4}
  - {name: n, path: "regions[XA].awareness.q_daily", dist: normal, mean: 0.05, sd: 0.01,
     low: 0.0, high: 0.2}
  - {name: l, path: "regions[XA].awareness.p_base_daily", dist: lognormal, median: 0.002,
     sigma: 0.4, high: 1}
  - {name: c, path: "regions[XA].fx.local_per_base", dist: categorical, values: [1.0, 2.0, 4.0]}
groups:
  - {name: g, members: [u, t], correlation: 0.8}
""",
    )
    spec, _ = load_uncertainties(path)
    v = make_design(spec, "lhs", 4000, 11).values
    assert v["u"].between(0.1, 0.3).all() and abs(v["u"].mean() - 0.2) < 0.005
    assert abs(v["t"].mean() - (0 + 0.1 + 0.4) / 3) < 0.005
    assert abs(v["n"].mean() - 0.05) < 0.001 and abs(v["n"].std() - 0.01) < 0.001
    assert abs(np.median(v["l"]) - 0.002) < 0.0001
    assert set(v["c"]) == {1.0, 2.0, 4.0} and abs((v["c"] == 4.0).mean() - 1 / 3) < 0.02
    # Gaussian copula: Spearman's rho = (6 / pi) asin(r / 2) of the normal scores
    rho = stats.spearmanr(v["u"], v["t"]).statistic
    assert abs(rho - 6 / np.pi * np.arcsin(0.4)) < 0.03
    assert abs(stats.spearmanr(v["u"], v["n"]).statistic) < 0.05


def test_example_file_validates_against_the_default_scenario() -> None:
    spec, scenario = load_uncertainties(ROOT / "examples" / "uncertainties.yaml")
    assert scenario is not None and scenario.name == "default"
    assert len(spec.uncertainties) == 7 and spec.groups[0].members == spec.names[3:5]
