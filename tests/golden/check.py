"""Behaviour lock for the redesign: hashes of the result tables the CLI writes.

`python -m tests.golden.check --record` stores the hashes in `tests/golden/hashes.json`;
without `--record` it recomputes them and exits 1 listing every table that changed. The
default suite runs the same cases (`tests/test_golden.py`). Timestamp and duration columns
are dropped before hashing; every other byte of every table must be identical.

The cases run with numpy's SIMD dispatch off (`BASELINE_NUMPY`): numpy computes `exp`, `log`,
`power`, ... with AVX2 or AVX-512 code where the CPU has it, and those agree with the baseline
code only to the last bit or so. Off, every x86-64 machine computes the same bits, so a lock
recorded on one machine holds on CI's.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
HASHES = Path(__file__).with_name("hashes.json")
SCENARIOS = (
    "default",
    "sea_entry",
    "eu_eco_entry",
    "latam_entry",
    "kenya_entry",
    "gulf_entry",
    "tiny",
)
VOLATILE = ("datetime", "duration", "started", "finished", "timestamp")
# numpy's names for its dispatch targets above the x86-64 baseline (numpy 2.4 groups them as
# X86_V3/X86_V4; older releases name each); names this numpy or CPU does not know are ignored
BASELINE_NUMPY = {
    "NPY_DISABLE_CPU_FEATURES": " ".join(
        (
            "X86_V3 X86_V4 AVX512_ICL AVX512_SPR",
            "AVX AVX2 F16C FMA3 AVX512F AVX512CD AVX512_KNL AVX512_KNM",
            "AVX512_SKX AVX512_CLX AVX512_CNL",
        )
    )
}

# (case name, CLI arguments, tables to hash); {out} is replaced by the case's folder
CASES: list[tuple[str, list[str], tuple[str, ...]]] = (
    [
        (
            f"run/{name}",
            ["run", f"scenarios/{name}.yaml", "--days", "120", "--seed", "7", "--out", "{out}"],
            ("kpis.csv",),
        )
        for name in SCENARIOS
    ]
    + [
        (
            "compare/variants",
            [
                "compare",
                "scenarios/default.yaml",
                "--variants",
                "examples/variants.yaml",
                "--reps",
                "3",
                "--days",
                "90",
                "--workers",
                "2",
                "--out",
                "{out}",
            ],
            (
                "replications.csv",
                "summary_ci.csv",
                "differences.csv",
                "ranking.csv",
                "timeseries.csv",
            ),
        ),
        (
            "tune/example",
            [
                "tune",
                "scenarios/tiny.yaml",
                "--trials",
                "6",
                "--reps",
                "2",
                "--days",
                "60",
                "--tune",
                "examples/tune.yaml",
                "--workers",
                "1",
                "--out",
                "{out}",
            ],
            ("trials.csv", "best_strategies.yaml"),
        ),
    ]
    + [
        (
            f"compare/warehouse/{name}",
            [
                "compare",
                f"scenarios/{name}.yaml",
                "--variants",
                "examples/warehouse.yaml",
                "--reps",
                "1",
                "--days",
                "120",
                "--workers",
                "1",
                "--out",
                "{out}",
            ],
            ("replications.csv",),
        )
        for name in ("eu_eco_entry", "latam_entry", "gulf_entry")
    ]
    + [
        (
            "entry/example",
            [
                "entry",
                "examples/entry_options.yaml",
                "--reps",
                "2",
                "--days",
                "365",
                "--workers",
                "2",
                "--out",
                "{out}",
            ],
            ("options.csv", "replications.csv"),
        ),
    ]
)


def table_hash(path: Path) -> str:
    """sha256 of a result file; CSVs lose their timestamp and duration columns first."""
    if path.suffix != ".csv":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    keep = [c for c in frame.columns if not any(v in c.lower() for v in VOLATILE)]
    buffer = io.StringIO()
    frame[keep].to_csv(buffer, index=False)
    return hashlib.sha256(buffer.getvalue().encode()).hexdigest()


def run_case(args: list[str], tables: tuple[str, ...], workdir: Path) -> dict[str, str]:
    """Run one CLI case in a fresh folder and hash its tables."""
    out = workdir / "out"
    argv = [a.replace("{out}", str(out)) for a in args]
    done = subprocess.run(
        [sys.executable, "-m", "experiments.cli", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **BASELINE_NUMPY},
    )
    if done.returncode != 0:
        raise RuntimeError(f"marketsim {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return {table: table_hash(out / table) for table in tables}


def compute(names: list[str] | None = None) -> dict[str, dict[str, str]]:
    """Hashes of every case (or the named ones)."""
    result = {}
    for name, args, tables in CASES:
        if names and name not in names:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            result[name] = run_case(args, tables, Path(tmp))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help="store the hashes")
    parser.add_argument("cases", nargs="*", help="case names (default: all)")
    args = parser.parse_args()
    hashes = compute(args.cases)
    if args.record:  # named cases replace their own entries; the others stay
        stored = json.loads(HASHES.read_text()) if args.cases and HASHES.exists() else {}
        HASHES.write_text(json.dumps({**stored, **hashes}, indent=2, sort_keys=True) + "\n")
        print(f"recorded {len(hashes)} cases in {HASHES}")
        return 0
    expected = json.loads(HASHES.read_text())
    changed = [
        f"{case}/{table}"
        for case, tables in hashes.items()
        for table, digest in tables.items()
        if expected.get(case, {}).get(table) != digest
    ]
    for item in changed:
        print(f"changed: {item}")
    print(f"{len(hashes)} cases, {len(changed)} tables changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
