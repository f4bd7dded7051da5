"""The what-if app in a real browser: change a lever, run, compare with the library API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import marketsim as ms
from experiments.app.levers import strategy_choices
from experiments.report.decision import verdict
from tests.browser import app_url, browser  # noqa: F401 (fixtures)
from tests.helpers import TINY_PATH

DAYS, REPS, MARKUP = 30, 3, 0.9
TIMEOUT_MS = 60_000


def open_app(chromium: Any, url: str) -> Any:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.locator(".run-button").wait_for(timeout=TIMEOUT_MS)
    return page


def fill(page: Any, selector: str, value: str) -> None:
    box = page.locator(f"{selector} input").first
    box.fill(value)
    box.press("Enter")


def test_change_a_lever_run_and_match_the_library(
    browser: Any,  # noqa: F811
    app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    page = open_app(browser, app_url)
    fill(page, ".run-days", str(DAYS))
    fill(page, ".run-reps", str(REPS))
    fill(page, ".lever-pricing-markup-XA", str(MARKUP))
    page.locator(".run-button").click()
    shown = page.locator(".verdict")
    shown.wait_for(timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "app_verdict.png"), full_page=True)

    scenario = ms.load_scenario(TINY_PATH)
    base = strategy_choices(scenario)
    variant = {**base, "pricing": {"name": "cost_plus", "params": {"markup": {"XA": MARKUP}}}}
    variant["pricing"]["params"]["fx_pass_through"] = base["pricing"]["params"].get(
        "fx_pass_through", 1.0
    )
    cmp = ms.compare(
        scenario,
        {"baseline": base, "variant": variant},
        baseline="baseline",
        reps=REPS,
        days=DAYS,
        seed=scenario.seed,
        workers=1,
    )
    expected = verdict(cmp.per_rep, "variant", "baseline", "net_profit_base", DAYS, "USD")
    assert shown.inner_text().strip() == expected.text()
    assert f"{abs(expected.gain_mean):,.0f}" in shown.inner_text()
    yaml_text = page.locator(".variants-yaml").inner_text()
    assert "markup:" in yaml_text and "XA: 0.9" in yaml_text


def test_a_broken_scenario_shows_the_cli_message_and_the_app_keeps_running(
    browser: Any,  # noqa: F811
    app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.yaml"
    text = TINY_PATH.read_text(encoding="utf-8").replace(
        "daily_volatility: 0.", "daily_volatility: 9.", 1
    )
    assert text != TINY_PATH.read_text(encoding="utf-8")
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(ms.MarketsimError) as exc:
        ms.load_scenario(broken)
    page = open_app(browser, app_url)
    fill(page, ".scenario-path", str(broken))
    errors = page.locator(".app-errors")
    errors.wait_for(timeout=TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "app_broken.png"))
    shown = errors.inner_text()
    for line in exc.value.lines():
        assert line in shown
    assert "most recent call last" not in page.locator("body").inner_text()
    fill(page, ".scenario-path", "tiny")  # the app still works
    page.locator(".app-errors").wait_for(state="detached", timeout=TIMEOUT_MS)
    assert page.locator(".run-button").is_visible()


def test_a_value_outside_its_bounds_is_refused_with_its_field_path(
    browser: Any,  # noqa: F811
    app_url: str,  # noqa: F811
) -> None:
    page = open_app(browser, app_url)
    fill(page, ".lever-pricing-markup-XA", "7")
    page.locator(".run-button").click()
    errors = page.locator(".app-errors")
    errors.wait_for(timeout=TIMEOUT_MS)
    assert errors.inner_text().strip() == (
        "variant: pricing.params.markup.XA: expected 0 <= value <= 5, got 7.0"
    )
    assert page.locator(".verdict").count() == 0
