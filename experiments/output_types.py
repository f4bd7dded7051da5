"""The output schema's types: a table's columns, a partitioned run store, summary keys."""

from __future__ import annotations

import itertools
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sim.errors import UsageError

Dtype = Literal["int", "float", "str", "bool"]


@dataclass(frozen=True)
class Column:
    """One column (or, when ``name`` holds ``{fields}``, one family of columns)."""

    name: str
    dtype: Dtype
    unit: str
    label: str

    @property
    def fields(self) -> tuple[str, ...]:
        """The family fields in ``name`` (empty for a plain column)."""
        return tuple(f for _, f, _, _ in string.Formatter().parse(self.name) if f)

    def expand(self, families: Mapping[str, Sequence[str]]) -> list[str]:
        """Column names of this family (first field outermost); ``[name]`` when plain."""
        if not self.fields:
            return [self.name]
        missing = [f for f in self.fields if f not in families]
        if missing:
            raise UsageError(f"column family {self.name!r} needs values for {missing}")
        values = itertools.product(*(families[f] for f in self.fields))
        return [self.name.format(**dict(zip(self.fields, v, strict=True))) for v in values]


@dataclass(frozen=True)
class Table:
    """A CSV or Parquet table under ``OUT``."""

    name: str
    about: str
    columns: tuple[Column, ...]

    @property
    def fixed(self) -> list[Column]:
        """The plain (non-family) columns."""
        return [c for c in self.columns if not c.fields]

    def names(self, **families: Sequence[str]) -> list[str]:
        """Every column name in file order, families expanded with the given values."""
        return [n for c in self.columns for n in c.expand(families)]

    def column(self, name: str) -> Column:
        """The declaration of a plain column."""
        for c in self.fixed:
            if c.name == name:
                return c
        raise UsageError(
            f"{self.name} has no declared column {name!r}; declared: {[c.name for c in self.fixed]}"
        )

    def header(self, name: str, currency: str = "base currency") -> str:
        """A readable header: the label plus its unit (``kpi`` and ``""`` add none)."""
        col = self.column(name)
        unit = {"currency": currency, "share": "share", "kpi": ""}.get(col.unit, col.unit)
        return f"{col.label} ({unit})" if unit else col.label


@dataclass(frozen=True)
class PartitionedRuns:
    """Per-replication daily KPI tables as Hive-style partitions.

    ``pd.read_parquet(OUT / root)`` returns one tidy table with ``keys`` as columns.
    """

    root: str
    keys: tuple[Column, ...]
    file: str
    columns: tuple[Column, ...]

    def path(self, **values: Any) -> str:
        """``runs/scenario=<hash>/variant=<name>/rep=<k>/part-0.parquet`` (under ``OUT``)."""
        given = sorted(values)
        wanted = sorted(k.name for k in self.keys)
        if given != wanted:
            raise UsageError(f"partition keys must be {wanted}, got {given}")
        parts = [f"{k.name}={values[k.name]}" for k in self.keys]
        return "/".join([self.root, *parts, self.file])

    def names(self) -> list[str]:
        """Columns of the loaded table: data columns, then partition keys."""
        return [c.name for c in (*self.columns, *self.keys)]


@dataclass(frozen=True)
class SummaryKey:
    """One ``summary.json`` key a reader relies on."""

    name: str
    about: str


@dataclass(frozen=True)
class CommandOutputs:
    """Everything one command writes under ``OUT``."""

    command: str
    tables: tuple[Table, ...]
    files: tuple[str, ...]
    summary: tuple[SummaryKey, ...]

    def table(self, name: str) -> Table:
        """The declaration of one table file."""
        for t in self.tables:
            if t.name == name:
                return t
        raise UsageError(
            f"`{self.command}` writes no table {name!r}; tables: {[t.name for t in self.tables]}"
        )
