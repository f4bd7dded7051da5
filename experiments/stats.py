"""Statistics over replications: confidence intervals, paired differences, P(best), risk, NPV."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from sim.calendar import calendar_month
from sim.kpis import ALL_REGIONS, KPI_BY_NAME, KPIS, RATIO_KPIS, kpi_ratio

CONFIDENCE = 0.95


def mean_ci(values: np.ndarray | pd.Series, confidence: float = CONFIDENCE) -> dict[str, float]:
    """Mean, standard deviation and Student-t confidence interval of replication values."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return {
            "mean": np.nan,
            "sd": np.nan,
            "half_width": np.nan,
            "low": np.nan,
            "high": np.nan,
            "n": 0,
        }
    mean = float(x.mean())
    if n < 2:
        return {
            "mean": mean,
            "sd": np.nan,
            "half_width": np.nan,
            "low": np.nan,
            "high": np.nan,
            "n": n,
        }
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n))
    return {
        "mean": mean,
        "sd": sd,
        "half_width": half,
        "low": mean - half,
        "high": mean + half,
        "n": n,
    }


def two_stage_reps(
    values: np.ndarray | pd.Series, half_width: float, confidence: float = CONFIDENCE
) -> int:
    """Replications whose Student-t CI has at most ``half_width`` given a first stage's values:
    Stein's two-stage rule, n = ceil((t(n0 - 1) x sd / half_width)^2), at least the n0 already
    run (Stein 1945; Law, Simulation Modeling and Analysis, ch. 9, a specified precision)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n0 = len(x)
    if n0 < 2 or half_width <= 0:
        return n0
    t = float(stats.t.ppf(0.5 + confidence / 2, n0 - 1))
    return max(n0, int(np.ceil((t * float(x.std(ddof=1)) / half_width) ** 2)))


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (inside [0, 1]; NaN if n = 0)."""
    if n <= 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return float(low), float(high)


def bounded_ci(
    values: np.ndarray | pd.Series, bound: str, confidence: float = CONFIDENCE
) -> dict[str, float]:
    """:func:`mean_ci` on a transformed scale, so the interval respects the KPI's range.

    ``bound="share"`` (a fraction in [0, 1]) uses the logit scale and ``"rate"`` (>= 0) the
    log scale: the delta method maps the Student-t half-width of the mean ``m`` to
    ``g(m) +- t * se * g'(m)`` and back, so ``low <= mean <= high`` always holds and a
    share's interval stays inside [0, 1]. A mean on the bound (every value 0, or every
    value 1) has the point interval; ``half_width`` is half of ``high - low``.
    """
    ci = mean_ci(values, confidence)
    m, n = ci["mean"], ci["n"]
    if n < 2 or not np.isfinite(ci["sd"]):
        return ci
    t = float(stats.t.ppf(0.5 + confidence / 2, n - 1))
    se = ci["sd"] / np.sqrt(n)
    if bound == "share" and 0.0 < m < 1.0:
        w = t * se / (m * (1.0 - m))
        logit = np.log(m / (1.0 - m))
        low, high = 1.0 / (1.0 + np.exp(-(logit - w))), 1.0 / (1.0 + np.exp(-(logit + w)))
    elif bound == "rate" and m > 0.0:
        w = t * se / m
        low, high = m * np.exp(-w), m * np.exp(w)
    else:
        low = high = m
    return {**ci, "half_width": float((high - low) / 2), "low": float(low), "high": float(high)}


def kpi_ci(kpi: str, values: np.ndarray | pd.Series) -> dict[str, float]:
    """The CI of a KPI's replication values: shares on the logit scale, rates per
    customer-year on the log scale (:func:`bounded_ci`), everything else Student-t."""
    unit = KPI_BY_NAME[kpi].unit if kpi in KPI_BY_NAME else ""
    if unit == "share":
        return bounded_ci(values, "share")
    if unit.startswith("per "):
        return bounded_ci(values, "rate")
    return mean_ci(values)


def totals(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per region (and ``ALL``): flows summed, ratios from summed flows, stocks at the last day."""
    if frame["region"].is_unique:  # one row per region: a totals-mode table or a one-day run
        return {str(r["region"]): _one_row_totals(r) for r in frame.to_dict("records")}
    return grouped_totals(frame)


def grouped_totals(frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """:func:`totals` by grouping the rows of each region (any number of days)."""
    out: dict[str, dict[str, float]] = {}
    for region, g in frame.groupby("region", sort=False):
        g = g.sort_values("day")
        row: dict[str, float] = {}
        for k in KPIS:
            if k.aggregation == "sum":
                row[k.name] = float(g[k.name].sum(min_count=1))  # NaN where not defined
            elif k.aggregation == "last":
                row[k.name] = float(g[k.name].iloc[-1])
        for k in RATIO_KPIS:
            row[k.name] = kpi_ratio(k, row)
        out[str(region)] = row
    return out


def _one_row_totals(record: Mapping[str, object]) -> dict[str, float]:
    """What the grouped sums of :func:`totals` give for a region with one row, without
    pandas: a sum of one value is that value (``+ 0.0``: pandas sums from 0, so -0.0 sums to
    0.0; NaN stays NaN, as ``sum(min_count=1)``), the last value is the value."""
    row: dict[str, float] = {}
    for k in KPIS:
        if k.aggregation == "sum":
            row[k.name] = float(record[k.name]) + 0.0  # type: ignore[arg-type]
        elif k.aggregation == "last":
            row[k.name] = float(record[k.name])  # type: ignore[arg-type]
    for k in RATIO_KPIS:
        row[k.name] = kpi_ratio(k, row)
    return row


def horizon_table(rows: pd.DataFrame, kpis: tuple[str, ...]) -> pd.DataFrame:
    """Per region (first-seen order): the mean of the horizon ``kpis`` over ``rows`` (one row
    per region for a single run; one per replication and region for replications)."""
    return rows.groupby("region", sort=False)[list(kpis)].mean().reset_index()


def replication_totals(
    frames: Mapping[tuple, pd.DataFrame], names: tuple[str, ...]
) -> pd.DataFrame:
    """One row per (key..., region) with every KPI totalled over the horizon.

    Args:
        frames: KPI tables keyed by a tuple (e.g. ``(variant, rep)``).
        names: column names for the key tuple.
    """
    rows = []
    for key, frame in frames.items():
        for region, kpis in totals(frame).items():
            rows.append({**dict(zip(names, key, strict=True)), "region": region, **kpis})
    return pd.DataFrame(rows)


def summarize(per_rep: pd.DataFrame, by: list[str], kpis: list[str] | None = None) -> pd.DataFrame:
    """Tidy mean/CI table: one row per group and KPI."""
    kpis = kpis or [k.name for k in KPIS]
    rows = []
    for key, g in per_rep.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        for k in kpis:
            rows.append({**dict(zip(by, key, strict=True)), "kpi": k, **kpi_ci(k, g[k])})
    return pd.DataFrame(rows)


def better_sign(kpi: str) -> float:
    """+1 when larger is better, -1 when smaller is better (0 for no direction)."""
    direction = KPI_BY_NAME[kpi].direction
    return {"maximize": 1.0, "minimize": -1.0}.get(direction, 0.0)


def paired_differences(
    per_rep: pd.DataFrame, baseline: str, kpis: list[str], region: str = "ALL"
) -> pd.DataFrame:
    """Variant minus baseline per replication (paired by ``rep``), with 95% CIs."""
    data = per_rep[per_rep["region"] == region]
    base = data[data["variant"] == baseline].set_index("rep")
    rows = []
    for variant, g in data.groupby("variant", sort=False):
        if variant == baseline:
            continue
        g = g.set_index("rep")
        common = g.index.intersection(base.index)
        for k in kpis:
            diff = g.loc[common, k] - base.loc[common, k]
            ci = mean_ci(diff)
            p = _paired_p(diff)
            rows.append({"variant": variant, "baseline": baseline, "kpi": k, **ci, "p_value": p})
    if not rows:  # a single variant: nothing to difference, but the table keeps its columns
        ci_columns = list(mean_ci(np.zeros(2)))
        return pd.DataFrame(columns=["variant", "baseline", "kpi", *ci_columns, "p_value"])
    return pd.DataFrame(rows)


def _paired_p(diff: pd.Series) -> float:
    d = np.asarray(diff, dtype=float)
    d = d[np.isfinite(d)]
    if len(d) < 2 or np.all(d == d[0]):
        return float("nan") if len(d) < 2 else (1.0 if d[0] == 0 else 0.0)
    return float(stats.ttest_1samp(d, 0.0).pvalue)


BOOTSTRAP_RESAMPLES = 4000
# a fixed seed: P(best) is a statistic of the replications, not a random draw of the run
_BOOTSTRAP_SEED = 20261129


def probability_best(per_rep: pd.DataFrame, kpi: str, region: str = "ALL") -> pd.Series:
    """P(best): the probability that each variant has the best *mean* ``kpi`` (ties split).

    Estimated by a paired bootstrap: replications are resampled with replacement (the same
    replications for every variant, so common random numbers stay paired), the variants'
    means are recomputed and the share of resamples in which each one is best is reported.
    It answers the question the ranking (by mean) answers, so it agrees with it: a variant
    that wins most replications by a little while another wins one by a lot no longer gets
    the larger P(best) while ranked second (issue 14). When one variant is best in every
    replication its P(best) is exactly 1.
    """
    data = per_rep[per_rep["region"] == region]
    wide = data.pivot(index="rep", columns="variant", values=kpi).dropna()
    if wide.empty:
        return pd.Series(dtype=float)
    sign = better_sign(kpi) or 1.0
    score = wide.to_numpy(dtype=float) * sign
    n = score.shape[0]
    rng = np.random.default_rng(np.random.SeedSequence(_BOOTSTRAP_SEED))
    idx = rng.integers(0, n, size=(BOOTSTRAP_RESAMPLES, n)) if n > 1 else np.zeros((1, 1), int)
    means = score[idx].mean(axis=1)  # resamples x variants
    best = means == means.max(axis=1, keepdims=True)
    share = (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
    return pd.Series(share, index=wide.columns, name="p_best")


def ranking(per_rep: pd.DataFrame, kpi: str, region: str = "ALL") -> pd.DataFrame:
    """Variants ranked by mean ``kpi`` in its better direction, with CI and P(best)."""
    data = per_rep[per_rep["region"] == region]
    rows = [{"variant": v, **kpi_ci(kpi, g[kpi])} for v, g in data.groupby("variant", sort=False)]
    table = pd.DataFrame(rows)
    table["p_best"] = table["variant"].map(probability_best(per_rep, kpi, region)).fillna(0.0)
    sign = better_sign(kpi) or 1.0
    table = table.sort_values("mean", ascending=sign < 0, kind="stable").reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return table


def cvar(values: np.ndarray, alpha: float = 0.05) -> float:
    """Mean of the worst ``alpha`` share of outcomes (lower tail; at least one value)."""
    x = np.sort(np.asarray(values, dtype=float))
    k = max(1, int(np.ceil(alpha * len(x))))
    return float(x[:k].mean())


def monthly_cash_flows(frame: pd.DataFrame, opening_cash_base: float) -> np.ndarray:
    """Net cash flow per calendar month of the firm (region ``ALL``): the change of its cash
    position (``cash_base``, less ``credit_drawn_base`` when the ledger has one) from
    ``opening_cash_base``; stock bought is an outflow when it is paid."""
    g = frame[frame["region"] == ALL_REGIONS].sort_values("day")
    position = g["cash_base"].to_numpy(dtype=float)
    if "credit_drawn_base" in KPI_BY_NAME and "credit_drawn_base" in g:
        position = position - g["credit_drawn_base"].to_numpy(dtype=float)
    daily = np.diff(position, prepend=opening_cash_base)
    return np.bincount(calendar_month(g["day"].to_numpy(dtype=np.int64)), weights=daily)


def npv(monthly_values: np.ndarray, annual_rate: float) -> float:
    """Net present value of monthly amounts (end of calendar month ``m`` = ``m / 12`` years)."""
    m = np.arange(1, len(monthly_values) + 1)
    return float(np.sum(monthly_values / (1.0 + annual_rate) ** (m / 12.0)))


def payback_month(monthly_values: np.ndarray) -> float:
    """First calendar month (1-based) after which the cumulative amount stays >= 0; NaN if never."""
    cum = np.cumsum(monthly_values)
    negative = np.flatnonzero(cum < 0)
    if len(negative) == 0:
        return 1.0
    last_negative = negative[-1]
    return float(last_negative + 2) if last_negative + 1 < len(cum) else float("nan")
