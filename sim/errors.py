"""The one error hierarchy: every mistake a user can make is a `MarketsimError`.

The CLI catches `MarketsimError` once, prints :meth:`MarketsimError.lines` and exits with
its `exit_code` (2: bad input). Anything else that escapes a command is an internal error.
"""

from __future__ import annotations

from dataclasses import dataclass


class MarketsimError(Exception):
    """Base of every error caused by input the user can fix (files, flags, arguments)."""

    exit_code: int = 2

    def lines(self) -> list[str]:
        """The message as the CLI prints it, one line per problem."""
        return [f"marketsim: {self}"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: its source, the field path and what is wrong."""

    source: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.path or '<root>'}: {self.message}"


class ScenarioError(MarketsimError, ValueError):
    """An input file failed validation; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class StrategyError(MarketsimError, ValueError):
    """A strategy name, parameter or decision is invalid.

    ``problems`` holds ``(field_path, message)`` pairs relative to the strategy entry.
    """

    def __init__(self, problems: list[tuple[str, str]] | str):
        if isinstance(problems, str):
            problems = [("", problems)]
        self.problems = problems
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))


class UsageError(MarketsimError, ValueError):
    """A command-line flag or API argument is invalid (names the flag or argument)."""


class StorageError(MarketsimError, OSError):
    """An output folder, file or study storage cannot be used as asked."""


class DataError(MarketsimError, ValueError):
    """A data file (transactions, shares, a results folder) cannot be used; says why."""
