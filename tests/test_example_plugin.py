"""The example plug-in's own contract test passes (run from this repository's suite)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGIN = Path(__file__).resolve().parent.parent / "examples" / "marketsim-example-plugin"


def test_example_plugin_passes_the_contract_suite() -> None:
    """Runs ``examples/marketsim-example-plugin/tests`` with the plug-in on ``sys.path``."""
    env_path = str(PLUGIN / "src")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(PLUGIN / "tests")],
        cwd=PLUGIN.parent.parent,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": env_path},
        timeout=600,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "5 passed" in out.stdout, out.stdout
