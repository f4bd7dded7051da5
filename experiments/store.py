"""The result store of a replication command: ``OUT/runs/`` tables and ``OUT/manifest.json``.

Each finished replication is written at once (temp file + rename) as a Hive-style partition
``runs/scenario=<hash>/variant=<name>/rep=<k>/part-0.parquet`` (so
``pandas.read_parquet(OUT / "runs")`` is one tidy table with ``scenario``, ``variant`` and
``rep`` columns) and recorded in the manifest with its fingerprint. A rerun into the same
``OUT`` reuses every finished replication whose scenario, strategies, seed and horizon are
unchanged.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.replications import ReplicationResult, ReplicationTask, strategies_dict
from experiments.results import atomic_write, safe_path, write_json


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class ResultStore:
    """``OUT/runs/*.parquet`` plus ``OUT/manifest.json``; every write is atomic."""

    out: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, out: str | Path, command: str, meta: Mapping[str, Any]) -> ResultStore:
        """Open (or create) the store; keep earlier runs for resuming."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = safe_path(out, "manifest.json")
        manifest: dict[str, Any] = {}
        if path.exists():
            try:
                manifest = json.loads(path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError):
                manifest = {}  # a damaged manifest: recompute rather than trust it
        manifest.setdefault("created", _now())
        manifest.setdefault("runs", {})
        manifest["command"] = command
        manifest["argv"] = sys.argv[1:]
        manifest["package_versions"] = package_versions()
        manifest["git_revision"] = git_revision()
        manifest.update(meta)
        store = cls(out, manifest)
        store.save()
        return store

    def save(self) -> None:
        """Rewrite the manifest atomically."""
        self.manifest["updated"] = _now()
        write_json(self.out, "manifest.json", self.manifest)

    def load(self, task: ReplicationTask) -> pd.DataFrame | None:
        """A finished replication's KPI table, if stored with the same fingerprint."""
        entry = self.manifest["runs"].get(task.key)
        if not entry or entry.get("fingerprint") != task.fingerprint:
            return None
        path = safe_path(self.out, entry["file"])
        if not path.exists():
            return None
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError):
            return None

    def save_result(self, task: ReplicationTask, result: ReplicationResult) -> None:
        """Write one replication's table and record it (table first, then manifest)."""
        path = safe_path(self.out, task.relative_path)
        atomic_write(path, lambda p: result.kpis.to_parquet(p, index=False))
        self.manifest["runs"][task.key] = {
            "file": task.relative_path,
            "fingerprint": task.fingerprint,
            "scenario": task.scenario.name,
            "scenario_index": task.scenario_index,
            "scenario_sha256": task.scenario_sha256,
            "variant": task.variant,
            "rep": task.rep,
            "seed_entropy": task.seed_entropy,
            "days": task.days,
            "strategies": strategies_dict(task.scenario),
            "orders": result.orders,
            "started": datetime.fromtimestamp(result.started, UTC).isoformat(timespec="seconds"),
            "finished": datetime.fromtimestamp(result.finished, UTC).isoformat(timespec="seconds"),
        }
        self.save()
