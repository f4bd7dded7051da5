"""Strategy parameter declarations (`Param`) and their resolution against given values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sim.errors import StrategyError
from sim.validation import shorten

if TYPE_CHECKING:
    from strategies.base import Strategy

ParamType = Literal["float", "int", "bool", "choice", "str_list", "mapping"]


class ParamError(ValueError):
    """A parameter value is invalid below its top level; ``path`` is the suffix, e.g. ``.XA.cod``.

    :func:`resolve_params` appends ``path`` to ``params.<name>`` in the reported field path.
    """

    def __init__(self, path: str, message: str):
        self.path = path
        super().__init__(message)


_SCALAR = bool | int | float | str


def _show(value: Any) -> str:
    """A value as messages quote it: escaped and cut to about 80 characters."""
    return shorten(repr(value))


@dataclass(frozen=True)
class Param:
    """One declared strategy parameter: the single source for YAML validation, docs and tuning.

    Types: ``float`` and ``int`` (with ``low``/``high`` bounds, optionally ``log``-scaled),
    ``bool``, ``choice`` (one of ``choices``), ``str_list`` (a list of names; restricted to
    ``choices`` when given) and ``mapping`` (not tunable): a mapping from names to records
    whose fields are declared by ``fields`` (e.g. per-region settings), or, without
    ``fields``, a flat mapping of names to scalars or lists of names (e.g. the parameters of
    a wrapped strategy, checked by the strategy's :meth:`Strategy.validate_values`).

    A ``per_region`` number may be given as one value for every region or as a mapping
    region -> value (each value checked against the bounds; regions not named take the
    declared default; unknown region names are refused against the scenario by
    :func:`per_region_problems`). Strategies read it with :func:`region_value`. Optuna
    searches it as one dimension shared by every region (the search space stays the same
    size whatever the scenario); per-region values are set in YAML, variants or the app.
    """

    name: str
    type: ParamType
    default: Any
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[str, ...] = ()
    help: str = ""
    fields: tuple[Param, ...] = ()
    per_region: bool = False

    def __post_init__(self) -> None:
        if self.per_region and self.type not in ("float", "int"):
            raise ValueError(f"only float and int parameters can be per region ({self.name!r})")
        if self.type in ("float", "int"):
            if self.low is None or self.high is None or not self.low <= self.high:
                raise ValueError(
                    f"`low <= high` must hold for {self.name!r}, got {self.low=}, {self.high=}"
                )
            if self.log and self.low <= 0:
                raise ValueError(f"log-scaled {self.name!r} needs low > 0, got {self.low=}")
        if self.type == "choice" and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} of {self.name!r} not in {self.choices}")
        if self.fields and self.type != "mapping":
            raise ValueError(f"only mapping parameters have fields ({self.name!r})")
        if self.type == "mapping" and not isinstance(self.default, Mapping):
            raise ValueError(f"default of mapping parameter {self.name!r} must be a mapping")
        if self.type != "str_list" or self.choices:
            self.validate(self.default)

    def __hash__(self) -> int:
        # the default of a mapping parameter is a dict; hash what identifies the declaration
        return hash((self.name, self.type, self.low, self.high, self.log, self.choices))

    @property
    def tunable(self) -> bool:
        """Whether Optuna can search this parameter."""
        return self.type in ("float", "int", "bool", "choice")

    def describe(self) -> str:
        """Type, default and bounds in one line (used by ``marketsim strategies``)."""
        if self.type in ("float", "int"):
            scale = ", log" if self.log else ""
            where = " (or a mapping region -> value)" if self.per_region else ""
            return (
                f"{self.type} in [{self.low:g}, {self.high:g}]{scale}{where}, "
                f"default {self.default!r}"
            )
        if self.type == "choice":
            return f"one of {list(self.choices)}, default {self.default!r}"
        if self.type == "str_list":
            names = f" from {list(self.choices)}" if self.choices else ""
            return f"list of names{names}, default {list(self.default)!r}"
        if self.type == "mapping":
            if self.fields:
                inner = ", ".join(f"{f.name}: {f._short_type()}" for f in self.fields)
                return f"mapping name -> {{{inner}}} (not tuned), default {dict(self.default)!r}"
            return f"mapping name -> value (not tuned), default {dict(self.default)!r}"
        return f"{self.type}, default {self.default!r}"

    def _short_type(self) -> str:
        if self.type in ("float", "int"):
            return f"{self.type} in [{self.low:g}, {self.high:g}]"
        if self.type == "choice":
            return "|".join(self.choices)
        if self.type == "str_list":
            return f"[{'|'.join(self.choices)}]" if self.choices else "[names]"
        return self.type

    def validate(self, value: Any) -> Any:
        """Return ``value`` coerced to the declared type, or raise ``ValueError``."""
        if self.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"expected true or false, got {_show(value)}")
            return value
        if self.per_region and isinstance(value, Mapping):
            return self._validate_per_region(value)
        if self.type in ("float", "int"):
            return self._validate_number(value)
        if self.type == "choice":
            if value not in self.choices:
                raise ValueError(f"expected one of {list(self.choices)}, got {_show(value)}")
            return value
        if self.type == "mapping":
            return self._validate_mapping(value)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"expected a list of names, got {_show(value)}")
        if self.choices:
            for i, v in enumerate(value):
                if v not in self.choices:
                    raise ParamError(
                        f"[{i}]", f"expected one of {list(self.choices)}, got {_show(v)}"
                    )
        return tuple(value)

    def _validate_number(self, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {_show(value)}")
        # ints are compared exactly: float() of a huge int would overflow
        finite = not isinstance(value, float) or math.isfinite(value)
        if self.type == "int" and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected a whole number, got {_show(value)}")
        if not finite or not self.low <= value <= self.high:  # type: ignore[operator]
            raise ValueError(f"expected {self.low:g} <= value <= {self.high:g}, got {_show(value)}")
        return int(value) if self.type == "int" else float(value)

    def _validate_per_region(self, value: Mapping[Any, Any]) -> dict[str, int | float]:
        out: dict[str, int | float] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"region keys must be non-empty names, got {_show(key)}")
            try:
                out[key] = self._validate_number(item)
            except ValueError as exc:
                raise ParamError(f".{shorten(key, 40)}", str(exc)) from None
        return out

    def _validate_mapping(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise ValueError(f"expected a mapping, got {_show(value)}")
        out: dict[str, Any] = {}
        declared = {f.name: f for f in self.fields}
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"keys must be non-empty names, got {_show(key)}")
            if not self.fields:
                if isinstance(item, list | tuple):
                    if not all(isinstance(v, str) for v in item):
                        raise ParamError(
                            f".{shorten(key, 40)}", f"expected a list of names, got {_show(item)}"
                        )
                    out[key] = tuple(item)
                elif isinstance(item, _SCALAR):
                    out[key] = item
                else:
                    raise ParamError(
                        f".{shorten(key, 40)}",
                        f"expected a number, name or list, got {_show(item)}",
                    )
                continue
            if not isinstance(item, Mapping):
                raise ParamError(
                    f".{shorten(key, 40)}", f"expected a mapping of {sorted(declared)}"
                )
            record: dict[str, Any] = {}
            for fname, fvalue in item.items():
                field_ = declared.get(fname)
                if field_ is None:
                    raise ParamError(
                        f".{shorten(key, 40)}.{shorten(str(fname), 40)}",
                        f"unknown field; known: {sorted(declared)}",
                    )
                try:
                    record[fname] = field_.validate(fvalue)
                except ParamError as exc:
                    raise ParamError(
                        f".{shorten(key, 40)}.{shorten(str(fname), 40)}{exc.path}", str(exc)
                    ) from None
                except ValueError as exc:
                    raise ParamError(
                        f".{shorten(key, 40)}.{shorten(str(fname), 40)}", str(exc)
                    ) from None
            out[key] = record
        return out


def region_value(values: Mapping[str, Any], param: Param, region: str) -> Any:
    """The value of ``param`` for ``region``: the scalar, the region's entry or the default."""
    value = values[param.name]
    if isinstance(value, Mapping):
        return value.get(region, param.default)
    return value


def per_region_problems(
    cls: type[Strategy], values: Mapping[str, Any], region_ids: tuple[str, ...]
) -> list[tuple[str, str]]:
    """``(field_path, message)`` for per-region values naming a region the scenario lacks."""
    problems = []
    for p in cls.params:
        value = values.get(p.name)
        if not p.per_region or not isinstance(value, Mapping):
            continue
        for key in value:
            if key not in region_ids:
                problems.append(
                    (
                        f"params.{p.name}.{shorten(str(key), 40)}",
                        f"unknown region; known: {list(region_ids)}",
                    )
                )
    return problems


def resolve_params(cls: type[Strategy], values: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults and validate ``values`` against ``cls.params``; raise ``StrategyError``."""
    declared = {p.name: p for p in cls.params}
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {}
    for key in values:
        if key not in declared:
            problems.append(
                (
                    f"params.{shorten(str(key), 40)}",
                    f"unknown parameter of {cls.name!r}; known: {sorted(declared)}",
                )
            )
    for name, param in declared.items():
        raw = values.get(name, param.default)
        try:
            out[name] = param.validate(raw)
        except ParamError as exc:
            problems.append((f"params.{name}{exc.path}", str(exc)))
        except ValueError as exc:
            problems.append((f"params.{name}", str(exc)))
    if not problems:
        problems.extend(cls.validate_values(out))
    if problems:
        raise StrategyError(problems)
    return out
