"""The holdout figure: cumulative repeat purchases and holdout means by frequency, as a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from experiments.calibration.bgnbd._holdout import HoldoutResult


def plot_cumulative(result: HoldoutResult, path: str | Path) -> Path:
    """Plot cumulative repeat purchases, actual vs model, and save a PNG.

    Args:
        result: Output of :func:`holdout_check`.
        path: Destination file (``.png``).

    Returns:
        The path written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(path)
    fig, (ax_cum, ax_freq) = plt.subplots(1, 2, figsize=(11, 4.2))
    try:
        cumulative = result.cumulative
        ax_cum.plot(cumulative.index, cumulative["actual"], label="actual", color="black")
        ax_cum.plot(cumulative.index, cumulative["model"], label="BG/NBD", linestyle="--")
        ax_cum.axvline(result.calibration_end, color="grey", linestyle=":", label="calibration end")
        ax_cum.set_xlabel("date")
        ax_cum.set_ylabel("cumulative repeat purchases")
        ax_cum.legend()
        ax_cum.tick_params(axis="x", labelrotation=30)
        table = result.by_frequency
        positions = np.arange(len(table))
        ax_freq.plot(positions, table["actual_mean"], marker="o", color="black", label="actual")
        ax_freq.plot(positions, table["predicted_mean"], marker="s", linestyle="--", label="BG/NBD")
        ax_freq.set_xticks(positions, list(table.index))
        ax_freq.set_xlabel("repeat purchases in calibration")
        ax_freq.set_ylabel("mean repeat purchases in holdout")
        ax_freq.legend()
        fig.tight_layout()
        fig.savefig(out, format="png", dpi=110)
    finally:
        plt.close(fig)
    return out
