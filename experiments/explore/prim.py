"""PRIM scenario discovery (Friedman and Fisher 1999): boxes of futures where a case happens.

Peeling: starting from the box holding every future, each step removes the ``peel_alpha``
share of the box's futures below a lower or above an upper quantile of one factor (limits
are always observed values), choosing the peel that leaves the highest density (share of
cases of interest in the box), until the box holds less than ``mass_min`` of the futures.
Every box on the way is one point of the peeling trajectory (coverage falls as density
rises). The chosen box is the one with the highest coverage x density among those with
density >= ``threshold`` (among all when none reaches it); pasting then widens its limits
by ``paste_alpha`` steps while that raises density. Only numeric factors are used;
coverage is the share of all cases of interest inside the box, density the share of the
box's futures that are cases, mass the share of all futures inside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Box:
    """A box: per restricted factor, ``(low, high)`` limits (inclusive), and its statistics."""

    limits: dict[str, tuple[float, float]]
    coverage: float
    density: float
    mass: float
    n_cases: int

    def describe(self, ranges: dict[str, tuple[float, float]]) -> str:
        """The restrictions in words: ``duty_rate > 0.48 and delay between 2 and 9``."""
        parts = []
        for name, (low, high) in self.limits.items():
            lo_cut, hi_cut = low > ranges[name][0], high < ranges[name][1]
            if lo_cut and hi_cut:
                parts.append(f"{name} between {low:.4g} and {high:.4g}")
            elif lo_cut:
                parts.append(f"{name} >= {low:.4g}")
            elif hi_cut:
                parts.append(f"{name} <= {high:.4g}")
        return " and ".join(parts)


@dataclass(frozen=True)
class PrimResult:
    """The peeling trajectory (one row per box) and the chosen, pasted box."""

    trajectory: pd.DataFrame
    box: Box
    ranges: dict[str, tuple[float, float]]

    def sentence(self, subject: str) -> str:
        """``subject when <box>: C% of those futures fall in the box, D% of the box ...``."""
        b = self.box
        where = b.describe(self.ranges)
        if not where:
            return (
                f"{subject} in {b.density:.0%} of all futures; no smaller box of the "
                f"uncertainties concentrates these cases better (PRIM keeps every future)"
            )
        return (
            f"{subject} when {where}: the box holds {b.coverage:.0%} of those "
            f"futures (coverage) and {b.density:.0%} of the futures in it are such cases "
            f"(density; {b.mass:.0%} of all futures)"
        )


def _inside(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    return np.all((x >= low) & (x <= high), axis=1)


def _stats(inside: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    n_in = int(inside.sum())
    cases = float(y[inside].sum())
    coverage = cases / float(y.sum()) if y.sum() else float("nan")
    density = cases / n_in if n_in else float("nan")
    return coverage, density, n_in / len(y)


def _best_peel(
    x: np.ndarray, y: np.ndarray, inside: np.ndarray, alpha: float
) -> tuple[int, int, float] | None:
    """(factor, 0 = raise low / 1 = lower high, new limit) of the densest peel, or None."""
    best, best_density = None, -1.0
    xs, ys = x[inside], y[inside]
    for j in range(x.shape[1]):
        for side, q in ((0, alpha), (1, 1.0 - alpha)):
            cut = float(np.quantile(xs[:, j], q, method="higher" if side == 0 else "lower"))
            keep = xs[:, j] >= cut if side == 0 else xs[:, j] <= cut
            if keep.all() or not keep.any():
                keep = xs[:, j] > cut if side == 0 else xs[:, j] < cut
                if keep.all() or not keep.any():
                    continue
                cut = float(xs[keep, j].min() if side == 0 else xs[keep, j].max())
            density = float(ys[keep].mean())
            if density > best_density:
                best, best_density = (j, side, cut), density
    return best


def _trajectory(
    x: np.ndarray, y: np.ndarray, alpha: float, mass_min: float
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Every box of the peeling, from the full box down to ``mass_min``."""
    low, high = x.min(axis=0), x.max(axis=0)
    boxes = [(low.copy(), high.copy())]
    while True:
        inside = _inside(x, low, high)
        peel = _best_peel(x, y, inside, alpha)
        if peel is None:
            return boxes
        j, side, cut = peel
        new_low, new_high = low.copy(), high.copy()
        (new_low if side == 0 else new_high)[j] = cut
        if _inside(x, new_low, new_high).mean() < mass_min:
            return boxes
        low, high = new_low, new_high
        boxes.append((low.copy(), high.copy()))


def _widened(
    x: np.ndarray, low: np.ndarray, high: np.ndarray, j: int, side: int, step: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The box with factor ``j``'s lower (0) or upper (1) limit moved out by ``step`` futures."""
    others = np.all(np.delete((x >= low) & (x <= high), j, axis=1), axis=1)
    column = x[others, j]
    outside = (
        np.sort(column[column < low[j]])[::-1] if side == 0 else np.sort(column[column > high[j]])
    )
    if len(outside) == 0:
        return None
    new_low, new_high = low.copy(), high.copy()
    edge = x[:, j].min() if side == 0 else x[:, j].max()
    limit = outside[step - 1] if len(outside) > step else edge
    (new_low if side == 0 else new_high)[j] = limit
    return new_low, new_high


def _paste(
    x: np.ndarray, y: np.ndarray, low: np.ndarray, high: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """Widen one limit at a time by about ``alpha`` of the box's futures while density rises."""
    while True:
        inside = _inside(x, low, high)
        best_density, best = float(y[inside].mean()), None
        step = max(1, int(np.ceil(alpha * inside.sum())))
        for j in range(x.shape[1]):
            for side in (0, 1):
                trial = _widened(x, low, high, j, side, step)
                density = float(y[_inside(x, *trial)].mean()) if trial is not None else -1.0
                if density > best_density:
                    best_density, best = density, trial
        if best is None:
            return low, high
        low, high = best


def prim(
    x: pd.DataFrame,
    y: np.ndarray,
    *,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
    threshold: float = 0.8,
) -> PrimResult:
    """Find a box of futures where ``y`` (True: a case of interest) is concentrated.

    Args:
        x: factor values per future (non-numeric columns are left out).
        y: one boolean per future.
        peel_alpha, paste_alpha: share of the box's futures removed per peel / added per
            paste; ``mass_min``: smallest box (share of all futures); ``threshold``: the
            density the chosen box should reach.
    """
    numeric = x.select_dtypes(include="number")
    names = list(numeric.columns)
    xv = numeric.to_numpy(dtype=float)
    yv = np.asarray(y, dtype=bool).astype(float)
    ranges = {n: (float(xv[:, j].min()), float(xv[:, j].max())) for j, n in enumerate(names)}
    boxes = _trajectory(xv, yv, peel_alpha, mass_min)
    rows = []
    for i, (low, high) in enumerate(boxes):
        coverage, density, mass = _stats(_inside(xv, low, high), yv)
        restricted = int(np.sum((low > xv.min(axis=0)) | (high < xv.max(axis=0))))
        rows.append(
            {"box": i, "coverage": coverage, "density": density, "mass": mass, "dims": restricted}
        )
    trajectory = pd.DataFrame(rows)
    score = (trajectory["coverage"] * trajectory["density"]).fillna(-1.0)
    good = trajectory["density"] >= threshold
    pick = int(score.where(good, -1.0).idxmax() if good.any() else score.idxmax())
    low, high = _paste(xv, yv, *boxes[pick], paste_alpha)
    inside = _inside(xv, low, high)
    coverage, density, mass = _stats(inside, yv)
    limits = {
        n: (float(low[j]), float(high[j]))
        for j, n in enumerate(names)
        if low[j] > ranges[n][0] or high[j] < ranges[n][1]
    }
    trajectory["chosen"] = trajectory["box"] == pick
    box = Box(limits, coverage, density, mass, int(yv[inside].sum()))
    return PrimResult(trajectory, box, ranges)
