"""From outcomes per future and option to sensitivity tables and PRIM boxes in words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from experiments.explore.designs import Design
from experiments.explore.prim import prim
from experiments.explore.robust import wide
from experiments.explore.sensitivity import sensitivity

PROFIT = "net_profit_base"
QUESTIONS = ("loses money", "is not the best option")
BOX_COLUMNS = [
    "option",
    "question",
    "factor",
    "low",
    "high",
    "coverage",
    "density",
    "mass",
    "cases",
    "futures",
]


@dataclass(frozen=True)
class Discovery:
    """PRIM results: restrictions (``boxes``), trajectories, sentences and skipped questions."""

    boxes: pd.DataFrame
    trajectories: pd.DataFrame
    findings: list[str]
    skipped: list[str]


def sensitivity_tables(
    design: Design, outcomes: pd.DataFrame, kpi: str, seed: int
) -> tuple[pd.DataFrame, list[str]]:
    """Indices of ``kpi`` per option that ran on every future, and notes on the others."""
    tables, notes = [], []
    for option, g in outcomes.groupby("option", sort=False):
        g = g.sort_values("future")
        if len(g) != len(design) or not np.array_equal(g["future"], np.arange(len(design))):
            notes.append(f"{option}: run on {len(g)} of {len(design)} futures (OCBA); no indices")
            continue
        table, note = sensitivity(design, g[kpi].to_numpy(), seed)
        if note:
            notes.append(f"{option}: {note}")
        tables.append(table.assign(option=option, kpi=kpi))
    cols = ["option", "kpi", "factor", "index", "value", "conf"]
    frame = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=cols)
    return frame[cols] if len(frame) else pd.DataFrame(columns=cols), notes


def _cases(outcomes: pd.DataFrame, kpi: str, sign: float) -> dict[tuple[str, str], pd.Series]:
    """Per (option, question): a boolean Series by future (True = a case of interest)."""
    out: dict[tuple[str, str], pd.Series] = {}
    profit = wide(outcomes, PROFIT) if PROFIT in outcomes else None
    score = wide(outcomes, kpi) * sign
    best = score.max(axis=1)
    for option in score.columns:
        if profit is not None:
            out[(option, QUESTIONS[0])] = profit[option] < 0
        if score.shape[1] > 1:
            out[(option, QUESTIONS[1])] = score[option] < best
    return out


def discover(
    values: pd.DataFrame, outcomes: pd.DataFrame, kpi: str, sign: float, **prim_args: float
) -> Discovery:
    """PRIM boxes for "option X loses money" and "X is not the best option"."""
    boxes, trajectories, findings, skipped = [], [], [], []
    for (option, question), cases in _cases(outcomes, kpi, sign).items():
        share = float(cases.mean())
        if share in (0.0, 1.0):
            skipped.append(f"{option} {question} in {share:.0%} of the futures: no box to find")
            continue
        res = prim(values.loc[cases.index], cases.to_numpy(), **prim_args)
        findings.append(res.sentence(f"{option} {question}"))
        trajectories.append(res.trajectory.assign(option=option, question=question))
        b = res.box
        for factor, (low, high) in (b.limits or {"": (np.nan, np.nan)}).items():
            boxes.append(
                {
                    "option": option,
                    "question": question,
                    "factor": factor,
                    "low": low,
                    "high": high,
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "cases": int(cases.sum()),
                    "futures": len(cases),
                }
            )
    traj_cols = ["option", "question", "box", "coverage", "density", "mass", "dims", "chosen"]
    traj = (
        pd.concat(trajectories, ignore_index=True)[traj_cols]
        if trajectories
        else pd.DataFrame(columns=traj_cols)
    )
    return Discovery(pd.DataFrame(boxes, columns=BOX_COLUMNS), traj, findings, skipped)
