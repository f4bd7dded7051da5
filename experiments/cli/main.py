"""The `marketsim` command line: builds the parser from one module per command and runs it.

Exit codes: 0 success; 2 a mistake in the input (files, flags), printed one line per
problem; 1 an internal error (a short message; the traceback only with ``--debug``);
130 interrupted (Ctrl-C); 143 terminated (SIGTERM). SIGTERM is handled like Ctrl-C: the
command stops, its worker processes are ended and what is already recorded stays; a second
SIGTERM ends the process at once. Output piped into a reader that stops early (``| head``)
ends the command quietly with exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from importlib import import_module
from types import FrameType

from experiments.versions import package_version
from sim.calendar import MAX_HORIZON_DAYS

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70  # sysexits EX_SOFTWARE: not 1, which `check` uses for a failed check
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
# command modules under experiments.cli, in the order `--help` lists them
COMMAND_MODULES = (
    "experiments.cli.run",
    "experiments.cli.validate",
    "experiments.cli.compare",
    "experiments.cli.entry",
    "experiments.cli.explore",
    "experiments.cli.tune",
    "experiments.cli.report",
    "experiments.cli.calibrate",
    "experiments.cli.app",
    "experiments.cli.check",
)
LIMITS = {
    "days": MAX_HORIZON_DAYS,
    "reps": 100_000,
    "workers": 1024,
    "min_reps": 100_000,
    "max_reps": 100_000,
    "trials": 1_000_000,
    "futures": 1_000_000,
}


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every (sub)command's ``--help`` shows its defaults."""
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _show_defaults(sub)


def build_parser() -> argparse.ArgumentParser:
    """The full ``marketsim`` parser (command modules are imported, not their libraries)."""
    parser = argparse.ArgumentParser(
        prog="marketsim",
        description="Agent-based cross-border market-entry simulation and strategy evaluation.",
    )
    parser.add_argument("--version", action="version", version=f"marketsim {package_version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of an internal error"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        import_module(name).add_parser(sub)
    _show_defaults(parser)
    return parser


def check_limits(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse absurd sizes before anything is allocated (argparse usage error, exit 2)."""
    if getattr(args, "seed", None) is not None and not 0 <= args.seed < 2**63:
        parser.error(f"--seed must be in [0, 2**63), got {args.seed}")
    for name, top in LIMITS.items():
        value = getattr(args, name, None)
        if value is not None and not 1 <= value <= top:
            parser.error(f"--{name.replace('_', '-')} must be between 1 and {top:,}, got {value}")
    precision = getattr(args, "precision", None)
    if precision is not None and not 0 < precision < 1:
        parser.error(f"--precision must be between 0 and 1, got {precision}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that commands unwind as after Ctrl-C."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise Terminated


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (main thread only; else no change)."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: signals cannot be handled here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the exit flush cannot fail."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``marketsim`` console script."""
    from sim.errors import MarketsimError

    parser = build_parser()
    args = parser.parse_args(argv)
    check_limits(parser, args)
    try:
        with sigterm_as_interrupt():
            return int(args.func(args) or 0)
    except MarketsimError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return exc.exit_code
    except Terminated:
        print("marketsim: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except KeyboardInterrupt:
        print("marketsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        _silence_stdout()
        return 0
    except Exception as exc:
        if args.debug:
            raise
        print(
            f"marketsim: internal error: {type(exc).__name__}: {str(exc)[:300]}\n"
            "Please report it with the command you ran; rerun with --debug for the traceback.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
