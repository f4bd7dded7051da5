"""`marketsim app [SCENARIO]`: the parser and handler (the app is experiments.app)."""

from __future__ import annotations

import argparse

DEFAULT_HOST = "127.0.0.1"  # equal to experiments.app.DEFAULT_HOST (the parser stays light)
DEFAULT_PORT = 8765


def cmd_app(args: argparse.Namespace) -> int:
    """Serve the what-if app until interrupted."""
    from experiments.app import serve

    print(f"marketsim app on http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    serve(args.scenario, host=args.host, port=args.port)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``app``."""
    app = sub.add_parser(
        "app",
        help="the what-if app in the browser (needs the 'app' extra: pip install 'marketsim[app]')",
    )
    app.add_argument(
        "scenario", nargs="?", default=None, help="shipped scenario name or scenario file"
    )
    app.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (loopback)")
    app.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
    app.set_defaults(func=cmd_app)
