"""The uncertainties file: ranges or distributions over scenario fields, and correlated groups.

Each uncertainty names a field path into the scenario (:mod:`experiments.explore.paths`)
and a distribution with a finite range (``low``/``high``: the support, or where a normal or
log-normal is truncated), or a list of ``values``. A future is the scenario's data with one
value set per uncertainty (``apply: multiply`` scales the scenario's own value instead),
parsed by :func:`sim.validation.parse_scenario`, so every schema bound and cross-field check
applies. Loading checks each path and parses the scenario at both ends of every range, so a
range the schema forbids is refused before any run, one problem per uncertainty and end.

Correlated groups use a Gaussian copula: the members' independent uniform draws become
normal scores, are correlated with the group's pairwise ``correlation`` (an equicorrelation
matrix, Cholesky factor) and mapped back to uniforms before each member's inverse CDF.
"""

from __future__ import annotations

import copy
import math
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from experiments.explore.paths import PathError, assign, current_values
from sim.errors import Problem, ScenarioError
from sim.scenario import Identifier, Scenario
from sim.validation import parse_scenario

_TAG = re.compile(r"\]\.(?:uniform|triangular|normal|lognormal|categorical)(?=\.|$)")
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: Annotated[str, Field(min_length=1, max_length=80)] | None = None
    path: Annotated[str, Field(min_length=1, max_length=300)]
    apply: Literal["set", "multiply"] = "set"
    about: str = ""

    @property
    def label(self) -> str:
        """The factor's name in tables and charts (the path when no name is given)."""
        return self.name or self.path


class _Ranged(_Spec):
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> _Ranged:
        if not self.low < self.high:
            raise ValueError(f"@high: `low < high` must hold, got {self.low=}, {self.high=}")
        return self

    def ends(self) -> list[Any]:
        """The smallest and largest value this uncertainty can take."""
        return [self.low, self.high]


class Uniform(_Ranged):
    """Uniform on ``[low, high]``; ``integer`` draws whole numbers ``low..high``."""

    dist: Literal["uniform"]
    integer: bool = False

    def ppf(self, u: np.ndarray) -> np.ndarray:
        if self.integer:
            lo, hi = math.ceil(self.low), math.floor(self.high)
            return np.minimum(np.floor(lo + u * (hi - lo + 1)), hi).astype(int)
        return self.low + u * (self.high - self.low)

    def ends(self) -> list[Any]:
        if self.integer:
            return [math.ceil(self.low), math.floor(self.high)]
        return [self.low, self.high]


class Triangular(_Ranged):
    """Triangular on ``[low, high]`` with its peak at ``mode``."""

    dist: Literal["triangular"]
    mode: Finite

    @model_validator(mode="after")
    def _mode_inside(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"@mode: `low <= mode <= high` must hold, got {self.mode=}")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        width = self.high - self.low
        return stats.triang.ppf(u, (self.mode - self.low) / width, loc=self.low, scale=width)


class Normal(_Ranged):
    """Normal(``mean``, ``sd``) truncated to ``[low, high]``."""

    dist: Literal["normal"]
    mean: Finite
    sd: Annotated[float, Field(gt=0.0, le=1e12, allow_inf_nan=False)]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd)


class LogNormal(_Ranged):
    """Log-normal with ``median`` and log-scale ``sigma``, truncated to ``[low, high]``."""

    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0.0, le=1e12, allow_inf_nan=False)]
    sigma: Annotated[float, Field(gt=0.0, le=10.0, allow_inf_nan=False)]
    low: Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)] = 0.0

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import stats

        dist = stats.lognorm(self.sigma, scale=self.median)
        lo, hi = dist.cdf(self.low), dist.cdf(self.high)
        return np.clip(dist.ppf(lo + u * (hi - lo)), self.low, self.high)


class Categorical(_Spec):
    """One of ``values``, each equally likely."""

    dist: Literal["categorical"]
    values: Annotated[list[Any], Field(min_length=2, max_length=1000)]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        index = np.minimum((u * len(self.values)).astype(int), len(self.values) - 1)
        return np.array(self.values, dtype=object)[index]

    def ends(self) -> list[Any]:
        return list(self.values)


Uncertainty = Annotated[
    Uniform | Triangular | Normal | LogNormal | Categorical, Field(discriminator="dist")
]


class Group(BaseModel):
    """Uncertainties that move together (Gaussian copula, equal pairwise correlation)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    name: Identifier
    members: Annotated[list[str], Field(min_length=2, max_length=100)]
    correlation: Annotated[float, Field(gt=-1.0, lt=1.0)]

    @model_validator(mode="after")
    def _positive_definite(self) -> Group:
        k = len(self.members)
        if self.correlation <= -1.0 / (k - 1):
            raise ValueError(
                f"@correlation: with {k} members it must exceed {-1.0 / (k - 1):.4g} "
                f"(else the correlation matrix is not positive definite), got {self.correlation}"
            )
        return self

    def cholesky(self) -> np.ndarray:
        """Lower Cholesky factor of the members' correlation matrix."""
        k = len(self.members)
        corr = np.full((k, k), self.correlation) + np.eye(k) * (1.0 - self.correlation)
        return np.linalg.cholesky(corr)


class UncertaintiesFile(BaseModel):
    """``scenario`` (optional, relative to the file), ``uncertainties`` and ``groups``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str | None = None
    description: str = ""
    uncertainties: Annotated[list[Uncertainty], Field(min_length=1, max_length=200)]
    groups: Annotated[list[Group], Field(max_length=100)] = Field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Factor names in file order."""
        return [u.label for u in self.uncertainties]


def coerce(old: Any, new: Any) -> Any:
    """``new`` as the type of the field it replaces (whole numbers stay whole)."""
    if isinstance(new, np.generic):
        new = new.item()
    if isinstance(old, int) and not isinstance(old, bool) and isinstance(new, float):
        return round(new)
    return new


def apply_value(data: dict[str, Any], spec: Any, value: Any) -> None:
    """Set (or multiply) every field ``spec.path`` points at in ``data`` (in place)."""
    if spec.apply == "multiply":
        assign(data, spec.path, lambda old: coerce(old, old * value))
    else:
        assign(data, spec.path, lambda old: coerce(old, value))


def future_data(base: dict[str, Any], specs: list[Any], values: list[Any]) -> dict[str, Any]:
    """A deep copy of the base scenario data with one value per uncertainty applied."""
    data = copy.deepcopy(base)
    for spec, value in zip(specs, values, strict=True):
        apply_value(data, spec, value)
    return data


def parse_future(data: dict[str, Any], source: str) -> Scenario:
    """Validate a future's data as a scenario (schema, cross-field and strategy checks)."""
    from strategies.registry import scenario_strategy_problems

    return parse_scenario(data, source, check_strategies=scenario_strategy_problems)


def _file_problems(source: str, parsed: UncertaintiesFile) -> list[Problem]:
    """Duplicate names and group members that are unknown or in two groups."""
    problems = []
    names = parsed.names
    for i, name in enumerate(names):
        if name in names[:i]:
            problems.append(Problem(source, f"uncertainties[{i}].name", f"duplicate {name!r}"))
    seen: dict[str, str] = {}
    for g, group in enumerate(parsed.groups):
        for m, member in enumerate(group.members):
            where = f"groups[{g}].members[{m}]"
            if member not in names:
                problems.append(Problem(source, where, f"unknown uncertainty; known: {names}"))
            elif member in seen:
                problems.append(Problem(source, where, f"already in group {seen[member]!r}"))
            seen.setdefault(member, group.name)
    return problems


def _end_problems(source: str, base: dict[str, Any], i: int, spec: Any) -> list[Problem]:
    """Parse the scenario with this uncertainty at each end of its range (or each value)."""
    where = f"uncertainties[{i}]"
    try:
        current_values(base, spec.path)
    except PathError as exc:
        return [Problem(source, f"{where}.path", str(exc))]
    ends = spec.ends()
    fields = ["low", "high"] if len(ends) == 2 and spec.dist != "categorical" else None
    problems = []
    for j, value in enumerate(ends):
        data = future_data(base, [spec], [value])
        try:
            parse_future(data, source)
        except ScenarioError as exc:
            field = fields[j] if fields else f"values[{j}]"
            shown = f"{spec.path} x {value!r}" if spec.apply == "multiply" else spec.path
            why = "; ".join(f"{p.path}: {p.message}" for p in exc.problems[:3])
            problems.append(
                Problem(source, f"{where}.{field}", f"{shown} = {value!r} is refused: {why}")
            )
    return problems


def load_uncertainties(
    path: str | Path, scenario: Scenario | None = None
) -> tuple[UncertaintiesFile, Scenario | None]:
    """Read and check an uncertainties file against a scenario.

    Args:
        path: the YAML file.
        scenario: the scenario the futures vary; default the file's ``scenario`` (relative
            to the file). Without either, only the file itself is checked.

    Returns:
        The parsed file and the scenario it was checked against.

    Raises:
        ScenarioError: one problem per problem, each with the file and field path (unknown
            path, a range end the scenario schema refuses, duplicate names, bad groups).
    """
    from experiments.files import load_scenario, load_yaml_model

    source = str(path)
    try:
        parsed = load_yaml_model(path, UncertaintiesFile, "uncertainties file", "uncertainties")
    except ScenarioError as exc:  # drop the distribution tag pydantic puts into the path
        raise ScenarioError(
            [Problem(p.source, _TAG.sub("]", p.path), p.message) for p in exc.problems]
        ) from None
    problems = _file_problems(source, parsed)
    if scenario is None and parsed.scenario is not None:
        scenario = load_scenario((Path(path).parent / parsed.scenario).resolve())
    if scenario is not None:
        base = scenario.model_dump(mode="json")
        for i, spec in enumerate(parsed.uncertainties):
            problems += _end_problems(source, base, i, spec)
    if problems:
        raise ScenarioError(problems)
    return parsed, scenario
