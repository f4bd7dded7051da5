"""`marketsim check`'s printed tables: every column as wide as its content."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from experiments.cli.check import format_facts, format_levers, format_theory


def _aligned(lines: list[str], cells: list[list[str]]) -> None:
    """Each row's cells end (numbers) where the header's names end."""
    header = lines[0]
    for line, row in zip(lines[1:], cells, strict=True):
        for name, cell in row:
            end = header.index(name) + len(name)
            assert line[end - len(cell) : end] == cell, (line, name, cell)


def test_theory_table_fits_the_nested_rows() -> None:
    """Old code: 17 characters for the check's name, so nested_logit_sampler (20) pushed its
    numbers out of their columns."""
    theory = pd.DataFrame(
        {
            "check": ["logit_sampler", "nested_logit_sampler_with_a_long_name"],
            "theory": [0.08445, 0.4147],
            "model": [0.08536, 0.4164],
            "tolerance": ["each share within 3 SE", "each share within 4 SE"],
            "verdict": ["pass", "pass"],
        }
    )
    lines = format_theory(SimpleNamespace(theory=theory, registry_problems=[]))
    table = lines[1:-1]
    _aligned(
        table,
        [
            [("theory", "0.08445"), ("model", "0.08536")],
            [("theory", "0.4147"), ("model", "0.4164")],
        ],
    )
    assert "nested_logit_sampler_with_a_long_name" in table[2]
    assert table[0].index("verdict") == table[2].index("pass")


def test_fact_and_lever_tables_keep_names_whole() -> None:
    facts = pd.DataFrame(
        {
            "scenario": ["default"],
            "fact": ["mobile_money_success_before_and_after"],
            "figure": ["63% -> 91% (Kenya, whole)"],
            "range": ["58% to 68%"],
            "value": [0.631],
            "low": [0.62],
            "high": [0.64],
            "verdict": ["pass"],
        }
    )
    levers = pd.DataFrame(
        {
            "scenario": ["default"],
            "lever": ["localization=invest_all_with_a_long_name"],
            "kpi": ["profit_plus_equity_base_long"],
            "expected": ["up"],
            "effect": [1234.0],
            "low": [100.0],
            "high": [2000.0],
            "verdict": ["pass"],
        }
    )
    result = SimpleNamespace(facts=facts, levers=levers)
    f = format_facts(result)
    assert "mobile_money_success_before_and_after" in f[3]
    assert "63% -> 91% (Kenya, whole)" in f[3]
    assert f[2].index("verdict") == f[3].index("pass")
    v = format_levers(result)
    assert "localization=invest_all_with_a_long_name" in v[3]
    assert v[2].index("verdict") == v[3].index("pass")
    _aligned(v[2:], [[("effect", "1,234")]])
