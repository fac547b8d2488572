"""The ``events`` command: the journal of what happened, oldest first.

With ``--follow`` it goes on printing events as they are written (by the app, another
instance or the command line), across the journal's rotation, until interrupted or
until the reader of its output goes away (``| head -1``).

Example:
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["events", "--since", "2h"]).since
    '2h'
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import sys
import time
from typing import Final, TextIO

from tui.cli.common import ExitCode, Subcommands, add_command, add_json_flag, checked_option
from tui.domain.ids import parse_diff_id
from tui.domain.text import plain
from tui.store.journal import Journal, JournalEvent, columns, parse_since
from tui.store.journal_tail import JournalTail
from tui.store.paths import app_paths

FOLLOW_POLL: Final = 0.25
"""Seconds between looks at the journal while following (and at the reader)."""


def run_events(args: argparse.Namespace) -> int:
    """Print the journal: state changes, actions and their outcomes, connection outages."""
    since = checked_option("--since", args.since, lambda text: parse_since(text, time.time()))
    diffid = checked_option("--diff", args.diff, parse_diff_id)
    journal = Journal(app_paths().journal_file)
    if args.follow:
        return _follow(journal, since, diffid, args.json, sys.stdout)
    for event in reversed(journal.read(since=since, diffid=diffid)):
        print(_line(event, args.json))
    return ExitCode.OK


def _line(event: JournalEvent, as_json: bool) -> str:
    if as_json:
        return json.dumps(event.to_json(), ensure_ascii=False)
    when, diff, label, what = columns(event)
    return f"{when}  {diff:<9} {plain(label):<16} {plain(what)}".rstrip()


def _follow(
    journal: Journal, since: float | None, diffid: int | None, as_json: bool, out: TextIO
) -> int:
    """``--follow``: the events since ``since`` (none before now without it), then each
    new one as it is written, flushed at once."""
    tail = JournalTail(journal, from_start=since is not None)
    try:
        while not _reader_gone(out):
            for event in tail.read_new():
                if since is not None and event.at < since:
                    continue
                if diffid is not None and event.diffid != diffid:
                    continue
                out.write(_line(event, as_json) + "\n")
                out.flush()
            time.sleep(FOLLOW_POLL)
    except BrokenPipeError:
        pass
    finally:
        tail.close()
    # The reader went away: following has no other end, so this one is not a failure.
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    return ExitCode.OK


def _reader_gone(out: TextIO) -> bool:
    """True once the read end of an output pipe is closed (before anything is written
    to find out); never for a terminal or a file."""
    try:
        poller = select.poll()
        poller.register(out.fileno(), 0)
        return any(mask & (select.POLLERR | select.POLLHUP) for _, mask in poller.poll(0))
    except (OSError, ValueError, AttributeError):
        return False


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
    parser.add_argument(
        "--follow",
        "-f",
        action="store_true",
        help="then print new events as they are written, until interrupted or the "
        "reader goes away (without --since: only new events)",
    )
    add_json_flag(parser, "JSON Lines, one event per line")
