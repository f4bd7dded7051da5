"""The ``explore`` report: the robust choice and its regret, PRIM boxes, sensitivity charts."""

from __future__ import annotations

import pandas as pd

from experiments.explore.result import TABLES
from experiments.report.context import Context
from experiments.report.figures import mpl_text, new_figure, to_png
from experiments.report.parts import Chart, Section
from experiments.report.tables import html_table

_DECLARED = {t.name: t for t in TABLES}
_TORNADO_FACTORS = 12


def _table(ctx: Context, name: str) -> pd.DataFrame | None:
    return ctx.table(name, declared=_DECLARED[name], columns=[])


def tornado_chart(ctx: Context, sens: pd.DataFrame) -> list[Chart]:
    """Per option, horizontal bars of the total (or mu*) index per factor with 95% CIs."""
    key = "ST" if (sens["index"] == "ST").any() else "mu_star"
    main = sens[sens["index"] == key]
    options = list(dict.fromkeys(main["option"]))
    if not options:
        return []
    fig = new_figure(
        5.0 * len(options), 0.9 + 0.35 * min(_TORNADO_FACTORS, main["factor"].nunique())
    )
    axes = fig.subplots(1, len(options), squeeze=False).ravel()
    for ax, option in zip(axes, options, strict=True):
        part = main[main["option"] == option].sort_values("value").tail(_TORNADO_FACTORS)
        ax.barh(
            [mpl_text(f) for f in part["factor"]],
            part["value"],
            xerr=part["conf"].fillna(0.0),
            color=ctx.color(option),
            capsize=3,
        )
        ax.set_title(mpl_text(option), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    label = "total Sobol index ST" if key == "ST" else "Morris mu* (effect per full range)"
    fig.supxlabel(f"{label}, 95% CI")
    fig.suptitle("Which uncertainties drive the outcome", fontsize=12)
    return [
        Chart(
            "explore_sensitivity",
            "Sensitivity of the outcome to each uncertainty",
            "Longer bars matter more: a factor with a total index near 0 can be fixed at any "
            "value in its range without changing the outcome; the whiskers are 95% CIs.",
            to_png(fig),
        )
    ]


def tradeoff_chart(ctx: Context, traj: pd.DataFrame) -> list[Chart]:
    """PRIM peeling trajectories: coverage against density, the chosen box marked."""
    if traj.empty:
        return []
    fig = new_figure(7.0, 5.0)
    ax = fig.subplots()
    for (option, question), g in traj.groupby(["option", "question"], sort=False):
        color = ctx.color(option)
        style = "-" if question.startswith("loses") else "--"
        ax.plot(
            g["coverage"], g["density"], style, color=color, label=mpl_text(f"{option} {question}")
        )
        chosen = g[g["chosen"].astype(bool)]
        ax.plot(chosen["coverage"], chosen["density"], "o", color=color, ms=8)
    ax.set_xlabel("coverage: share of the cases inside the box")
    ax.set_ylabel("density: share of the box that are cases")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return [
        Chart(
            "explore_prim_tradeoff",
            "Scenario discovery: coverage vs density",
            "Each line is one PRIM peeling: moving left the box gets smaller and purer; the dot "
            "is the chosen box (before pasting widens it into the box of the findings).",
            to_png(fig),
        )
    ]


def explore_sections(ctx: Context) -> list[Section]:
    """The robust choice and findings first, then sensitivity and the PRIM trade-off."""
    s = Section("Robust choice across futures")
    lead = [str(ctx.summary.get("headline", "")), *(ctx.summary.get("findings") or [])]
    s.tables.append(html_table("What the futures say", pd.DataFrame({"finding": lead})))
    robust = _table(ctx, "robust.csv")
    s.tables.append(
        html_table("Options ranked across futures", robust, _DECLARED["robust.csv"], ctx.currency)
    )
    sens = _table(ctx, "sensitivity.csv")
    t = Section("Sensitivity")
    if sens is not None and len(sens):
        t.charts += tornado_chart(ctx, sens)
    traj = _table(ctx, "prim_trajectory.csv")
    p = Section("Scenario discovery (PRIM)")
    if traj is not None:
        p.charts += tradeoff_chart(ctx, traj)
    boxes = _table(ctx, "boxes.csv")
    p.tables.append(html_table("Boxes", boxes, _DECLARED["boxes.csv"], ctx.currency))
    for note in ctx.summary.get("notes") or []:
        ctx.notes.append(str(note))
    return [s, t, p]
