"""Reports in a headless browser: the decision is on the first screen, tables fit their box."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import marketsim as ms
from experiments.report import write_report
from tests.browser import browser  # noqa: F401 (fixture)
from tests.helpers import TINY_PATH

VARIANTS = {
    "m40": {"pricing": {"name": "cost_plus", "params": {"markup": 0.4}}},
    "m80": {"pricing": {"name": "cost_plus", "params": {"markup": 0.8}}},
    "index_90_with_a_long_name_to_stretch_the_tables": {
        "pricing": {"name": "competitive_index", "params": {"index": 0.9}}
    },
}
ENTRY = """\
scenario: {scenario}
discount_rate_annual: 0.1
horizon_days: 60
options:
  - name: now
    regions: [{{region: XA, entry_month: 0}}]
  - name: later
    regions: [{{region: XA, entry_month: 1}}]
"""
LAYOUT = """() => {
  const doc = document.documentElement;
  const box = document.getElementById('decision').getBoundingClientRect();
  const wraps = [...document.querySelectorAll('.tblwrap')].map(w => {
    const t = w.querySelector('table');
    const style = getComputedStyle(w).overflowX;
    return {fits: t.scrollWidth <= w.clientWidth, scrolls: style === 'auto' || style === 'scroll',
            right: w.getBoundingClientRect().right};
  });
  return {top: box.top, bottom: box.bottom, height: window.innerHeight,
          pageWidth: doc.scrollWidth, viewWidth: doc.clientWidth, wraps: wraps,
          tables: document.querySelectorAll('table.tbl').length};
}"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("reports")
    cmp = ms.compare(TINY_PATH, VARIANTS, baseline="m40", reps=3, days=30, workers=1)
    cmp.write(root / "compare")
    options = root / "options.yaml"
    options.write_text(ENTRY.format(scenario=TINY_PATH), encoding="utf-8")
    ms.rank_entry_options(options, reps=2, workers=1, out=root / "entry")
    return {name: write_report(root / name) for name in ("compare", "entry")}


@pytest.mark.parametrize("name", ["compare", "entry"])
def test_headline_first_and_tables_inside_their_box(
    browser: Any,  # noqa: F811
    reports: dict[str, Path],
    name: str,
    tmp_path: Path,
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(reports[name].as_uri())
    page.screenshot(path=str(tmp_path / f"{name}_first_screen.png"))
    layout = page.evaluate(LAYOUT)
    assert layout["top"] >= 0 and layout["bottom"] <= layout["height"], layout
    assert page.locator("#decision .rec").inner_text().startswith(("Recommended", "No option"))
    assert layout["tables"] >= 1 and len(layout["wraps"]) == layout["tables"]
    for wrap in layout["wraps"]:
        assert wrap["fits"] or wrap["scrolls"], wrap
        assert wrap["right"] <= layout["viewWidth"], wrap
    assert layout["pageWidth"] <= layout["viewWidth"], "the page scrolls sideways"
    page.close()
