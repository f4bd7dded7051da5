"""The result folder a report is written from: summary, manifest, declared tables, colours."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.outputs import (
    MANIFEST,
    OUTPUTS,
    Table,
    command_of,
    outputs_of,
    read_summary,
    read_table,
)
from experiments.report.figures import palette
from experiments.results import safe_path
from sim.errors import DataError


class ReportError(DataError):
    """``OUT`` is not a marketsim output folder (no or unusable ``summary.json``)."""


@dataclass
class Context:
    """What every section builder needs: the folder, its summary and declared tables."""

    out: Path
    summary: dict[str, Any]
    manifest: dict[str, Any]
    command: str
    currency: str
    notes: list[str] = field(default_factory=list)
    colors: dict[str, Any] = field(default_factory=dict)

    def declared(self, name: str) -> Table:
        """The declaration of one of this command's tables."""
        return outputs_of(self.command).table(name)

    def table(
        self,
        name: str,
        columns: Sequence[str] | None = None,
        declared: Table | None = None,
        families: Mapping[str, Sequence[str]] | None = None,
    ) -> pd.DataFrame | None:
        """A declared table, validated (None when the file is absent: its section is absent).

        ``declared`` overrides the command's declaration (trials.csv depends on the number of
        objectives); ``columns`` and ``families`` as in :func:`experiments.outputs.read_table`.

        Raises:
            DataError: the file exists but lacks a column or holds the wrong type.
        """
        if not safe_path(self.out, name).is_file():
            return None
        return read_table(self.out, declared or self.declared(name), columns, families)

    def color(self, name: str) -> Any:
        """A stable colour per variant / option across every chart."""
        if name not in self.colors:
            colors = palette()
            self.colors[name] = colors[len(self.colors) % len(colors)]
        return self.colors[name]

    def order(self, names: Iterable[str]) -> list[str]:
        """Variants in summary order (then first appearance)."""
        names = list(dict.fromkeys(str(n) for n in names))
        listed = [str(v) for v in self.summary.get("variants") or []]
        ordered = [n for n in listed if n in names]
        return ordered + [n for n in names if n not in ordered]

    @property
    def reps_text(self) -> str:
        """``"K replications"`` for titles."""
        reps = self.summary.get("reps")
        return f"{reps} replications" if reps else "replications"


def load_context(out: Path) -> Context:
    """Read ``OUT/summary.json`` (and manifest.json) and find the command that wrote them.

    Raises:
        ReportError: no folder, no summary.json, or not a marketsim result summary.
    """
    if not out.is_dir():
        raise ReportError(f"{out}: no such folder")
    try:
        summary = read_summary(out)
    except DataError as exc:
        raise ReportError(
            f"{exc} (expected the --out folder of run, compare, tune or entry)"
        ) from None
    command = command_of(summary, out)
    if command is None:
        found = summary.get("command")
        what = f"command {found!r}" if found else "no 'command' field"
        raise ReportError(
            f"{safe_path(out, 'summary.json')}: not a marketsim result summary ({what}; "
            f"reports exist for {', '.join(OUTPUTS)})"
        )
    manifest = _manifest(out)
    return Context(out, summary, manifest, command, _currency(summary, manifest))


def _manifest(out: Path) -> dict[str, Any]:
    path = safe_path(out, MANIFEST)
    if not path.is_file():
        return {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from None
    return loaded if isinstance(loaded, dict) else {}


def _currency(summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    """Base currency: from summary.json, else the (unchanged) scenario file, else generic."""
    if isinstance(summary.get("currency"), str) and summary["currency"]:
        return summary["currency"]
    for source in (summary, manifest):
        scenarios = source.get("scenarios")
        for meta in scenarios if isinstance(scenarios, list) else []:
            currency = _scenario_currency(meta)
            if currency:
                return currency
    return "base currency"


def _scenario_currency(meta: Any) -> str | None:
    if not isinstance(meta, dict) or not meta.get("file"):
        return None
    import yaml

    from experiments.files import file_sha256

    try:
        if meta.get("sha256") and file_sha256(meta["file"]) != meta["sha256"]:
            return None  # the file changed since the run
        data = yaml.safe_load(Path(meta["file"]).read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):  # the scenario file is only a hint
        return None
    currency = data.get("currency") if isinstance(data, dict) else None
    return currency if isinstance(currency, str) and currency else None
