"""`marketsim check`: the validation suite; prints its tables, exit 1 when a check fails."""

from __future__ import annotations

import argparse
import math
from typing import Any

from experiments.cli.common import open_executor
from experiments.cli.table import render

EXIT_CHECK_FAILED = 1
_VERDICT_WIDTH = 44
#: characters of a scenario-stated lever expectation's source under the lever table
_SOURCE_WIDTH = 160


def _pct(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _num(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:,.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def _pp(v: Any) -> str:
    """A difference of two shares, in percentage points."""
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v * 100:+.2f} pp"


def _cut(text: Any, width: int | None = None) -> str:
    """``text`` (blank for a missing value), cut to ``width`` characters when given."""
    s = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    return s if width is None or len(s) <= width else s[: width - 3] + "..."


def format_theory(result) -> list[str]:
    """The theory table: check, theory, model, tolerance, verdict."""
    rows = [
        [r.check, _num(r.theory), _num(r.model), r.tolerance, r.verdict]
        for r in result.theory.itertuples()
    ]
    header = ["check", "theory", "model", "tolerance", "verdict"]
    lines = ["Theory checks (model vs closed form)"]
    lines += render(header, rows, [False, True, True, False, False])
    registry = "ok" if not result.registry_problems else "; ".join(result.registry_problems)
    lines.append(f"fact registry: {registry}")
    return lines


def format_facts(result) -> list[str]:
    """The stylized-fact table per scenario."""
    if result.facts.empty:
        return []
    lines = []
    header = ["fact", "DOMAIN", "range", "model", "95% CI", "n", "verdict"]
    for scenario, g in result.facts.groupby("scenario", sort=False):
        rows = []
        for r in g.to_dict(orient="records"):
            fmt = _pct if r["range"].endswith("%") or r["range"] == "-" else _num
            has = "value" in r and r["value"] == r["value"]
            ci = f"[{fmt(r['low'])}, {fmt(r['high'])}]" if has else ""
            value = fmt(r["value"]) if has else "-"
            verdict = _cut(r["verdict"], _VERDICT_WIDTH)
            reps = r.get("n")
            n = f"{int(reps)}" if has and reps == reps and reps else ""  # NaN != NaN
            rows.append([r["fact"], _cut(r["figure"]), r["range"], value, ci, n, verdict])
        lines += ["", f"Stylized facts: {scenario}"]
        lines += render(header, rows, [False, True, True, True, True, True, False])
    return lines


def format_levers(result) -> list[str]:
    """The lever-direction table per scenario."""
    if result.levers.empty:
        return []
    # imported here, not at the top: the parser must not pull in pandas (`--help` starts fast)
    from experiments.check.levers import SHARE_KPIS  # shares print in percentage points

    lines = []
    header = ["lever", "KPI", "expected", "effect", "95% CI", "verdict"]
    for scenario, g in result.levers.groupby("scenario", sort=False):
        rows, stated = [], []
        for r in g.to_dict(orient="records"):
            has = r.get("effect") == r.get("effect") and "effect" in r
            fmt = _pp if r["kpi"] in SHARE_KPIS else _num
            ci = f"[{fmt(r['low'])}, {fmt(r['high'])}]" if has else ""
            effect = fmt(r["effect"]) if has else "-"
            verdict = _cut(r["verdict"], _VERDICT_WIDTH)
            expected = r["expected"]
            if r.get("stated_by") == "scenario":  # the scenario's lever_expectations
                expected += " *"
                stated.append(f"* {r['lever']}: {_cut(r['source'], _SOURCE_WIDTH)}")
            rows.append([r["lever"], r["kpi"], expected, effect, ci, verdict])
        lines += ["", f"Lever directions: {scenario} (paired effect vs the scenario's strategies)"]
        lines += render(header, rows, [False, False, True, True, True, False])
        lines += stated
    return lines


def _more_reps(result) -> str:
    """Facts and levers judged on more than --reps replications (their own floor), as
    ``id n``."""
    reps, out = result.settings["reps"], []
    for table, key in ((result.facts, "fact"), (result.levers, "lever")):
        if table.empty or "n" not in table:
            continue
        more = table[table["n"] > reps].drop_duplicates(key)
        out += [f"{getattr(r, key)} {int(r.n)}" for r in more.itertuples()]
    return ", ".join(out)


def format_check(result) -> str:
    """Every table of a :class:`~experiments.check.CheckResult` and the verdict line."""
    lines = format_theory(result) + format_facts(result) + format_levers(result)
    s = result.settings
    if result.level == "full":
        lines += [
            "",
            f"full level: {s['reps']} paired replications x {s['days']} days, market slice "
            f"x{s['population_scale']:g}, repeat window {s['window_days']} days",
        ]
        more = _more_reps(result)
        if more:
            lines.append(f"rows whose CI needs more replications ran their own (n): {more}")
    else:
        lines += ["", "quick level: theory checks and the fact registry only (--full for more)"]
    failures = result.failures()
    verdict = "PASS" if not failures else f"FAIL ({len(failures)} failed)"
    lines.append(f"check: {verdict}")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    """Handler of ``marketsim check``."""
    from experiments.check import check
    from experiments.check.suite import SCENARIOS_DIR, SHIPPED

    paths = args.scenarios or [SCENARIOS_DIR / name for name in SHIPPED]
    with open_executor(args, paths, args.population_scale or 1.0) as executor:
        result = check(
            args.scenarios or None,
            level="full" if args.full else "quick",
            reps=args.reps,
            seed=args.seed,
            days=args.days,
            population_scale=args.population_scale,
            executor=executor,
            out=args.out,
            force=args.force,
            only=args.only.split(",") if args.only else None,
        )
    print(format_check(result))
    if args.out is not None:
        print(f"tables: {args.out}")
    return 0 if result.passed else EXIT_CHECK_FAILED


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``check``."""
    from experiments.cli.common import add_executor_args

    p = sub.add_parser(
        "check",
        help="validation suite: theory checks, stylized facts, lever directions (exit 1 on "
        "a failed check)",
    )
    p.add_argument(
        "scenarios", nargs="*", help="scenario YAML files (default: the shipped scenarios)"
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="also the stylized-fact table and lever directions per scenario (minutes)",
    )
    p.add_argument("--reps", type=int, default=None, help="paired replications (--full; 5)")
    p.add_argument(
        "--only",
        default=None,
        metavar="IDS",
        help="comma-separated fact and lever ids to run at the full level (e.g. "
        "annual_churn,retention=win_back; default: all)",
    )
    p.add_argument("--days", type=int, default=None, help="horizon of each run (--full; 730)")
    p.add_argument("--seed", type=int, default=None, help="override the scenarios' seeds")
    p.add_argument(
        "--population-scale",
        type=float,
        default=None,
        help="market slice the full level runs: populations, stock and firm-level amounts "
        "times this share (1 = the whole market)",
    )
    p.add_argument("--out", default=None, help="also write the tables into this folder")
    p.add_argument("--force", action="store_true", help="write --out even if it holds other files")
    add_executor_args(p)
    p.set_defaults(func=cmd_check)
