"""The ``tune`` report: Optuna's matplotlib plots of a study rebuilt from trials.csv.

The study is rebuilt in memory from ``trials.csv`` plus summary.json's ``search_space``
(parameter -> ``distribution_to_json``) and ``metric_names``; a folder written before those
keys existed gets a one-line note instead of the charts.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from experiments.outputs import objective_columns, trials_table
from experiments.report.context import Context
from experiments.report.figures import DPI, kpi_label, kpi_unit, safe_name
from experiments.report.parts import Chart, Section
from experiments.report.tables import html_table, meta_value
from sim.errors import DataError

FINISHED = ("COMPLETE", "PRUNED", "FAIL")


def objectives(ctx: Context) -> list[tuple[str, str]]:
    """``(kpi, direction)`` pairs from summary.json ``objectives``."""
    given = ctx.summary.get("objectives")
    if not isinstance(given, list) or not all(isinstance(o, dict) and "kpi" in o for o in given):
        raise DataError(
            f"{ctx.out}/summary.json: 'objectives' should be a list of {{kpi, direction}}"
        )
    return [(str(o["kpi"]), str(o.get("direction") or "")) for o in given]


def _param_value(dist: Any, value: Any) -> Any:
    """A trials.csv cell as the distribution's value (categories matched by their text)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        for choice in dist.choices:
            if choice == value or str(choice) == str(value):
                return choice
        return value  # not a choice: create_trial says so
    if isinstance(dist, IntDistribution):
        return int(float(value))
    return float(value)


def _search_space(ctx: Context, metric_names: list[str]) -> dict[str, str]:
    """summary.json's ``search_space``, checked (its ``metric_names`` must match objectives)."""
    where = f"{ctx.out}/summary.json"
    if ctx.summary["metric_names"] != metric_names:
        raise DataError(
            f"{where}: metric_names {ctx.summary['metric_names']} differ from "
            f"objectives {metric_names}"
        )
    space = ctx.summary.get("search_space")
    if not isinstance(space, dict) or not all(isinstance(v, str) for v in space.values()):
        raise DataError(f"{where}: search_space should map parameter -> distribution JSON")
    return space


def rebuild_study(
    trials: pd.DataFrame,
    search_space: Mapping[str, str],
    metric_names: Sequence[str],
    directions: Sequence[str],
) -> Any:
    """An in-memory ``optuna.Study`` holding the finished trials of a trials.csv.

    Raises:
        DataError: a trial's values or parameters do not fit the recorded search space.
    """
    import optuna
    from optuna.distributions import json_to_distribution
    from optuna.trial import TrialState, create_trial

    try:
        dists = {k: json_to_distribution(v) for k, v in search_space.items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"summary.json: search_space: not an Optuna distribution ({exc})") from None
    from optuna.exceptions import ExperimentalWarning

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "new study created" line
    try:
        study = optuna.create_study(directions=list(directions))
    finally:
        optuna.logging.set_verbosity(verbosity)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        study.set_metric_names(list(metric_names))
    value_cols = objective_columns(metric_names)
    frozen = []
    for row in trials.to_dict("records"):
        if row["state"] not in FINISHED:
            continue  # running or waiting: nothing to draw yet
        state = TrialState[row["state"]]
        params = {k: _param_value(d, row[k]) for k, d in dists.items() if pd.notna(row[k])}
        values = [float(row[c]) for c in value_cols] if state == TrialState.COMPLETE else None
        try:
            frozen.append(
                create_trial(
                    state=state,
                    values=values,
                    params=params,
                    distributions={k: dists[k] for k in params},
                    user_attrs={"baseline": bool(row["baseline"])},
                )
            )
        except ValueError as exc:
            raise DataError(f"trials.csv: trial {row['number']}: {exc}") from None
    study.add_trials(frozen)
    return study


def _optuna_png(draw: Callable[[], Any], title: str) -> bytes:
    """Run an ``optuna.visualization.matplotlib`` plot and return its figure as PNG bytes.

    Optuna's matplotlib plots are experimental (they warn) and set the ggplot style globally:
    both are contained here.
    """
    import matplotlib
    from matplotlib import pyplot as plt
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings(), matplotlib.rc_context():
        warnings.simplefilter("ignore", ExperimentalWarning)
        axes = draw()
        first = axes.flat[0] if isinstance(axes, np.ndarray) else axes
        fig = first.figure
        fig.suptitle(title, fontsize=12)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
        plt.close(fig)
    return buf.getvalue()


def _target(i: int, multi: bool) -> Callable[[Any], float] | None:
    return (lambda t: t.values[i]) if multi else None


def tuning_charts(ctx: Context, study: Any, metric_names: list[str]) -> list[Chart]:
    """History per objective, importances, slices and (several objectives) the Pareto front."""
    from optuna.visualization import matplotlib as ov

    multi = len(metric_names) > 1
    charts = []
    for i, name in enumerate(metric_names):
        stem = "tuning_history" if i == 0 else f"tuning_history_{safe_name(name)}"
        label = f"{kpi_label(name)} ({kpi_unit(name, ctx.currency)})"
        png = _optuna_png(
            lambda i=i, label=label: _history(ctx, study, i, multi, label),
            f"Tuning history: {name} over {len(study.trials)} trials",
        )
        charts.append(
            Chart(
                stem,
                f"Tuning history ({name})",
                "Each dot is one trial's objective value in the order they ran (and for one "
                "objective the line is the best found so far), so a flat line at the end means "
                "the search has settled.",
                png,
            )
        )
    imp = ctx.table("importance.csv")
    if imp is None or imp.empty:
        reason = ctx.summary.get("importance_skipped")
        ctx.notes.append(f"parameter importance not computed: {reason or 'no importance.csv'}")
    else:
        with warnings.catch_warnings():  # PED-ANOVA's note on multi-objective targets
            warnings.filterwarnings("ignore", "PedAnovaImportanceEvaluator", UserWarning)
            png = _optuna_png(lambda: ov.plot_param_importances(study), "Parameter importance")
        charts.append(
            Chart(
                "parameter_importance",
                "Parameter importance",
                "Longer bars mark the parameters whose value moved the objective most across "
                "the trials; short bars can be fixed without losing much.",
                png,
            )
        )
    if any(t.distributions for t in study.trials):
        charts.append(_slices(study, metric_names, imp))
    if multi:
        charts.append(_pareto(study, metric_names))
    return charts


def _history(ctx: Context, study: Any, i: int, multi: bool, label: str) -> Any:
    from optuna.visualization import matplotlib as ov

    ax = ov.plot_optimization_history(study, target=_target(i, multi), target_name=label)
    ax.figure.set_size_inches(9.0, 4.8)  # room for the legend Optuna places on the right
    base = ctx.summary.get("baseline")
    values = base.get("values") if isinstance(base, dict) else None
    value = values.get(study.metric_names[i]) if isinstance(values, dict) else None
    if isinstance(value, int | float):
        ax.axhline(
            value,
            color="tab:purple",
            ls="--",
            lw=1,
            label=f"baseline: scenario's own strategies (trial {base.get('number')})",
        )
        ax.legend(bbox_to_anchor=(1.05, 1.0), loc="upper left")
    return ax


def _slices(study: Any, metric_names: list[str], imp: pd.DataFrame | None) -> Chart:
    from optuna.visualization import matplotlib as ov

    params = list(dict.fromkeys(p for t in study.trials for p in t.distributions))
    if imp is not None and not imp.empty:
        first = imp[imp["objective"] == metric_names[0]].sort_values("importance", ascending=False)
        ranked = [p for p in first["param"] if p in params]
        params = ranked + [p for p in params if p not in ranked]
    multi = len(metric_names) > 1
    png = _optuna_png(
        lambda: ov.plot_slice(
            study, params=params[:6], target=_target(0, multi), target_name=metric_names[0]
        ),
        f"Objective vs each tuned parameter ({metric_names[0]})",
    )
    return Chart(
        "tuning_slices",
        "Objective vs each parameter",
        "Each dot is a completed trial placed at the value it tried for one parameter "
        "(darker dots ran later), so a clear hump or slope shows where that parameter is best.",
        png,
    )


def _pareto(study: Any, metric_names: list[str]) -> Chart:
    from optuna.visualization import matplotlib as ov

    def draw() -> Any:
        if len(metric_names) <= 3:
            return ov.plot_pareto_front(study, target_names=metric_names)
        return ov.plot_pareto_front(  # Optuna draws 2 or 3 objectives: the first two
            study, targets=lambda t: (t.values[0], t.values[1]), target_names=metric_names[:2]
        )

    n_best = len(study.best_trials)
    return Chart(
        "pareto_front",
        "Pareto front",
        "Highlighted points are trials no other trial beats on every objective at once, so the "
        "choice among them is a trade-off; the others are beaten by some highlighted point.",
        _optuna_png(draw, f"Pareto front: {n_best} Pareto-optimal trials"),
    )


def _best_rows(ctx: Context) -> list[tuple[str, str]]:
    best = ctx.summary.get("best")
    if not isinstance(best, dict):
        return []
    rows = [("trial", str(best.get("number")))]
    rows += [(f"objective {k}", meta_value(v)) for k, v in (best.get("values") or {}).items()]
    return rows + [(str(k), meta_value(v)) for k, v in (best.get("params") or {}).items()]


def _trials_best_first(trials: pd.DataFrame, metric_names: list[str], sign: float) -> pd.DataFrame:
    value = trials[objective_columns(metric_names)[0]].to_numpy(dtype=float) * sign
    return (
        trials.assign(_v=value)
        .sort_values("_v", ascending=False, na_position="last")
        .drop(columns="_v")
    )


def tune_sections(ctx: Context) -> list[Section]:
    """Optuna's charts (when the summary records the search space) and the trial tables."""
    objs = objectives(ctx)
    metric_names = [k for k, _ in objs]
    table = trials_table(metric_names)
    trials = ctx.table("trials.csv", declared=table, families={"metric": metric_names})
    s = Section("Tuning")
    if trials is None:
        ctx.notes.append("trials.csv: not found, no tuning charts")
    elif "metric_names" not in ctx.summary:
        ctx.notes.append(
            "summary.json has no metric_names/search_space (written by an older marketsim): "
            "no tuning charts"
        )
    else:
        space = _search_space(ctx, metric_names)
        study = rebuild_study(trials, space, metric_names, [d or "maximize" for _, d in objs])
        if any(t.state.name == "COMPLETE" for t in study.trials):
            s.charts += tuning_charts(ctx, study, metric_names)
        else:
            ctx.notes.append("trials.csv: no completed trial yet, no tuning charts")
    if rows := _best_rows(ctx):
        frame = pd.DataFrame(rows, columns=["", "best trial"])
        s.tables.append(html_table("Best trial (see best_strategies.yaml)", frame))
    pareto = ctx.table("pareto.csv", families={"metric": metric_names}) if len(objs) > 1 else None
    if pareto is not None:
        s.tables.append(html_table("Pareto-optimal trials", pareto, table, ctx.currency))
    if trials is not None:
        shown = trials.drop(columns="started")
        caption = "Trials"
        if len(objs) == 1:
            sign = -1.0 if objs[0][1].startswith("min") else 1.0
            shown, caption = _trials_best_first(shown, metric_names, sign), "Trials (best first)"
        s.tables.append(html_table(caption, shown, table, ctx.currency, max_rows=20))
    imp = ctx.table("importance.csv")
    if imp is not None:
        s.tables.append(
            html_table("Parameter importance", imp, ctx.declared("importance.csv"), ctx.currency)
        )
    return [s]
