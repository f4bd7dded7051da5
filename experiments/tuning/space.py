"""The search space: one Optuna distribution per tunable parameter of the chosen strategies.

Each tunable :class:`~strategies.base.Param` of the chosen strategies is searched under the
name ``"<kind>.<param>"``: ``float``/``int`` as Float/IntDistribution (with the declared
``log``), ``bool`` and ``choice`` as categorical. The strategies are the first scenario's
``strategies`` section (every kind), unless a tune file (:mod:`.tunefile`) names them. Kinds
the tune file leaves out are not tuned: each scenario keeps its own. Parameters the tune file
does not mention are searched over their declared range; parameters that cannot be tuned
(lists, mappings) keep the first scenario's value (same strategy) or the default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from experiments.knobs import MARKETING_KEY, MAX_BUDGET_MULTIPLIER
from experiments.tuning.tunefile import TuneChoices, TuneFile, TuneKind, TuneRange
from sim.contract import KINDS
from sim.errors import MarketsimError, Problem, ScenarioError, StrategyError, UsageError
from sim.scenario import Scenario, StrategyChoice
from sim.validation import validation_problems
from strategies.params import Param
from strategies.registry import get as get_strategy
from strategies.registry import validate_choice

# (searched parameter or None, fixed value, problems) of one tune-file entry
_Entry = tuple["TunedParam | None", Any, list[Problem]]


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
        """Optuna parameter name (also the column of trials.csv)."""
        return f"{self.kind}.{self.param.name}"

    @property
    def numeric(self) -> bool:
        """Whether the parameter is a number (searched in ``[low, high]``)."""
        return self.param.type in ("float", "int")

    def distribution(self) -> Any:
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
        if self.numeric:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return False
            if self.param.type == "int" and not float(value).is_integer():
                return False
            return self.low <= value <= self.high  # type: ignore[operator]
        return value in self.choices

    def describe(self) -> str:
        """Range in one line (manifest and summary)."""
        if self.numeric:
            return f"{self.param.type} in [{self.low:g}, {self.high:g}]" + (
                ", log" if self.log else ""
            )
        return f"one of {list(self.choices)}"

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for a value of this parameter."""
        if self.param.type == "float":
            return trial.suggest_float(self.key, self.low, self.high, log=self.log)
        if self.param.type == "int":
            return trial.suggest_int(self.key, int(self.low), int(self.high), log=self.log)  # type: ignore[arg-type]
        return trial.suggest_categorical(self.key, list(self.choices))

    def cast(self, value: Any) -> Any:
        """A searched value as the strategy expects it (int, float or the choice itself)."""
        if self.param.type == "int":
            return int(value)
        if self.param.type == "float":
            return float(value)
        return value


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
    marketing: TunedParam | None = None
    """The searched marketing budget multiplier (``marketing.budget_multiplier``), if any."""
    marketing_fixed: float | None = None
    """A fixed marketing budget multiplier from the tune file, if any."""

    @property
    def params(self) -> list[TunedParam]:
        """Every searched parameter, in kind then declaration order (the marketing budget
        multiplier last)."""
        tuned = [p for k in self.kinds for p in k.tuned]
        return [*tuned, self.marketing] if self.marketing is not None else tuned

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
            "marketing_budget_multiplier": (
                self.marketing.describe() if self.marketing is not None else self.marketing_fixed
            ),
        }

    def distributions(self) -> dict[str, Any]:
        """Optuna distribution of every searched parameter, by its trials.csv column name."""
        return {p.key: p.distribution() for p in self.params}

    def distributions_json(self) -> dict[str, str]:
        """:meth:`distributions` as ``optuna.distributions.distribution_to_json`` strings."""
        from optuna.distributions import distribution_to_json

        return {key: distribution_to_json(d) for key, d in self.distributions().items()}

    def suggest(self, trial: Any) -> dict[str, Any]:
        """Ask the trial for a value of every searched parameter."""
        return {p.key: p.suggest(trial) for p in self.params}

    def lows(self) -> dict[str, Any]:
        """A representative point: every numeric ``low`` and every first choice."""
        return {p.key: p.low if p.numeric else p.choices[0] for p in self.params}

    def strategies(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The strategies block (``{kind: {name, params}}``) for searched ``values``."""
        out: dict[str, Any] = {}
        if self.decision_interval_days is not None:
            out["decision_interval_days"] = self.decision_interval_days
        for k in self.kinds:
            params = dict(k.fixed)
            for p in k.tuned:
                if p.key in values:
                    params[p.param.name] = p.cast(values[p.key])
            out[k.kind] = {"name": k.name, "params": params}
        if self.marketing is not None and self.marketing.key in values:
            out[MARKETING_KEY] = self.marketing.cast(values[self.marketing.key])
        elif self.marketing_fixed is not None:
            out[MARKETING_KEY] = self.marketing_fixed
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
        if self.marketing is not None and self.marketing.contains(1.0):
            out[self.marketing.key] = 1.0  # the scenario's own budgets
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


# ---------------------------------------------------------------------------- one entry
def _range_problems(
    kind: str, param: Param, rng: tuple[Any, Any, Any], source: str, where: str
) -> list[Problem]:
    """What is wrong with a narrowed numeric range ``(low, high, log)``."""
    low, high, log = rng
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
                Problem(source, f"{where}.{name}", f"expected a whole number, got {value:g}")
            )
    if not problems and low > high:
        problems.append(
            Problem(source, where, f"`low <= high` must hold, got low={low:g}, high={high:g}")
        )
    if not problems and log and low <= 0:
        problems.append(Problem(source, f"{where}.log", f"log scale needs low > 0, got {low:g}"))
    return problems


def _numeric_entry(kind: str, param: Param, spec: Mapping, source: str, where: str) -> _Entry:
    """A float/int parameter narrowed by ``{low, high, log}`` (a single point fixes it)."""
    try:
        rng = TuneRange.model_validate(spec)
    except ValidationError as exc:
        return None, None, validation_problems(source, exc, where)
    low = param.low if rng.low is None else rng.low
    high = param.high if rng.high is None else rng.high
    log = param.log if rng.log is None else rng.log
    problems = _range_problems(kind, param, (low, high, log), source, where)
    if problems:
        return None, None, problems
    if low == high:
        return None, int(low) if param.type == "int" else float(low), []  # type: ignore[arg-type]
    return TunedParam(kind, param, low, high, bool(log)), None, []


def _choice_entry(kind: str, param: Param, spec: Mapping | None, source: str, where: str) -> _Entry:
    """A ``choice`` parameter: all its choices, or the subset ``{choices: [...]}``."""
    if spec is None:
        return TunedParam(kind, param, choices=tuple(param.choices)), None, []
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


def _fixed_entry(param: Param, spec: Any, source: str, where: str) -> _Entry:
    """A fixed value (also the only way to set lists and mappings)."""
    try:
        return None, param.validate(spec), []
    except ValueError as exc:
        suffix = getattr(exc, "path", "")
        return None, None, [Problem(source, f"{where}{suffix}", str(exc))]


def _tuned_param(kind: str, param: Param, spec: Any, source: str, where: str) -> _Entry:
    """(searched parameter, or fixed value) from one tune-file entry (``spec`` None = whole
    declared range)."""
    ranged = spec is None or isinstance(spec, Mapping)
    if param.type in ("float", "int") and ranged:
        return _numeric_entry(kind, param, spec or {}, source, where)
    if param.type == "choice" and ranged:
        return _choice_entry(kind, param, spec, source, where)
    if param.type == "bool" and spec is None:
        return TunedParam(kind, param, choices=(False, True)), None, []
    if param.type == "bool" and ranged:
        msg = "fix it with true or false, or leave it out to search both"
        return None, None, [Problem(source, where, msg)]
    return _fixed_entry(param, spec, source, where)


# ---------------------------------------------------------------------------- one kind
def _tuned_kind(
    kind: str, entry: TuneKind, current: StrategyChoice, source: str, problems: list[Problem]
) -> TunedKind | None:
    """One kind's strategy with its fixed and searched parameters; problems are appended."""
    where = f"strategies.{kind}"
    name = entry.name or current.name
    try:
        cls = get_strategy(kind, name)
    except StrategyError as exc:
        problems.extend(Problem(source, f"{where}.name", m) for _, m in exc.problems)
        return None
    declared = {p.name: p for p in cls.params}
    problems.extend(
        Problem(
            source,
            f"{where}.params.{key}",
            f"unknown parameter of {kind} strategy {name!r}; known: {sorted(declared)}",
        )
        for key in entry.params
        if key not in declared
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
    return TunedKind(kind, name, fixed, tuple(tuned))


#: the marketing budget multiplier as a searchable parameter (see :mod:`experiments.knobs`)
BUDGET_MULTIPLIER = Param(
    "budget_multiplier",
    "float",
    1.0,
    low=0.0,
    high=MAX_BUDGET_MULTIPLIER,
    help="every marketing budget of the scenario times this",
)


def _marketing(
    tune: TuneFile | None, source: str, problems: list[Problem]
) -> tuple[TunedParam | None, float | None]:
    """(searched multiplier, fixed multiplier) of the tune file's ``marketing`` section."""
    if tune is None or tune.marketing is None:
        return None, None
    spec = tune.marketing.budget_multiplier
    if not isinstance(spec, TuneRange):
        return None, float(spec)
    where = "marketing.budget_multiplier"
    tp, value, errs = _numeric_entry(
        "marketing", BUDGET_MULTIPLIER, spec.model_dump(), source, where
    )
    problems.extend(errs)
    return tp, (None if value is None else float(value))


def _refused(problems: list[Problem], from_file: bool) -> MarketsimError:
    """The tune file's problems, or (no tune file) a usage error pointing at ``--tune``."""
    if from_file:
        return ScenarioError(problems)
    return UsageError("--tune: " + "; ".join(f"{p.path}: {p.message}" for p in problems))


def _check_point(
    space: SearchSpace, scenarios: Sequence[Scenario], source: str, from_file: bool
) -> None:
    """A representative point must be acceptable to every strategy in every scenario."""
    point = space.strategies({**space.lows(), **space.baseline(scenarios[0])})
    for k in space.kinds:
        for sc in scenarios:
            try:
                validate_choice(k.kind, k.name, point[k.kind]["params"], sc)
            except StrategyError as exc:
                problems = [
                    Problem(source, f"strategies.{k.kind}" + (f".{p}" if p else ""), m)
                    for p, m in exc.problems
                ]
                raise _refused(problems, from_file) from None


def build_search_space(
    scenarios: Sequence[Scenario], tune: TuneFile | None = None, source: str = "tune file"
) -> SearchSpace:
    """The search space from the tune file, or from the first scenario's strategies.

    Args:
        scenarios: the study's scenarios (the first one gives the default strategies).
        tune: a loaded tune file (:func:`~experiments.tuning.tunefile.load_tune_file`).
        source: the tune file's name in error messages.

    Raises:
        ScenarioError: the tune file's problems, each with its field path.
        UsageError: without a tune file, when the scenario's strategies leave nothing to tune.
    """
    first = scenarios[0].strategies
    problems: list[Problem] = []
    kinds: list[TunedKind] = []
    for kind in KINDS:
        entry = getattr(tune.strategies, kind) if tune is not None else TuneKind()
        if entry is None:
            continue
        built = _tuned_kind(kind, entry, getattr(first, kind), source, problems)
        if built is not None:
            kinds.append(built)
    if problems:
        raise _refused(problems, tune is not None)
    marketing, marketing_fixed = _marketing(tune, source, problems)
    if problems:
        raise _refused(problems, tune is not None)
    intervals = {sc.strategies.decision_interval_days for sc in scenarios}
    space = SearchSpace(
        tuple(kinds),
        intervals.pop() if len(intervals) == 1 else None,
        marketing,
        marketing_fixed,
    )
    if not space.params:
        chosen = ", ".join(f"{k.kind}={k.name}" for k in kinds)
        message = (
            f"nothing to tune: the chosen strategies ({chosen}) have no searchable parameter "
            "left; name strategies or ranges in a --tune file"
        )
        if tune is None:
            raise UsageError(f"--tune: {message}")
        raise ScenarioError([Problem(source, "strategies", message)])
    _check_point(space, scenarios, source, tune is not None)
    return space
