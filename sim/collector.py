"""`KpiCollector`: Mesa's DataCollector for the daily KPI rows, without per-cell Python calls."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import mesa


class KpiCollector(mesa.DataCollector):
    """A :class:`mesa.DataCollector` holding the ``kpis`` table and one model reporter per KPI.

    It stores what Mesa's would (``model_vars`` for ``mesa.batch_run``, the ``kpis`` table
    for :meth:`get_table_dataframe`) at a fraction of the cost of a day: :meth:`collect`
    copies today's ``ALL`` row into ``model_vars`` (Mesa calls one reporter and deep-copies
    one value per KPI), and :meth:`add_table_row` keeps the row dict, turned into columns
    once when the table is read (Mesa appends cell by cell).

    Args:
        kpi_names: the model reporters, read from ``today()`` (numbers: no copy is needed).
        columns: the columns of the ``kpis`` table; a row missing one is refused on reading.
        today: returns today's ``ALL`` row (a mapping KPI name -> value).
    """

    TABLE = "kpis"

    def __init__(
        self,
        kpi_names: Sequence[str],
        columns: Sequence[str],
        today: Callable[[], Mapping[str, Any]],
    ) -> None:
        super().__init__(
            model_reporters={name: _reporter(today, name) for name in kpi_names},
            tables={self.TABLE: list(columns)},
        )
        self._names = list(kpi_names)
        self._vars = [self.model_vars[name] for name in self._names]
        self._today = today
        self._rows: list[Mapping[str, Any]] = []
        self._cells = itemgetter(*columns)

    def collect(self, model: mesa.Model) -> None:
        """Append today's ``ALL`` value of every KPI to ``model_vars``."""
        row = self._today()
        for name, values in zip(self._names, self._vars, strict=True):
            values.append(row[name])

    def add_table_row(
        self, table_name: str, row: Mapping[str, Any], ignore_missing: bool = False
    ) -> None:
        """Keep a row of the ``kpis`` table (other tables: Mesa's own behaviour)."""
        if table_name != self.TABLE or ignore_missing:
            super().add_table_row(table_name, row, ignore_missing)
            return
        self._rows.append(row)

    def get_table_dataframe(self, table_name: str) -> Any:
        """The table as a data frame (the kept rows moved into Mesa's columns first)."""
        if table_name == self.TABLE and self._rows:
            try:
                cells = [self._cells(row) for row in self._rows]
            except KeyError as exc:
                raise ValueError(f"a {self.TABLE} row misses the column {exc}") from None
            table = self.tables[self.TABLE]
            for column, values in zip(table, zip(*cells, strict=True), strict=True):
                table[column].extend(values)
            self._rows = []
        return super().get_table_dataframe(table_name)


def _reporter(today: Callable[[], Mapping[str, Any]], name: str) -> Callable[[Any], Any]:
    """A model reporter for one KPI (Mesa's own ``collect`` would call it)."""

    def report(model: Any) -> Any:
        return today()[name]

    return report
