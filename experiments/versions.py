"""Provenance of results: the installed marketsim version, library versions, git revision.

Standard library only, so the CLI can import it at start-up.
"""

from __future__ import annotations

import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def package_version() -> str:
    """Installed marketsim version."""
    try:
        return version("marketsim")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def package_versions() -> dict[str, str]:
    """Versions of marketsim and the libraries that shape its numbers."""
    out = {"python": platform.python_version()}
    for pkg in ("marketsim", "mesa", "numpy", "scipy", "pandas", "simpy", "optuna", "pydantic"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_revision() -> str | None:
    """The source tree's git revision, when it is a git checkout."""
    root = Path(__file__).resolve().parents[1]
    try:
        res = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() or None if res.returncode == 0 else None
