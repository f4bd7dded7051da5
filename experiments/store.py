"""The result store of a replication command: ``OUT/runs/`` tables and ``OUT/manifest.json``.

Each finished replication is written at once (temp file + rename) as a Hive-style partition
``runs/scenario=<hash>/variant=<name>/rep=<k>/part-0.parquet`` (so
``pandas.read_parquet(OUT / "runs")`` is one tidy table with ``scenario``, ``variant`` and
``rep`` columns) and recorded in the manifest with its fingerprint. A rerun into the same
``OUT`` reuses every finished replication whose scenario, strategies, seed and horizon are
unchanged. While a command runs, each finished replication's manifest entry is appended to
``OUT/manifest.journal.jsonl`` (one JSON line, so recording a run costs the same whatever the
number of runs); the journal is folded into ``manifest.json`` whenever it holds as many entries
as half the manifest (the total rewriting stays linear in the runs), when the command ends, and when
a rerun opens the folder, so an interrupted command loses no finished replication.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.files import file_sha256
from experiments.outfolder import owned_folder
from experiments.replications import ReplicationResult, ReplicationTask, strategies_dict
from experiments.results import (
    OutputPathError,
    atomic_write,
    json_line,
    safe_path,
    write_json,
)
from experiments.versions import git_revision, package_versions

log = logging.getLogger(__name__)
OUTPUT_SUFFIXES = (".csv", ".json", ".yaml")  # result files whose sha256 the manifest records
JOURNAL = "manifest.journal.jsonl"  # manifest entries of runs finished since the last rewrite
JOURNAL_MIN_LINES = 256  # fold the journal into the manifest no more often than this


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_manifest(path: Path) -> dict[str, Any]:
    """``manifest.json`` with a ``runs`` mapping, its journal's entries added; a damaged
    manifest reads as holding no runs.

    A manifest that is not JSON, not an object, or whose ``runs`` is not a mapping of
    entries is logged as a warning and treated as holding no finished replication (they are
    recomputed rather than trusted); the runs its journal (``JOURNAL``) records are kept.
    """
    manifest = _manifest_file(path)
    manifest["runs"].update(read_journal(path.with_name(JOURNAL)))
    return manifest


def _manifest_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"runs": {}}
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        log.warning("%s is not readable JSON (%s); recomputing every replication", path, exc)
        return {"runs": {}}
    if not isinstance(manifest, dict):
        log.warning("%s is not a JSON object; recomputing every replication", path)
        return {"runs": {}}
    runs = manifest.get("runs")
    if not isinstance(runs, dict):
        log.warning("%s: `runs` is not a mapping; recomputing every replication", path)
        runs = {}
    manifest["runs"] = {k: v for k, v in runs.items() if isinstance(v, dict)}
    return manifest


def read_journal(path: Path) -> dict[str, dict[str, Any]]:
    """``{run key: manifest entry}`` from the journal, later lines winning; a damaged line
    (the last one, cut by a kill) is skipped with a warning."""
    if not path.exists():
        return {}
    entries: dict[str, dict[str, Any]] = {}
    damaged = 0
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("%s is not readable (%s); its runs are recomputed", path, exc)
        return {}
    for line in lines:
        try:
            item = json.loads(line)
            key, entry = item["key"], item["run"]
        except (ValueError, TypeError, KeyError):
            damaged += 1
            continue
        if isinstance(key, str) and isinstance(entry, dict):
            entries[key] = entry
        else:
            damaged += 1
    if damaged:
        log.warning("%s: %d damaged line(s) skipped; those runs are recomputed", path, damaged)
    return entries


@dataclass
class ResultStore:
    """``OUT/runs/*.parquet`` plus ``OUT/manifest.json``; every write is atomic."""

    out: Path
    manifest: dict[str, Any] = field(default_factory=dict)
    journal_lines: int = 0  # entries appended to the journal since the manifest was rewritten

    @classmethod
    @contextmanager
    def claim(
        cls,
        out: str | Path | None,
        command: str,
        meta: Mapping[str, Any],
        *,
        force: bool = False,
    ) -> Iterator[ResultStore | None]:
        """Hold ``out`` for ``command`` during the block and open the store in it.

        ``out`` must be new or hold the same command's results (else
        :class:`~sim.errors.StorageError` before any work; ``force`` replaces it); a lock
        keeps other commands out meanwhile (see :mod:`experiments.outfolder`). Without
        ``out`` the block gets None and nothing is written. When the block ends normally,
        the sha256 of every result table written meanwhile is recorded (``outputs``).
        """
        from experiments.outputs import command_of

        if out is None:
            yield None
            return
        owner = command_of({"command": command}, Path(out)) or command
        with owned_folder(out, owner, force=force):
            store = cls.open(out, command, meta)
            yield store
            store.record_outputs()

    @classmethod
    def open(cls, out: str | Path, command: str, meta: Mapping[str, Any]) -> ResultStore:
        """Open (or create) the store; keep earlier runs for resuming."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        manifest = read_manifest(safe_path(out, "manifest.json"))
        manifest.setdefault("created", _now())
        manifest["command"] = command
        manifest["argv"] = sys.argv[1:]
        manifest["package_versions"] = package_versions()
        manifest["git_revision"] = git_revision()
        manifest.update(meta)
        store = cls(out, manifest)
        store.save()
        return store

    def save(self) -> None:
        """Rewrite the manifest atomically, then drop the journal it now holds."""
        self.manifest["updated"] = _now()
        write_json(self.out, "manifest.json", self.manifest)
        safe_path(self.out, JOURNAL).unlink(missing_ok=True)
        self.journal_lines = 0

    def record_outputs(self) -> None:
        """Record the sha256 of every result file at the top of ``OUT`` (tables, summary)."""
        self.manifest["outputs"] = {
            p.name: file_sha256(p)
            for p in sorted(self.out.iterdir())
            if p.is_file()
            and not p.is_symlink()
            and p.suffix in OUTPUT_SUFFIXES
            and p.name != "manifest.json"
            and not p.name.startswith(".")
        }
        self.save()

    def load(self, task: ReplicationTask) -> pd.DataFrame | None:
        """A finished replication's KPI table, if stored with the same fingerprint and intact.

        A file that is missing, unreadable, or whose sha256 differs from the manifest's
        (truncated, altered, copied from another replication) is not trusted: it is logged as
        a warning and the replication is recomputed.
        """
        entry = self.manifest["runs"].get(task.key)
        if not isinstance(entry, dict) or entry.get("fingerprint") != task.fingerprint:
            return None
        problem, frame = self._read_checked(task, entry)
        if problem is not None:
            log.warning("replication %s: %s; recomputing it", task.key, problem)
            return None
        return frame

    def _read_checked(
        self, task: ReplicationTask, entry: dict[str, Any]
    ) -> tuple[str | None, pd.DataFrame | None]:
        """(why the stored file is not trusted, or None; its table)."""
        if entry.get("file") != task.relative_path:
            return f"the manifest names another file ({entry.get('file')!r})", None
        try:
            path = safe_path(self.out, task.relative_path)
            data = path.read_bytes()
        except (OSError, OutputPathError) as exc:
            return f"cannot read {task.relative_path} ({type(exc).__name__})", None
        if not isinstance(entry.get("sha256"), str):
            return f"{task.relative_path} has no checksum in the manifest", None
        if entry["sha256"] != hashlib.sha256(data).hexdigest():
            return f"{task.relative_path} does not match its checksum in the manifest", None
        try:
            return None, pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises many types on a bad file
            return f"{task.relative_path} is not a readable table ({type(exc).__name__})", None

    def save_result(self, task: ReplicationTask, result: ReplicationResult) -> None:
        """Write one replication's table and record it (table first, then its journal line)."""
        path = safe_path(self.out, task.relative_path)
        digest: list[str] = []

        def write(tmp: Path) -> None:
            result.kpis.to_parquet(tmp, index=False)
            digest.append(file_sha256(tmp))

        atomic_write(path, write)
        self.manifest["runs"][task.key] = {
            "file": task.relative_path,
            "sha256": digest[0],
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
        self._journal(task.key)

    def _journal(self, key: str) -> None:
        """Append one run's manifest entry to the journal; fold it in when it holds half as
        many entries as the manifest (the manifest is rewritten O(log runs) times, not once
        per run)."""
        line = json_line({"key": key, "run": self.manifest["runs"][key]})
        with safe_path(self.out, JOURNAL).open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        self.journal_lines += 1
        if self.journal_lines >= max(JOURNAL_MIN_LINES, len(self.manifest["runs"]) // 2):
            self.save()
