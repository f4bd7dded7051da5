"""Global sensitivity of an outcome to the uncertainties: SALib's Sobol or Morris analysis.

A Sobol design gives first-order (``S1``) and total (``ST``) indices with bootstrap 95%
confidence half-widths; a Morris design gives ``mu_star`` (mean absolute elementary effect,
per full range of the factor) and ``sigma``. A Latin hypercube supports neither: its
sensitivity table is empty and the reason is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.explore.designs import MORRIS_LEVELS, Design

COLUMNS = ["factor", "index", "value", "conf"]
RESAMPLES = 200


def sensitivity(design: Design, y: np.ndarray, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """Indices of ``y`` (one value per future of ``design``), tidy, and a note.

    Returns:
        ``(table, note)``: rows ``factor, index, value, conf`` (``conf``: 95% CI half-width,
        NaN where SALib gives none) and why the table is empty ("" when it is not).
    """
    y = np.asarray(y, dtype=float)
    if design.method == "lhs":
        return pd.DataFrame(columns=COLUMNS), "a Latin hypercube design has no index estimator"
    if not np.isfinite(y).all():
        return pd.DataFrame(columns=COLUMNS), "the outcome is undefined in some futures"
    if design.method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(
            design.problem, y, calc_second_order=False, num_resamples=RESAMPLES, seed=seed
        )
        pairs = (("S1", "S1_conf"), ("ST", "ST_conf"))
    else:
        from SALib.analyze import morris

        res = morris.analyze(
            design.problem,
            design.unit,
            y,
            num_resamples=RESAMPLES,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
        pairs = (("mu_star", "mu_star_conf"), ("sigma", None))
    rows = [
        {
            "factor": name,
            "index": index,
            "value": float(res[index][j]),
            "conf": float(res[conf][j]) if conf else float("nan"),
        }
        for index, conf in pairs
        for j, name in enumerate(design.names)
    ]
    return pd.DataFrame(rows, columns=COLUMNS), ""


def ranked_factors(table: pd.DataFrame) -> list[str]:
    """Factors from most to least influential (total index, else mu*)."""
    if table.empty:
        return []
    key = "ST" if "ST" in set(table["index"]) else "mu_star"
    main = table[table["index"] == key].sort_values("value", ascending=False, kind="stable")
    return list(main["factor"])
