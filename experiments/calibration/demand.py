"""Calibrate plain logit demand from market shares: one function, one result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from experiments.calibration.inputs import CalibrationInputError, Source, read_table, source_name
from experiments.calibration.logit_demand import LogitFit, estimate_logit, to_scenario_fragment
from experiments.results import write_json, write_text

__all__ = ["DemandCalibration", "calibrate_demand"]


@dataclass(frozen=True, eq=False)
class DemandCalibration:
    """A plain-logit demand fit and, when demand slopes down, its scenario fragment.

    Attributes:
        source: The CSV path as given, or ``"<DataFrame>"``.
        data: The rows the fit used (one per product and market).
        fit: Price sensitivity, betas, standard errors and fit statistics.
        scenario_fragment: ``price_sensitivity``, ``outside_utility`` and weights for a
            scenario file; None when the estimated price sensitivity is not positive.
        fragment_problem: Why there is no fragment (None when there is one).
    """

    source: str
    data: pd.DataFrame
    fit: LogitFit
    scenario_fragment: dict[str, Any] | None
    fragment_problem: str | None

    def to_dict(self) -> dict[str, Any]:
        """The content of ``fit.json``."""
        fit = self.fit
        return {
            "file": self.source,
            "method": fit.method,
            "alpha": fit.alpha,
            "betas": fit.betas,
            "standard_errors": fit.standard_errors,
            "robust_standard_errors": fit.robust_standard_errors,
            "mean_own_price_elasticity": fit.mean_own_price_elasticity,
            "n_obs": fit.n_obs,
            "n_markets": fit.n_markets,
            "r_squared": fit.r_squared,
            "first_stage_f": fit.first_stage_f,
        }

    def fragment_yaml(self) -> str:
        """The text of ``demand_fragment.yaml`` (a comment saying why when there is none)."""
        if self.scenario_fragment is None:
            return f"# no fragment: {self.fragment_problem}\n"
        return (
            "# Plain-logit fit; price_sensitivity and weights go in a segment, outside_utility\n"
            "# in the region's choice block. Prices must be in the scenario's base currency.\n"
            + yaml.safe_dump(self.scenario_fragment, sort_keys=False)
        )

    def write(self, out: str | Path) -> list[Path]:
        """Write ``fit.json`` and ``demand_fragment.yaml`` under ``out``; return the paths."""
        return [
            write_json(out, "fit.json", self.to_dict()),
            write_text(out, "demand_fragment.yaml", self.fragment_yaml()),
        ]


def _names(columns: str | Sequence[str]) -> list[str]:
    """Column names from a comma-separated string or a sequence (empty entries dropped)."""
    items = columns.split(",") if isinstance(columns, str) else list(columns)
    return [c for c in items if c]


def calibrate_demand(
    source: Source,
    *,
    market_col: str = "market",
    product_col: str = "product",
    price_col: str = "price",
    share_col: str = "share",
    characteristics: str | Sequence[str] = "",
    instruments: str | Sequence[str] = "",
) -> DemandCalibration:
    """Estimate plain logit demand from market shares (OLS, or 2SLS with instruments).

    Nothing is written: call :meth:`DemandCalibration.write` for the files ``marketsim
    calibrate demand`` writes.

    Args:
        source: CSV path (one row per product and market) or a DataFrame.
        market_col: Market identifier column.
        product_col: Product identifier column.
        price_col: Price column (in the scenario's base currency for the fragment to apply).
        share_col: Inside market share column, each value in (0, 1).
        characteristics: Product characteristic columns (a list or a comma-separated string).
        instruments: Excluded instruments for price (a list or a comma-separated string);
            none means OLS, any means 2SLS.

    Returns:
        The fit and the scenario fragment.

    Raises:
        CalibrationInputError: If the data cannot be used (names file and column).
    """
    name = source_name(source)
    chars = _names(characteristics)
    excluded = _names(instruments)
    needed = [market_col, product_col, price_col, share_col, *chars, *excluded]
    df = read_table(source, needed)
    try:
        fit = estimate_logit(
            df,
            market_col=market_col,
            product_col=product_col,
            price_col=price_col,
            share_col=share_col,
            characteristics=tuple(chars),
            instruments=tuple(excluded),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CalibrationInputError(f"{name}: {exc}") from None
    try:
        fragment, problem = to_scenario_fragment(fit), None
    except ValueError as exc:
        fragment, problem = None, str(exc)
    return DemandCalibration(
        source=name, data=df, fit=fit, scenario_fragment=fragment, fragment_problem=problem
    )
