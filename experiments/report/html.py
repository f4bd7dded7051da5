"""The report's HTML: one self-contained page rendered with Jinja2 from templates/."""

from __future__ import annotations

import base64

from experiments.report.context import Context
from experiments.report.headline import headline_for
from experiments.report.parts import Section
from experiments.report.tables import meta_rows

TEMPLATE = "report.html.j2"


def render_html(ctx: Context, sections: list[Section], objectives: list[tuple[str, str]]) -> str:
    """The page: the decision first, then metadata, how-to-read list, sections (charts inline
    as PNG data), notes."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("experiments.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    charts = [c for s in sections for c in s.charts]
    title = f"marketsim {ctx.command} report: {ctx.summary.get('scenario') or ctx.out.name}"
    return env.get_template(TEMPLATE).render(
        title=title,
        headline=headline_for(ctx),
        meta=meta_rows(ctx, objectives),
        charts=charts,
        images={c.name: base64.b64encode(c.png).decode("ascii") for c in charts},
        sections=sections,
        notes=ctx.notes,
        out=str(ctx.out),
    )
