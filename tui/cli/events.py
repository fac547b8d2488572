"""The ``events`` command: the journal of what happened, oldest first.

Example:
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["events", "--since", "2h"]).since
    '2h'
"""

from __future__ import annotations

import argparse
import json
import time

from tui.cli.common import ExitCode, Subcommands, add_command, add_json_flag, checked_option
from tui.domain.ids import parse_diff_id
from tui.domain.text import plain
from tui.store.journal import Journal, columns, parse_since
from tui.store.paths import app_paths


def run_events(args: argparse.Namespace) -> int:
    """Print the journal: state changes, actions and their outcomes, connection outages."""
    since = checked_option("--since", args.since, lambda text: parse_since(text, time.time()))
    diffid = checked_option("--diff", args.diff, parse_diff_id)
    events = Journal(app_paths().journal_file).read(since=since, diffid=diffid)
    for event in reversed(events):
        if args.json:
            print(json.dumps(event.to_json(), ensure_ascii=False))
        else:
            when, diff, label, what = columns(event)
            print(f"{when}  {diff:<9} {plain(label):<16} {plain(what)}".rstrip())
    return ExitCode.OK


def register(subparsers: Subcommands) -> None:
    """Add ``events``; it sets ``handler`` to ``fn(args) -> int``."""
    parser = add_command(
        subparsers,
        "events",
        run_events,
        help="show what happened: state changes, retries and outages (the journal)",
        description=run_events.__doc__,
    )
    parser.add_argument(
        "--since", metavar="WHEN", help="only newer events: 30m, 2h, 1d or an ISO time"
    )
    parser.add_argument("--diff", metavar="ID", help="only the events of this diff")
    add_json_flag(parser, "JSON Lines, one event per line")
