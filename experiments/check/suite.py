"""`check`: the validation suite: theory checks, stylized facts per scenario, lever directions.

Levels: ``quick`` runs the theory checks and the fact registry's schema sanity (seconds; what
``make test`` runs, and meant to pass today); ``full`` adds, per scenario, the stylized-fact
table and the lever directions on paired CRN replications of a scaled market slice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from experiments.check import facts as fact_registry
from experiments.check import levers as lever_table
from experiments.check import theory
from experiments.check.runs import edit_scenario, run_variants, scale_market
from experiments.check.variants import FACT_VARIANTS
from experiments.executors import Executor
from experiments.stats import mean_ci, two_stage_reps
from sim.errors import Problem, ScenarioError, UsageError
from sim.scenario import Expectation, Scenario

Level = Literal["quick", "full"]
SCENARIOS_DIR = Path(__file__).resolve().parents[2] / "scenarios"
#: shipped scenarios checked when none are given (tiny.yaml is a test fixture)
SHIPPED = (
    "default.yaml",
    "sea_entry.yaml",
    "eu_eco_entry.yaml",
    "latam_entry.yaml",
    "kenya_entry.yaml",
    "gulf_entry.yaml",
)
FULL_DEFAULTS = {"reps": 5, "days": 730, "population_scale": 1.0}


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check` returns.

    Attributes:
        level: ``quick`` or ``full``; scenarios: the scenario names checked.
        settings: reps, days, seed, population scale and repeat window of the full level.
        theory: one row per theory check (theory, model, tolerance, verdict).
        registry_problems: schema problems of the fact registry (empty when sane).
        facts: per scenario and fact: DOMAIN figure, range, model value with 95% CI, verdict
            (empty at the quick level).
        levers: per scenario and lever: KPI, expected direction, paired effect with 95% CI,
            verdict (empty at the quick level).
    """

    level: Level
    scenarios: list[str]
    settings: dict[str, Any]
    theory: pd.DataFrame
    registry_problems: list[str]
    facts: pd.DataFrame = field(default_factory=pd.DataFrame)
    levers: pd.DataFrame = field(default_factory=pd.DataFrame)

    def failures(self) -> list[str]:
        """Every failed check, one line each (empty: the suite passed)."""
        out = [
            f"theory {r.check}: {r.verdict}"
            for r in self.theory.itertuples()
            if r.verdict != "pass"
        ]
        out += [f"registry: {p}" for p in self.registry_problems]
        for name, table in (("fact", self.facts), ("lever", self.levers)):
            for r in table.to_dict(orient="records"):
                if str(r["verdict"]).startswith("fail"):
                    out.append(f"{name} {r['scenario']}/{r[name]}: {r['verdict']}")
        return out

    @property
    def passed(self) -> bool:
        """True when no check failed (not-measurable rows do not fail the suite)."""
        return not self.failures()

    def write(self, out: str | Path, *, force: bool = False) -> None:
        """Write ``theory.csv``, ``facts.csv``, ``levers.csv`` and ``summary.json`` into ``out``
        (a new folder, one holding an earlier check, or any folder with ``force``)."""
        from experiments.outfolder import check_folder
        from experiments.results import write_csv, write_json

        check_folder(out, "check", force=force or _earlier_check(Path(out)))
        write_csv(out, "theory.csv", self.theory)
        write_csv(out, "facts.csv", self.facts)
        write_csv(out, "levers.csv", self.levers)
        write_json(
            out,
            "summary.json",
            {
                "command": "check",
                "level": self.level,
                "scenarios": self.scenarios,
                "settings": self.settings,
                "passed": self.passed,
                "failures": self.failures(),
                "registry_problems": self.registry_problems,
            },
        )


def _earlier_check(out: Path) -> bool:
    """Whether ``out`` holds an earlier check's results (a rerun replaces them)."""
    try:
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and summary.get("command") == "check"


def _load(scenarios: Sequence[str | Path | Scenario] | None) -> list[Scenario]:
    from experiments.files import load_scenario

    if scenarios is None:
        scenarios = [SCENARIOS_DIR / name for name in SHIPPED]
    loaded = []
    for s in scenarios:
        scenario = s if isinstance(s, Scenario) else load_scenario(s)
        validate_expectations(scenario, None if isinstance(s, Scenario) else str(s))
        loaded.append(scenario)
    return loaded


def _settings(level: Level, reps: int | None, days: int | None, scale: float | None, seed):
    if level not in ("quick", "full"):
        raise UsageError(f"level must be 'quick' or 'full', got {level!r}")
    floor = reps is None  # each row's own replication floor applies (Fact/Lever.min_reps)
    reps = FULL_DEFAULTS["reps"] if reps is None else reps
    days = FULL_DEFAULTS["days"] if days is None else days
    scale = FULL_DEFAULTS["population_scale"] if scale is None else scale
    if reps < 2:
        raise UsageError(f"--reps: at least 2 paired replications for a CI, got {reps}")
    if days < 60:
        raise UsageError(f"--days: at least 60 days, got {days}")
    if not 0 < scale <= 1:
        raise UsageError(f"--population-scale must be in (0, 1], got {scale}")
    return {
        "reps": reps,
        "row_min_reps": floor,
        "days": days,
        "seed": seed,
        "population_scale": scale,
        "window_days": min(365, days // 2),
    }


def check(
    scenarios: Sequence[str | Path | Scenario] | None = None,
    *,
    level: Level = "quick",
    reps: int | None = None,
    seed: int | None = None,
    days: int | None = None,
    population_scale: float | None = None,
    executor: Executor | None = None,
    workers: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    only: Sequence[str] | None = None,
) -> CheckResult:
    """Run the validation suite.

    Args:
        scenarios: scenario files (or loaded scenarios); default: the five shipped ones.
        level: ``"quick"`` (theory checks and the fact registry's sanity, seconds) or
            ``"full"`` (plus the stylized-fact table and lever directions per scenario).
        reps, days: paired replications and horizon of the full level (default 5 and 730;
            with the default, a fact whose CI needs more runs its variants ``min_reps`` times).
        seed: the replications' seed (default: each scenario's own).
        population_scale: the full level runs a slice of each market: populations, stock and
            firm-level amounts times this share (default 1: the whole market;
            see ``runs.scale_market``).
        executor, workers: where the full level's replications run (default: a local pool).
        out: when given, the tables and ``summary.json`` are written there.
        only: fact and lever ids to run at the full level (default: all); e.g.
            ``["annual_churn", "retention=win_back"]`` while calibrating a scenario.

    Raises:
        UsageError: an invalid argument; ScenarioError: a scenario file is invalid.
    """
    settings = _settings(level, reps, days, population_scale, seed)
    settings["only"] = _only(only)
    loaded = _load(scenarios)
    theory_rows = pd.DataFrame([c.row() for c in theory.run_theory_checks()])
    result = CheckResult(
        level=level,
        scenarios=[s.name for s in loaded],
        settings=settings if level == "full" else {},
        theory=theory_rows,
        registry_problems=fact_registry.registry_problems(),
    )
    if level == "full":
        from experiments.replications import executor_scope

        fact_rows, lever_rows = [], []
        with executor_scope(executor, workers) as ex:
            for sc in loaded:
                f, lv = _check_scenario(sc, settings, ex)
                fact_rows += f
                lever_rows += lv
        result = CheckResult(
            level,
            result.scenarios,
            settings,
            theory_rows,
            result.registry_problems,
            pd.DataFrame(fact_rows),
            pd.DataFrame(lever_rows),
        )
    if out is not None:
        result.write(out, force=force)
    return result


def _only(only: Sequence[str] | None) -> list[str] | None:
    """The chosen fact and lever ids, each known (``None``: all of them)."""
    if only is None:
        return None
    known = [f.id for f in fact_registry.FACTS] + [lv.id for lv in lever_table.built_in_levers()]
    unknown = [x for x in only if x not in known]
    if unknown or not only:
        raise UsageError(
            f"--only: unknown fact or lever {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"choose from {', '.join(known)}"
        )
    return list(only)


def _check_scenario(
    scenario: Scenario, settings: dict[str, Any], executor: Executor
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The fact and lever rows of one scenario (one batch of paired replications)."""
    scale = settings["population_scale"]
    base = scenario
    if scale < 1:
        base = edit_scenario(scenario, lambda d: scale_market(d, scale), f"x{scale:g} slice")
    chosen = settings["only"]
    facts = [
        f
        for f in fact_registry.FACTS
        if f.applies_to(scenario.name) and (chosen is None or f.id in chosen)
    ]
    levers = [
        lv
        for lv in lever_table.scenario_levers(lever_table.built_in_levers(), scenario)
        if chosen is None or lv.id in chosen
    ]
    variants = _variants(base, facts, levers)
    seed = scenario.seed if settings["seed"] is None else settings["seed"]
    fact_reps = {f.id: _fact_reps(f, settings) for f in facts}
    lever_reps = {lv.id: _floor_reps(lv.min_reps, settings) for lv in levers}
    floors = [(fact_reps[f.id], f.needs) for f in facts]
    floors += [(lever_reps[lv.id], (lv.variant,)) for lv in levers]
    runs_by = run_variants(
        variants,
        _variant_reps(variants, floors, settings["reps"]),
        seed=seed,
        days=settings["days"],
        window_days=settings["window_days"],
        executor=executor,
    )
    ctx = fact_registry.FactContext(base, runs_by, settings["days"], settings["window_days"])
    if settings["row_min_reps"]:  # no --reps: a fact wider than its precision runs more
        ctx, fact_reps = _second_stage(facts, ctx, fact_reps, variants, seed, settings, executor)
    fact_rows = [
        {"scenario": scenario.name, **fact_row(f, ctx.first(fact_reps[f.id]))} for f in facts
    ]
    lever_rows = [  # each lever judged at --reps, or its own floor (Lever.min_reps)
        {"scenario": scenario.name, **lever_table.lever_row(lv, ctx.first(lever_reps[lv.id]).runs)}
        for lv in levers
    ]
    return fact_rows, lever_rows


def _variants(
    base: Scenario, facts: list[fact_registry.Fact], levers: list[lever_table.Lever]
) -> dict[str, Scenario]:
    """The baseline, the variants the facts need and each lever's variant (those that
    apply to the scenario)."""
    variants: dict[str, Scenario] = {"baseline": base}
    for name in sorted({n for f in facts for n in f.needs}):
        built = FACT_VARIANTS[name](base)
        if built is not None:
            variants[name] = built
    for lever in levers:
        if lever.variant in variants:  # another row of the same lever
            continue
        built = lever.build(base)
        if built is not None:
            variants[lever.variant] = built
    return variants


def _variant_reps(
    variants: dict[str, Scenario], floors: list[tuple[int, tuple[str, ...]]], reps: int
) -> dict[str, int]:
    """Replications per variant: --reps, or more when a fact or lever that needs it (each
    floor: its replications and the variants it compares with the baseline) needs more."""
    out = dict.fromkeys(variants, reps)
    for n, names in floors:
        for name in ("baseline", *names):
            if name in out:
                out[name] = max(out[name], n)
    return out


def _second_stage(
    facts: list[fact_registry.Fact],
    ctx: fact_registry.FactContext,
    fact_reps: dict[str, int],
    variants: dict[str, Scenario],
    seed: int,
    settings: dict[str, Any],
    executor: Executor,
) -> tuple[fact_registry.FactContext, dict[str, int]]:
    """The context with each fact's second stage run, and each fact's replications: the facts
    whose CI was wider than their precision get the replications :func:`_second_stage_reps`
    asks for, continuing the same seeds."""
    more = _second_stage_reps(facts, ctx, fact_reps)
    if not more:
        return ctx, fact_reps
    needs = {f.id: f.needs for f in facts}
    counts = _variant_reps(variants, [(n, needs[i]) for i, n in more.items()], 0)
    counts = {name: n for name, n in counts.items() if n > 0}
    extra = run_variants(
        {name: variants[name] for name in counts},
        counts,
        seed=seed,
        days=settings["days"],
        window_days=settings["window_days"],
        executor=executor,
        start={name: len(ctx.runs[name]) for name in counts},
    )
    runs_by = {name: runs + extra.get(name, []) for name, runs in ctx.runs.items()}
    grown = fact_registry.FactContext(ctx.scenario, runs_by, ctx.days, ctx.window_days)
    return grown, {**fact_reps, **more}


def _second_stage_reps(
    facts: list[fact_registry.Fact], ctx: fact_registry.FactContext, fact_reps: dict[str, int]
) -> dict[str, int]:
    """Per fact with a precision target whose CI after its first replications is wider than
    that target: the replications Stein's two-stage rule asks for (at most its ``max_reps``).
    The count depends on the first stage's spread only, never on the verdict."""
    more: dict[str, int] = {}
    for fact in facts:
        low, high = fact_range(fact, ctx.scenario)
        if not fact.precision or fact.measure is None or low is None or high is None:
            continue
        try:
            m = fact.measure(ctx.first(fact_reps[fact.id]))
        except fact_registry.NotMeasurable:
            continue
        if m.closed_form:
            continue
        n = min(two_stage_reps(m.values, fact.precision * (high - low)), fact.max_reps)
        if n > fact_reps[fact.id]:
            more[fact.id] = n
    return more


def _fact_reps(fact: fact_registry.Fact, settings: dict[str, Any]) -> int:
    """Replications a fact is judged on: --reps, or its own floor when --reps was not given."""
    return _floor_reps(fact.min_reps, settings)


def _floor_reps(min_reps: int, settings: dict[str, Any]) -> int:
    """Replications a fact or lever is judged on: --reps, or ``min_reps`` when --reps was not
    given."""
    floor = min_reps if settings.get("row_min_reps") else 0
    return max(settings["reps"], floor)


def validate_expectations(scenario: Scenario, source: str | None = None) -> None:
    """A scenario may state ranges only for facts that have none from DOMAIN, and lever
    expectations only for the lever table's levers and KPIs (``source``: the scenario's file,
    named in the error; default: its name).

    Raises:
        ScenarioError: every such problem, each naming the file and the field.
    """
    problems = lever_table.lever_expectation_problems(scenario)
    for key in scenario.expectations:
        fact = fact_registry.FACT_BY_ID.get(key)
        field = f"expectations.{key}"
        if fact is None:
            known = sorted(f.id for f in fact_registry.FACTS if f.low is None)
            problems.append(
                (field, f"no such fact (facts without a DOMAIN range: {', '.join(known)})")
            )
        elif fact.low is not None:
            problems.append(
                (
                    field,
                    f"DOMAIN states this fact's range ({fact.range_text()}); "
                    "a scenario cannot replace it",
                )
            )
    if problems:
        where = source or f"scenario {scenario.name!r}"
        raise ScenarioError([Problem(where, field, msg) for field, msg in problems])


def _stated(fact: fact_registry.Fact, scenario: Scenario) -> Expectation | None:
    """The scenario's own range for a fact DOMAIN states none for (``expectations:``), or None."""
    return scenario.expectations.get(fact.id) if fact.low is None else None


def fact_range(fact: fact_registry.Fact, scenario: Scenario) -> tuple[float | None, float | None]:
    """A fact's acceptance range: DOMAIN's, or the scenario's own when DOMAIN states none."""
    stated = _stated(fact, scenario)
    if stated is not None:
        return stated.low, stated.high
    return fact.low, fact.high


def fact_row(fact: fact_registry.Fact, ctx: fact_registry.FactContext) -> dict[str, Any]:
    """One row of the fact table: DOMAIN figure, range, model value with 95% CI, verdict."""
    row: dict[str, Any] = {
        "fact": fact.id,
        "domain": fact.domain,
        "figure": fact.figure,
        "range": fact.range_text(),
        "definition": fact.definition,
    }
    if fact.measure is None:
        return {**row, "verdict": f"not measurable: {fact.missing}"}
    try:
        m = fact.measure(ctx)
    except fact_registry.NotMeasurable as exc:
        return {**row, "verdict": f"not measurable: {exc}"}
    if m.closed_form:
        value = float(m.values[0])
        ci = {"mean": value, "low": value, "high": value, "n": 0}
    else:
        ci = mean_ci(m.values)
    row.update(value=ci["mean"], low=ci["low"], high=ci["high"], n=ci["n"], note=m.note)
    low, high = fact_range(fact, ctx.scenario)
    stated = _stated(fact, ctx.scenario)
    if stated is not None:  # the scenario's own range, with its reasoning in the note
        row["range"] = fact_registry.format_range(fact, low, high)
        row["note"] = "; ".join(
            x for x in (m.note, f"range stated by the scenario: {stated.source}") if x
        )
    if low is None or high is None:
        return {**row, "verdict": f"not measurable: {fact.extra.get('no_range', 'no range')}"}
    if not (np.isfinite(ci["low"]) and np.isfinite(ci["high"])):
        return {**row, "verdict": "not measurable: no CI (too few replications or no data)"}
    inside = low <= ci["low"] and ci["high"] <= high
    return {**row, "verdict": "pass" if inside else "fail"}
