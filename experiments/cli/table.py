"""Plain-text tables sized to their content (the tables the CLI prints)."""

from __future__ import annotations

from collections.abc import Sequence

#: blank characters between two columns
GAP = "  "


def render(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]
) -> list[str]:
    """The header and one line per row; each column as wide as its widest cell (numbers
    ``right``-aligned, text left-aligned), no trailing blanks."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return GAP.join(parts).rstrip()

    return [line(header)] + [line(r) for r in rows]
