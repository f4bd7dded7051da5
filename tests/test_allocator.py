"""sim.allocator: glibc keeps large freed arrays for reuse (fewer page faults), once per process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")

_FAULTS = """
import resource, numpy as np
from sim.allocator import keep_freed_memory
kept = {keep}
if kept:
    assert keep_freed_memory() and keep_freed_memory()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):  # ten 4 MB arrays made and freed together, as a model day does
    arrays = [np.ones(1 << 19) for _ in range(10)]
    del arrays
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_freed_arrays_are_reused_without_faulting_their_pages_in_again() -> None:
    default = int(_run(_FAULTS.format(keep=False)))
    kept = int(_run(_FAULTS.format(keep=True)))
    assert default > 20 * 10 * 500  # 1,024 pages per array, faulted in again each round
    assert kept < default / 10, (kept, default)


def test_a_process_that_sets_the_thresholds_itself_keeps_them() -> None:
    code = "from sim.allocator import keep_freed_memory; print(keep_freed_memory())"
    assert _run(code, MALLOC_TRIM_THRESHOLD_="1000000") == "False"
