"""What a report is made of: charts, tables and the sections holding them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Chart:
    """One rendered chart (a PNG) with the sentence that says how to read it."""

    name: str
    title: str
    how_to_read: str
    png: bytes


@dataclass(frozen=True)
class HtmlTable:
    """A table ready for the template: headers and cells as text (escaped by Jinja2)."""

    caption: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


@dataclass
class Section:
    """A heading with charts and tables."""

    title: str
    charts: list[Chart] = field(default_factory=list)
    tables: list[HtmlTable] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No chart and no table with rows."""
        return not self.charts and not any(t.rows for t in self.tables)
