"""What a command acts on: its settings, the diff IDs it was given, or the watchlist's.

IDs are checked before anything is sent: every bad token is reported, one line each,
and the command exits 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence

from tui.cli.common import CliError, ExitCode, print_error, print_warning
from tui.domain.ids import InvalidDiffId, parse_diff_id
from tui.domain.watch_entry import WatchEntry
from tui.store.settings import Settings, resolve_settings


def load_connection(args: argparse.Namespace) -> Settings:
    """The settings for this command: flags, then ``CLANFORGE_*``, then the profile.

    Missing credentials raise ``ConfigError`` (exit 3) naming what is missing; a bad
    ``--asid`` or ``--api-url`` flag a usage error (exit 2).
    """
    return resolve_settings(
        profile=getattr(args, "profile", None),
        api_url=getattr(args, "api_url", None),
        asid=getattr(args, "asid", None),
        env=os.environ,
    )


def parse_ids(tokens: Sequence[str]) -> list[int]:
    """The IDs in order, once each; every bad token is reported and exits 2."""
    ids: list[int] = []
    bad = False
    for token in tokens:
        try:
            value = parse_diff_id(token)
        except InvalidDiffId as exc:
            print_error(str(exc))
            bad = True
            continue
        # A repeated ID must not become a second retry.
        if value not in ids:
            ids.append(value)
    if bad:
        raise CliError("nothing was sent: fix the diff IDs above", ExitCode.USAGE)
    return ids


def watchlist_entries(conn: Settings) -> list[WatchEntry]:
    """This account's watchlist (its API URL and ASID), in file order."""
    # Imported here: only the watchlist's IDs and labels need it.
    from tui.store.settings import open_watchlist
    from tui.store.watchlist.file import WatchlistError, account_entries

    store = open_watchlist()
    try:
        loaded = store.load()
    except WatchlistError as exc:
        raise CliError(str(exc), ExitCode.CONFIG) from None
    if loaded.notice:
        print_warning(loaded.notice)
    return account_entries(loaded.entries, conn.account_url, conn.asid)


def watchlist_ids(conn: Settings, entries: Iterable[WatchEntry] | None = None) -> list[int]:
    """The IDs of ``entries`` (default: :func:`watchlist_entries`), once each; none exits 2."""
    ids = [e.diffid for e in (watchlist_entries(conn) if entries is None else entries)]
    if not ids:
        raise CliError(
            f"the watchlist of profile {conn.profile!r} (ASID {conn.asid}) is empty; "
            "name diff IDs instead",
            ExitCode.USAGE,
        )
    return list(dict.fromkeys(ids))


def _labels(entries: Iterable[WatchEntry]) -> dict[int, str]:
    labels: dict[int, str] = {}
    for entry in entries:
        if entry.label:
            labels.setdefault(entry.diffid, entry.label)
    return labels


def _entries_of_named(conn: Settings) -> list[WatchEntry] | None:
    """The watchlist's entries, for diffs named on the command line; None if it is
    unreadable (said once: the command still does what it was asked)."""
    from tui.store.atomic_file import LockTimeout

    try:
        return watchlist_entries(conn)
    except (CliError, LockTimeout) as exc:
        print_warning(f"labels not shown: {exc} (nor the statuses read saved for the app)")
        return None


@dataclasses.dataclass(frozen=True)
class Targets:
    """What ``status`` and ``watch`` act on."""

    ids: list[int]
    conn: Settings
    labels: Mapping[int, str]
    """The watchlist's labels, for people: empty with ``--json``."""
    watched: Mapping[int, WatchEntry] | None
    """This account's watchlist entries by diff; None when it could not be read."""


def prepare(args: argparse.Namespace) -> Targets:
    """IDs checked first (nothing sent on a bad one), then settings, then the watchlist."""
    ids = parse_ids(args.ids)
    conn = load_connection(args)
    entries = _entries_of_named(conn) if ids else watchlist_entries(conn)
    if not ids:
        ids = watchlist_ids(conn, entries)
    labels = {} if args.json or entries is None else _labels(entries)
    watched = None if entries is None else {e.diffid: e for e in entries}
    return Targets(ids, conn, labels, watched)
