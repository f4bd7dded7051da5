"""Seeded mutation fuzzer: every mutated scenario either validates or is refused cleanly.

Each case is a shipped scenario with one or two mutations (deleted keys, swapped types,
extreme numbers, long and odd strings, deep nesting, YAML-level corruption, explicit tags).
Reading it must give a :class:`~sim.scenario.Scenario` or raise ``ScenarioError`` /
``StrategyError`` within a time limit; a sample of accepted mutants must run a short horizon
with finite money and count KPIs, and a sample through ``marketsim validate`` must exit 0 or 2
without a traceback. The default suite runs a few hundred cases; 10^4 run under ``slow``.
"""

from __future__ import annotations

import copy
import math
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from experiments.files import load_scenario
from sim.errors import ScenarioError, StrategyError
from sim.kpis import ALL_REGIONS, FINITE_IN_ALL_ROW, FINITE_IN_REGION_ROWS

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    *sorted((ROOT / "scenarios").glob("*.yaml")),
    ROOT / "tests" / "data" / "strategy_world.yaml",
]
CASE_SECONDS = 5.0
DEFAULT_CASES = 300
SLOW_CASES = 10_000

ODD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    1,
    2**63,
    -(2**63),
    10**40,
    1e308,
    -1e308,
    1e-308,
    3651.0,
    1e6,
    float("inf"),
    float("nan"),
    "",
    "x",
    "a" * 20_000,
    "\x00\x07\x1b[31m",
    "\u202e\u2028e\u0301",
    "2024-13-45",
    "1:2:3",
    "0x_",
    "~",
    [],
    [None],
    [[[]]],
    {},
    {"a": 1},
    {1: 2},
]
TAGGED = [
    "!!timestamp not-a-date",
    "!!timestamp 2024-99-99",
    "!!int abc",
    "!!float zz",
    "!!binary '###'",
    "!!bool maybe",
    "!custom x",
    "!!python/object:os.system ls",
    "!!set {a, b}",
    "!!omap [a, b]",
    "!!str 5",
    "!!null x",
    "!!map [1]",
    "!!seq {a: 1}",
]


# ------------------------------------------------------------------ mutations of parsed data
def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _odd_value(rng: random.Random, old: Any) -> Any:
    roll = rng.random()
    if isinstance(old, bool | int | float) and not isinstance(old, bool) and roll < 0.5:
        scale = rng.choice([1e3, 1e6, 1e12, 1e100, 1e308, -1.0, 0.0, -1e6, 3651.0])
        value = old * scale if old else scale
        return int(value) if isinstance(old, int) and math.isfinite(value) else value
    return copy.deepcopy(rng.choice(ODD_VALUES))


def mutate_data(rng: random.Random, data: Any) -> Any:
    """Delete a key or item, swap a value's type, or push a number to an extreme."""
    data = copy.deepcopy(data)
    for _ in range(rng.choice([1, 1, 2, 3])):
        paths = [p for p in _paths(data) if p]
        if not paths:
            return rng.choice(ODD_VALUES)
        path = rng.choice(paths)
        parent, key = _parent(data, path), path[-1]
        if rng.random() < 0.2:
            del parent[key]
        else:
            parent[key] = _odd_value(rng, parent[key])
    return data


# ------------------------------------------------------------------ mutations of the YAML text
def _deep(rng: random.Random) -> str:
    depth = rng.choice([65, 100, 1_000, 5_000, 50_000])
    if rng.random() < 0.5:
        return "[" * depth + "]" * depth
    return "{a: " * depth + "1" + "}" * depth


def mutate_text(rng: random.Random, text: str) -> str:
    """Corrupt the YAML text: bytes, structure, tags, nesting, huge scalars."""
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    line = lines[i]
    colon = line.find(": ")
    head = line[: colon + 2] if colon >= 0 else line + ": "
    kind = rng.randrange(9)
    if kind == 0:  # explicit tags on odd text
        lines[i] = head + rng.choice(TAGGED)
    elif kind == 1:  # deep nesting (flow style)
        lines[i] = head + _deep(rng)
    elif kind == 2:  # deep nesting (block style)
        depth = rng.choice([70, 300, 1_500])
        lines[i:i] = [" " * d + "k:" for d in range(depth)]
    elif kind == 3:  # huge scalars
        lines[i] = head + rng.choice(["9" * 5_000, "1" + "0" * 400 + ".0", "x" * 200_000])
    elif kind == 4:  # control and odd characters
        lines[i] = (
            line[: len(line) // 2]
            + rng.choice(["\x00", "\x07", "\t", "\ufeff", "\x85"])
            + line[len(line) // 2 :]
        )
    elif kind == 5:  # truncate or delete lines
        lines = (
            lines[: rng.randrange(len(lines))] if rng.random() < 0.5 else lines[:i] + lines[i + 1 :]
        )
    elif kind == 6:  # re-indent a line
        lines[i] = " " * rng.randrange(0, 7) + line.lstrip()
    elif kind == 7:  # aliases, anchors, duplicates, merge keys
        lines[i] = head + rng.choice(["*a", "&a 1", "<<: {x: 1}", "{a: 1, a: 2}", "? [1, 2]"])
    else:  # random character flips
        chars = list(text)
        for _ in range(rng.randrange(1, 6)):
            chars[rng.randrange(len(chars))] = rng.choice("[]{}:-,'\"#&*!|>%@` \n\t0")
        return "".join(chars)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the corpus
def corpus(seed: int, n: int) -> Iterator[tuple[str, str]]:
    """``n`` mutated scenario texts (and a label), the same for the same ``seed``."""
    rng = random.Random(seed)
    texts = {p.name: p.read_text(encoding="utf-8") for p in SOURCES}
    parsed = {name: yaml.safe_load(text) for name, text in texts.items()}
    for k in range(n):
        name = rng.choice(sorted(texts))
        if rng.random() < 0.55:
            mutant = mutate_data(rng, parsed[name])
            try:
                text = yaml.safe_dump(mutant, allow_unicode=rng.random() < 0.5, sort_keys=False)
            except (yaml.YAMLError, RecursionError):
                continue
            yield f"{k}:{name}:data", text
        else:
            yield f"{k}:{name}:text", mutate_text(rng, texts[name])


class Hung(Exception):
    """A case ran past its time limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def _raise(signum: int, frame: Any) -> None:
        raise Hung(f"past {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def run_corpus(
    tmp: Path, seed: int, n: int, on_accept: Callable[[Path], None] | None = None
) -> tuple[Counter[str], list[str], list[Path]]:
    """Read every case; count outcomes and keep the accepted files."""
    counts: Counter[str] = Counter()
    failures: list[str] = []
    accepted: list[Path] = []
    for label, text in corpus(seed, n):
        path = tmp / f"case{len(accepted) % 50}_{counts.total() % 1000}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        counts["cases"] += 1
        start = time.perf_counter()
        try:
            with time_limit(CASE_SECONDS):
                load_scenario(path)
        except (ScenarioError, StrategyError) as exc:
            counts["refused"] += 1
            long_lines = [s for s in str(exc).splitlines() if len(s) > 2_000]
            if long_lines:
                failures.append(f"{label}: message line of {len(long_lines[0])} chars")
        except Hung:
            counts["hung"] += 1
            failures.append(f"{label}: hung")
        except Exception as exc:
            counts["crashed"] += 1
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
        else:
            counts["accepted"] += 1
            keep = tmp / f"accepted_{counts['accepted']}.yaml"
            keep.write_text(text, encoding="utf-8")
            accepted.append(keep)
            path.unlink()
            continue
        elapsed = time.perf_counter() - start
        if elapsed > CASE_SECONDS:
            failures.append(f"{label}: took {elapsed:.1f} s")
        path.unlink()
    return counts, failures, accepted


def _report(counts: Counter[str], failures: list[str]) -> str:
    shown = "\n".join(failures[:30])
    return f"{dict(counts)}\n{shown}"


def test_fuzz_default(tmp_path: Path) -> None:
    counts, failures, _accepted = run_corpus(tmp_path, seed=15, n=DEFAULT_CASES)
    print(f"fuzz default: {dict(counts)}")
    assert not failures, _report(counts, failures)
    assert counts["refused"] > counts["cases"] // 4, "the corpus should mostly break files"
    assert counts["accepted"] > 10, "the corpus should keep some valid mutants"


@pytest.mark.slow
def test_fuzz_slow(tmp_path: Path) -> None:
    counts, failures, _ = run_corpus(tmp_path, seed=1015, n=SLOW_CASES)
    print(f"fuzz slow: {dict(counts)}")
    assert not failures, _report(counts, failures)


def _run_accepted(paths: list[Path], days: int) -> list[str]:
    from marketsim import simulate

    bad = []
    for path in paths:
        try:
            with time_limit(60):
                result = simulate(path, days=days)
        except Hung:
            bad.append(f"{path.name}: hung")
            continue
        except Exception as exc:
            bad.append(f"{path.name}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        kpis = result.kpis
        is_all = kpis["region"] == ALL_REGIONS
        regions = kpis.loc[~is_all, list(FINITE_IN_REGION_ROWS)].to_numpy(dtype=float)
        firm = kpis.loc[is_all, list(FINITE_IN_ALL_ROW)].to_numpy(dtype=float)
        if not (abs(regions) < math.inf).all() or not (abs(firm) < math.inf).all():
            bad.append(f"{path.name}: inf or NaN in money or count KPIs")
    return bad


def test_accepted_mutants_run(tmp_path: Path) -> None:
    """A file that validates always runs: a sample of accepted mutants, 20 days each."""
    _, _, accepted = run_corpus(tmp_path, seed=2015, n=200)
    sample = random.Random(7).sample(accepted, min(8, len(accepted)))
    bad = _run_accepted(sample, days=20)
    assert not bad, "\n".join(bad)


@pytest.mark.slow
def test_accepted_mutants_run_many(tmp_path: Path) -> None:
    _, _, accepted = run_corpus(tmp_path, seed=3015, n=2_000)
    sample = random.Random(8).sample(accepted, min(80, len(accepted)))
    bad = _run_accepted(sample, days=30)
    assert not bad, "\n".join(bad)


def test_cli_validate_sample(tmp_path: Path) -> None:
    """``marketsim validate`` on mutants: exit 0 or 2, never a traceback."""
    files = []
    for k, (_, text) in enumerate(corpus(seed=4015, n=12)):
        path = tmp_path / f"cli{k}.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        files.append(path)
    for path in files:
        proc = subprocess.run(
            [sys.executable, "-m", "experiments.cli", "validate", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
            check=False,
        )
        assert proc.returncode in (0, 2), (path.name, proc.returncode, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
