"""Structure checks: module size, function complexity, import direction, a light CLI start.

These hold the redesign's shape: `sim` knows nothing above it, `strategies` knows only
`sim`, no module grows past 600 lines, no function is rated worse than C by radon, and the
CLI builds its parser without importing the heavy libraries (so `--help` starts fast).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("marketsim", "sim", "strategies", "experiments")
MAX_LINES = 600
HEAVY = ("matplotlib", "scipy", "optuna", "pandas", "pyarrow", "mesa", "dask", "distributed")


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_600_lines(package):
    long = {
        str(p.relative_to(ROOT)): n
        for p in modules(package)
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("sim", {"strategies", "experiments", "marketsim"}),
        ("strategies", {"experiments", "marketsim"}),
    ],
)
def test_imports_flow_one_way(package, forbidden):
    bad = {
        str(p.relative_to(ROOT)): sorted(imported_packages(p) & forbidden)
        for p in modules(package)
        if imported_packages(p) & forbidden
    }
    assert bad == {}


def test_no_function_rated_worse_than_c():
    done = subprocess.run(
        [sys.executable, "-m", "radon", "cc", "-n", "D", "-j", *PACKAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    worse = {path: blocks for path, blocks in json.loads(done.stdout).items() if blocks}
    assert worse == {}


def test_cli_parser_imports_no_heavy_library():
    code = (
        "import sys; from experiments.cli.main import build_parser; build_parser(); "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
