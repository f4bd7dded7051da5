"""Behaviour lock: every result table the CLI writes for the golden cases is unchanged."""

from __future__ import annotations

import json

import pytest

from tests.golden.check import CASES, HASHES, run_case


@pytest.mark.parametrize(("name", "args", "tables"), CASES, ids=[c[0] for c in CASES])
def test_tables_identical_to_recorded(name, args, tables, tmp_path):
    expected = json.loads(HASHES.read_text())[name]
    assert run_case(args, tables, tmp_path) == expected
