"""The diff job commands, ``status``, ``retry`` and ``watch``: their options and help.

Each command is its own module (:mod:`tui.cli.status`, :mod:`tui.cli.retry`,
:mod:`tui.cli.watch`); what they share is in :mod:`tui.cli.targets` (which diffs),
:mod:`tui.cli.pacing` (the rate cap and the server's "wait") and :mod:`tui.cli.output`
(lines and JSON Lines).

Exit codes: 0 all went well; 1 a call failed (or, with ``watch --exit-status``, a
job ended Failed; or ``retry --all`` was not confirmed); 2 bad input, or ``retry``
without IDs or ``--all``, or ``--all`` off a terminal without ``--yes``; 3 credentials
or configuration.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["retry", "4101", "--json"]).json
    True
"""

from __future__ import annotations

from tui.cli.common import Subcommands, add_command, add_json_flag, connection_options
from tui.cli.joblines import fit_cells
from tui.cli.pacing import add_timeout_option
from tui.cli.retry import plan_from_statuses, run_retry, skip_json
from tui.cli.status import run_status
from tui.cli.watch import add_interval_option, run_watch
from tui.polling.refusals import RETRY_AFTER_LIMIT

__all__ = [
    "fit_cells",
    "plan_from_statuses",
    "register",
    "run_retry",
    "run_status",
    "run_watch",
    "skip_json",
]
"""Kept importable from here for the tests and scripts written against one module."""


def register(subparsers: Subcommands) -> None:
    """Add ``status``, ``retry`` and ``watch``; each sets ``handler``."""
    parent = connection_options()
    ids_help = "diff IDs (default: the current profile's watchlist)"

    status = add_command(
        subparsers,
        "status",
        run_status,
        parents=[parent],
        help="show diffs' state, progress and ETA",
        description=(
            "Show each diff's state, progress and ETA, in the order given. The requests "
            "keep to [poll] max_requests_per_second; a 429 or 503 is waited out "
            f"(Retry-After) for at most {RETRY_AFTER_LIMIT:.0f} s per request."
        ),
    )
    status.add_argument("ids", nargs="*", metavar="ID", help=ids_help)
    status.add_argument("--info", action="store_true", help="also game, machine, image, files")
    add_json_flag(status)
    add_timeout_option(status, "for every status")

    retry = add_command(
        subparsers,
        "retry",
        run_retry,
        parents=[parent],
        help="retry Completed or Failed diffs (each sent once)",
        description=(
            "Retry the diffs named, each once, in order (the server says why it refuses "
            "one). --all retries every diff of the watchlist that a fresh status shows "
            "Completed or Failed, after asking on a terminal (--yes: without asking). "
            "The requests keep to [poll] max_requests_per_second; a 429 or 503 is waited "
            f"out (Retry-After) and the request sent again, for at most {RETRY_AFTER_LIMIT:.0f} s "
            "per request. A timeout or a lost answer is never re-sent."
        ),
    )
    retry.add_argument("ids", nargs="*", metavar="ID", help="diff IDs to retry")
    retry.add_argument(
        "--all",
        action="store_true",
        help="every Completed or Failed diff of the current profile's watchlist",
    )
    retry.add_argument("--yes", action="store_true", help="with --all: do not ask first")
    add_json_flag(retry)
    add_timeout_option(
        retry,
        "for the statuses of --all and every retry; a retry sent and "
        "not answered by then has an unknown outcome",
    )

    watch = add_command(
        subparsers,
        "watch",
        run_watch,
        parents=[parent],
        help="poll diffs until every one has finished",
    )
    watch.add_argument("ids", nargs="*", metavar="ID", help=ids_help)
    watch.add_argument("--exit-status", action="store_true", help="exit 1 if a diff ended Failed")
    add_json_flag(watch, "JSON Lines output, one per change")
    add_interval_option(watch)
    add_timeout_option(watch, "for the whole watch: the diffs to end")
