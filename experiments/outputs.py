"""The output schema: every file each command writes, its columns, units and summary keys.

Declared once, as data. ``tests/test_outputs.py`` runs every command and checks that each
written table's columns equal the declaration, so it cannot drift. Readers
(``marketsim report``, notebooks) use :func:`read_table`, which validates a table against its
declaration: a missing column is a :class:`DataError` naming the file and the column.

Units: ``currency`` is the scenario's base currency, ``share`` a fraction in [0, 1],
``kpi`` the unit of the row's KPI (tidy tables with a ``kpi`` column); ``""`` has no unit.
Column families (``each``): a name such as ``value_{metric}`` stands for one column per
objective KPI; :meth:`Table.names` expands them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.output_types import (  # re-exported: the schema's types
    Column,
    CommandOutputs,
    Dtype,
    PartitionedRuns,
    SummaryKey,
    Table,
)
from sim.errors import DataError, UsageError
from sim.kpis import KPI_BY_NAME, KPIS, Kpi

NUMERIC: tuple[Dtype, ...] = ("int", "float")
NA_VALUES = ("", "nan", "NaN")  # "NA" stays a region name (Namibia), never a missing value


# ----------------------------------------------------------------------------- KPI columns
_KPI_UNITS = {"base": "currency"}
# readable KPI names where dropping ``_base`` and underscores is not enough
KPI_LABELS = {
    "cac_base": "customer acquisition cost",
    "units": "units sold",
    "on_time_rate": "on-time rate",
}


def kpi_label(name: str) -> str:
    """A readable KPI name: ``net_profit_base`` -> ``net profit``."""
    return KPI_LABELS.get(name, name.removesuffix("_base").replace("_", " "))


def kpi_column(kpi: Kpi) -> Column:
    """A KPI as a column (unit ``base`` becomes ``currency``)."""
    return Column(kpi.name, "float", _KPI_UNITS.get(kpi.unit, kpi.unit), kpi_label(kpi.name))


# the daily row: catalogue order; totals (stats.totals): summed and last-day KPIs, then ratios
DAILY_KPI_COLUMNS = tuple(kpi_column(k) for k in KPIS)
TOTAL_KPI_COLUMNS = tuple(
    [kpi_column(k) for k in KPIS if k.aggregation != "ratio"]
    + [kpi_column(k) for k in KPIS if k.aggregation == "ratio"]
)

DAY = Column("day", "int", "day", "day of simulation")
REGION = Column("region", "str", "", "region")
SCENARIO = Column("scenario", "str", "", "scenario (first 12 hex digits of its SHA-256)")
VARIANT = Column("variant", "str", "", "variant")
OPTION = Column("option", "str", "", "entry option")
REP = Column("rep", "int", "", "replication")
KPI = Column("kpi", "str", "", "KPI")
CI_COLUMNS = (
    Column("mean", "float", "kpi", "mean"),
    Column("sd", "float", "kpi", "standard deviation"),
    Column("half_width", "float", "kpi", "95% CI half-width"),
    Column("low", "float", "kpi", "95% CI low"),
    Column("high", "float", "kpi", "95% CI high"),
    Column("n", "int", "", "replications"),
)


def _timeseries(entity: Column) -> Table:
    return Table(
        "timeseries.csv",
        f"per {entity.name}, region, KPI and day: mean and 5%-95% band across replications",
        (
            entity,
            REGION,
            KPI,
            DAY,
            Column("mean", "float", "kpi", "mean"),
            Column("low", "float", "kpi", "5% quantile"),
            Column("high", "float", "kpi", "95% quantile"),
        ),
    )


DAILY_KPIS = Table("kpis.csv", "daily KPIs per region and ALL", (DAY, REGION, *DAILY_KPI_COLUMNS))
DAILY_KPIS_MEAN = Table(
    "kpis.csv", "daily KPIs per region, mean over replications", (DAY, REGION, *DAILY_KPI_COLUMNS)
)
REPLICATIONS = Table(
    "replications.csv",
    "KPI totals over the horizon per variant, replication and region",
    (VARIANT, REP, REGION, *TOTAL_KPI_COLUMNS),
)
SUMMARY_CI_RUN = Table(
    "summary_ci.csv", "KPI totals per region: mean and 95% CI", (REGION, KPI, *CI_COLUMNS)
)
SUMMARY_CI_COMPARE = Table(
    "summary_ci.csv",
    "KPI totals per variant and region: mean and 95% CI",
    (VARIANT, REGION, KPI, *CI_COLUMNS),
)
DIFFERENCES = Table(
    "differences.csv",
    "paired differences vs the baseline (region ALL): mean, 95% CI, t-test p-value",
    (
        VARIANT,
        Column("baseline", "str", "", "baseline"),
        KPI,
        *(Column(c.name, c.dtype, c.unit, f"difference, {c.label}") for c in CI_COLUMNS[:-1]),
        CI_COLUMNS[-1],
        Column("p_value", "float", "", "p-value (paired t-test)"),
    ),
)
RANKING = Table(
    "ranking.csv",
    "variants ranked on the primary KPI (region ALL) with P(best)",
    (
        Column("rank", "int", "", "rank"),
        VARIANT,
        *CI_COLUMNS,
        Column("p_best", "float", "share", "P(best)"),
    ),
)
#: the horizon table's KPIs (``sim.equity``): value at the horizon beside profit, never added
HORIZON_TABLE_KPIS = (
    "customers",
    "expected_purchases",
    "contribution_per_order_base",
    "customer_equity_base",
    "inventory_value_base",
    "clv_base",
    "repurchase_rate",
    "net_profit_base",
    "profit_plus_equity_base",
)
HORIZON = Table(
    "horizon.csv",
    "value at the horizon per region (with replications: the mean over them); customer "
    "equity is reported beside net profit, never added to it",
    (REGION, *(kpi_column(KPI_BY_NAME[k]) for k in HORIZON_TABLE_KPIS)),
)
ENTRY_OPTIONS = Table(
    "options.csv",
    "entry options ranked on the NPV of monthly net cash flows (calendar months)",
    (
        Column("rank", "int", "", "rank"),
        OPTION,
        Column("regions", "str", "", "regions (@entry month, /local warehouse)"),
        Column("npv_mean", "float", "currency", "NPV of cash flows, mean"),
        Column("npv_low", "float", "currency", "NPV of cash flows, 95% CI low"),
        Column("npv_high", "float", "currency", "NPV of cash flows, 95% CI high"),
        Column("npv_sd", "float", "currency", "NPV of cash flows, standard deviation"),
        Column("npv_with_equity_mean", "float", "currency", "NPV incl. terminal value, mean"),
        Column("npv_with_equity_low", "float", "currency", "NPV incl. terminal value, 95% CI low"),
        Column(
            "npv_with_equity_high", "float", "currency", "NPV incl. terminal value, 95% CI high"
        ),
        Column("customer_equity_mean", "float", "currency", "customer equity at horizon, mean"),
        Column("inventory_value_mean", "float", "currency", "inventory value at horizon, mean"),
        Column("profit_mean", "float", "currency", "net profit, mean"),
        Column("profit_low", "float", "currency", "net profit, 95% CI low"),
        Column("profit_high", "float", "currency", "net profit, 95% CI high"),
        Column("payback_month", "float", "month", "payback month of the mean cash path"),
        Column("payback_month_median", "float", "month", "payback month, median"),
        Column("p_loss", "float", "share", "P(loss)"),
        Column("p_loss_low", "float", "share", "P(loss), 95% Wilson CI low"),
        Column("p_loss_high", "float", "share", "P(loss), 95% Wilson CI high"),
        Column("cvar5_profit", "float", "currency", "net profit, mean of the worst 5%"),
        Column("market_share_mean", "float", "share", "market share in the last 30 days, mean"),
        Column("reps", "int", "", "replications"),
    ),
)
ENTRY_REPLICATIONS = Table(
    "replications.csv",
    "per entry option and replication: profit, NPVs, terminal values, payback and share",
    (
        OPTION,
        REP,
        Column("net_profit_base", "float", "currency", "net profit"),
        Column("npv_base", "float", "currency", "NPV of cash flows"),
        Column("npv_with_equity_base", "float", "currency", "NPV incl. terminal value"),
        Column("customer_equity_base", "float", "currency", "customer equity at horizon"),
        Column("inventory_value_base", "float", "currency", "inventory value at horizon"),
        Column("payback_month", "float", "month", "payback month (cash, calendar months)"),
        Column("market_share_end", "float", "share", "market share in the last 30 days"),
    ),
)
_TRIAL_HEAD = (
    Column("number", "int", "", "trial"),
    Column("state", "str", "", "state"),
)
_TRIAL_TAIL = (
    Column("{param}", "str", "", "parameter {param}"),
    Column("{metric}[{scenario}]", "float", "kpi", "{metric}, mean in scenario {scenario}"),
    Column("baseline", "bool", "", "baseline trial (the scenario's own strategies)"),
    Column("infeasible", "str", "", "why infeasible"),
    Column("last_step", "int", "", "last reported step"),
    Column("duration_s", "float", "s", "duration"),
    Column("started", "str", "", "started (UTC)"),
)
TRIALS_SINGLE = Table(
    "trials.csv",
    "one row per trial (one objective)",
    (*_TRIAL_HEAD, Column("value", "float", "kpi", "objective"), *_TRIAL_TAIL),
)
TRIALS_MULTI = Table(
    "trials.csv",
    "one row per trial (several objectives)",
    (*_TRIAL_HEAD, Column("value_{metric}", "float", "kpi", "objective {metric}"), *_TRIAL_TAIL),
)
PARETO = Table("pareto.csv", "the Pareto-optimal trials", TRIALS_MULTI.columns)
IMPORTANCE = Table(
    "importance.csv",
    "parameter importance per objective",
    (
        Column("objective", "str", "", "objective"),
        Column("param", "str", "", "parameter"),
        Column("importance", "float", "share", "importance"),
    ),
)

# ----------------------------------------------------------------------------- explore
_EXPLORE_OPTION = Column("option", "str", "", "option")
FUTURE = Column("future", "int", "", "future (row of the design)")
EXPLORE_ROBUST = Table(
    "robust.csv",
    "options ranked across futures",
    (
        Column("rank", "int", "", "rank"),
        _EXPLORE_OPTION,
        Column("futures", "int", "", "futures"),
        Column("mean", "float", "kpi", "mean over futures"),
        Column("sd", "float", "kpi", "standard deviation over futures"),
        Column("cvar5", "float", "kpi", "mean of the worst 5% of futures"),
        Column("p_loss", "float", "share", "P(outcome < 0)"),
        Column("p_best", "float", "share", "P(best)"),
        Column("max_regret", "float", "kpi", "maximum regret"),
        Column("mean_regret", "float", "kpi", "mean regret"),
    ),
)
SCREENING = Table(
    "screening.csv", "every option ranked at the screening fidelity (mean)", EXPLORE_ROBUST.columns
)
#: the tables `explore` writes (factor columns of futures.csv and KPI columns of
#: outcomes.csv are families: one per uncertainty / outcome KPI)
EXPLORE_TABLES = (
    Table(
        "futures.csv",
        "the sampled futures: one value per uncertainty",
        (FUTURE, Column("{factor}", "float", "", "uncertainty {factor}")),
    ),
    Table(
        "outcomes.csv",
        "per fidelity, future and option: horizon totals (region ALL), mean over replications",
        (
            Column("fidelity", "str", "", "fidelity (screen or full)"),
            FUTURE,
            _EXPLORE_OPTION,
            Column("scenario", "str", "", "scenario run (first 12 hex digits of its SHA-256)"),
            Column("reps", "int", "", "replications"),
            Column("{kpi}", "float", "kpi", "{kpi}, total over the horizon"),
        ),
    ),
    EXPLORE_ROBUST,
    Table(
        "sensitivity.csv",
        "Sobol S1/ST or Morris mu_star/sigma per option and factor",
        (
            _EXPLORE_OPTION,
            Column("kpi", "str", "", "outcome KPI"),
            Column("factor", "str", "", "uncertainty"),
            Column("index", "str", "", "index (S1, ST, mu_star, sigma)"),
            Column("value", "float", "", "index value"),
            Column("conf", "float", "", "95% CI half-width"),
        ),
    ),
    Table(
        "boxes.csv",
        "PRIM boxes: one row per restricted factor",
        (
            _EXPLORE_OPTION,
            Column("question", "str", "", "case of interest"),
            Column("factor", "str", "", "uncertainty"),
            Column("low", "float", "", "box lower limit"),
            Column("high", "float", "", "box upper limit"),
            Column("coverage", "float", "share", "coverage"),
            Column("density", "float", "share", "density"),
            Column("mass", "float", "share", "mass"),
            Column("cases", "int", "", "futures that are cases"),
            Column("futures", "int", "", "futures"),
        ),
    ),
    Table(
        "prim_trajectory.csv",
        "PRIM peeling trajectories (coverage/density trade-off)",
        (
            _EXPLORE_OPTION,
            Column("question", "str", "", "case of interest"),
            Column("box", "int", "", "peeling step"),
            Column("coverage", "float", "share", "coverage"),
            Column("density", "float", "share", "density"),
            Column("mass", "float", "share", "mass"),
            Column("dims", "int", "", "restricted factors"),
            Column("chosen", "bool", "", "the chosen box"),
        ),
    ),
)

# Replication runs as the lead's store will write them (today: runs/<sha12>/<variant>/rep-K)
RUNS = PartitionedRuns(
    "runs", (SCENARIO, VARIANT, REP), "part-0.parquet", (DAY, REGION, *DAILY_KPI_COLUMNS)
)


def objective_columns(metric_names: Sequence[str]) -> list[str]:
    """trials.csv objective columns: ``value`` for one objective, else ``value_<kpi>``."""
    if len(metric_names) == 1:
        return ["value"]
    return TRIALS_MULTI.columns[2].expand({"metric": metric_names})


def trials_table(metric_names: Sequence[str]) -> Table:
    """The trials.csv declaration for this many objectives."""
    return TRIALS_SINGLE if len(metric_names) == 1 else TRIALS_MULTI


# ----------------------------------------------------------------------------- summary keys
_COMMON = (
    SummaryKey("command", "the command that wrote the folder (absent for a plain run)"),
    SummaryKey("scenario", "scenario name"),
    SummaryKey("currency", "base currency of every amount"),
    SummaryKey("reps", "replications per variant, option or trial"),
)
RUN_SUMMARY = (
    SummaryKey("scenario", "scenario name"),
    SummaryKey("currency", "base currency of every amount"),
    SummaryKey("totals", "{region: {kpi: total}} over the horizon"),
)
TUNE_SUMMARY = (
    SummaryKey("command", "'tune'"),
    SummaryKey("reps", "CRN replications per scenario and trial"),
    SummaryKey("scenarios", "tuned scenarios: [{index, file, sha256, name, label, seed, days}]"),
    SummaryKey("objectives", "[{kpi, direction}] in order"),
    SummaryKey("metric_names", "objective KPI names in order (the study's metric names)"),
    SummaryKey("search_space", "{parameter: optuna distribution_to_json string}"),
    SummaryKey("robust", "how scenario x replication values become one objective value"),
    SummaryKey("best", "best trial {number, values, params, scenario_means, strategies}"),
    SummaryKey("baseline", "the scenario's own strategies' trial {number, state, values}"),
    SummaryKey("importance_skipped", "why importance.csv is empty (null when computed)"),
)
EXPLORE_SUMMARY = (
    *_COMMON,
    SummaryKey("uncertainties_file", "the uncertainties file the futures were sampled from"),
    SummaryKey("design", "{method, n, seed, futures, factors, groups}"),
    SummaryKey("kpi", "the outcome options are ranked on (horizon total, region ALL)"),
    SummaryKey("direction", "whether more or less of the kpi is better"),
    SummaryKey("criterion", "regret, mean or cvar"),
    SummaryKey("robust_choice", "the option ranked first across futures"),
    SummaryKey("headline", "the robust choice, its regret and risk in one sentence"),
    SummaryKey("ranking", "robust.csv as records"),
    SummaryKey("findings", "the PRIM boxes in words"),
    SummaryKey("notes", "what was skipped and why"),
    SummaryKey("runs", "model runs per fidelity, OCBA rounds, equal-allocation runs"),
)
MANIFEST = "manifest.json"
SUMMARY = "summary.json"

OUTPUTS: dict[str, CommandOutputs] = {
    o.command: o
    for o in (
        CommandOutputs("run", (DAILY_KPIS, HORIZON), (SUMMARY,), RUN_SUMMARY),
        CommandOutputs(
            "run --reps",
            (REPLICATIONS, SUMMARY_CI_RUN, _timeseries(VARIANT), DAILY_KPIS_MEAN, HORIZON),
            (SUMMARY, MANIFEST, RUNS.root),
            (*_COMMON, SummaryKey("totals", "{region: {kpi: {mean, low, high}}}")),
        ),
        CommandOutputs(
            "compare",
            (REPLICATIONS, SUMMARY_CI_COMPARE, DIFFERENCES, RANKING, _timeseries(VARIANT)),
            (SUMMARY, MANIFEST, RUNS.root),
            (
                *_COMMON,
                SummaryKey("primary_kpi", "the KPI variants are ranked on"),
                SummaryKey("baseline", "the variant differences are taken against"),
                SummaryKey("variants", "variant names in file order"),
            ),
        ),
        CommandOutputs(
            "entry",
            (ENTRY_OPTIONS, ENTRY_REPLICATIONS, _timeseries(OPTION)),
            (SUMMARY, MANIFEST, RUNS.root),
            (*_COMMON, SummaryKey("discount_rate_annual", "NPV discount rate per year")),
        ),
        CommandOutputs(
            "tune",
            (TRIALS_SINGLE, IMPORTANCE, PARETO),
            (SUMMARY, MANIFEST, RUNS.root, "best_strategies.yaml", "pareto_variants.yaml"),
            TUNE_SUMMARY,
        ),
        CommandOutputs(
            "explore",
            (*EXPLORE_TABLES, SCREENING),
            (SUMMARY, MANIFEST, RUNS.root),
            EXPLORE_SUMMARY,
        ),
    )
}


# summary.json "command" -> output-schema command ("run" there means `run --reps`)
_SUMMARY_COMMANDS = {
    "run": "run --reps",
    "compare": "compare",
    "entry": "entry",
    "tune": "tune",
    "explore": "explore",
}


def outputs_of(command: str) -> CommandOutputs:
    """The declared outputs of ``command`` (``run``, ``run --reps``, ``compare``, ...)."""
    if command not in OUTPUTS:
        raise UsageError(f"unknown command {command!r}; valid: {list(OUTPUTS)}")
    return OUTPUTS[command]


def command_of(summary: Mapping[str, Any], out: Path) -> str | None:
    """Which command wrote a folder, from its summary.json (None: not a result folder)."""
    command = summary.get("command")
    if command is None:  # a plain `marketsim run` (one replication)
        return "run" if "totals" in summary and (out / DAILY_KPIS.name).is_file() else None
    return _SUMMARY_COMMANDS.get(command) if isinstance(command, str) else None


# ----------------------------------------------------------------------------- reading
def read_summary(out: Path) -> dict[str, Any]:
    """``OUT/summary.json`` as a dict (DataError when missing, not JSON or not an object)."""
    path = out / SUMMARY
    if not path.is_file():
        raise DataError(f"{out}: no {SUMMARY}; not a marketsim output folder")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(summary, dict):
        raise DataError(f"{path}: not a marketsim summary (expected a JSON object)")
    return summary


def read_table(
    out: str | Path,
    table: Table,
    columns: Sequence[str] | None = None,
    families: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Read a declared table, checking its columns against the declaration.

    Args:
        out: the output folder.
        table: the declaration (e.g. ``outputs_of("compare").table("ranking.csv")``).
        columns: the plain columns the caller uses (default: every plain column); each must
            be present and hold its declared type.
        families: values of column families (e.g. ``{"metric": ["net_profit_base"]}``); every
            family whose fields are all given is expanded and checked the same way.

    Raises:
        DataError: the file is missing, unreadable, lacks a column or holds the wrong type.
    """
    path = Path(out) / table.name
    wanted = [table.column(c) for c in columns] if columns is not None else table.fixed
    families = families or {}
    wanted = wanted + [
        Column(name, c.dtype, c.unit, c.label)
        for c in table.columns
        if c.fields and all(f in families for f in c.fields)
        for name in c.expand(families)
    ]
    text = [c.name for c in table.fixed if c.dtype == "str"]
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(
                path,
                dtype=dict.fromkeys(text, str),
                keep_default_na=False,
                na_values=list(NA_VALUES),
            )
    except FileNotFoundError:
        raise DataError(f"{path}: not found") from None
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"{path}: unreadable ({exc})") from None
    missing = [c.name for c in wanted if c.name not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    for col in wanted:
        frame[col.name] = _typed(frame[col.name], col, path)
    return frame


def _typed(series: pd.Series, col: Column, path: Path) -> pd.Series:
    if col.dtype in NUMERIC and not pd.api.types.is_numeric_dtype(series):
        numbers = pd.to_numeric(series, errors="coerce")
        bad = series[numbers.isna() & series.notna()]
        if len(bad):
            raise DataError(
                f"{path}: column {col.name!r} should hold numbers, found {bad.iloc[0]!r}"
            )
        return numbers
    if col.dtype == "bool" and not pd.api.types.is_bool_dtype(series):
        bad = series[~series.isin([True, False])]
        if len(bad):
            raise DataError(
                f"{path}: column {col.name!r} should hold True/False, found {bad.iloc[0]!r}"
            )
    return series
