"""`marketsim entry`: rank market-entry options (regions, timing, fulfilment) on CRN runs."""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from experiments.cli.common import add_executor_args, fmt_number, print_report
from experiments.compare import build_tasks, timeseries
from experiments.results import write_csv, write_json
from experiments.runner import (
    ResultStore,
    make_executor,
    run_replications,
    strategies_dict,
    with_strategies,
)
from experiments.scenario_io import file_sha256, load_scenario, load_yaml_model
from experiments.stats import cvar, mean_ci, monthly_series, npv, payback_month
from sim.calendar import DAYS_PER_MONTH
from sim.contract import KINDS
from sim.errors import Problem, ScenarioError, StrategyError
from sim.scenario import Identifier, Scenario, StrategyChoice
from strategies.registry import strategy_problems, validate_choice

NEVER = 100_000  # entry day meaning "not entered"


class RegionEntry(BaseModel):
    """When and how one region is entered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Identifier
    entry_month: Annotated[int, Field(ge=0, le=120)] = 0
    fulfilment: Literal["cross_border", "local_warehouse"] = "cross_border"


class EntryOption(BaseModel):
    """One market-entry plan."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[Identifier, Field(max_length=48)]
    description: str = ""
    regions: Annotated[list[RegionEntry], Field(min_length=1)]
    pricing: StrategyChoice | None = None
    selection: StrategyChoice | None = None
    retention: StrategyChoice | None = None
    localization: StrategyChoice | None = None


class OptionsFile(BaseModel):
    """The options file: a base scenario and the entry options to rank."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario: str
    discount_rate_annual: Annotated[float, Field(ge=0.0, le=1.0)] = 0.10
    reps: Annotated[int, Field(ge=2, le=10_000)] = 20
    horizon_days: Annotated[int, Field(ge=30, le=3650)] | None = None
    options: Annotated[list[EntryOption], Field(min_length=1, max_length=100)]


def load_options(path: str | Path) -> tuple[OptionsFile, Scenario, Path]:
    """Read and check an options file and its base scenario (path relative to the file)."""
    source = str(path)
    parsed = load_yaml_model(path, OptionsFile, "options file", "options")
    scenario_path = (Path(path).parent / parsed.scenario).resolve()
    scenario = load_scenario(scenario_path)
    region_ids = [r.id for r in scenario.regions]
    problems: list[Problem] = []
    names = [o.name for o in parsed.options]
    for i, option in enumerate(parsed.options):
        if option.name in names[:i]:
            problems.append(Problem(source, f"options[{i}].name", f"duplicate {option.name!r}"))
        seen: set[str] = set()
        for j, entry in enumerate(option.regions):
            where = f"options[{i}].regions[{j}]"
            if entry.region not in region_ids:
                problems.append(
                    Problem(source, f"{where}.region", f"unknown region; known: {region_ids}")
                )
            elif entry.region in seen:
                problems.append(Problem(source, f"{where}.region", "region listed twice"))
            seen.add(entry.region)
        problems += strategy_problems(source, f"options[{i}]", option, scenario)
    if problems:
        raise ScenarioError(problems)
    for i, option in enumerate(parsed.options):
        try:
            option_scenario(scenario, option, parsed.horizon_days)
        except (ScenarioError, StrategyError, ValueError) as exc:
            problems.append(Problem(source, f"options[{i}]", str(exc)))
    if problems:
        raise ScenarioError(problems)
    return parsed, scenario, scenario_path


def option_scenario(base: Scenario, option: EntryOption, horizon_days: int | None) -> Scenario:
    """The base scenario with this option's entry days, fulfilment and strategies."""
    entry = {r.id: NEVER for r in base.regions}
    for e in option.regions:
        entry[e.region] = round(e.entry_month * DAYS_PER_MONTH)
    firm = base.firm.model_copy(update={"entry_day_by_region": entry})
    update: dict[str, Any] = {"firm": firm}
    if horizon_days is not None:
        update["horizon_days"] = horizon_days
    scenario = base.model_copy(update=update)
    strategies: dict[str, Any] = {}
    for kind in KINDS:
        choice = getattr(option, kind)
        if choice is not None:
            strategies[kind] = {"name": choice.name, "params": dict(choice.params)}
    local = [e.region for e in option.regions if e.fulfilment == "local_warehouse"]
    if local:
        strategies["localization"] = _with_local_warehouses(
            strategies.get("localization") or strategies_dict(base)["localization"], local
        )
    scenario = with_strategies(scenario, strategies)
    loc = scenario.strategies.localization
    validate_choice("localization", loc.name, loc.params, scenario)
    return scenario


def _with_local_warehouses(spec: dict[str, Any], regions: list[str]) -> dict[str, Any]:
    """Localization that ships the given regions from their local warehouses."""
    name = spec.get("name", "none")
    if name == "none":
        params: dict[str, Any] = {
            "regions": [],
            "human_translation": False,
            "pay_ewallet": False,
            "pay_cod": False,
            "local_warehouse": False,
            "per_region": {},
        }
    elif name == "invest":
        params = copy.deepcopy(dict(spec.get("params") or {}))
    else:
        raise ValueError(
            f"fulfilment local_warehouse needs the 'invest' (or 'none') localization "
            f"strategy, got {name!r}"
        )
    per_region = dict(params.get("per_region") or {})
    for rid in regions:
        levers = dict(per_region.get(rid) or {})
        levers["local_warehouse"] = True
        per_region[rid] = levers
    params["per_region"] = per_region
    if name == "none":
        params["regions"] = list(regions)
    return {"name": "invest", "params": params}


def evaluate_option(
    frames: dict[int, pd.DataFrame], entered: list[str], discount_rate: float
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-replication profit, NPV, payback, share; and the option's summary row."""
    rows = []
    for rep, frame in sorted(frames.items()):
        monthly = monthly_series(frame, "net_profit_base")
        last = frame[frame["day"] > frame["day"].max() - 30]
        last = last[last["region"].isin(entered)]
        share = float(last["units"].sum() / last["market_units"].sum()) if len(last) else np.nan
        rows.append(
            {
                "rep": rep,
                "net_profit_base": float(monthly.sum()),
                "npv_base": npv(monthly, discount_rate),
                "payback_month": payback_month(monthly),
                "market_share_end": share,
            }
        )
    per_rep = pd.DataFrame(rows)
    npv_ci = mean_ci(per_rep["npv_base"])
    profit_ci = mean_ci(per_rep["net_profit_base"])
    mean_monthly = np.mean([monthly_series(f, "net_profit_base") for f in frames.values()], axis=0)
    summary = {
        "npv_mean": npv_ci["mean"],
        "npv_low": npv_ci["low"],
        "npv_high": npv_ci["high"],
        "npv_sd": npv_ci["sd"],
        "profit_mean": profit_ci["mean"],
        "profit_low": profit_ci["low"],
        "profit_high": profit_ci["high"],
        "payback_month": payback_month(mean_monthly),
        "payback_month_median": float(np.nanmedian(per_rep["payback_month"]))
        if per_rep["payback_month"].notna().any()
        else float("nan"),
        "p_loss": float((per_rep["net_profit_base"] < 0).mean()),
        "cvar5_profit": cvar(per_rep["net_profit_base"].to_numpy(), 0.05),
        "market_share_mean": float(per_rep["market_share_end"].mean()),
        "reps": len(per_rep),
    }
    return per_rep, summary


def cmd_entry(args: argparse.Namespace) -> int:
    """Evaluate and rank the options in an options file."""
    spec, base, scenario_path = load_options(args.options)
    reps = args.reps or spec.reps
    variants = {o.name: option_scenario(base, o, spec.horizon_days) for o in spec.options}
    days = spec.horizon_days or base.horizon_days
    seed = base.seed if args.seed is None else args.seed
    sha = file_sha256(scenario_path)
    out = Path(args.out)
    executor = make_executor(args.executor, args.workers, scheduler=args.scheduler)
    store = ResultStore.open(
        out,
        "entry",
        {
            "options_file": str(args.options),
            "options_sha256": file_sha256(args.options),
            "scenarios": [
                {"index": 0, "file": str(scenario_path), "sha256": sha, "name": base.name}
            ],
            "variants": {n: strategies_dict(sc) for n, sc in variants.items()},
            "entry_days": {n: dict(sc.firm.entry_day_by_region) for n, sc in variants.items()},
        },
    )
    tasks = build_tasks(variants, 0, sha, range(reps), seed, days)
    with executor:  # stop its workers (or cluster) once the replications are in
        by_key = run_replications(tasks, executor, store, desc="entry")
    frames = {(t.variant, t.rep): by_key[t.key] for t in tasks}
    table_rows, rep_rows = [], []
    for option in spec.options:
        entered = [e.region for e in option.regions]
        mine = {rep: f for (name, rep), f in frames.items() if name == option.name}
        per_rep, summary = evaluate_option(mine, entered, spec.discount_rate_annual)
        rep_rows.append(per_rep.assign(option=option.name))
        table_rows.append(
            {
                "option": option.name,
                "regions": ", ".join(
                    f"{e.region}@m{e.entry_month}"
                    + ("/local" if e.fulfilment == "local_warehouse" else "")
                    for e in option.regions
                ),
                **summary,
            }
        )
    table = pd.DataFrame(table_rows).sort_values("npv_mean", ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    per_rep_all = pd.concat(rep_rows, ignore_index=True)
    per_rep_all = per_rep_all[["option", *[c for c in per_rep_all.columns if c != "option"]]]
    write_csv(out, "options.csv", table)
    write_csv(out, "replications.csv", per_rep_all)
    write_csv(out, "timeseries.csv", timeseries(frames).rename(columns={"variant": "option"}))
    write_json(
        out,
        "summary.json",
        {
            "command": "entry",
            "scenario": base.name,
            "currency": base.currency,
            "discount_rate_annual": spec.discount_rate_annual,
            "reps": reps,
            "horizon_days": days,
            "ranking": table.to_dict(orient="records"),
        },
    )
    print(format_entry(table, base, reps, spec.discount_rate_annual))
    print_report(out)
    return 0


def format_entry(table: pd.DataFrame, base: Scenario, reps: int, rate: float) -> str:
    """The ranked options table."""
    lines = [
        f"{base.name}: {len(table)} entry options x {reps} CRN replications; NPV at "
        f"{rate:.0%}/yr, amounts in {base.currency}",
        f"{'rank':<5}{'option':<22}{'NPV mean':>12}{'95% CI':>26}{'payback':>9}{'P(loss)':>9}"
        f"{'CVaR5%':>12}{'share':>8}",
    ]
    for row in table.itertuples():
        pb = "-" if row.payback_month != row.payback_month else f"m{row.payback_month:.0f}"
        lines.append(
            f"{row.rank:<5}{row.option:<22}{fmt_number(row.npv_mean):>12}"
            f"{'[' + fmt_number(row.npv_low) + ', ' + fmt_number(row.npv_high) + ']':>26}{pb:>9}"
            f"{row.p_loss:>9.0%}{fmt_number(row.cvar5_profit):>12}{row.market_share_mean:>8.1%}"
        )
    return "\n".join(lines)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``entry``."""
    p = sub.add_parser("entry", help="rank market-entry options on NPV, payback and risk")
    p.add_argument("options", help="options YAML file")
    p.add_argument("--reps", type=int, default=None, help="replications (default: the file's)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--out", default="results/entry")
    add_executor_args(p)
    p.set_defaults(func=cmd_entry)
