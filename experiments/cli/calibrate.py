"""`marketsim calibrate transactions|demand`: fit a company CSV, write fit.json and a fragment."""

from __future__ import annotations

import argparse
from pathlib import Path

from experiments.cli.common import add_output_args

__all__ = ["add_parser", "cmd_demand", "cmd_transactions"]


def cmd_transactions(args: argparse.Namespace) -> int:
    """Fit BG/NBD to a transaction log, with a holdout check when the log extends past the end."""
    from experiments.calibration import calibrate_transactions
    from experiments.outfolder import check_folder, owned_folder

    out = Path(args.out)
    check_folder(out, "calibrate transactions", force=args.force)  # before the fit
    result = calibrate_transactions(
        args.file,
        customer_col=args.customer_col,
        date_col=args.date_col,
        amount_col=args.amount_col,
        date_format=args.date_format,
        calibration_end=args.calibration_end,
        period=args.period,
    )
    with owned_folder(out, "calibrate transactions", force=args.force):
        result.write(out)
    fit = result.fit
    p, se = fit.params, fit.standard_errors
    print(f"BG/NBD fit on {fit.n_customers:,} customers (time unit {result.period}):")
    for name, value in (("r", p.r), ("alpha", p.alpha), ("a", p.a), ("b", p.b)):
        print(f"  {name:<6}{value:>12.4f}  (se {se.get(name, float('nan')):.4f})")
    print(f"  log-likelihood {fit.log_likelihood:,.2f}; converged: {fit.converged}")
    if result.holdout is not None:
        print(
            f"  holdout repeat purchases: actual {result.holdout.actual_total:,.0f}, "
            f"predicted {result.holdout.predicted_total:,.1f}"
        )
    print(f"wrote {out}/fit.json and {out}/repeat_fragment.yaml")
    return 0


def cmd_demand(args: argparse.Namespace) -> int:
    """Estimate plain logit demand from market shares (OLS, or 2SLS with instruments)."""
    from experiments.calibration import calibrate_demand
    from experiments.outfolder import check_folder, owned_folder

    out = Path(args.out)
    check_folder(out, "calibrate demand", force=args.force)  # before the fit
    result = calibrate_demand(
        args.file,
        market_col=args.market_col,
        product_col=args.product_col,
        price_col=args.price_col,
        share_col=args.share_col,
        characteristics=args.characteristics or "",
        instruments=args.instruments or "",
    )
    with owned_folder(out, "calibrate demand", force=args.force):
        result.write(out)
    fit = result.fit
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
    defaults = argparse.ArgumentDefaultsHelpFormatter
    cal = sub.add_parser("calibrate", help="fit model parameters to a company's own data")
    csub = cal.add_subparsers(dest="what", required=True)
    tx = csub.add_parser(
        "transactions",
        help="fit BG/NBD repeat purchasing to a transaction log",
        formatter_class=defaults,
    )
    tx.add_argument("file", help="CSV with one row per transaction")
    tx.add_argument("--customer-col", default="customer_id", help="customer id column")
    tx.add_argument("--date-col", default="date", help="transaction date column")
    tx.add_argument("--amount-col", default=None, help="transaction amount column (optional)")
    tx.add_argument("--date-format", default=None, help="strptime format, e.g. %%Y-%%m-%%d")
    tx.add_argument("--calibration-end", default=None, help="last day of the calibration period")
    tx.add_argument("--period", default="W", help="time unit: D (days) or W (weeks)")
    add_output_args(tx, "results/calibration")
    tx.set_defaults(func=cmd_transactions)
    dm = csub.add_parser(
        "demand",
        help="estimate plain logit demand from prices and shares",
        formatter_class=defaults,
    )
    dm.add_argument("file", help="CSV: market, product, price, share, characteristics")
    dm.add_argument("--market-col", default="market", help="market id column")
    dm.add_argument("--product-col", default="product", help="product id column")
    dm.add_argument("--price-col", default="price", help="price column")
    dm.add_argument("--share-col", default="share", help="inside market share column")
    dm.add_argument("--characteristics", default="", help="comma-separated columns")
    dm.add_argument("--instruments", default="", help="comma-separated instrument columns (2SLS)")
    add_output_args(dm, "results/demand")
    dm.set_defaults(func=cmd_demand)
