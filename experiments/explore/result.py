"""`ExploreResult`: what `explore` returns, and how it is written to an output folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.outfolder import check_folder
from experiments.outputs import EXPLORE_TABLES, SCREENING
from experiments.replications import ScenarioSource
from experiments.results import write_csv, write_json

COMMAND = "explore"
#: the tables `explore` writes, in :meth:`ExploreResult.write` order (declared with every
#: command's outputs in ``experiments.outputs``; ``screening.csv`` only with screening)
TABLES = EXPLORE_TABLES


@dataclass(frozen=True)
class ExploreResult:
    """What :func:`experiments.explore.explore` returns.

    Attributes:
        uncertainties_file, source: the uncertainties file and the scenario it varies.
        design: ``{method, n, seed, futures, factors}``.
        kpi, direction, criterion: the outcome options are ranked on and how.
        futures: one row per future with the value of each uncertainty (``futures.csv``).
        outcomes: per fidelity, future and option, horizon totals (``outcomes.csv``).
        screening: the low-fidelity ranking of every option (empty without screening).
        robust: the options ranked across futures at full fidelity (``robust.csv``).
        sensitivity, boxes, trajectories: indices, PRIM boxes and peeling trajectories.
        findings: the boxes in words; ``notes``: what was skipped and why.
        runs: model runs at each fidelity, OCBA rounds, and what equal allocation needs.
    """

    uncertainties_file: str
    source: ScenarioSource
    design: dict[str, Any]
    kpi: str
    direction: str
    criterion: str
    futures: pd.DataFrame
    outcomes: pd.DataFrame
    screening: pd.DataFrame
    robust: pd.DataFrame
    sensitivity: pd.DataFrame
    boxes: pd.DataFrame
    trajectories: pd.DataFrame
    findings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    runs: dict[str, Any] = field(default_factory=dict)

    @property
    def robust_choice(self) -> str:
        """The option ranked first across futures."""
        return str(self.robust.iloc[0]["option"])

    def headline(self) -> str:
        """One sentence: the robust choice, its regret and its risk."""
        row = self.robust.iloc[0]
        return (
            f"robust choice ({self.criterion}): {row['option']}: maximum regret "
            f"{row['max_regret']:,.0f}, mean {row['mean']:,.0f}, 5% CVaR {row['cvar5']:,.0f} "
            f"{self.kpi} over {int(row['futures'])} futures; best in {row['p_best']:.0%}"
        )

    def write(self, out: str | Path) -> None:
        """Write the tables and ``summary.json`` into ``out``.

        Raises:
            StorageError: ``out`` is a file, or holds other files or another command's results.
        """
        check_folder(out, COMMAND)
        frames = (
            self.futures.reset_index(),
            self.outcomes,
            self.robust,
            self.sensitivity,
            self.boxes,
            self.trajectories,
        )
        for table, frame in zip(TABLES, frames, strict=True):
            write_csv(out, table.name, frame)
        if len(self.screening):
            write_csv(out, SCREENING.name, self.screening)
        sc = self.source.scenario
        write_json(
            out,
            "summary.json",
            {
                "command": COMMAND,
                "scenario": sc.name,
                "currency": sc.currency,
                "uncertainties_file": self.uncertainties_file,
                "design": self.design,
                "kpi": self.kpi,
                "direction": self.direction,
                "criterion": self.criterion,
                "reps": self.runs.get("reps"),
                "robust_choice": self.robust_choice,
                "headline": self.headline(),
                "ranking": self.robust.to_dict(orient="records"),
                "findings": self.findings,
                "notes": self.notes,
                "runs": self.runs,
            },
        )
