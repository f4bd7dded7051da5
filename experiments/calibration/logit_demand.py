"""Plain multinomial-logit demand estimated from market shares (Berry 1994 inversion)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["LogitFit", "estimate_logit", "to_scenario_fragment"]

#: Characteristic names with a dedicated field in the simulator's consumer segment.
SCENARIO_WEIGHT_NAMES: dict[str, str] = {"quality": "quality_weight", "eco_score": "eco_weight"}


@dataclass(frozen=True)
class LogitFit:
    """Estimates of ``ln s_j - ln s_0 = const - alpha * price_j + sum_k beta_k x_jk + xi_j``.

    Attributes:
        alpha: Price sensitivity (minus the price coefficient; positive for downward-sloping
            demand), in utility per unit of the price column's currency.
        betas: ``"const"`` and one coefficient per characteristic.
        standard_errors: Homoskedastic standard errors keyed ``"const"``, ``"alpha"`` and the
            characteristic names.
        robust_standard_errors: White (HC0) heteroskedasticity-robust standard errors, same
            keys.
        mean_own_price_elasticity: Mean over rows of ``-alpha * price * (1 - share)``.
        n_obs: Number of product-market rows.
        n_markets: Number of markets.
        method: ``"ols"`` or ``"2sls"``.
        r_squared: R-squared of the OLS regression (``None`` for 2SLS).
        first_stage_f: F statistic of the excluded instruments in the first-stage regression
            of price (``None`` for OLS); values below about 10 signal weak instruments.
    """

    alpha: float
    betas: dict[str, float]
    standard_errors: dict[str, float]
    robust_standard_errors: dict[str, float]
    mean_own_price_elasticity: float
    n_obs: int
    n_markets: int
    method: Literal["ols", "2sls"]
    r_squared: float | None
    first_stage_f: float | None


def _column_matrix(df: pd.DataFrame, columns: Sequence[str], what: str) -> NDArray[np.float64]:
    if not columns:
        return np.empty((len(df), 0))
    try:
        values = df[list(columns)].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError):
        bad = [
            c
            for c in columns
            if (pd.to_numeric(df[c], errors="coerce").isna() & df[c].notna()).any()
        ]
        raise ValueError(f"{what} column(s) {bad} must hold numbers") from None
    if not np.all(np.isfinite(values)):
        bad = [c for c, ok in zip(columns, np.isfinite(values).all(axis=0), strict=True) if not ok]
        raise ValueError(f"{what} column(s) {bad} have missing or non-finite values")
    return values


def _require_full_rank(matrix: NDArray[np.float64], names: Sequence[str], what: str) -> None:
    rank = np.linalg.matrix_rank(matrix)
    if rank < matrix.shape[1]:
        raise ValueError(
            f"{what} matrix [{', '.join(names)}] is rank deficient (rank {rank} < "
            f"{matrix.shape[1]}): some regressors are constant or collinear"
        )


def _sandwich(
    bread: NDArray[np.float64], scores: NDArray[np.float64], residuals: NDArray[np.float64]
) -> NDArray[np.float64]:
    meat = (scores * residuals[:, None] ** 2).T @ scores
    return bread @ meat @ bread


def _least_squares(
    design: NDArray[np.float64], x_mat: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Coefficients, homoskedastic and HC0 standard errors and structural residuals.

    Raises:
        ValueError: If an estimate or standard error is not finite.
    """
    n, k = x_mat.shape
    gram = design.T @ design
    coef = np.linalg.solve(gram, design.T @ y)
    residuals = y - x_mat @ coef  # structural residuals use the actual price
    bread = np.linalg.inv(gram)
    sigma2 = float(residuals @ residuals) / (n - k)
    se = np.sqrt(np.diag(bread) * sigma2)
    robust_se = np.sqrt(np.diag(_sandwich(bread, design, residuals)))
    if not all(np.all(np.isfinite(v)) for v in (coef, se, robust_se)):
        raise ValueError(
            "the estimates or their standard errors are not finite: the design is numerically "
            "singular; rescale prices and characteristics (e.g. to thousands) or add markets"
        )
    return coef, se, robust_se, residuals


def estimate_logit(
    df: pd.DataFrame,
    market_col: str = "market",
    product_col: str = "product",
    price_col: str = "price",
    share_col: str = "share",
    characteristics: Sequence[str] = ("quality", "eco_score"),
    instruments: Sequence[str] = (),
) -> LogitFit:
    """Estimate a plain logit demand model from product market shares.

    The outside share of each market is ``s_0 = 1 - sum_j s_j``. The regression of
    ``y = ln s_j - ln s_0`` on ``[1, price, characteristics]`` is OLS without instruments and
    2SLS (price endogenous; the instruments plus the characteristics and constant as the
    instrument set) otherwise.

    Args:
        df: One row per product and market.
        market_col: Market identifier column.
        product_col: Product identifier column (used to reject duplicate rows).
        price_col: Price column, in the currency ``alpha`` is to be expressed in.
        share_col: Inside market share column; each value in (0, 1).
        characteristics: Exogenous product characteristic columns.
        instruments: Excluded instruments for price (e.g. cost shifters); empty for OLS.

    Returns:
        The estimates.

    Raises:
        KeyError: If a named column is missing.
        ValueError: On invalid shares (outside (0, 1), or inside shares summing to >= 1 in a
            market), duplicate product-market rows, too few observations, a rank-deficient
            design, or estimates or standard errors that are not finite.
    """
    characteristics = list(characteristics)
    instruments = list(instruments)
    needed = [market_col, product_col, price_col, share_col, *characteristics, *instruments]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise KeyError(f"demand data has no column(s) {missing}; columns: {list(df.columns)}")
    reserved = {"const", "alpha"} & set(characteristics)
    if reserved:
        raise ValueError(f"characteristic names {sorted(reserved)} are reserved")
    overlap = set(instruments) & ({price_col} | set(characteristics))
    if overlap:
        raise ValueError(f"instruments {sorted(overlap)} are also regressors")
    if df[[market_col, product_col]].isna().any().any():
        raise ValueError(f"missing {market_col!r} or {product_col!r} values")
    if df.duplicated([market_col, product_col]).any():
        raise ValueError(f"duplicate ({market_col}, {product_col}) rows in demand data")

    share = _column_matrix(df, [share_col], "share")[:, 0]
    if np.any(share <= 0.0) or np.any(share >= 1.0):
        raise ValueError(f"every share in {share_col!r} must lie strictly between 0 and 1")
    inside_total = (
        pd.Series(share, index=df.index).groupby(df[market_col], sort=False).transform("sum")
    )
    outside = 1.0 - inside_total.to_numpy(dtype=float)
    if np.any(outside <= 0.0):
        bad = pd.unique(df.loc[outside <= 0.0, market_col])[:5]
        raise ValueError(
            f"inside shares sum to >= 1 in market(s) {list(bad)}: the outside share "
            "1 - sum(shares) must be positive"
        )
    price = _column_matrix(df, [price_col], "price")[:, 0]
    chars = _column_matrix(df, characteristics, "characteristic")
    y = np.log(share) - np.log(outside)

    n = len(df)
    names = ["const", "alpha", *characteristics]
    x_mat = np.column_stack([np.ones(n), price, chars])
    k = x_mat.shape[1]
    if n <= k:
        raise ValueError(f"need more observations ({n}) than coefficients ({k})")
    _require_full_rank(x_mat, ["const", price_col, *characteristics], "regressor")

    first_stage_f: float | None = None
    r_squared: float | None = None
    if instruments:
        method: Literal["ols", "2sls"] = "2sls"
        excluded = _column_matrix(df, instruments, "instrument")
        z_mat = np.column_stack([np.ones(n), chars, excluded])
        if n <= z_mat.shape[1]:
            raise ValueError(f"need more observations ({n}) than instruments ({z_mat.shape[1]})")
        _require_full_rank(z_mat, ["const", *characteristics, *instruments], "instrument")
        price_coef, *_ = np.linalg.lstsq(z_mat, price, rcond=None)
        price_hat = z_mat @ price_coef
        rss_unrestricted = float(np.sum((price - price_hat) ** 2))
        z_restricted = z_mat[:, : 1 + chars.shape[1]]
        restricted_coef, *_ = np.linalg.lstsq(z_restricted, price, rcond=None)
        rss_restricted = float(np.sum((price - z_restricted @ restricted_coef) ** 2))
        q = excluded.shape[1]
        dof = n - z_mat.shape[1]
        first_stage_f = (
            ((rss_restricted - rss_unrestricted) / q) / (rss_unrestricted / dof)
            if rss_unrestricted > 0
            else math.inf
        )
        design = x_mat.copy()
        design[:, 1] = price_hat
    else:
        method = "ols"
        design = x_mat

    coef, se, robust_se, residuals = _least_squares(design, x_mat, y)
    if method == "ols":
        total = float(np.sum((y - y.mean()) ** 2))
        r_squared = 1.0 - float(residuals @ residuals) / total if total > 0 else 1.0

    alpha = -float(coef[1])
    betas = {"const": float(coef[0])}
    betas.update({name: float(c) for name, c in zip(characteristics, coef[2:], strict=True)})
    elasticity = float(np.mean(-alpha * price * (1.0 - share)))
    return LogitFit(
        alpha=alpha,
        betas=betas,
        standard_errors={nm: float(s) for nm, s in zip(names, se, strict=True)},
        robust_standard_errors={nm: float(s) for nm, s in zip(names, robust_se, strict=True)},
        mean_own_price_elasticity=elasticity,
        n_obs=int(n),
        n_markets=int(df[market_col].nunique()),
        method=method,
        r_squared=r_squared,
        first_stage_f=first_stage_f,
    )


def to_scenario_fragment(fit: LogitFit) -> dict[str, Any]:
    """Map a logit fit onto the simulator's choice parameters.

    In the simulator inside utilities carry no constant and the outside option has utility
    ``outside_utility``; the estimated constant is the mean inside utility relative to the
    outside option, so ``outside_utility = -const``. ``price_sensitivity``, ``quality_weight``
    and ``eco_weight`` belong to a consumer segment, ``outside_utility`` to the region's
    choice block. ``alpha`` keeps the unit of the estimation prices: they must be in the
    scenario's base currency for the value to transfer.

    Args:
        fit: Output of :func:`estimate_logit`.

    Returns:
        ``{"price_sensitivity": {"mean": alpha, "cv": 0.0}, "outside_utility": -const}`` plus
        ``quality_weight`` / ``eco_weight`` when ``quality`` / ``eco_score`` were estimated
        and ``other_betas`` for any further characteristics.

    Raises:
        ValueError: If the estimated price sensitivity is not positive (the simulator needs
            downward-sloping demand).
    """
    if not (math.isfinite(fit.alpha) and fit.alpha > 0.0):
        raise ValueError(
            f"estimated price sensitivity alpha={fit.alpha:.4g} is not positive; demand is not "
            "downward sloping, so it cannot be used as a scenario price_sensitivity"
        )
    fragment: dict[str, Any] = {
        "price_sensitivity": {"mean": float(fit.alpha), "cv": 0.0},
        "outside_utility": -float(fit.betas["const"]),
    }
    other: dict[str, float] = {}
    for name, value in fit.betas.items():
        if name == "const":
            continue
        if name in SCENARIO_WEIGHT_NAMES:
            fragment[SCENARIO_WEIGHT_NAMES[name]] = float(value)
        else:
            other[name] = float(value)
    fragment["other_betas"] = other
    return fragment
