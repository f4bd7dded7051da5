"""Behaviour lock: every result table the CLI writes for the golden cases is unchanged."""

from __future__ import annotations

import json

import pytest
from helpers import fresh_python

from tests.golden.check import BASELINE_NUMPY, CASES, HASHES, run_case


@pytest.mark.parametrize(("name", "args", "tables"), CASES, ids=[c[0] for c in CASES])
def test_tables_identical_to_recorded(name, args, tables, tmp_path):
    expected = json.loads(HASHES.read_text())[name]
    assert run_case(args, tables, tmp_path) == expected


def test_golden_cases_run_numpy_without_simd_dispatch():
    """The pin must switch off every dispatch target this numpy has on this CPU, or the
    lock depends on the machine again (a numpy release that renames its targets would)."""
    probe = (
        "from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__;"
        "print([f for f in __cpu_dispatch__ if __cpu_features__[f]])"
    )
    assert fresh_python(probe, **BASELINE_NUMPY) == "[]"
