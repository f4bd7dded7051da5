"""Robust ranking of options across futures, and OCBA allocation of extra runs.

Per option: mean, standard deviation, 5% CVaR (mean of the worst 5% of futures), P(loss),
P(best) (share of futures where it is best, ties split) and regret (in each future, the
best option's outcome minus this option's; maximum and mean over futures). Options are
ranked by ``criterion``: ``regret`` (minimax regret, the default), ``mean`` or ``cvar``.

OCBA (Chen et al. 2000, "Simulation budget allocation for further enhancing the efficiency
of ordinal optimization"): futures are the samples of each option's mean; after ``n0``
futures each, every round gives ``delta`` more runs to the options in proportions
``N_i ~ (s_i / d_i)^2`` for non-best ``i`` (``d_i``: gap to the best mean) and
``N_b = s_b * sqrt(sum N_i^2 / s_i^2)``, so runs go where options are close and noisy.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from experiments.stats import cvar
from sim.errors import UsageError

CRITERIA = ("regret", "mean", "cvar")
ALPHA = 0.05


def wide(outcomes: pd.DataFrame, value: str) -> pd.DataFrame:
    """Futures x options table of ``value`` (futures every option was run on)."""
    return outcomes.pivot(index="future", columns="option", values=value).dropna()


def robust_table(
    outcomes: pd.DataFrame, value: str, sign: float = 1.0, criterion: str = "regret"
) -> pd.DataFrame:
    """One row per option with mean, sd, CVaR, P(loss), P(best), regret; ranked.

    Args:
        outcomes: one row per future and option with the ``value`` column.
        sign: +1 when larger is better, -1 when smaller is better.
        criterion: what the rank follows (``regret``, ``mean`` or ``cvar``).
    """
    if criterion not in CRITERIA:
        raise UsageError(f"--criterion: unknown {criterion!r}; valid: {list(CRITERIA)}")
    table = wide(outcomes, value)
    score = table.to_numpy(dtype=float) * sign
    best = score.max(axis=1, keepdims=True)
    regret = best - score
    is_best = score == best
    p_best = (is_best / is_best.sum(axis=1, keepdims=True)).mean(axis=0)
    rows = []
    for j, option in enumerate(table.columns):
        v = table[option].to_numpy(dtype=float)
        rows.append(
            {
                "option": option,
                "futures": len(v),
                "mean": float(v.mean()),
                "sd": float(v.std(ddof=1)) if len(v) > 1 else float("nan"),
                "cvar5": cvar(v * sign, ALPHA) * sign,
                "p_loss": float((v < 0).mean()),
                "p_best": float(p_best[j]),
                "max_regret": float(regret[:, j].max()),
                "mean_regret": float(regret[:, j].mean()),
            }
        )
    out = pd.DataFrame(rows)
    key, ascending = {
        "regret": ("max_regret", True),
        "mean": ("mean", sign < 0),
        "cvar": ("cvar5", sign < 0),
    }[criterion]
    out = out.sort_values([key, "option"], ascending=[ascending, True], kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)


def ocba_allocation(means: np.ndarray, sds: np.ndarray, total: int) -> np.ndarray:
    """OCBA shares of ``total`` runs for options with these means (larger is better)."""
    means, sds = np.asarray(means, float), np.maximum(np.asarray(sds, float), 1e-12)
    b = int(np.argmax(means))
    gaps = np.maximum(means[b] - means, 1e-12 * (1.0 + abs(means[b])))
    ratio = (sds / gaps) ** 2
    ratio[b] = 0.0
    ratio[b] = sds[b] * np.sqrt(np.sum(np.delete(ratio, b) ** 2 / np.delete(sds, b) ** 2))
    shares = ratio / ratio.sum()
    return np.floor(shares * total + 1e-9).astype(int)


def _next_round(
    values: dict[str, np.ndarray], n: dict[str, int], options: list[str], available: int, total: int
) -> dict[str, int]:
    """Runs per option after one OCBA round, ``total`` at most: the allocation's targets
    (never fewer than run so far), the largest increases cut back to ``total``; when rounding
    gives nothing new (or an option has one value, so no sd), one more run to the least
    sampled option."""
    grown = dict(n)
    if min(n.values()) >= 2:
        means = np.array([values[o].mean() for o in options])
        sds = np.array([values[o].std(ddof=1) for o in options])
        target = ocba_allocation(means, sds, total)
        grown = {o: int(min(available, max(n[o], t))) for o, t in zip(options, target, strict=True)}
    excess = sum(grown.values()) - total
    for o in sorted(options, key=lambda o: (n[o] - grown[o], o)):  # largest increase first
        cut = min(max(excess, 0), grown[o] - n[o])
        grown[o] -= cut
        excess -= cut
    if grown == n:
        least = min(options, key=lambda o: (n[o], o))
        grown[least] = min(available, n[least] + 1)
    return grown


def ocba(
    run: Callable[[dict[str, int]], dict[str, np.ndarray]],
    options: list[str],
    available: int,
    *,
    n0: int = 10,
    delta: int = 20,
    budget: int | None = None,
) -> tuple[dict[str, np.ndarray], list[dict[str, int]]]:
    """Sequential OCBA over futures: ``run({option: n})`` returns each option's values on its
    first ``n`` futures (larger is better); stops at ``budget`` runs exactly (the first round
    is ``n0`` each, fewer when the budget is smaller) or when every option has all
    ``available`` futures.

    Returns:
        The values per option and the allocation after each round.
    """
    budget = budget if budget is not None else len(options) * available
    first = min(n0, available, max(1, budget // len(options)))  # the first round fits too
    n = dict.fromkeys(options, first)
    rounds = [dict(n)]
    values = run(n)
    while sum(n.values()) < budget and min(n.values()) < available:
        grown = _next_round(values, n, options, available, min(budget, sum(n.values()) + delta))
        if grown == n:
            break
        n = grown
        rounds.append(dict(n))
        values = run(n)
    return values, rounds
