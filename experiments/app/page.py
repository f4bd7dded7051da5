"""The what-if page (Solara): scenario, levers, a background CRN run, verdict and charts.

Every action goes through :func:`guarded`, so a mistake in an input shows the CLI's
field-path lines and an unexpected error one line, never a traceback; the server keeps
running. Computations live in :mod:`experiments.app.levers`, :mod:`experiments.app.jobs`,
:mod:`experiments.app.charts` and :mod:`experiments.report.decision`.
"""

from __future__ import annotations

import html
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara
import solara.lab

from experiments.app import levers as lv
from experiments.app import panels
from experiments.app.charts import timeseries_png, waterfall_png
from experiments.app.jobs import WhatIf, WhatIfResult, run_whatif
from experiments.outputs import outputs_of
from experiments.report.tables import html_table
from sim.contract import KINDS
from sim.errors import MarketsimError
from sim.scenario import Scenario
from strategies import registry

SCENARIO_ENV = "MARKETSIM_APP_SCENARIO"

scenario_text = solara.reactive(os.environ.get(SCENARIO_ENV, "tiny"))
loaded: solara.Reactive[Scenario | None] = solara.reactive(None)
errors: solara.Reactive[list[str]] = solara.reactive([])
variant: solara.Reactive[dict[str, Any]] = solara.reactive({})
baseline: solara.Reactive[dict[str, Any]] = solara.reactive({})
baseline_name = solara.reactive("the scenario's own strategies")
bundles: solara.Reactive[dict[str, Any]] = solara.reactive({})
variants_path = solara.reactive("")
world: solara.Reactive[lv.WorldLevers] = solara.reactive(lv.WorldLevers())
reps = solara.reactive(10)
days = solara.reactive(365)
seed = solara.reactive(0)
workers = solara.reactive(1)
progress = solara.reactive("")
ts_kpi = solara.reactive("net_profit_base_cumulative")
cancel_event = threading.Event()


def show_error(exc: BaseException) -> None:
    """Put an error on the page: a MarketsimError's lines, else one line."""
    if isinstance(exc, MarketsimError):
        errors.set(exc.lines())
    else:
        errors.set([f"internal error: {type(exc).__name__}: {exc}"])


def guarded(action: Callable[..., Any]) -> Callable[..., Any]:
    """Run a UI action; errors go to the page instead of a traceback."""

    def run(*args: Any) -> Any:
        errors.set([])
        try:
            return action(*args)
        except Exception as exc:  # the app must keep running whatever the input
            show_error(exc)
            return None

    return run


def resolve_path(text: str) -> Path:
    """A shipped scenario's name, or a path."""
    return lv.shipped_scenarios().get(text.strip(), Path(text.strip()).expanduser())


@guarded
def load(text: str | None = None) -> None:
    """Load the scenario named in the box; reset the variant to its own strategies."""
    import marketsim as ms

    text = scenario_text.value if text is None else text
    scenario_text.set(text)
    scenario = ms.load_scenario(resolve_path(text))
    loaded.set(scenario)
    variant.set(lv.strategy_choices(scenario))
    baseline.set(lv.strategy_choices(scenario))
    baseline_name.set("the scenario's own strategies")
    bundles.set({})
    world.set(lv.WorldLevers())
    days.set(scenario.horizon_days)
    seed.set(scenario.seed)


def region_ids() -> tuple[str, ...]:
    """Regions of the loaded scenario."""
    return tuple(r.id for r in loaded.value.regions) if loaded.value else ()


@solara.lab.task
def run_task() -> WhatIfResult | None:
    """The background run (one per browser session)."""
    scenario = loaded.value
    if scenario is None:
        return None
    try:
        world_scenario = lv.apply_world(scenario, world.value)
        lv.check_strategies(world_scenario, variant.value, "variant")
        job = WhatIf(
            scenario,
            world_scenario,
            baseline.value,
            variant.value,
            reps.value,
            world.value.days or days.value,
            seed.value,
        )

        def report(done: int, total: int) -> None:
            progress.set(f"{done} of {total} replications")
            run_task.progress = 100.0 * done / total

        result = run_whatif(job, report, cancel_event, workers.value)
        progress.set("done")
        return result
    except Exception as exc:  # shown on the page; the server keeps running
        show_error(exc)
        progress.set("stopped")
        return None


def start() -> None:
    """Start a run (clears the errors and the cancel flag)."""
    errors.set([])
    cancel_event.clear()
    progress.set("starting")
    run_task()


def cancel() -> None:
    """Ask the running job to stop after the replication in progress."""
    cancel_event.set()
    progress.set("cancelling")


@solara.component
def Errors() -> None:
    """The current error lines (field paths as the CLI prints them)."""
    if errors.value:
        lines = "".join(
            f"<div class='app-error'>{html.escape(line)}</div>" for line in errors.value
        )
        style = "color:#b00020;border:1px solid #b00020;padding:.5em;font-family:monospace"
        solara.HTML(tag="div", unsafe_innerHTML=lines, classes=["app-errors"], style=style)


@solara.component
def ScenarioPicker() -> None:
    """A shipped scenario by name, or a path to a scenario file."""
    names = list(lv.shipped_scenarios())
    with solara.Row(classes=["scenario-picker"]):
        solara.Select("shipped scenario", values=names, value=None, on_value=load)
        solara.InputText(
            "scenario (name or path)",
            value=scenario_text,
            on_value=lambda text: load(text),
            classes=["scenario-path"],
        )
        solara.Button("Load", on_click=lambda: load(), classes=["load-button"])


@guarded
def load_variants_file(path: str) -> None:
    """Offer the bundles of a variants file as baseline and variant."""
    variants_path.set(path)
    found, file_baseline = lv.variants_from_file(loaded.value, path)
    bundles.set(found)
    if file_baseline:
        pick_baseline(file_baseline)


def pick_baseline(name: str) -> None:
    """Use one of the file's bundles as the baseline."""
    baseline.set(bundles.value[name])
    baseline_name.set(name)


@solara.component
def BundlePicker() -> None:
    """Baseline and variant from a variants file (optional)."""
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["bundle-picker"]):
        solara.InputText(
            "variants file (optional)",
            value=variants_path,
            on_value=load_variants_file,
            classes=["variants-path"],
        )
        if bundles.value:
            names = list(bundles.value)
            solara.Select("baseline", values=names, value=None, on_value=guarded(pick_baseline))
            solara.Select(
                "start the variant from",
                values=names,
                value=None,
                on_value=guarded(lambda n: variant.set(dict(bundles.value[n]))),
            )


@solara.component
def LeverControl(lever: lv.Lever, params: dict[str, Any], on_params: Callable) -> None:
    """One control generated from a declared parameter."""
    p, value = lever.param, lv.lever_value(lever, params)
    cls = [f"lever-{lever.key.replace('.', '-')}"]

    def change(new: Any) -> None:
        if new is None:
            return
        on_params(lv.set_lever(params, lever, new, region_ids()))

    hint = f"{lever.label} [{p.low:g}, {p.high:g}]" if p.type in ("float", "int") else lever.label
    with solara.Column(classes=cls, style={"min-width": "11em"}):
        if p.type == "float":
            solara.InputFloat(hint, value=float(value), on_value=guarded(change))
        elif p.type == "int":
            solara.InputInt(hint, value=int(value), on_value=guarded(change))
        elif p.type == "bool":
            solara.Switch(label=hint, value=bool(value), on_value=guarded(change))
        elif p.type == "choice":
            solara.Select(hint, values=list(p.choices), value=value, on_value=guarded(change))
        else:  # a list of regions
            solara.SelectMultiple(hint, list(value), list(region_ids()), on_value=guarded(change))


@solara.component
def StrategyEditor() -> None:
    """Per kind: the strategy and its parameters' controls."""
    spec = variant.value
    for kind in KINDS:
        choice = spec.get(kind) or {"name": "none", "params": {}}

        def set_name(name: str, kind: str = kind) -> None:
            variant.set({**variant.value, kind: {"name": name, "params": {}}})

        def set_params(params: dict[str, Any], kind: str = kind) -> None:
            current = variant.value[kind]
            variant.set({**variant.value, kind: {"name": current["name"], "params": params}})

        with solara.Row(classes=[f"strategy-{kind}"], style={"flex-wrap": "wrap"}):
            solara.Select(
                kind, values=registry.names(kind), value=choice["name"], on_value=guarded(set_name)
            )
            for lever in lv.strategy_levers(kind, choice["name"], region_ids()):
                LeverControl(lever, dict(choice.get("params") or {}), set_params)


@solara.component
def WorldEditor() -> None:
    """Marketing budget, entry month and fulfilment per region; the horizon."""
    scenario = loaded.value
    w = world.value
    budgets = lv.marketing_monthly(scenario)
    months = lv.entry_months(scenario)

    def put(field: str, rid: str, value: Any) -> None:
        if value is None:
            return
        current = dict(getattr(world.value, field))
        current[rid] = value
        world.set(lv.WorldLevers(**{**world.value.__dict__, field: current}))

    with solara.Row(style={"flex-wrap": "wrap"}, classes=["world-levers"]):
        for rid in region_ids():
            with solara.Column(classes=[f"world-{rid}"], style={"min-width": "12em"}):
                solara.InputFloat(
                    f"marketing per month in {rid} ({scenario.currency})",
                    value=float(w.marketing_monthly_base.get(rid, budgets.get(rid, 0.0))),
                    on_value=guarded(lambda v, rid=rid: put("marketing_monthly_base", rid, v)),
                )
                solara.InputInt(
                    f"entry month in {rid}",
                    value=int(w.entry_month.get(rid, months.get(rid, 0))),
                    on_value=guarded(lambda v, rid=rid: put("entry_month", rid, v)),
                )
                solara.Switch(
                    label=f"local warehouse for {rid}",
                    value=bool(w.local_warehouse.get(rid, False)),
                    on_value=guarded(lambda v, rid=rid: put("local_warehouse", rid, v)),
                )


@solara.component
def RunControls() -> None:
    """Horizon, replications, seed, workers; run, progress, cancel."""
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.InputInt("horizon (days)", value=days, classes=["run-days"])
        solara.InputInt("replications", value=reps, classes=["run-reps"])
        solara.InputInt("seed", value=seed, classes=["run-seed"])
        solara.InputInt("worker processes", value=workers, classes=["run-workers"])
        solara.Button(
            "Run",
            on_click=start,
            disabled=run_task.pending,
            classes=["run-button"],
            color="primary",
        )
        solara.Button(
            "Cancel", on_click=cancel, disabled=not run_task.pending, classes=["cancel-button"]
        )
    if run_task.pending:
        solara.ProgressLinear(run_task.progress or True)
    solara.Text(progress.value, classes=["run-progress"])


@solara.component
def Results(result: WhatIfResult) -> None:
    """Verdict, paired differences, KPI bands per region, waterfalls, exports."""
    currency = result.inputs.base.currency
    solara.HTML(tag="h3", unsafe_innerHTML="Verdict")
    solara.Text(result.verdict.text(), classes=["verdict"], style={"font-size": "1.2em"})
    declared = outputs_of("compare").table("differences.csv")
    table = html_table("", result.differences, declared, currency)
    panels.Table(table, "differences")
    shown = list(dict.fromkeys(result.timeseries["kpi"]))
    kpi = ts_kpi.value if ts_kpi.value in shown else shown[0]
    solara.Select("KPI over time", values=shown, value=kpi, on_value=ts_kpi.set)
    solara.Image(timeseries_png(result.timeseries, kpi, currency))
    solara.HTML(tag="h3", unsafe_innerHTML="P&amp;L per region (variant, mean)")
    solara.Image(waterfall_png(result.waterfalls(), currency))
    panels.Exports(result)


@solara.component
def Page() -> None:
    """The whole app; an error while drawing shows one line and a way back, never a
    traceback."""
    exc, clear = solara.use_exception()
    if exc is not None:
        errors.set([f"internal error while drawing the page: {type(exc).__name__}: {exc}"])
        Errors()
        solara.Button("Back", on_click=clear, classes=["back-button"])
        return
    Main()


@solara.component
def Main() -> None:
    """The page's content."""
    if loaded.value is None and not errors.value:
        load()
    solara.Title("marketsim what-if")
    with solara.Column(style={"padding": "1em", "max-width": "1400px"}):
        solara.HTML(tag="h2", unsafe_innerHTML="marketsim: what if?")
        ScenarioPicker()
        Errors()
        if loaded.value is not None:
            solara.Text(
                f"Baseline: {loaded.value.name} with {baseline_name.value}. Variant: below.",
                classes=["baseline-text"],
            )
            BundlePicker()
            with solara.Card("Variant: strategies (from their declared parameters)"):
                StrategyEditor()
            with solara.Card("Variant: world levers per region"):
                WorldEditor()
            with solara.Card("Run on paired replications (common random numbers)"):
                RunControls()
                if run_task.value is not None:
                    Results(run_task.value)
        with solara.Card("Entry options"):
            panels.EntryPanel(show_error)
        with solara.Card("Browse a finished output folder"):
            panels.BrowsePanel(show_error)
