"""`ExploreResult`: what `explore` returns, and how it is written to an output folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.outfolder import check_folder
from experiments.outputs import Column, Table
from experiments.replications import ScenarioSource
from experiments.results import write_csv, write_json

COMMAND = "explore"
_OPTION = Column("option", "str", "", "option")
_FUTURE = Column("future", "int", "", "future (row of the design)")
#: the tables `explore` writes (factor columns of futures.csv and KPI columns of
#: outcomes.csv are families: one per uncertainty / outcome KPI)
TABLES = (
    Table(
        "futures.csv",
        "the sampled futures: one value per uncertainty",
        (_FUTURE, Column("{factor}", "float", "", "uncertainty {factor}")),
    ),
    Table(
        "outcomes.csv",
        "per fidelity, future and option: horizon totals (region ALL), mean over replications",
        (
            Column("fidelity", "str", "", "fidelity (screen or full)"),
            _FUTURE,
            _OPTION,
            Column("scenario", "str", "", "scenario run (first 12 hex digits of its SHA-256)"),
            Column("reps", "int", "", "replications"),
            Column("{kpi}", "float", "kpi", "{kpi}, total over the horizon"),
        ),
    ),
    Table(
        "robust.csv",
        "options ranked across futures",
        (
            Column("rank", "int", "", "rank"),
            _OPTION,
            Column("futures", "int", "", "futures"),
            Column("mean", "float", "kpi", "mean over futures"),
            Column("sd", "float", "kpi", "standard deviation over futures"),
            Column("cvar5", "float", "kpi", "mean of the worst 5% of futures"),
            Column("p_loss", "float", "share", "P(outcome < 0)"),
            Column("p_best", "float", "share", "P(best)"),
            Column("max_regret", "float", "kpi", "maximum regret"),
            Column("mean_regret", "float", "kpi", "mean regret"),
        ),
    ),
    Table(
        "sensitivity.csv",
        "Sobol S1/ST or Morris mu_star/sigma per option and factor",
        (
            _OPTION,
            Column("kpi", "str", "", "outcome KPI"),
            Column("factor", "str", "", "uncertainty"),
            Column("index", "str", "", "index (S1, ST, mu_star, sigma)"),
            Column("value", "float", "", "index value"),
            Column("conf", "float", "", "95% CI half-width"),
        ),
    ),
    Table(
        "boxes.csv",
        "PRIM boxes: one row per restricted factor",
        (
            _OPTION,
            Column("question", "str", "", "case of interest"),
            Column("factor", "str", "", "uncertainty"),
            Column("low", "float", "", "box lower limit"),
            Column("high", "float", "", "box upper limit"),
            Column("coverage", "float", "share", "coverage"),
            Column("density", "float", "share", "density"),
            Column("mass", "float", "share", "mass"),
            Column("cases", "int", "", "futures that are cases"),
            Column("futures", "int", "", "futures"),
        ),
    ),
    Table(
        "prim_trajectory.csv",
        "PRIM peeling trajectories (coverage/density trade-off)",
        (
            _OPTION,
            Column("question", "str", "", "case of interest"),
            Column("box", "int", "", "peeling step"),
            Column("coverage", "float", "share", "coverage"),
            Column("density", "float", "share", "density"),
            Column("mass", "float", "share", "mass"),
            Column("dims", "int", "", "restricted factors"),
            Column("chosen", "bool", "", "the chosen box"),
        ),
    ),
)


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
            write_csv(out, "screening.csv", self.screening)
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
