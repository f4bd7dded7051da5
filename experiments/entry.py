"""`rank_entry_options`: market-entry options (regions, timing, fulfilment) ranked on CRN runs.

Each option is the base scenario with its regions' entry days (the first day of its calendar
entry month), fulfilment and strategies; every option runs on the same replications (common
random numbers) over the file's ``horizon_days`` (default: the scenario's; ``days=``
overrides both) and is ranked by the mean NPV of its monthly net cash flows (12 calendar
months a year, end-of-month discounting), with its 95% CI, payback on calendar months,
probability of a loss, 5% CVaR of profit and market share over the last 30 days. Beside it,
the NPV including the terminal value: customer equity plus inventory value at the horizon
(``sim.equity``), discounted from the horizon; the customer equity uses the file's discount
rate too.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import Executor
from experiments.files import EntryOption, OptionsFile, file_sha256, load_scenario, load_yaml_model
from experiments.outfolder import check_folder
from experiments.replications import (
    ScenarioSource,
    executor_scope,
    run_variants,
    strategies_dict,
    timeseries,
    with_strategies,
)
from experiments.results import write_csv, write_json
from experiments.stats import (
    cvar,
    mean_ci,
    monthly_cash_flows,
    npv,
    payback_month,
    wilson_interval,
)
from sim.calendar import DAYS_PER_YEAR, MAX_HORIZON_DAYS, month_start_day
from sim.contract import KINDS
from sim.errors import Problem, ScenarioError, StrategyError, UsageError
from sim.scenario import Scenario
from strategies.registry import strategy_problems, validate_choice

NEVER = 100_000  # entry day meaning "not entered"


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
            option_scenario(scenario, option, parsed.horizon_days, parsed.discount_rate_annual)
        except (ScenarioError, StrategyError, ValueError) as exc:
            problems.append(Problem(source, f"options[{i}]", str(exc)))
    if problems:
        raise ScenarioError(problems)
    return parsed, scenario, scenario_path


def option_scenario(
    base: Scenario,
    option: EntryOption,
    horizon_days: int | None,
    discount_rate_annual: float | None = None,
) -> Scenario:
    """The base scenario with this option's entry days, fulfilment and strategies (and the
    options file's discount rate for the customer equity, when given)."""
    entry = {r.id: NEVER for r in base.regions}
    for e in option.regions:
        entry[e.region] = month_start_day(e.entry_month)
    firm = base.firm.model_copy(update={"entry_day_by_region": entry})
    update: dict[str, Any] = {"firm": firm}
    if discount_rate_annual is not None:
        update["valuation"] = base.valuation.model_copy(
            update={"discount_rate_annual": discount_rate_annual}
        )
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


def _replication_row(
    frame: pd.DataFrame, entered: list[str], discount_rate: float, opening_cash_base: float
) -> dict[str, float]:
    """One replication of an option: profit, NPVs, terminal value, payback, share."""
    cash = monthly_cash_flows(frame, opening_cash_base)
    horizon = frame[(frame["day"] == frame["day"].max()) & (frame["region"] == "ALL")]
    equity = float(horizon["customer_equity_base"].iloc[0])
    inventory = float(horizon["inventory_value_base"].iloc[0])
    years = (int(frame["day"].max()) + 1) / DAYS_PER_YEAR
    npv_cash = npv(cash, discount_rate)
    last = frame[frame["day"] > frame["day"].max() - 30]
    last = last[last["region"].isin(entered)]
    return {
        "net_profit_base": float(frame.loc[frame["region"] == "ALL", "net_profit_base"].sum()),
        "npv_base": npv_cash,
        "npv_with_equity_base": npv_cash + (equity + inventory) / (1.0 + discount_rate) ** years,
        "customer_equity_base": equity,
        "inventory_value_base": inventory,
        "payback_month": payback_month(cash),
        "market_share_end": float(last["units"].sum() / last["market_units"].sum())
        if len(last) and last["market_units"].sum()
        else np.nan,
    }


def evaluate_option(
    frames: dict[int, pd.DataFrame],
    entered: list[str],
    discount_rate: float,
    opening_cash_base: float,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per-replication profit, NPVs, payback, share; and the option's summary row."""
    per_rep = pd.DataFrame(
        [
            {"rep": rep, **_replication_row(frame, entered, discount_rate, opening_cash_base)}
            for rep, frame in sorted(frames.items())
        ]
    )
    npv_ci = mean_ci(per_rep["npv_base"])
    equity_ci = mean_ci(per_rep["npv_with_equity_base"])
    profit_ci = mean_ci(per_rep["net_profit_base"])
    mean_cash = np.mean([monthly_cash_flows(f, opening_cash_base) for f in frames.values()], axis=0)
    losses = int((per_rep["net_profit_base"] < 0).sum())
    p_loss_low, p_loss_high = wilson_interval(losses, len(per_rep))
    summary = {
        "npv_mean": npv_ci["mean"],
        "npv_low": npv_ci["low"],
        "npv_high": npv_ci["high"],
        "npv_sd": npv_ci["sd"],
        "npv_with_equity_mean": equity_ci["mean"],
        "npv_with_equity_low": equity_ci["low"],
        "npv_with_equity_high": equity_ci["high"],
        "customer_equity_mean": float(per_rep["customer_equity_base"].mean()),
        "inventory_value_mean": float(per_rep["inventory_value_base"].mean()),
        "profit_mean": profit_ci["mean"],
        "profit_low": profit_ci["low"],
        "profit_high": profit_ci["high"],
        "payback_month": payback_month(mean_cash),
        "payback_month_median": float(np.nanmedian(per_rep["payback_month"]))
        if per_rep["payback_month"].notna().any()
        else float("nan"),
        "p_loss": losses / len(per_rep),
        "p_loss_low": p_loss_low,
        "p_loss_high": p_loss_high,
        "cvar5_profit": cvar(per_rep["net_profit_base"].to_numpy(), 0.05),
        "market_share_mean": float(per_rep["market_share_end"].mean()),
        "reps": len(per_rep),
    }
    return per_rep, summary


@dataclass(frozen=True)
class EntryRanking:
    """What :func:`rank_entry_options` returns.

    Attributes:
        options_file: the options file; ``source``: its base scenario (file and hash).
        discount_rate_annual, reps, days: how the options were valued.
        table: options ranked by mean NPV of cash flows with CI; NPV including the terminal
            customer equity and inventory; payback, P(loss) with its Wilson CI, CVaR, share
            (``options.csv``).
        per_rep: per option and replication: profit, NPVs, terminal values, payback, share
            (``replications.csv``).
        timeseries: per option, region, KPI and day: mean and 5-95% band.
    """

    options_file: str
    source: ScenarioSource
    discount_rate_annual: float
    reps: int
    days: int
    table: pd.DataFrame
    per_rep: pd.DataFrame
    timeseries: pd.DataFrame

    def write(self, out: str | Path) -> None:
        """Write the tables and ``summary.json`` into ``out``.

        Raises:
            StorageError: ``out`` is a file, or holds other files or another command's
                results (see :func:`experiments.outfolder.check_folder`).
        """
        check_folder(out, "entry")
        write_csv(out, "options.csv", self.table)
        write_csv(out, "replications.csv", self.per_rep)
        write_csv(out, "timeseries.csv", self.timeseries)
        write_json(
            out,
            "summary.json",
            {
                "command": "entry",
                "scenario": self.source.scenario.name,
                "currency": self.source.scenario.currency,
                "discount_rate_annual": self.discount_rate_annual,
                "reps": self.reps,
                "horizon_days": self.days,
                "ranking": self.table.to_dict(orient="records"),
            },
        )


def _option_label(option: EntryOption) -> str:
    return ", ".join(
        f"{e.region}@m{e.entry_month}" + ("/local" if e.fulfilment == "local_warehouse" else "")
        for e in option.regions
    )


def planned_worker_bytes(options: str | Path) -> int:
    """Planned memory of a worker that runs these options: their base scenario's (an option
    enters a subset of its regions). Raises what :func:`rank_entry_options` raises for a
    bad file."""
    from experiments.executors import scenario_worker_bytes

    _, base, _ = load_options(options)
    return scenario_worker_bytes([base])


def rank_entry_options(
    options: str | Path,
    *,
    reps: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> EntryRanking:
    """Evaluate and rank the options of an options file on common random numbers.

    Args:
        options: the options YAML file (its ``scenario`` path is relative to it).
        reps: replications per option (default: the file's); ``seed`` overrides the
            scenario's seed; ``days`` the horizon (default: the file's ``horizon_days``, else
            the scenario's).
        executor: where to run (default: a local process pool of ``workers`` processes).
        out: when given, replications are stored there as they finish (a rerun resumes) and
            the tables are written at the end; otherwise nothing is written. It must be a new
            folder or hold an earlier ``entry`` (else refused before any work; ``force``
            replaces it).

    Raises:
        StorageError: ``out`` is refused or in use by another command.
    """
    from experiments.store import ResultStore

    spec, base, scenario_path = load_options(options)
    reps = reps or spec.reps
    if reps < 1:
        raise UsageError(f"--reps: at least 1 replication, got {reps}")
    days = days or spec.horizon_days or base.horizon_days
    if not 1 <= days <= MAX_HORIZON_DAYS:
        raise UsageError(f"--days: `1 <= days <= {MAX_HORIZON_DAYS}` must hold, got {days}")
    rate = spec.discount_rate_annual
    variants = {o.name: option_scenario(base, o, days, rate) for o in spec.options}
    seed = base.seed if seed is None else seed
    source = ScenarioSource(base, str(scenario_path), file_sha256(scenario_path))
    meta = {
        "options_file": str(options),
        "options_sha256": file_sha256(options),
        "scenarios": [source.meta()],
        "variants": {n: strategies_dict(sc) for n, sc in variants.items()},
        "entry_days": {n: dict(sc.firm.entry_day_by_region) for n, sc in variants.items()},
    }
    with ResultStore.claim(out, "entry", meta, force=force) as store:
        with executor_scope(executor, workers) as ex:
            frames = run_variants(
                source,
                variants,
                range(reps),
                seed=seed,
                days=days,
                executor=ex,
                store=store,
                desc="entry",
            )
        result = _ranking(str(options), spec, source, reps, days, frames)
        if out is not None:
            result.write(out)
    return result


def _ranking(
    options_file: str,
    spec: OptionsFile,
    source: ScenarioSource,
    reps: int,
    days: int,
    frames: dict[tuple[str, int], pd.DataFrame],
) -> EntryRanking:
    """Evaluate every option's replications and rank the options on mean NPV."""
    table_rows, rep_rows = [], []
    for option in spec.options:
        entered = [e.region for e in option.regions]
        mine = {rep: f for (name, rep), f in frames.items() if name == option.name}
        per_rep, summary = evaluate_option(
            mine, entered, spec.discount_rate_annual, source.scenario.firm.starting_cash_base
        )
        rep_rows.append(per_rep.assign(option=option.name))
        table_rows.append({"option": option.name, "regions": _option_label(option), **summary})
    table = pd.DataFrame(table_rows).sort_values("npv_mean", ascending=False, kind="stable")
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    per_rep_all = pd.concat(rep_rows, ignore_index=True)
    per_rep_all = per_rep_all[["option", *[c for c in per_rep_all.columns if c != "option"]]]
    return EntryRanking(
        options_file=options_file,
        source=source,
        discount_rate_annual=spec.discount_rate_annual,
        reps=reps,
        days=days,
        table=table,
        per_rep=per_rep_all,
        timeseries=timeseries(frames).rename(columns={"variant": "option"}),
    )
