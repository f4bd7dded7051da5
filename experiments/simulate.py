"""`simulate`: one run of a scenario, its daily KPI table and horizon totals."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.outfolder import check_folder, owned_folder
from experiments.replications import ScenarioSource, build_model, scenario_source
from experiments.results import atomic_write, safe_path, write_csv, write_json
from experiments.stats import totals
from experiments.versions import package_version
from sim.errors import StorageError, UsageError
from sim.model import MarketModel
from sim.scenario import Scenario

TRANSACTIONS_HEADER = "customer_id,region,date,"  # how an earlier export of ours starts


def check_transactions_path(path: str | Path, *, force: bool = False) -> Path:
    """Refuse a ``--transactions`` target before the run: a folder, or a file not ours.

    An existing file is replaced only when it is an earlier transaction export (its header)
    or with ``force``.

    Raises:
        StorageError: ``path`` is a folder or a symbolic link, its parent is a file, or it is
            another file.
    """
    target = Path(path)
    if target.is_symlink():
        raise StorageError(f"--transactions: {path} is a symbolic link; give a plain file name")
    if target.is_dir():
        raise StorageError(f"--transactions: {path} is a folder; give a file name")
    parent = target.absolute().parent
    if parent.exists() and not parent.is_dir():
        raise StorageError(f"--transactions: {parent} is a file, not a folder")
    if target.exists() and not force and not _is_export(target):
        raise StorageError(
            f"--transactions: {path} exists and is not a transaction log written by marketsim; "
            "choose another file, or add --force to replace it"
        )
    return target


def _is_export(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(len(TRANSACTIONS_HEADER))
    except OSError:
        return False
    return head == TRANSACTIONS_HEADER.encode()


@dataclass(frozen=True)
class RunResult:
    """What :func:`simulate` returns.

    Attributes:
        source: the scenario and the file (and hash) it came from.
        seed, days: the run's seed and horizon.
        kpis: one row per day and region (plus ``ALL``), one column per KPI (``kpis.csv``).
        totals: per region: flows summed, ratios from summed flows, stocks at the last day.
        orders: order counts by final status.
        strategies: the strategies used, ``{kind: {"name", "params"}}``.
        cash_exhausted_day: first day cash and credit had run out (spending that can stop
            stopped), or None.
        model: the finished model (for its transaction log or further inspection).
    """

    source: ScenarioSource
    seed: int
    days: int
    kpis: pd.DataFrame
    totals: dict[str, dict[str, float]]
    orders: dict[str, int]
    strategies: dict[str, Any]
    cash_exhausted_day: int | None
    model: MarketModel = field(repr=False, compare=False)

    def transactions(self, start_date: str = "2026-01-01") -> pd.DataFrame:
        """Our simulated transaction log, one row per order, dated from ``start_date`` (day 0)."""
        try:
            start = pd.Timestamp(start_date)
        except ValueError:
            raise UsageError(f"--start-date: not a date: {start_date!r}") from None
        tx = self.model.transactions()
        dates = (start + pd.to_timedelta(tx.pop("day"), unit="D")).dt.strftime("%Y-%m-%d")
        tx.insert(2, "date", dates)
        return tx

    def write(self, out: str | Path) -> None:
        """Write ``kpis.csv`` and ``summary.json`` into ``out``.

        Raises:
            StorageError: ``out`` is a file, or holds other files or another command's
                results (see :func:`experiments.outfolder.check_folder`).
        """
        check_folder(out, "run")
        write_csv(out, "kpis.csv", self.kpis)
        write_json(
            out,
            "summary.json",
            {
                "scenario": self.source.scenario.name,
                "scenario_file": self.source.file,
                "scenario_sha256": self.source.sha256,
                "seed": self.seed,
                "days": self.days,
                "currency": self.source.scenario.currency,
                "marketsim_version": package_version(),
                "strategies": self.strategies,
                "orders": self.orders,
                "cash_exhausted_day": self.cash_exhausted_day,
                "totals": self.totals,
            },
        )

    def write_transactions(
        self, path: str | Path, start_date: str = "2026-01-01", *, force: bool = False
    ) -> Path:
        """Write the transaction log as CSV to ``path`` (see :func:`check_transactions_path`)."""
        target = check_transactions_path(path, force=force)
        tx = self.transactions(start_date)
        full = safe_path(target.absolute().parent, target.name)
        atomic_write(full, lambda p: tx.to_csv(p, index=False))
        return full


def simulate(
    scenario: Scenario | str | Path | Mapping[str, Any],
    *,
    seed: int | None = None,
    days: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> RunResult:
    """Run one scenario with its own strategies.

    Args:
        scenario: a scenario file, a mapping with its content, or a loaded Scenario.
        seed: overrides the scenario's seed; ``days`` overrides its horizon.
        out: when given, ``kpis.csv`` and ``summary.json`` are written there: a new folder or
            one holding an earlier ``run`` (else refused before the run; ``force`` replaces it).

    Raises:
        StorageError: ``out`` is refused or in use by another command.
    """
    source = scenario_source(scenario)
    sc = source.scenario
    seed = sc.seed if seed is None else seed
    days = sc.horizon_days if days is None else days
    with owned_folder(out, "run", force=force) as folder:
        result = _simulate(source, seed, days)
        if folder is not None:
            result.write(folder)
    return result


def _simulate(source: ScenarioSource, seed: int, days: int) -> RunResult:
    model = build_model(source.scenario, seed, days)
    frame = model.run()
    return RunResult(
        source=source,
        seed=seed,
        days=days,
        kpis=frame,
        totals=totals(frame),
        orders=model.order_status_counts(),
        strategies={
            kind: {"name": s.name, "params": dict(s.values)} for kind, s in model.strategies.items()
        },
        cash_exhausted_day=model.firm.treasury.exhausted_day,
        model=model,
    )
