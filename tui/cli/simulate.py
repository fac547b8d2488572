"""The ``simulate`` command: the API simulator in the foreground, for demos and tests."""

from __future__ import annotations

import argparse

from tui.cli.common import Subcommands, add_command


def run_simulate(args: argparse.Namespace) -> int:
    """Run the API simulator in the foreground until interrupted."""
    from tui.simulator import main_simulate

    return main_simulate(args.host, args.port, args.speed, args.allow_remote)


def register(subparsers: Subcommands) -> None:
    """Add ``simulate``; it sets ``handler`` to ``fn(args) -> int``."""
    parser = add_command(
        subparsers,
        "simulate",
        run_simulate,
        help="run a simulator of the Clanforge image-diff API on this machine",
        description="Serve a simulated image-diff API (for demos and tests).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8642, help="port to listen on")
    parser.add_argument(
        "--speed", type=float, default=1.0, help="how many times faster than real jobs"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow listening on a non-loopback address",
    )
