"""`marketsim tune`: an Optuna study over the declared parameters of the chosen strategies.

Search space
    One Optuna distribution per tunable :class:`~strategies.base.Param` of the chosen
    strategies, named ``"<kind>.<param>"``: ``float``/``int`` as Float/IntDistribution (with the
    declared ``log``), ``bool`` and ``choice`` as categorical. The strategies are the first
    scenario's ``strategies`` section (every kind), unless a tune file names them::

        strategies:
          pricing:
            name: cost_plus                 # optional: default is the first scenario's choice
            params:
              markup: {low: 0.2, high: 1.5}  # narrow (within the declared bounds; log: bool)
              fx_pass_through: 1.0           # fix
          selection:
            name: stop_loss
            params: {choice: {choices: [top_margin, three_factor]}}   # restrict a choice

    Kinds the tune file leaves out are not tuned: each scenario keeps its own. Parameters the
    tune file does not mention are searched over their declared range; parameters that cannot
    be tuned (lists, mappings) keep the first scenario's value (same strategy) or the default.

Trials
    Each trial runs every scenario x ``--reps`` replications on common random numbers: the
    replication ``k`` of scenario ``s`` is seeded ``SeedSequence([seed, s, k])`` in *every*
    trial, so trials differ only by their parameters. Replications run on the executor of
    ``--executor``/``--workers`` and are stored at once under ``OUT/runs`` (variant
    ``trial-<number>``; a retried trial reuses its original's number), so a killed process
    loses no finished replication. The objective is the KPI's horizon total for region
    ``ALL``, aggregated over scenarios x replications by the robust rule:

    * ``mean``: the mean of all values;
    * ``worst``: the worst per-scenario mean (in the KPI's direction);
    * ``cvar:ALPHA``: the mean of the worst ``ALPHA`` share of the values (lower tail for a
      KPI to maximize, upper tail for one to minimize).

    Single-objective studies report the running robust value after each scenario
    (``step = scenario index``) and a :class:`~optuna.pruners.MedianPruner` cuts bad trials
    before their remaining scenarios. ``--objectives a,b`` makes the study multi-objective
    (directions from ``sim.kpis``; no pruning) and reports the Pareto front. Per-scenario
    means are stored as trial user attributes ``"<kpi>[<scenario>]"``. Parameter sets that a
    strategy refuses as a whole (e.g. a ``low`` above a ``high``) are pruned, with the reason
    in the user attribute ``infeasible``. A new study starts with the scenario's own strategy
    parameters (trial 0, user attribute ``baseline``) so the best is never worse in sample.

Storage and budget
    Default storage ``sqlite:///OUT/study.db`` (absolute path; a normal RDB storage, so
    ``optuna-dashboard sqlite:///...`` opens it). Any Optuna RDB URL works
    (``postgresql://user:pass@host/db``), and ``journal:PATH`` is a journal file
    (``JournalStorage(JournalFileBackend(PATH))``) for shared filesystems. The study is
    loaded if it exists, so rerunning the same command resumes it, and several processes
    (on several machines) started with the same ``--storage`` and ``--study`` share it.
    ``--trials N`` is the study's *total* of finished (COMPLETE + PRUNED) trials, and it is
    exact (see :func:`run_budget`): under a lock shared by every process (PostgreSQL
    ``pg_advisory_lock`` on a dedicated connection, MySQL ``GET_LOCK``, an ``fcntl`` lock
    file next to a SQLite database or journal file) a process counts finished trials plus
    the RUNNING trials of live processes and asks for a new trial only below N; the new
    trial is RUNNING before the lock is released. The same lock serializes creating the
    tables and the study, so processes may start at the same moment.

    Liveness: a running trial records a heartbeat every ``--heartbeat`` seconds (RDB: Optuna's
    ``heartbeat_interval``, by the database clock; journal: marketsim's trial system
    attribute ``marketsim_heartbeat``, by the machines' clocks). A trial without heartbeat for
    ``--grace`` seconds (default 3 heartbeats) belongs to a dead process: the next process to
    look fails it and enqueues a retry with the same parameters and user attributes
    (Optuna's ``RetryHeartbeatStaleTrialCallback(max_retry=--max-retry)``: system attributes
    ``failed_trial`` and ``retry_history``), which the next free process runs. So a killed
    process leaves no trial RUNNING, and processes whose budget is full wait for trials
    running elsewhere rather than leaving, in case one of them dies. Each trial records its
    process as the system attribute ``marketsim_worker`` (``host:pid``). A study set up for
    different scenarios, objectives, robust rule, reps or search space is refused rather
    than mixed. Passwords in storage URLs are shown as ``user:***@`` in the manifest, logs
    and summary.

Reproducibility
    The TPE sampler (multivariate in Optuna 5) is seeded from
    ``SeedSequence([seed, trials already in the study])`` where ``seed`` is ``--seed`` or the
    first scenario's seed, for the first process that joins a study. Every later process
    (counted under the lock in the study user attribute ``marketsim_processes``) adds its
    join number ``j``: ``SeedSequence([seed, trials, j])``, so processes starting together on
    an empty study draw different random start-up trials. Only a single process on a study
    is reproducible trial by trial (with several, which process asks when depends on
    timing); each trial's value always is (common random numbers).

Outputs (``OUT/``)
    ``best_strategies.yaml`` (``strategies:`` block to paste into a scenario or use as a
    variant; for several objectives the Pareto trial best on the first one),
    ``trials.csv`` (number, state, value(s), parameters, per-scenario means, duration),
    ``pareto.csv`` and ``pareto_variants.yaml`` (several objectives: the front, the latter a
    variants file for ``marketsim compare``), ``importance.csv`` (objective, param,
    importance; when at least 2 trials completed), ``summary.json``, ``manifest.json`` and
    ``runs/`` (replications), and the study itself (``study.db`` by default).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from experiments.cli.common import add_executor_args, fmt_number, print_report
from experiments.results import write_csv, write_json, write_text
from experiments.runner import (
    Executor,
    ReplicationTask,
    ResultStore,
    make_executor,
    run_replications,
    with_strategies,
)
from experiments.scenario_io import file_sha256, load_scenario, load_yaml_model
from experiments.stats import cvar, replication_totals
from sim.contract import KINDS
from sim.errors import Problem, ScenarioError, StrategyError
from sim.kpis import KPI_BY_NAME
from sim.scenario import Identifier, Scenario
from sim.validation import validation_problems
from strategies.params import Param
from strategies.registry import get as get_strategy
from strategies.registry import validate_choice

SOURCE = "marketsim tune"
DEFAULT_OBJECTIVE = "net_profit_base"
PRUNER_STARTUP_TRIALS = 5
SETUP_ATTR = "marketsim_setup"
FINISHED_STATES = ("COMPLETE", "PRUNED")


def _bad(path: str, message: str, source: str = SOURCE) -> ScenarioError:
    return ScenarioError([Problem(source, path, message)])


# ============================================================================ redaction
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):([^@\s]*)@")


def redact(text: str) -> str:
    """Hide passwords of URLs in ``text``: ``scheme://user:pass@host`` -> ``user:***@``."""
    return _URL_PASSWORD.sub(r"\1:***@", str(text))


def _passwords(url: str) -> list[str]:
    return [m.group(2) for m in _URL_PASSWORD.finditer(url) if m.group(2)]


def _scrub(text: str, url: str) -> str:
    """``text`` with every password of ``url`` replaced (error messages may echo them)."""
    out = redact(text)
    for secret in _passwords(url):
        out = out.replace(secret, "***")
    return out


class _TuneStore(ResultStore):
    """The replication store, with storage passwords removed from the recorded ``argv``."""

    def save(self) -> None:
        self.manifest["argv"] = [redact(a) for a in self.manifest.get("argv", [])]
        super().save()


# ============================================================================ objectives
@dataclass(frozen=True)
class Objective:
    """A KPI total for region ALL and the direction that is better."""

    kpi: str
    direction: str  # "maximize" | "minimize"

    @property
    def sign(self) -> float:
        """+1 when larger is better, -1 otherwise."""
        return 1.0 if self.direction == "maximize" else -1.0


def parse_objectives(objective: str | None, objectives: str | None) -> list[Objective]:
    """``--objective KPI`` or ``--objectives KPI,KPI`` as a list of :class:`Objective`."""
    if objectives is not None:
        flag = "--objectives"
        names = [n.strip() for n in objectives.split(",") if n.strip()]
        if len(names) < 2 or len(set(names)) != len(names):
            raise _bad(
                flag, f"give at least two different KPIs separated by commas, got {objectives!r}"
            )
    else:
        flag = "--objective"
        names = [objective or DEFAULT_OBJECTIVE]
    out = []
    for name in names:
        kpi = KPI_BY_NAME.get(name)
        if kpi is None:
            raise _bad(flag, f"unknown KPI {name!r}; valid: {sorted(KPI_BY_NAME)}")
        if kpi.direction == "none":
            valid = sorted(k for k, v in KPI_BY_NAME.items() if v.direction != "none")
            raise _bad(
                flag,
                f"KPI {name!r} has no better direction, so it cannot be optimized; valid: {valid}",
            )
        out.append(Objective(name, kpi.direction))
    return out


@dataclass(frozen=True)
class RobustRule:
    """How one trial's scenario x replication values become one number."""

    kind: str  # "mean" | "worst" | "cvar"
    alpha: float | None = None

    def __str__(self) -> str:
        return f"cvar:{self.alpha:g}" if self.kind == "cvar" else self.kind

    def aggregate(self, per_scenario: Sequence[np.ndarray], sign: float) -> float:
        """Aggregate replication values (one array per scenario); ``sign`` +1 = maximize."""
        if self.kind == "mean":
            return float(np.mean(np.concatenate(per_scenario)))
        if self.kind == "worst":
            means = np.array([np.mean(v) for v in per_scenario])
            return float(means.min() if sign > 0 else means.max())
        x = np.concatenate(per_scenario).astype(float)
        return float(sign * cvar(sign * x, float(self.alpha)))  # type: ignore[arg-type]


def parse_robust(text: str) -> RobustRule:
    """``mean``, ``worst`` or ``cvar:ALPHA`` (0 < ALPHA <= 1); an argparse ``type``."""
    text = text.strip()
    if text in ("mean", "worst"):
        return RobustRule(text)
    if text.startswith("cvar:"):
        try:
            alpha = float(text[5:])
        except ValueError:
            alpha = float("nan")
        if 0 < alpha <= 1:
            return RobustRule("cvar", alpha)
    raise argparse.ArgumentTypeError(
        f"expected mean, worst or cvar:ALPHA with 0 < ALPHA <= 1 (e.g. cvar:0.2), got {text!r}"
    )


# ============================================================================ search space
@dataclass(frozen=True)
class TunedParam:
    """One searched parameter: ``kind.name`` with its (possibly narrowed) range."""

    kind: str
    param: Param
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def key(self) -> str:
        """Optuna parameter name."""
        return f"{self.kind}.{self.param.name}"

    def distribution(self):
        """The Optuna distribution of this parameter."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.param.type == "float":
            return FloatDistribution(float(self.low), float(self.high), log=self.log)  # type: ignore[arg-type]
        if self.param.type == "int":
            return IntDistribution(int(self.low), int(self.high), log=self.log)  # type: ignore[arg-type]
        return CategoricalDistribution(self.choices)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies in the searched range."""
        if self.param.type in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if self.param.type == "int" and not float(value).is_integer():
                return False
            return self.low <= value <= self.high  # type: ignore[operator]
        return value in self.choices

    def describe(self) -> str:
        """Range in one line (manifest and summary)."""
        if self.param.type in ("float", "int"):
            return f"{self.param.type} in [{self.low:g}, {self.high:g}]" + (
                ", log" if self.log else ""
            )
        return f"one of {list(self.choices)}"


@dataclass(frozen=True)
class TunedKind:
    """The strategy of one kind: fixed parameter values and the searched ones."""

    kind: str
    name: str
    fixed: Mapping[str, Any]
    tuned: tuple[TunedParam, ...]


@dataclass(frozen=True)
class SearchSpace:
    """The strategies a trial sets, with their searched parameters."""

    kinds: tuple[TunedKind, ...]
    decision_interval_days: int | None = None

    @property
    def params(self) -> list[TunedParam]:
        """Every searched parameter, in kind then declaration order."""
        return [p for k in self.kinds for p in k.tuned]

    def describe(self) -> dict[str, Any]:
        """Plain-data description (recorded in the manifest, summary and study)."""
        return {
            "strategies": {
                k.kind: {
                    "name": k.name,
                    "fixed": dict(k.fixed),
                    "tuned": {p.param.name: p.describe() for p in k.tuned},
                }
                for k in self.kinds
            },
            "decision_interval_days": self.decision_interval_days,
        }

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Ask the trial for a value of every searched parameter."""
        out: dict[str, Any] = {}
        for p in self.params:
            if p.param.type == "float":
                out[p.key] = trial.suggest_float(p.key, p.low, p.high, log=p.log)
            elif p.param.type == "int":
                out[p.key] = trial.suggest_int(p.key, int(p.low), int(p.high), log=p.log)  # type: ignore[arg-type]
            else:
                out[p.key] = trial.suggest_categorical(p.key, list(p.choices))
        return out

    def strategies(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The strategies block (``{kind: {name, params}}``) for searched ``values``."""
        out: dict[str, Any] = {}
        if self.decision_interval_days is not None:
            out["decision_interval_days"] = self.decision_interval_days
        for k in self.kinds:
            params = dict(k.fixed)
            for p in k.tuned:
                if p.key in values:
                    v = values[p.key]
                    params[p.param.name] = (
                        int(v)
                        if p.param.type == "int"
                        else float(v)
                        if p.param.type == "float"
                        else v
                    )
            out[k.kind] = {"name": k.name, "params": params}
        return json.loads(json.dumps(out))  # plain data: lists, not tuples (YAML, user attrs)

    def baseline(self, scenario: Scenario) -> dict[str, Any]:
        """The scenario's own values of the searched parameters (those within range)."""
        out: dict[str, Any] = {}
        for k in self.kinds:
            choice = getattr(scenario.strategies, k.kind)
            for p in k.tuned:
                value = p.param.default
                if choice.name == k.name and p.param.name in choice.params:
                    value = choice.params[p.param.name]
                if p.contains(value):
                    out[p.key] = value
        return out

    def problems(self, strategies: Mapping[str, Any], scenarios: Sequence[Scenario]) -> list[str]:
        """Why a full parameter set is refused by its strategies (empty when it is fine)."""
        out = []
        for k in self.kinds:
            spec = strategies[k.kind]
            for sc in scenarios:
                try:
                    validate_choice(k.kind, spec["name"], spec["params"], sc)
                except StrategyError as exc:
                    out.append(f"{k.kind}: {exc}")
                    break
        return out


# ---------------------------------------------------------------------------- tune file
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TuneRange(_Strict):
    """Narrowed bounds of a numeric parameter (each defaults to the declared one)."""

    low: float | None = None
    high: float | None = None
    log: bool | None = None


class TuneChoices(_Strict):
    """A subset of a ``choice`` parameter's choices."""

    choices: Annotated[list[str], Field(min_length=1)]


class TuneKind(_Strict):
    """One kind's strategy in a tune file."""

    name: Identifier | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class TuneStrategies(_Strict):
    """The kinds to tune (those left out keep each scenario's choice)."""

    pricing: TuneKind | None = None
    selection: TuneKind | None = None
    retention: TuneKind | None = None
    localization: TuneKind | None = None


class TuneFile(_Strict):
    """The ``--tune`` file."""

    strategies: TuneStrategies


def load_tune_file(path: str | Path) -> TuneFile:
    """Read and structurally validate a tune file (parameters are checked by
    :func:`build_search_space`)."""
    source = str(path)
    parsed = load_yaml_model(path, TuneFile, "tune file", "strategies")
    if all(getattr(parsed.strategies, kind) is None for kind in KINDS):
        raise _bad(
            "strategies", f"names no strategy kind; give at least one of {list(KINDS)}", source
        )
    return parsed


def _tuned_param(
    kind: str, param: Param, spec: Any, source: str, where: str
) -> tuple[TunedParam | None, Any, list[Problem]]:
    """(searched parameter, or fixed value) from one tune-file entry (``spec`` None = whole
    declared range)."""
    if param.type in ("float", "int"):
        if spec is None:
            spec = {}
        if isinstance(spec, Mapping):
            try:
                rng = TuneRange.model_validate(spec)
            except ValidationError as exc:
                return None, None, validation_problems(source, exc, where)
            low = param.low if rng.low is None else rng.low
            high = param.high if rng.high is None else rng.high
            log = param.log if rng.log is None else rng.log
            problems = []
            for name, value in (("low", low), ("high", high)):
                if not param.low <= value <= param.high:  # type: ignore[operator]
                    problems.append(
                        Problem(
                            source,
                            f"{where}.{name}",
                            f"{value:g} is outside the declared bounds "
                            f"[{param.low:g}, {param.high:g}] of {kind}.{param.name}",
                        )
                    )
                elif param.type == "int" and not float(value).is_integer():
                    problems.append(
                        Problem(
                            source, f"{where}.{name}", f"expected a whole number, got {value:g}"
                        )
                    )
            if not problems and low > high:  # type: ignore[operator]
                problems.append(
                    Problem(
                        source, where, f"`low <= high` must hold, got low={low:g}, high={high:g}"
                    )
                )
            if not problems and log and low <= 0:  # type: ignore[operator]
                problems.append(
                    Problem(source, f"{where}.log", f"log scale needs low > 0, got {low:g}")
                )
            if problems:
                return None, None, problems
            if low == high:
                return None, int(low) if param.type == "int" else float(low), []  # type: ignore[arg-type]
            return TunedParam(kind, param, low, high, bool(log)), None, []
    elif param.type == "choice":
        if spec is None:
            return TunedParam(kind, param, choices=tuple(param.choices)), None, []
        if isinstance(spec, Mapping):
            try:
                sub = TuneChoices.model_validate(spec)
            except ValidationError as exc:
                return None, None, validation_problems(source, exc, where)
            bad = [c for c in sub.choices if c not in param.choices]
            if bad:
                msg = f"{bad} not among the choices {list(param.choices)} of {kind}.{param.name}"
                return None, None, [Problem(source, f"{where}.choices", msg)]
            choices = tuple(dict.fromkeys(sub.choices))
            if len(choices) == 1:
                return None, choices[0], []
            return TunedParam(kind, param, choices=choices), None, []
    elif param.type == "bool":
        if spec is None:
            return TunedParam(kind, param, choices=(False, True)), None, []
        if isinstance(spec, Mapping):
            msg = "fix it with true or false, or leave it out to search both"
            return None, None, [Problem(source, where, msg)]
    # a fixed value (also the only way to set lists and mappings)
    try:
        return None, param.validate(spec), []
    except ValueError as exc:
        suffix = getattr(exc, "path", "")
        return None, None, [Problem(source, f"{where}{suffix}", str(exc))]


def build_search_space(
    scenarios: Sequence[Scenario], tune: TuneFile | None = None, source: str = "--tune"
) -> SearchSpace:
    """The search space from the tune file, or from the first scenario's strategies."""
    first = scenarios[0].strategies
    problems: list[Problem] = []
    kinds: list[TunedKind] = []
    for kind in KINDS:
        current = getattr(first, kind)
        entry = getattr(tune.strategies, kind) if tune is not None else TuneKind()
        if entry is None:
            continue
        where = f"strategies.{kind}"
        name = entry.name or current.name
        try:
            cls = get_strategy(kind, name)
        except StrategyError as exc:
            problems.extend(Problem(source, f"{where}.name", m) for _, m in exc.problems)
            continue
        declared = {p.name: p for p in cls.params}
        for key in entry.params:
            if key not in declared:
                problems.append(
                    Problem(
                        source,
                        f"{where}.params.{key}",
                        f"unknown parameter of {kind} strategy {name!r}; known: {sorted(declared)}",
                    )
                )
        fixed: dict[str, Any] = {}
        tuned: list[TunedParam] = []
        for p in cls.params:
            if p.name in entry.params:
                spec = entry.params[p.name]
            elif p.tunable:
                spec = None
            else:  # not searchable: the first scenario's value (same strategy) or the default
                if current.name == name and p.name in current.params:
                    fixed[p.name] = current.params[p.name]
                continue
            tp, value, errs = _tuned_param(kind, p, spec, source, f"{where}.params.{p.name}")
            problems.extend(errs)
            if tp is not None:
                tuned.append(tp)
            elif not errs:
                fixed[p.name] = value
        kinds.append(TunedKind(kind, name, fixed, tuple(tuned)))
    if problems:
        raise ScenarioError(problems)
    intervals = {sc.strategies.decision_interval_days for sc in scenarios}
    space = SearchSpace(tuple(kinds), intervals.pop() if len(intervals) == 1 else None)
    if not space.params:
        chosen = ", ".join(f"{k.kind}={k.name}" for k in kinds)
        raise _bad(
            "strategies" if tune is not None else "--tune",
            f"nothing to tune: the chosen strategies ({chosen}) have no searchable parameter "
            "left; name strategies or ranges in a --tune file",
            source if tune is not None else SOURCE,
        )
    # a representative point must be acceptable to every strategy in every scenario
    point = space.strategies({**_lows(space), **space.baseline(scenarios[0])})
    for k in space.kinds:
        for sc in scenarios:
            try:
                validate_choice(k.kind, k.name, point[k.kind]["params"], sc)
            except StrategyError as exc:
                raise ScenarioError(
                    [
                        Problem(source, f"strategies.{k.kind}" + (f".{p}" if p else ""), m)
                        for p, m in exc.problems
                    ]
                ) from None
    return space


def _lows(space: SearchSpace) -> dict[str, Any]:
    return {
        p.key: p.low if p.param.type in ("float", "int") else p.choices[0] for p in space.params
    }


# ============================================================================ storage
DEFAULT_HEARTBEAT_S = 10
GRACE_FACTOR = 3  # default grace period: this many heartbeat intervals
DEFAULT_MAX_RETRY = 3
WORKER_ATTR = "marketsim_worker"  # trial system attr: "host:pid" of the process running it
HEARTBEAT_ATTR = "marketsim_heartbeat"  # trial system attr (journal): last beat, epoch seconds
JOINS_ATTR = "marketsim_processes"  # study user attr: processes that joined the study so far
LOCK_SCHEMA = "marketsim:schema"


class StudyLock:
    """A lock shared by every process using one storage; ``hold(name)`` is a context manager.

    It makes "count the trials, then ask for a new one" atomic across processes and
    machines, so the trial budget is never overshot, and it serializes creating tables,
    studies and the start-up bookkeeping. Held for milliseconds, never during a trial.
    """

    def __init__(self) -> None:
        self._local = threading.Lock()

    @contextlib.contextmanager
    def hold(self, name: str):
        with self._local:
            self._acquire(name)
            try:
                yield
            finally:
                self._release(name)

    def _acquire(self, name: str) -> None:
        pass

    def _release(self, name: str) -> None:
        pass

    def close(self) -> None:
        """Give back the lock's connection or file."""


def _lock_key(name: str) -> int:
    """A signed 64-bit key for ``pg_advisory_lock`` from a lock name."""
    digest = hashlib.sha256(f"marketsim:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _AdvisoryLock(StudyLock):
    """PostgreSQL ``pg_advisory_lock`` (MySQL/MariaDB ``GET_LOCK``) on a dedicated connection.

    The server releases a session's locks when its connection drops, so a killed process
    never leaves the lock held.
    """

    def __init__(self, url: str, backend: str, connect_args: Mapping[str, Any]):
        import sqlalchemy
        from sqlalchemy.pool import NullPool

        super().__init__()
        self.backend = backend
        self._engine = sqlalchemy.create_engine(
            url, poolclass=NullPool, connect_args=dict(connect_args)
        )
        self._conn: Any = None

    def _execute(self, sql: str, params: Mapping[str, Any]) -> None:
        import sqlalchemy

        if self._conn is None:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._conn.execute(sqlalchemy.text(sql), dict(params)).fetchall()

    def _acquire(self, name: str) -> None:
        if self.backend == "postgresql":
            self._execute("SELECT pg_advisory_lock(:k)", {"k": _lock_key(name)})
        else:
            self._execute("SELECT GET_LOCK(:n, -1)", {"n": f"ms{_lock_key(name):x}"[:64]})

    def _release(self, name: str) -> None:
        if self.backend == "postgresql":
            self._execute("SELECT pg_advisory_unlock(:k)", {"k": _lock_key(name)})
        else:
            self._execute("SELECT RELEASE_LOCK(:n)", {"n": f"ms{_lock_key(name):x}"[:64]})

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        self._engine.dispose()


class _FileLock(StudyLock):
    """A POSIX ``fcntl`` lock on a file next to the SQLite database or journal file.

    The kernel (or the NFS lock manager) releases it when the process dies. One lock per
    file: ``name`` is not used.
    """

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._fd: int | None = None

    def _acquire(self, name: str) -> None:
        import fcntl

        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.lockf(self._fd, fcntl.LOCK_EX)

    def _release(self, name: str) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _lock_file(path: Path) -> Path:
    return path.with_name(f".{path.name}.marketsim-lock")


@dataclass(frozen=True)
class StorageInfo:
    """An opened Optuna storage, with its URL safe to show and how processes share it.

    ``heartbeat``/``grace`` are seconds (``None``: no liveness check, RUNNING trials of other
    processes are not counted); ``journal`` marks a journal storage, whose heartbeats
    marketsim records itself (trial system attribute ``marketsim_heartbeat``).
    """

    storage: Any
    shown: str
    dashboard: str
    lock: StudyLock = field(default_factory=StudyLock)
    heartbeat: int | None = None
    grace: int | None = None
    journal: bool = False
    stale_callback: Callable | None = None


def retry_callback(max_retry: int | None) -> Callable:
    """Optuna's stale-trial retry callback (re-enqueues the trial with the same parameters)."""
    import optuna

    cls = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None)
    if cls is None:  # Optuna < 4.9
        cls = optuna.storages.RetryFailedTrialCallback
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental / deprecated-alias warnings
        return cls(max_retry=max_retry)


def open_storage(
    url: str | None,
    out: Path,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    heartbeat_stale_trial_callback: Callable | None = None,
) -> StorageInfo:
    """Open ``url`` (default ``sqlite:///OUT/study.db``; ``journal:PATH`` for a journal file).

    Heartbeat arguments go to :class:`optuna.storages.RDBStorage`; a journal storage gets
    the same behaviour from marketsim (see :func:`run_budget`). The returned
    :class:`StudyLock` is a PostgreSQL advisory lock (MySQL ``GET_LOCK``) for those
    databases, an ``fcntl`` lock file next to a SQLite database or journal file, and a
    process-local lock otherwise.

    Raises:
        ScenarioError: naming the (redacted) storage and why it cannot be used.
    """
    import optuna

    grace = grace_period
    if heartbeat_interval is not None and grace is None:
        grace = GRACE_FACTOR * heartbeat_interval
    lock: StudyLock | None = None
    try:
        if url is None:
            out.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{(out / 'study.db').resolve()}"
        if url.startswith("journal:"):
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            raw = url[len("journal:") :]
            if not raw:
                raise ValueError("journal: needs a file path, e.g. journal:/shared/study.log")
            path = Path(raw).expanduser().resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            lock = _FileLock(_lock_file(path))
            with lock.hold(LOCK_SCHEMA):
                storage = JournalStorage(JournalFileBackend(str(path)))
            return StorageInfo(
                storage,
                f"journal:{path}",
                f"optuna-dashboard {path}",
                lock,
                heartbeat_interval,
                grace if heartbeat_interval is not None else None,
                True,
                heartbeat_stale_trial_callback,
            )
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        backend = parsed.get_backend_name()
        engine_kwargs: dict[str, Any] = {}
        if backend == "postgresql":
            engine_kwargs["connect_args"] = {"connect_timeout": 10}
        if backend in ("postgresql", "mysql", "mariadb"):
            lock = _AdvisoryLock(url, backend, engine_kwargs.get("connect_args", {}))
        elif backend == "sqlite" and parsed.database not in (None, "", ":memory:"):
            db = Path(parsed.database).expanduser().resolve()  # type: ignore[arg-type]
            lock = _FileLock(_lock_file(db))
        else:
            lock = StudyLock()
        with lock.hold(LOCK_SCHEMA), warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            storage = optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_interval,
                grace_period=grace if heartbeat_interval is not None else None,
                heartbeat_stale_trial_callback=heartbeat_stale_trial_callback,
            )
    except Exception as exc:  # SQLAlchemy/driver/Optuna errors: one clear message, exit 2
        if lock is not None:
            lock.close()
        shown = redact(url or "")
        raise _bad(
            "--storage", f"cannot open storage {shown}: {_storage_reason(exc, url or '')}"
        ) from None
    shown = redact(url)
    return StorageInfo(
        storage,
        shown,
        f"optuna-dashboard {shown}",
        lock,
        heartbeat_interval,
        grace if heartbeat_interval is not None else None,
        False,
        heartbeat_stale_trial_callback,
    )


def _storage_reason(exc: BaseException, url: str) -> str:
    if isinstance(exc, ImportError):
        missing = getattr(exc.__cause__, "name", None) or getattr(exc, "name", None)
        what = f" ({missing})" if missing else ""
        return f"the database driver for this URL is not installed{what}"
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return _scrub(f"{type(exc).__name__}: {first}", url)


# ============================================================================ the command
@dataclass(frozen=True)
class ScenarioInput:
    """One scenario of the study with its CRN settings."""

    index: int
    file: str
    scenario: Scenario
    sha256: str
    label: str
    seed: int
    days: int


def _inputs(args: argparse.Namespace) -> list[ScenarioInput]:
    loaded = [(path, load_scenario(path)) for path in args.scenarios]
    names = [sc.name for _, sc in loaded]
    hashes = [file_sha256(path) for path, _ in loaded]
    for i, sha in enumerate(hashes):
        if sha in hashes[:i]:
            first = args.scenarios[hashes.index(sha)]
            raise _bad(
                "scenarios", f"{args.scenarios[i]} is the same file as {first}; give it once"
            )
    out = []
    for i, (path, sc) in enumerate(loaded):
        label = sc.name if names.count(sc.name) == 1 else f"{sc.name}#{i}"
        out.append(
            ScenarioInput(
                i,
                str(path),
                sc,
                hashes[i],
                label,
                sc.seed if args.seed is None else args.seed,
                sc.horizon_days if args.days is None else args.days,
            )
        )
    return out


def _setup(
    inputs: Sequence[ScenarioInput],
    objectives: Sequence[Objective],
    robust: RobustRule,
    reps: int,
    space: SearchSpace,
) -> dict[str, Any]:
    """What makes trial values comparable: stored on the study and checked when resuming."""
    data = {
        "scenarios": [
            {"label": s.label, "sha256": s.sha256, "seed": s.seed, "days": s.days} for s in inputs
        ],
        "objectives": [o.kpi for o in objectives],
        "robust": str(robust),
        "reps": reps,
        "search_space": space.describe(),
    }
    return json.loads(json.dumps(data))


def _open_study(
    info: StorageInfo,
    name: str,
    objectives: Sequence[Objective],
    setup: dict[str, Any],
    seed: int,
    baseline: Mapping[str, Any] | None = None,
) -> Any:
    """Create or load the study (under the storage lock, so processes starting together
    create it once), check it was set up like this command, count this process in, enqueue
    the baseline trial in a new study, and seed the sampler."""
    import optuna

    directions = [o.direction for o in objectives]
    pruner = (
        optuna.pruners.MedianPruner(n_startup_trials=PRUNER_STARTUP_TRIALS, n_warmup_steps=0)
        if len(objectives) == 1
        else optuna.pruners.NopPruner()
    )
    try:
        with info.lock.hold(name):
            study = optuna.create_study(
                storage=info.storage,
                study_name=name,
                directions=directions,
                load_if_exists=True,
                pruner=pruner,
            )
            n_existing = len(study.get_trials(deepcopy=False))
            user_attrs = study.user_attrs
            previous = user_attrs.get(SETUP_ATTR)
            if previous is None and n_existing == 0:
                study.set_user_attr(SETUP_ATTR, setup)
                previous = setup
            joined = int(user_attrs.get(JOINS_ATTR, 0))
            if previous == setup and [d.name.lower() for d in study.directions] == directions:
                study.set_user_attr(JOINS_ATTR, joined + 1)
                if n_existing == 0 and baseline is not None:
                    # trial 0 = the first scenario's own parameters
                    study.enqueue_trial(
                        dict(baseline), user_attrs={"baseline": True}, skip_if_exists=True
                    )
    except Exception as exc:
        raise _bad(
            "--storage", f"cannot use study {name!r} in {info.shown}: {_storage_reason(exc, '')}"
        ) from None
    existing = [d.name.lower() for d in study.directions]
    if existing != directions:
        raise _bad(
            "--study",
            f"study {name!r} in {info.shown} optimizes {existing}, this command {directions}; "
            "choose another --study (or --out)",
        )
    if previous != setup:
        differ = (
            sorted(k for k in setup if (previous or {}).get(k) != setup[k])
            if isinstance(previous, dict)
            else ["(not made by marketsim tune)"]
        )
        raise _bad(
            "--study",
            f"study {name!r} in {info.shown} was set up differently ({', '.join(differ)}); "
            "its trials are not comparable with this command's: choose another --study (or --out)",
        )
    # The first process of a study is seeded [seed, trials in the study] (reproducible); a
    # process joining later adds its join number, so processes starting together on an
    # empty study do not draw the same random start-up trials.
    entropy = [seed, n_existing] if joined == 0 else [seed, n_existing, joined]
    sampler_seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
    study.sampler = optuna.samplers.TPESampler(seed=sampler_seed)
    return study


def _count(study: Any, *states: str) -> int:
    from optuna.trial import TrialState

    wanted = tuple(TrialState[s] for s in states)
    return len(study.get_trials(deepcopy=False, states=wanted))


class TrialRunner:
    """The objective: every scenario x ``reps`` CRN replications of one trial's strategies."""

    def __init__(
        self,
        inputs: Sequence[ScenarioInput],
        objectives: Sequence[Objective],
        robust: RobustRule,
        reps: int,
        space: SearchSpace,
        executor: Executor,
        store: ResultStore | None,
    ):
        self.inputs = inputs
        self.objectives = objectives
        self.robust = robust
        self.reps = reps
        self.space = space
        self.executor = executor
        self.store = store

    def _batches(self, study: Any) -> list[list[ScenarioInput]]:
        """Scenario by scenario when pruning may cut the trial, else all in one batch."""
        if (
            len(self.objectives) > 1
            or len(self.inputs) == 1
            or _count(study, "COMPLETE") < PRUNER_STARTUP_TRIALS
        ):
            return [list(self.inputs)]
        return [[s] for s in self.inputs]

    def __call__(self, trial: Any) -> float | list[float]:
        import optuna

        values = self.space.suggest(trial)
        strategies = self.space.strategies(values)
        trial.set_user_attr("strategies", strategies)
        refused = self.space.problems(strategies, [s.scenario for s in self.inputs])
        if refused:
            trial.set_user_attr("infeasible", "; ".join(refused))
            raise optuna.TrialPruned("; ".join(refused))
        # a trial retried after its process died inherits the user attributes of the original
        # (RetryHeartbeatStaleTrialCallback), so it reuses the original's stored replications
        variant = trial.user_attrs.get("variant") or f"trial-{trial.number}"
        trial.set_user_attr("variant", variant)
        per_obj: dict[str, list[np.ndarray]] = {o.kpi: [] for o in self.objectives}
        single = len(self.objectives) == 1
        last = len(self.inputs) - 1
        for batch in self._batches(trial.study):
            tasks = [
                ReplicationTask(
                    with_strategies(s.scenario, strategies),
                    s.index,
                    s.sha256,
                    variant,
                    k,
                    s.seed,
                    s.days,
                )
                for s in batch
                for k in range(self.reps)
            ]
            by_key = run_replications(
                tasks, self.executor, self.store, desc=f"trial {trial.number}"
            )
            for s in batch:
                frames = {(t.rep,): by_key[t.key] for t in tasks if t.scenario_index == s.index}
                per_rep = replication_totals(frames, ("rep",))
                all_rows = per_rep[per_rep["region"] == "ALL"]
                for o in self.objectives:
                    x = all_rows[o.kpi].to_numpy(dtype=float)
                    per_obj[o.kpi].append(x)
                    trial.set_user_attr(f"{o.kpi}[{s.label}]", float(np.mean(x)))
                if single:
                    o = self.objectives[0]
                    trial.report(self.robust.aggregate(per_obj[o.kpi], o.sign), step=s.index)
                    if s.index < last and len(batch) == 1 and trial.should_prune():
                        raise optuna.TrialPruned(f"pruned after scenario {s.label}")
        result = [self.robust.aggregate(per_obj[o.kpi], o.sign) for o in self.objectives]
        return result[0] if single else result


class _Progress:
    """A trial progress bar on a terminal (silent otherwise), as a study callback."""

    def __init__(self, total: int):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="tune", unit="trial", disable=not sys.stderr.isatty())

    def __call__(self, study: Any, trial: Any) -> None:
        self.bar.update(1)
        if len(study.directions) == 1:
            with contextlib.suppress(ValueError):  # no completed trial yet
                self.bar.set_postfix(best=fmt_number(study.best_value), refresh=False)

    def close(self) -> None:
        self.bar.close()


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _fail_stale_trials(study: Any, info: StorageInfo) -> list[int]:
    """Fail the trials of dead processes and enqueue their retries (call under the lock).

    RDB storages: Optuna's heartbeat check (``fail_stale_trials``: no heartbeat for
    ``grace`` seconds, by the database clock), which runs the retry callback. Journal
    storages: the same rule on marketsim's ``marketsim_heartbeat`` attribute (wall clock;
    machines sharing a journal need synchronized clocks). Both: a RUNNING trial that no
    marketsim process claimed (its process died between creating and claiming it, or an older
    version made it) and that started more than ``grace`` seconds ago. Returns the numbers of
    the trials failed here.
    """
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    if info.heartbeat is None or info.grace is None:
        return []
    storage = info.storage
    failed: list[int] = []
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.FAIL,))}
    if not info.journal:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
        after = study.get_trials(deepcopy=False, states=(TrialState.FAIL,))
        failed = sorted({t.number for t in after} - before)
    now = time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        claimed = t.system_attrs.get(WORKER_ATTR) is not None
        if claimed and not info.journal:
            continue  # Optuna's heartbeat check above
        if claimed:
            last = float(t.system_attrs.get(HEARTBEAT_ATTR, 0.0))
        else:
            last = t.datetime_start.timestamp() if t.datetime_start is not None else now
        if now - last <= info.grace:
            continue
        trial_id = t._trial_id
        try:
            storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
        except UpdateFinishedTrialError:
            continue  # finished meanwhile
        failed.append(t.number)
        if info.stale_callback is not None:
            info.stale_callback(study, copy.deepcopy(storage.get_trial(trial_id)))
    return failed


def _beat(info: StorageInfo, trial_id: int) -> None:
    """Record one heartbeat of a trial."""
    if info.journal:
        info.storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())
    else:
        info.storage.record_heartbeat(trial_id)


class _Heartbeat:
    """A thread beating for one trial every ``interval`` seconds while the trial runs."""

    def __init__(self, info: StorageInfo, trial_id: int):
        self.info, self.trial_id = info, trial_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="marketsim-heartbeat", daemon=True)

    def _run(self) -> None:
        assert self.info.heartbeat is not None
        while not self._stop.wait(self.info.heartbeat):
            with contextlib.suppress(Exception):  # a missed beat is retried at the next one
                _beat(self.info, self.trial_id)

    def __enter__(self) -> _Heartbeat:
        if self.info.heartbeat is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _ask(study: Any, info: StorageInfo) -> Any:
    """A new trial (a waiting one first: retries, the baseline), claimed by this process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "heartbeat is supposed to be used with optimize"
        trial = study.ask()
    info.storage.set_trial_system_attr(trial._trial_id, WORKER_ATTR, _worker_id())
    if info.heartbeat is not None:
        _beat(info, trial._trial_id)
    return trial


def _run_trial(study: Any, trial: Any, objective: Callable[[Any], Any], info: StorageInfo):
    """Evaluate one asked trial with heartbeats and tell the study; the finished trial, or
    ``None`` when another process had already failed it as stale (its retry counts)."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    state, value, error = None, None, None
    with _Heartbeat(info, trial._trial_id):
        try:
            value = objective(trial)
        except optuna.TrialPruned:
            state = TrialState.PRUNED
        except (Exception, KeyboardInterrupt) as exc:
            state, error = TrialState.FAIL, exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            frozen = study.tell(trial, value, state=state)
    except UpdateFinishedTrialError:
        print(
            f"marketsim: trial {trial.number} was failed by another process (no heartbeat for "
            f"{info.grace} s) and is retried there; this result is dropped",
            file=sys.stderr,
        )
        frozen = None
    if error is not None:
        raise error
    return frozen


def run_budget(study: Any, objective: Callable[[Any], Any], total: int, info: StorageInfo) -> int:
    """Run trials until the study holds exactly ``total`` finished (COMPLETE + PRUNED) trials.

    Several processes (on several machines) may run this on one study. Under the storage's
    :class:`StudyLock` each process first fails stale trials (their retries are enqueued
    with the same parameters), then counts finished trials plus RUNNING trials claimed by a
    live process (one with heartbeats) and asks for a new trial only when that sum is below
    ``total``; the new trial is RUNNING and claimed before the lock is released, so the next
    process counts it. The budget is therefore never overshot. When the sum reaches
    ``total`` but trials are still running elsewhere, the process waits (checking for stale
    trials) instead of leaving, so the trial of a process killed near the end is still
    retried; it returns once ``total`` trials are finished. Returns the number of trials
    this process evaluated.
    """
    from optuna.trial import TrialState

    finished_states = tuple(TrialState[s] for s in FINISHED_STATES)
    poll = max(0.2, min(2.0, (info.heartbeat or 2) / 2))
    bar = _Progress(max(0, total - _count(study, *FINISHED_STATES)))
    ran, said = 0, False
    try:
        while True:
            with info.lock.hold(study.study_name):
                retried = _fail_stale_trials(study, info)
                trials = study.get_trials(deepcopy=False)
                finished = sum(t.state in finished_states for t in trials)
                running = sum(
                    t.state == TrialState.RUNNING and t.system_attrs.get(WORKER_ATTR) is not None
                    for t in trials
                )
                trial = None
                if finished < total and finished + running < total:
                    trial = _ask(study, info)
            if retried:
                print(
                    f"marketsim: trial(s) {retried} lost their process (no heartbeat for "
                    f"{info.grace} s): failed and queued again with the same parameters",
                    file=sys.stderr,
                )
            if finished >= total:
                break
            if trial is None:
                if not said:
                    print(
                        f"marketsim: {finished} of {total} trials finished and {running} "
                        "running elsewhere; waiting for them",
                        file=sys.stderr,
                    )
                    said = True
                time.sleep(poll)
                continue
            frozen = _run_trial(study, trial, objective, info)
            ran += 1
            if frozen is not None:
                bar(study, frozen)
    finally:
        bar.close()
    return ran


def _liveness(args: argparse.Namespace) -> tuple[int, int, int]:
    """``--heartbeat``, ``--grace`` (default 3 heartbeats) and ``--max-retry``, checked."""
    heartbeat = int(getattr(args, "heartbeat", None) or DEFAULT_HEARTBEAT_S)
    grace = getattr(args, "grace", None)
    grace = GRACE_FACTOR * heartbeat if grace is None else int(grace)
    max_retry = getattr(args, "max_retry", None)
    max_retry = DEFAULT_MAX_RETRY if max_retry is None else int(max_retry)
    if heartbeat < 1:
        raise _bad("--heartbeat", f"must be at least 1 second, got {heartbeat}")
    if grace <= heartbeat:
        raise _bad(
            "--grace",
            f"must be longer than the heartbeat interval ({heartbeat} s), got {grace}; "
            f"a live trial would be taken for a dead one",
        )
    if max_retry < 0:
        raise _bad("--max-retry", f"must be >= 0, got {max_retry}")
    return heartbeat, grace, max_retry


def _scenario_meta(s: Any) -> dict[str, Any]:
    """One tuned scenario as recorded in the manifest and summary."""
    return {
        "index": s.index,
        "file": s.file,
        "sha256": s.sha256,
        "name": s.scenario.name,
        "label": s.label,
        "seed": s.seed,
        "days": s.days,
    }


def cmd_tune(args: argparse.Namespace) -> int:
    """``marketsim tune``: run (or resume) the study up to ``--trials`` finished trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    objectives = parse_objectives(args.objective, args.objectives)
    robust = args.robust if isinstance(args.robust, RobustRule) else parse_robust(args.robust)
    inputs = _inputs(args)
    tune = load_tune_file(args.tune) if args.tune else None
    space = build_search_space([s.scenario for s in inputs], tune, str(args.tune or SOURCE))
    out = Path(args.out)
    study_name = args.study or f"tune-{inputs[0].scenario.name}"
    setup = _setup(inputs, objectives, robust, args.reps, space)
    heartbeat, grace, max_retry = _liveness(args)
    info = open_storage(
        args.storage,
        out,
        heartbeat_interval=heartbeat,
        grace_period=grace,
        heartbeat_stale_trial_callback=retry_callback(max_retry),
    )
    try:
        baseline = space.baseline(inputs[0].scenario)
        study = _open_study(
            info,
            study_name,
            objectives,
            setup,
            inputs[0].seed,
            baseline if len(baseline) == len(space.params) else None,
        )
        executor = make_executor(args.executor, args.workers, scheduler=args.scheduler)
        store = _TuneStore.open(
            out,
            "tune",
            {
                "scenarios": [_scenario_meta(s) for s in inputs],
                "study": study_name,
                "storage": info.shown,
                "objectives": [{"kpi": o.kpi, "direction": o.direction} for o in objectives],
                "robust": str(robust),
                "reps": args.reps,
                "trials": args.trials,
                "search_space": space.describe(),
                "liveness": {
                    "heartbeat_s": heartbeat,
                    "grace_s": grace,
                    "max_retry": max_retry,
                    "worker": _worker_id(),
                },
            },
        )
        finished = _count(study, *FINISHED_STATES)
        with executor:  # stop its workers (or cluster) once the trials are done
            if finished < args.trials:
                runner = TrialRunner(inputs, objectives, robust, args.reps, space, executor, store)
                run_budget(study, runner, args.trials, info)
            else:
                print(
                    f"study {study_name!r} already holds {finished} finished trials "
                    f"(--trials {args.trials}); no new trial run"
                )
    finally:
        info.lock.close()
    return write_outputs(out, study, inputs, objectives, robust, space, info, args)


# ============================================================================ outputs
def _trial_row(
    t: Any, objectives: Sequence[Objective], params: Sequence[str], means: Sequence[str]
):
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


def _importance(study: Any, objectives: Sequence[Objective], n_complete: int, n_params: int):
    import optuna

    if n_complete < 2 or n_params < 1:
        return pd.DataFrame(columns=["objective", "param", "importance"]), (
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
        return pd.DataFrame(columns=["objective", "param", "importance"]), str(exc)
    return pd.DataFrame(rows, columns=["objective", "param", "importance"]), None


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


def write_outputs(
    out: Path,
    study: Any,
    inputs: Sequence[ScenarioInput],
    objectives: Sequence[Objective],
    robust: RobustRule,
    space: SearchSpace,
    info: StorageInfo,
    args: argparse.Namespace,
) -> int:
    """trials.csv, pareto.csv, importance.csv, best_strategies.yaml, summary.json; print."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    params = [p.key for p in space.params]
    means = [f"{o.kpi}[{s.label}]" for o in objectives for s in inputs]
    table = pd.DataFrame([_trial_row(t, objectives, params, means) for t in trials])
    if table.empty:
        table = pd.DataFrame(columns=["number", "state", "value"])
    write_csv(out, "trials.csv", table)
    counts = {s.name: 0 for s in TrialState}
    for t in trials:
        counts[t.state.name] += 1
    n_complete = counts["COMPLETE"]
    importance, skipped = _importance(study, objectives, n_complete, len(params))
    write_csv(out, "importance.csv", importance)

    best, front = _best_trial(study, objectives)
    multi = len(objectives) > 1
    files = ["trials.csv", "importance.csv", "summary.json", "manifest.json"]
    if multi:
        write_csv(
            out,
            "pareto.csv",
            pd.DataFrame([_trial_row(t, objectives, params, means) for t in front]),
        )
        variants = [
            {
                "name": f"trial-{t.number}",
                "description": ", ".join(
                    f"{o.kpi} {v:.6g}" for o, v in zip(objectives, t.values, strict=True)
                ),
                **space.strategies(t.params),
            }
            for t in front[:200]
        ]
        if variants:
            write_text(
                out,
                "pareto_variants.yaml",
                "# Pareto-optimal trials of `marketsim tune` as a variants file for "
                "`marketsim compare`.\n" + yaml.safe_dump({"variants": variants}, sort_keys=False),
            )
            files += ["pareto.csv", "pareto_variants.yaml"]
    best_info = None
    if best is not None:
        block = space.strategies(best.params)
        header = (
            f"# Best strategies of `marketsim tune`: study {study.study_name!r}, trial "
            f"{best.number}, "
            + ", ".join(
                f"{o.kpi} ({robust}) = {v:.6g}"
                for o, v in zip(objectives, best.values, strict=True)
            )
            + (f" (the Pareto trial best on {objectives[0].kpi})" if multi else "")
            + ".\n# Paste under a scenario's `strategies:` or use it as a variant"
            + (
                "; kinds not listed keep each scenario's own choice.\n"
                if len(space.kinds) < len(KINDS)
                else ".\n"
            )
        )
        write_text(
            out,
            "best_strategies.yaml",
            header + yaml.safe_dump({"strategies": block}, sort_keys=False),
        )
        files.insert(0, "best_strategies.yaml")
        best_info = {
            "number": best.number,
            "values": _values(best, objectives),
            "params": dict(best.params),
            "scenario_means": {k: best.user_attrs.get(k) for k in means},
            "strategies": block,
        }
    baseline = next((t for t in trials if t.user_attrs.get("baseline")), None)
    summary = {
        "command": "tune",
        "study": study.study_name,
        "storage": info.shown,
        "dashboard": info.dashboard,
        "scenarios": [_scenario_meta(s) for s in inputs],
        "objectives": [{"kpi": o.kpi, "direction": o.direction} for o in objectives],
        "objective": objectives[0].kpi if not multi else None,
        "region": "ALL",
        "robust": str(robust),
        "reps": args.reps,
        "seed_rule": "SeedSequence([seed, scenario_index, k]), the same in every trial",
        "sampler": "TPESampler (seeded: SeedSequence([seed, trials already in the study]), "
        "plus the process's join number for every process after the study's first)",
        "pruner": f"MedianPruner(n_startup_trials={PRUNER_STARTUP_TRIALS})" if not multi else None,
        "trials_requested": args.trials,
        "n_trials": counts,
        "search_space": space.describe(),
        "best": best_info,
        "baseline": (
            {
                "number": baseline.number,
                "state": baseline.state.name,
                "values": _values(baseline, objectives),
                "params": dict(baseline.params),
            }
            if baseline is not None
            else None
        ),
        "pareto": (
            [
                {"number": t.number, "values": _values(t, objectives), "params": dict(t.params)}
                for t in front
            ]
            if multi
            else None
        ),
        "importance_skipped": skipped,
        "files": files,
    }
    write_json(out, "summary.json", summary)
    print(format_tune_summary(summary, objectives, inputs, out))
    print_report(out)
    return 0 if best is not None else 1


def format_tune_summary(
    summary: dict[str, Any],
    objectives: Sequence[Objective],
    inputs: Sequence[ScenarioInput],
    out: Path,
) -> str:
    """A short readable account of the study and its best trial."""
    n = {k: v for k, v in summary["n_trials"].items() if v}
    states = ", ".join(f"{v} {k.lower()}" for k, v in n.items()) or "no trials"
    objs = ", ".join(f"{o.kpi} ({o.direction})" for o in objectives)
    lines = [
        f"study {summary['study']!r} in {summary['storage']}: {states}",
        f"objective {objs}, robust rule {summary['robust']} over {len(inputs)} scenario(s) x "
        f"{summary['reps']} CRN replications (region ALL, horizon totals)",
    ]
    best = summary["best"]
    if best is None:
        lines.append("no completed trial yet: no best parameters (see trials.csv)")
    else:
        vals = ", ".join(f"{k} {fmt_number(v)}" for k, v in best["values"].items())
        lines.append(
            f"best trial {best['number']}: {vals}"
            + (f" (Pareto front: {len(summary['pareto'])} trials)" if summary["pareto"] else "")
        )
        for o in objectives:
            scenario_means = best["scenario_means"]
            per = ", ".join(
                f"{s.label} {fmt_number(_num(scenario_means.get(f'{o.kpi}[{s.label}]')))}"
                for s in inputs
            )
            lines.append(f"  {o.kpi} mean per scenario: {per}")
        base = summary["baseline"]
        if base is not None and base["values"] is not None and base["number"] != best["number"]:
            bvals = ", ".join(f"{k} {fmt_number(v)}" for k, v in base["values"].items())
            lines.append(
                f"  baseline (trial {base['number']}, the scenario's own parameters): {bvals}"
            )
        lines.append("best parameters:")
        for key, value in best["params"].items():
            shown = f"{value:.6g}" if isinstance(value, float) else repr(value)
            lines.append(f"  {key} = {shown}")
        lines.append(f"best strategies: {out / 'best_strategies.yaml'}")
    others = [f for f in summary["files"] if f != "best_strategies.yaml"]
    lines.append(f"also written to {out}: {', '.join(others)}")
    lines.append(f"dashboard: {summary['dashboard']}")
    return "\n".join(lines)


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


# ============================================================================ parser
def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``tune``."""
    p = sub.add_parser(
        "tune",
        help="tune strategy parameters with Optuna across scenarios (resumable study)",
        description="Optuna study over the declared parameters of the chosen strategies; each "
        "trial runs every scenario x --reps CRN replications and aggregates by --robust.",
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
        "--objective", default=None, help=f"KPI to optimize (default {DEFAULT_OBJECTIVE})"
    )
    group.add_argument("--objectives", default=None, help="KPI,KPI: multi-objective (Pareto front)")
    p.add_argument(
        "--robust",
        type=parse_robust,
        default=RobustRule("mean"),
        help="aggregation over scenarios x reps: mean (default), worst or cvar:ALPHA",
    )
    p.add_argument("--reps", type=int, default=3, help="CRN replications per scenario and trial")
    p.add_argument(
        "--storage",
        default=None,
        help="Optuna storage URL (default sqlite:///OUT/study.db; journal:PATH for a journal file)",
    )
    p.add_argument("--study", default=None, help="study name (default tune-<first scenario name>)")
    p.add_argument(
        "--heartbeat",
        type=int,
        default=DEFAULT_HEARTBEAT_S,
        metavar="SECONDS",
        help=f"a running trial records a heartbeat this often (default {DEFAULT_HEARTBEAT_S})",
    )
    p.add_argument(
        "--grace",
        type=int,
        default=None,
        metavar="SECONDS",
        help="a trial without heartbeat for this long is failed and retried with the same "
        f"parameters (default {GRACE_FACTOR} heartbeats)",
    )
    p.add_argument(
        "--max-retry",
        type=int,
        default=DEFAULT_MAX_RETRY,
        help=f"retries of a trial whose process died (default {DEFAULT_MAX_RETRY})",
    )
    p.add_argument("--out", default="results/tune", help="output folder (default results/tune)")
    p.add_argument(
        "--tune", default=None, metavar="TUNE.yaml", help="strategies and ranges to tune"
    )
    p.add_argument("--days", type=int, default=None, help="horizon override (default horizon_days)")
    p.add_argument("--seed", type=int, default=None, help="override the scenarios' seeds")
    add_executor_args(p)
    p.set_defaults(func=cmd_tune)
