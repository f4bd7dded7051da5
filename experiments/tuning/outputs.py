"""What a study yields: the trials table, importance, best trial, Pareto front and files.

Files written by :meth:`TuneResult.write` into ``OUT/``: ``best_strategies.yaml``
(``strategies:`` block to paste into a scenario or use as a variant; for several objectives
the Pareto trial best on the first one), ``trials.csv`` (number, state, value(s), parameters
by their names ``kind.param``, per-scenario means, duration), ``pareto.csv`` and
``pareto_variants.yaml`` (several objectives: the front, the latter a variants file for
``marketsim compare``), ``importance.csv`` (objective, param, importance; when at least 2
trials completed) and ``summary.json``. A study run with an output folder also keeps
``manifest.json`` and ``runs/`` (replications) there, and by default the study itself
(``study.db``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments.knobs import MARKETING_KEY
from experiments.outfolder import check_folder
from experiments.results import write_csv, write_json, write_text
from experiments.store import ResultStore
from experiments.tuning.objectives import Objective
from experiments.tuning.plan import TunePlan
from experiments.tuning.storage import StorageInfo, redact
from experiments.tuning.trials import PRUNER_STARTUP_TRIALS
from sim.contract import KINDS

IMPORTANCE_COLUMNS = ["objective", "param", "importance"]
MAX_PARETO_VARIANTS = 200


class TuneStore(ResultStore):
    """The replication store, with storage passwords removed from the recorded ``argv``."""

    def save(self) -> None:
        self.manifest["argv"] = [redact(a) for a in self.manifest.get("argv", [])]
        super().save()


# ---------------------------------------------------------------------------- tables
def _trial_row(
    t: Any, objectives: Sequence[Objective], params: Sequence[str], means: Sequence[str]
) -> dict[str, Any]:
    row: dict[str, Any] = {"number": t.number, "state": t.state.name}
    values = t.values if t.values is not None else [None] * len(objectives)
    if len(objectives) == 1:
        row["value"] = values[0]
    else:
        for o, v in zip(objectives, values, strict=True):
            row[f"value_{o.kpi}"] = v
    for key in params:
        row[key] = t.params.get(key)
    for key in means:
        row[key] = t.user_attrs.get(key)
    row["baseline"] = bool(t.user_attrs.get("baseline", False))
    row["infeasible"] = t.user_attrs.get("infeasible", "")
    row["last_step"] = t.last_step
    row["duration_s"] = t.duration.total_seconds() if t.duration is not None else None
    row["started"] = t.datetime_start.isoformat(timespec="seconds") if t.datetime_start else None
    return row


def _importance(
    study: Any, objectives: Sequence[Objective], n_complete: int, n_params: int
) -> tuple[pd.DataFrame, str | None]:
    """(importance table, why it is empty or None)."""
    import optuna

    if n_complete < 2 or n_params < 1:
        return pd.DataFrame(columns=IMPORTANCE_COLUMNS), (
            f"needs >= 2 completed trials and >= 1 parameter (have {n_complete}, {n_params})"
        )
    rows = []
    try:
        for i, o in enumerate(objectives):
            target = None if len(objectives) == 1 else (lambda t, i=i: t.values[i])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                imp = optuna.importance.get_param_importances(study, target=target)
            rows.extend({"objective": o.kpi, "param": k, "importance": v} for k, v in imp.items())
    except (RuntimeError, ValueError, ZeroDivisionError) as exc:
        return pd.DataFrame(columns=IMPORTANCE_COLUMNS), str(exc)
    return pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS), None


def _values(t: Any, objectives: Sequence[Objective]) -> dict[str, float] | None:
    """A trial's objective values by KPI (None when it has none)."""
    if t.values is None:
        return None
    return dict(zip([o.kpi for o in objectives], t.values, strict=True))


def _best_trial(study: Any, objectives: Sequence[Objective]) -> tuple[Any, list[Any]]:
    """(best trial or None, Pareto front); for several objectives the front's best on the
    first objective."""
    try:
        front = list(study.best_trials)
    except ValueError:
        front = []
    if not front:
        return None, []
    if len(objectives) == 1:
        return study.best_trial, front
    o = objectives[0]
    best = max(front, key=lambda t: (o.sign * t.values[0], -t.number))
    return best, sorted(front, key=lambda t: t.number)


def _pareto_variants(plan: TunePlan, front: Sequence[Any]) -> tuple[dict[str, Any], ...]:
    """The Pareto front as ``marketsim compare`` variants (the first 200 trials)."""
    return tuple(
        {
            "name": f"trial-{t.number}",
            "description": ", ".join(
                f"{o.kpi} {v:.6g}" for o, v in zip(plan.objectives, t.values, strict=True)
            ),
            **plan.space.strategies(t.params),
        }
        for t in front[:MAX_PARETO_VARIANTS]
    )


def _short_trial(t: Any, objectives: Sequence[Objective]) -> dict[str, Any]:
    return {"number": t.number, "values": _values(t, objectives), "params": dict(t.params)}


# ---------------------------------------------------------------------------- result
@dataclass(frozen=True)
class TuneResult:
    """The outcome of a study: tables, the best trial and the summary, ready to write.

    Attributes:
        study_name: the Optuna study's name.
        storage: the storage URL with passwords hidden (``in-memory`` without one).
        trials: one row per trial (``trials.csv``): number, state, ``value`` (or
            ``value_<kpi>`` per objective), one column per parameter named ``kind.param``,
            per-scenario means ``<kpi>[<scenario>]``, baseline, infeasible, last_step,
            duration_s, started.
        importance: objective, param, importance (``importance.csv``; may be empty).
        pareto: the Pareto front's rows (several objectives), else None.
        best_params: the best trial's parameters by name, None without a completed trial.
        best_strategies: the best trial's ``strategies`` block, None likewise.
        pareto_variants: the front as variants for ``marketsim compare``.
        summary: ``summary.json`` without its ``files`` list.
        finished_before: finished trials the study held before this call.
        out: the folder the study stored its replications in (None: none).
    """

    study_name: str
    storage: str
    trials: pd.DataFrame
    importance: pd.DataFrame
    pareto: pd.DataFrame | None
    best_params: dict[str, Any] | None
    best_strategies: dict[str, Any] | None
    pareto_variants: tuple[dict[str, Any], ...]
    summary: dict[str, Any]
    finished_before: int
    out: Path | None = None

    @property
    def best_values(self) -> dict[str, float] | None:
        """The best trial's objective values by KPI (None without a completed trial)."""
        best = self.summary["best"]
        return None if best is None else best["values"]

    @property
    def best_value(self) -> float | None:
        """The best trial's value of the first objective."""
        values = self.best_values
        return None if values is None else next(iter(values.values()))

    def files(self, out: str | Path) -> list[str]:
        """The files :meth:`write` leaves in ``out`` (with the run's manifest if it is there)."""
        files = ["trials.csv", "importance.csv", "summary.json"]
        if self.out is not None and Path(out).resolve() == self.out.resolve():
            files.append("manifest.json")
        if self.pareto_variants:
            files += ["pareto.csv", "pareto_variants.yaml"]
        if self.best_strategies is not None:
            files.insert(0, "best_strategies.yaml")
        return files

    def summary_json(self, out: str | Path) -> dict[str, Any]:
        """``summary.json`` as written into ``out``."""
        return {**self.summary, "files": self.files(out)}

    def write(self, out: str | Path) -> list[str]:
        """Write the result files into ``out`` (atomically); returns their names.

        Raises:
            StorageError: ``out`` is a file, or holds other files or another command's
                results (see :func:`experiments.outfolder.check_folder`).
        """
        check_folder(out, "tune")
        write_csv(out, "trials.csv", self.trials)
        write_csv(out, "importance.csv", self.importance)
        if self.pareto is not None:
            write_csv(out, "pareto.csv", self.pareto)
        if self.pareto_variants:
            write_text(
                out,
                "pareto_variants.yaml",
                "# Pareto-optimal trials of `marketsim tune` as a variants file for "
                "`marketsim compare`.\n"
                + yaml.safe_dump({"variants": list(self.pareto_variants)}, sort_keys=False),
            )
        if self.best_strategies is not None:
            best = dict(self.best_strategies)
            budget = best.pop(MARKETING_KEY, None)
            block = yaml.safe_dump({"strategies": best}, sort_keys=False)
            if budget is not None:  # a scenario knob, not a strategy: its own line
                block += (
                    "# every marketing budget of the scenario (firm and paid channels) times "
                    "this; a variants file takes it as is\n"
                    + yaml.safe_dump({MARKETING_KEY: budget}, sort_keys=False)
                )
            write_text(out, "best_strategies.yaml", self._best_header() + block)
        summary = self.summary_json(out)
        write_json(out, "summary.json", summary)
        return summary["files"]

    def _best_header(self) -> str:
        s = self.summary
        multi = len(s["objectives"]) > 1
        listed = [k for k in self.best_strategies or {} if k in KINDS]
        values = ", ".join(f"{k} ({s['robust']}) = {v:.6g}" for k, v in self.best_values.items())  # type: ignore[union-attr]
        return (
            f"# Best strategies of `marketsim tune`: study {s['study']!r}, trial "
            f"{s['best']['number']}, {values}"
            + (f" (the Pareto trial best on {s['objectives'][0]['kpi']})" if multi else "")
            + ".\n# Paste under a scenario's `strategies:` or use it as a variant"
            + (
                "; kinds not listed keep each scenario's own choice.\n"
                if len(listed) < len(KINDS)
                else ".\n"
            )
        )


def _counts(trials: Sequence[Any]) -> dict[str, int]:
    from optuna.trial import TrialState

    counts = {s.name: 0 for s in TrialState}
    for t in trials:
        counts[t.state.name] += 1
    return counts


def _best_info(best: Any, plan: TunePlan, means: Sequence[str]) -> dict[str, Any] | None:
    if best is None:
        return None
    return {
        "number": best.number,
        "values": _values(best, plan.objectives),
        "params": dict(best.params),
        "scenario_means": {k: best.user_attrs.get(k) for k in means},
        "strategies": plan.space.strategies(best.params),
    }


def _baseline_info(trials: Sequence[Any], plan: TunePlan) -> dict[str, Any] | None:
    baseline = next((t for t in trials if t.user_attrs.get("baseline")), None)
    if baseline is None:
        return None
    return {
        "number": baseline.number,
        "state": baseline.state.name,
        "values": _values(baseline, plan.objectives),
        "params": dict(baseline.params),
    }


def collect_result(
    study: Any,
    plan: TunePlan,
    info: StorageInfo,
    trials_requested: int,
    finished_before: int,
    out: Path | None = None,
) -> TuneResult:
    """The study's tables, best trial, Pareto front and summary (writes nothing)."""
    trials = study.get_trials(deepcopy=False)
    objectives = plan.objectives
    params = [p.key for p in plan.space.params]
    means = [f"{o.kpi}[{s.label}]" for o in objectives for s in plan.inputs]
    table = pd.DataFrame([_trial_row(t, objectives, params, means) for t in trials])
    if table.empty:
        table = pd.DataFrame(columns=["number", "state", "value"])
    counts = _counts(trials)
    importance, skipped = _importance(study, objectives, counts["COMPLETE"], len(params))
    best, front = _best_trial(study, objectives)
    multi = plan.multi
    best_info = _best_info(best, plan, means)
    summary = {
        "command": "tune",
        "study": study.study_name,
        "storage": info.shown,
        "dashboard": info.dashboard,
        "scenarios": [s.meta() for s in plan.inputs],
        "objectives": plan.objectives_meta(),
        "objective": objectives[0].kpi if not multi else None,
        "metric_names": plan.metric_names,
        "region": "ALL",
        "robust": str(plan.robust),
        "reps": plan.reps,
        "seed_rule": "SeedSequence([seed, scenario_index, k]), the same in every trial",
        "sampler": "TPESampler (seeded: SeedSequence([seed, trials already in the study]), "
        "plus the process's join number for every process after the study's first)",
        "pruner": f"MedianPruner(n_startup_trials={PRUNER_STARTUP_TRIALS})" if not multi else None,
        "trials_requested": trials_requested,
        "n_trials": counts,
        "search_space": plan.space.distributions_json(),
        "tuned_strategies": plan.space.describe(),
        "best": best_info,
        "baseline": _baseline_info(trials, plan),
        "pareto": [_short_trial(t, objectives) for t in front] if multi else None,
        "importance_skipped": skipped,
    }
    return TuneResult(
        study_name=study.study_name,
        storage=info.shown,
        trials=table,
        importance=importance,
        pareto=(
            pd.DataFrame([_trial_row(t, objectives, params, means) for t in front])
            if multi
            else None
        ),
        best_params=None if best_info is None else best_info["params"],
        best_strategies=None if best_info is None else best_info["strategies"],
        pareto_variants=_pareto_variants(plan, front) if multi else (),
        summary=summary,
        finished_before=finished_before,
        out=out,
    )
