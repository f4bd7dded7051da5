"""`marketsim app`: the what-if app in the browser (Solara; the optional ``app`` extra).

:func:`serve` starts the Solara server for :mod:`experiments.app.page` on loopback by
default. The page calls the library API only (``load_scenario``, ``compare``, ``replicate``,
``rank_entry_options``, the strategy registry, the report builder).
"""

from __future__ import annotations

import os

from sim.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
PAGE = "experiments.app.page:Page"


def serve(scenario: str | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    """Run the app until interrupted (blocks).

    Args:
        scenario: a shipped scenario's name or a scenario file opened first.
        host, port: where to listen (loopback by default: the app has no login).

    Raises:
        UsageError: the ``app`` extra is not installed.
    """
    try:
        import solara.server.settings  # noqa: F401
        import uvicorn
    except ImportError:
        raise UsageError("the app needs the optional extra: pip install 'marketsim[app]'") from None
    os.environ["SOLARA_APP"] = PAGE
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    if scenario:
        os.environ["MARKETSIM_APP_SCENARIO"] = scenario
    from solara.server.starlette import app

    uvicorn.run(app, host=host, port=port, log_level="warning")
