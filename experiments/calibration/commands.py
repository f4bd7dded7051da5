"""`marketsim calibrate transactions|demand`: fit a company CSV, write fit.json and a fragment."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import pandas as pd
import yaml

from experiments.calibration.bgnbd import (
    PERIOD_DAYS,
    fit_bgnbd,
    holdout_check,
    plot_cumulative,
    summarize_transactions,
)
from experiments.calibration.bgnbd import to_scenario_fragment as bgnbd_fragment
from experiments.calibration.logit_demand import estimate_logit
from experiments.calibration.logit_demand import to_scenario_fragment as logit_fragment
from experiments.results import safe_path, write_csv, write_json, write_text
from sim.errors import DataError

MAX_CSV_BYTES = 2 * 2**30


class CalibrationInputError(DataError):
    """The input CSV cannot be calibrated; the message says why."""


def _read_csv(path: str, needed: list[str]) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise CalibrationInputError(f"{path}: file not found")
    if p.stat().st_size > MAX_CSV_BYTES:
        raise CalibrationInputError(f"{path}: larger than {MAX_CSV_BYTES:,} bytes")
    try:
        df = pd.read_csv(p)
    except pd.errors.EmptyDataError:
        raise CalibrationInputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CalibrationInputError(f"{path}: not a readable CSV ({exc})") from None
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise CalibrationInputError(
            f"{path}: missing column(s) {missing}; found {list(map(str, df.columns))}"
        )
    if df.empty:
        raise CalibrationInputError(f"{path}: no rows")
    return df


def _parse_dates(df: pd.DataFrame, col: str, fmt: str | None, path: str) -> pd.Series:
    raw = df[col]
    with (
        warnings.catch_warnings()
    ):  # element-wise fallback parsing is intended without --date-format
        warnings.simplefilter("ignore", UserWarning)
        parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
    bad = parsed.isna() & raw.notna()
    if bad.any() or parsed.isna().any():
        first = raw[parsed.isna()].iloc[0]
        n = int(parsed.isna().sum())
        raise CalibrationInputError(
            f"{path}: column {col!r}: {n} value(s) are not dates"
            + (f" in format {fmt!r}" if fmt else "")
            + f" (first: {first!r})"
        )
    return parsed


def cmd_transactions(args: argparse.Namespace) -> int:
    """Fit BG/NBD to a transaction log, with a holdout check when the log extends past the end."""
    needed = [args.customer_col, args.date_col] + ([args.amount_col] if args.amount_col else [])
    df = _read_csv(args.file, needed)
    df = df.assign(**{args.date_col: _parse_dates(df, args.date_col, args.date_format, args.file)})
    end = None
    if args.calibration_end:
        try:
            end = pd.Timestamp(args.calibration_end)
        except ValueError:
            raise CalibrationInputError(
                f"--calibration-end: not a date: {args.calibration_end!r}"
            ) from None
    summary = summarize_transactions(
        df,
        args.customer_col,
        args.date_col,
        args.amount_col,
        calibration_end=end,
        period=args.period,
    )
    if summary.empty:
        raise CalibrationInputError(
            f"{args.file}: no customer purchases before the calibration end"
        )
    if not (summary["frequency"] > 0).any():
        raise CalibrationInputError(
            f"{args.file}: no repeat buyers (every customer bought on one day only); "
            "BG/NBD needs repeat purchases"
        )
    fit = fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    out = Path(args.out)
    result: dict = {
        "file": args.file,
        "period": args.period,
        "period_days": PERIOD_DAYS[args.period],
        "n_customers": fit.n_customers,
        "n_repeat_buyers": int((summary["frequency"] > 0).sum()),
        "params": {
            "r": fit.params.r,
            "alpha": fit.params.alpha,
            "a": fit.params.a,
            "b": fit.params.b,
        },
        "standard_errors": fit.standard_errors,
        "log_likelihood": fit.log_likelihood,
        "converged": fit.converged,
        "message": fit.message,
        "calibration_end": str(end.date()) if end is not None else None,
    }
    holdout = None
    if end is not None and df[args.date_col].max() > end:
        holdout = holdout_check(
            df, args.customer_col, args.date_col, end, period=args.period, params=fit.params
        )
        result["holdout"] = {
            "holdout_end": str(holdout.holdout_end),
            "actual_repeat_purchases": float(holdout.actual_total),
            "predicted_repeat_purchases": float(holdout.predicted_total),
        }
        write_csv(out, "holdout_by_frequency.csv", holdout.by_frequency.reset_index())
        write_csv(out, "cumulative.csv", holdout.cumulative.reset_index())
        plot_cumulative(holdout, safe_path(out, "cumulative.png"))
    fragment = {"repeat": bgnbd_fragment(fit.params, args.period)}
    write_json(out, "fit.json", result)
    write_text(
        out,
        "repeat_fragment.yaml",
        "# BG/NBD fit from " + Path(args.file).name + "; paste under a region (or segment).\n"
        "# rate ~ Gamma(r, alpha_days) per day, dropout after each purchase ~ Beta(a, b)\n"
        + yaml.safe_dump(fragment, sort_keys=False),
    )
    p, se = fit.params, fit.standard_errors
    print(f"BG/NBD fit on {fit.n_customers:,} customers (time unit {args.period}):")
    for name, value in (("r", p.r), ("alpha", p.alpha), ("a", p.a), ("b", p.b)):
        print(f"  {name:<6}{value:>12.4f}  (se {se.get(name, float('nan')):.4f})")
    print(f"  log-likelihood {fit.log_likelihood:,.2f}; converged: {fit.converged}")
    if holdout is not None:
        print(
            f"  holdout repeat purchases: actual {holdout.actual_total:,.0f}, "
            f"predicted {holdout.predicted_total:,.1f}"
        )
    print(f"wrote {out}/fit.json and {out}/repeat_fragment.yaml")
    return 0


def cmd_demand(args: argparse.Namespace) -> int:
    """Estimate plain logit demand from market shares (OLS, or 2SLS with instruments)."""
    chars = [c for c in (args.characteristics or "").split(",") if c]
    instruments = [c for c in (args.instruments or "").split(",") if c]
    needed = [
        args.market_col,
        args.product_col,
        args.price_col,
        args.share_col,
        *chars,
        *instruments,
    ]
    df = _read_csv(args.file, needed)
    try:
        fit = estimate_logit(
            df,
            market_col=args.market_col,
            product_col=args.product_col,
            price_col=args.price_col,
            share_col=args.share_col,
            characteristics=tuple(chars),
            instruments=tuple(instruments),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise CalibrationInputError(f"{args.file}: {exc}") from None
    out = Path(args.out)
    write_json(
        out,
        "fit.json",
        {
            "file": args.file,
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
        },
    )
    try:
        fragment = logit_fragment(fit)
        text = (
            "# Plain-logit fit; price_sensitivity and weights go in a segment, outside_utility\n"
            "# in the region's choice block. Prices must be in the scenario's base currency.\n"
            + yaml.safe_dump(fragment, sort_keys=False)
        )
    except ValueError as exc:
        text = f"# no fragment: {exc}\n"
    write_text(out, "demand_fragment.yaml", text)
    print(
        f"logit demand ({fit.method.upper()}) on {fit.n_obs:,} rows in {fit.n_markets:,} markets:"
    )
    print(f"  alpha (price sensitivity) {fit.alpha:.4f} (se {fit.standard_errors['alpha']:.4f})")
    for name, value in fit.betas.items():
        print(f"  beta[{name}] {value:.4f} (se {fit.standard_errors.get(name, float('nan')):.4f})")
    print(f"  mean own-price elasticity {fit.mean_own_price_elasticity:.3f}")
    print(f"wrote {out}/fit.json and {out}/demand_fragment.yaml")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``calibrate transactions`` and ``calibrate demand``."""
    cal = sub.add_parser("calibrate", help="fit model parameters to a company's own data")
    csub = cal.add_subparsers(dest="what", required=True)
    tx = csub.add_parser("transactions", help="fit BG/NBD repeat purchasing to a transaction log")
    tx.add_argument("file", help="CSV with one row per transaction")
    tx.add_argument("--customer-col", default="customer_id")
    tx.add_argument("--date-col", default="date")
    tx.add_argument("--amount-col", default=None)
    tx.add_argument("--date-format", default=None, help="strptime format, e.g. %%Y-%%m-%%d")
    tx.add_argument("--calibration-end", default=None, help="last day of the calibration period")
    tx.add_argument("--period", choices=sorted(PERIOD_DAYS), default="W", help="time unit")
    tx.add_argument("--out", default="results/calibration")
    tx.set_defaults(func=cmd_transactions)
    dm = csub.add_parser("demand", help="estimate plain logit demand from prices and shares")
    dm.add_argument("file", help="CSV: market, product, price, share, characteristics")
    dm.add_argument("--market-col", default="market")
    dm.add_argument("--product-col", default="product")
    dm.add_argument("--price-col", default="price")
    dm.add_argument("--share-col", default="share")
    dm.add_argument("--characteristics", default="", help="comma-separated columns")
    dm.add_argument("--instruments", default="", help="comma-separated instrument columns (2SLS)")
    dm.add_argument("--out", default="results/demand")
    dm.set_defaults(func=cmd_demand)
