"""The study's scenarios with their common-random-number settings (seed, horizon, label)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.replications import scenario_source
from sim.errors import UsageError
from sim.scenario import Scenario


@dataclass(frozen=True)
class ScenarioInput:
    """One scenario of the study with its CRN settings.

    Replication ``k`` of scenario ``index`` is seeded ``SeedSequence([seed, index, k])`` in
    every trial, so trials differ only by their parameters.
    """

    index: int
    file: str
    scenario: Scenario
    sha256: str
    label: str
    seed: int
    days: int

    def meta(self) -> dict[str, Any]:
        """This scenario as recorded in the manifest and summary."""
        return {
            "index": self.index,
            "file": self.file,
            "sha256": self.sha256,
            "name": self.scenario.name,
            "label": self.label,
            "seed": self.seed,
            "days": self.days,
        }


def load_inputs(
    scenarios: Sequence[str | Path | Scenario | Mapping[str, Any]],
    seed: int | None = None,
    days: int | None = None,
) -> list[ScenarioInput]:
    """Load the scenarios (files or :class:`Scenario` objects) in order.

    Args:
        scenarios: scenario files, mappings with a file's content, or loaded scenarios;
            each may appear once.
        seed: overrides every scenario's seed.
        days: overrides every scenario's ``horizon_days``.

    Raises:
        ScenarioError: a file is missing or invalid.
        UsageError: no scenario, or the same scenario given twice.
    """
    if isinstance(scenarios, str | Path | Scenario | Mapping):
        scenarios = [scenarios]
    if not scenarios:
        raise UsageError("scenarios: give at least one scenario")
    sources = [scenario_source(item) for item in scenarios]
    loaded = [(src.file, src.scenario, src.sha256) for src in sources]
    files = [file for file, _, _ in loaded]
    names = [sc.name for _, sc, _ in loaded]
    hashes = [sha for _, _, sha in loaded]
    for i, sha in enumerate(hashes):
        if sha in hashes[:i]:
            first = files[hashes.index(sha)]
            raise UsageError(f"scenarios: {files[i]} is the same file as {first}; give it once")
    return [
        ScenarioInput(
            i,
            file,
            sc,
            sha,
            sc.name if names.count(sc.name) == 1 else f"{sc.name}#{i}",
            sc.seed if seed is None else seed,
            sc.horizon_days if days is None else days,
        )
        for i, (file, sc, sha) in enumerate(loaded)
    ]
