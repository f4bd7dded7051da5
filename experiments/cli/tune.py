"""`marketsim tune`: parse the flags, call :func:`experiments.tuning.tune`, print the summary."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from experiments.cli.common import add_executor_args, add_output_args, fmt_number, print_report

# the library's defaults (tests/test_tuning.py checks these against `tune`'s signature)
DEFAULTS: dict[str, Any] = {
    "robust": "mean",
    "reps": 3,
    "heartbeat": 10,
    "max_retry": 3,
}
DEFAULT_OBJECTIVE_TEXT = "net_profit_base"
DEFAULT_OUT = "results/tune"


class _Formatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows ``(default: X)`` after every flag whose default is a value (not None)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.required:
            return action.help
        return super()._get_help_string(action)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``tune``."""
    p = sub.add_parser(
        "tune",
        help="tune strategy parameters with Optuna across scenarios (resumable study)",
        description="Optuna study over the declared parameters of the chosen strategies; each "
        "trial runs every scenario x --reps CRN replications and aggregates by --robust.",
        formatter_class=_Formatter,
    )
    p.add_argument("scenarios", nargs="+", help="scenario YAML files")
    p.add_argument(
        "--trials",
        type=int,
        required=True,
        help="total finished (complete + pruned) trials the study should hold; a rerun resumes",
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--objective", default=None, help=f"KPI to optimize (default {DEFAULT_OBJECTIVE_TEXT})"
    )
    group.add_argument("--objectives", default=None, help="KPI,KPI: multi-objective (Pareto front)")
    p.add_argument(
        "--robust",
        default=DEFAULTS["robust"],
        help="aggregation over scenarios x reps: mean, worst or cvar:ALPHA (0 < ALPHA <= 1)",
    )
    p.add_argument(
        "--reps", type=int, default=DEFAULTS["reps"], help="CRN replications per scenario and trial"
    )
    p.add_argument(
        "--storage",
        default=None,
        help="Optuna storage URL (default sqlite:///OUT/study.db; journal:PATH for a journal file)",
    )
    p.add_argument("--study", default=None, help="study name (default tune-<first scenario name>)")
    p.add_argument(
        "--heartbeat",
        type=int,
        default=DEFAULTS["heartbeat"],
        metavar="SECONDS",
        help="a running trial records a heartbeat this often",
    )
    p.add_argument(
        "--grace",
        type=int,
        default=None,
        metavar="SECONDS",
        help="a trial without heartbeat for this long is failed and retried with the same "
        "parameters (default 3 heartbeats)",
    )
    p.add_argument(
        "--max-retry",
        type=int,
        default=DEFAULTS["max_retry"],
        help="retries of a trial whose process died",
    )
    add_output_args(p, DEFAULT_OUT)
    p.add_argument(
        "--tune", default=None, metavar="TUNE.yaml", help="strategies and ranges to tune"
    )
    p.add_argument("--days", type=int, default=None, help="horizon override (default horizon_days)")
    p.add_argument("--seed", type=int, default=None, help="override the scenarios' seeds")
    add_executor_args(p)
    p.set_defaults(func=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    """``marketsim tune``: run (or resume) the study up to ``--trials`` finished trials."""
    import logging
    import sys

    import optuna

    from experiments.tuning import tune

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(args.out)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("marketsim: %(message)s"))
    logger = logging.getLogger("experiments.tuning")
    logger.addHandler(handler)
    try:
        result = tune(
            args.scenarios,
            trials=args.trials,
            objective=args.objective,
            objectives=args.objectives,
            robust=args.robust,
            reps=args.reps,
            days=args.days,
            seed=args.seed,
            tune_file=args.tune,
            storage=args.storage,
            study_name=args.study,
            executor=args.executor,
            workers=args.workers,
            scheduler=args.scheduler,
            out=out,
            heartbeat=args.heartbeat,
            grace=args.grace,
            max_retry=args.max_retry,
            progress=True,
            force=args.force,
        )
    finally:
        logger.removeHandler(handler)
    if result.finished_before >= args.trials:
        print(
            f"study {result.study_name!r} already holds {result.finished_before} finished "
            f"trials (--trials {args.trials}); no new trial run"
        )
    print(format_tune_summary(result.summary_json(out), out))
    print_report(out)
    return 0 if result.best_params is not None else 1


def _best_lines(summary: dict[str, Any], out: Path) -> list[str]:
    """The best trial: values, per-scenario means, the baseline, parameters."""
    best = summary["best"]
    vals = ", ".join(f"{k} {fmt_number(v)}" for k, v in best["values"].items())
    lines = [
        f"best trial {best['number']}: {vals}"
        + (f" (Pareto front: {len(summary['pareto'])} trials)" if summary["pareto"] else "")
    ]
    labels = [s["label"] for s in summary["scenarios"]]
    means = best["scenario_means"]
    for kpi in (o["kpi"] for o in summary["objectives"]):
        per = ", ".join(
            f"{label} {fmt_number(_num(means.get(f'{kpi}[{label}]')))}" for label in labels
        )
        lines.append(f"  {kpi} mean per scenario: {per}")
    base = summary["baseline"]
    if base is not None and base["values"] is not None and base["number"] != best["number"]:
        bvals = ", ".join(f"{k} {fmt_number(v)}" for k, v in base["values"].items())
        lines.append(f"  baseline (trial {base['number']}, the scenario's own parameters): {bvals}")
    lines.append("best parameters:")
    for key, value in best["params"].items():
        shown = f"{value:.6g}" if isinstance(value, float) else repr(value)
        lines.append(f"  {key} = {shown}")
    lines.append(f"best strategies: {out / 'best_strategies.yaml'}")
    return lines


def format_tune_summary(summary: dict[str, Any], out: Path) -> str:
    """A short readable account of the study (``summary.json``) and its best trial."""
    n = {k: v for k, v in summary["n_trials"].items() if v}
    states = ", ".join(f"{v} {k.lower()}" for k, v in n.items()) or "no trials"
    objs = ", ".join(f"{o['kpi']} ({o['direction']})" for o in summary["objectives"])
    lines = [
        f"study {summary['study']!r} in {summary['storage']}: {states}",
        f"objective {objs}, robust rule {summary['robust']} over {len(summary['scenarios'])} "
        f"scenario(s) x {summary['reps']} CRN replications (region ALL, horizon totals)",
    ]
    if summary["best"] is None:
        lines.append("no completed trial yet: no best parameters (see trials.csv)")
    else:
        lines += _best_lines(summary, out)
    others = [f for f in summary["files"] if f != "best_strategies.yaml"]
    lines.append(f"also written to {out}: {', '.join(others)}")
    lines.append(f"dashboard: {summary['dashboard']}")
    return "\n".join(lines)


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)
