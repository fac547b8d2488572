"""The ``watchlist`` command: add, remove, list, import and export watched diff IDs.

It acts on the current account, the API URL and ASID however reached (``--profile``,
``--asid``, ``CLANFORGE_*``, the config file); no credentials are needed. A list with a bad
token is rejected whole: every bad token is reported by position and text and
nothing is written.

Example:
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["watchlist", "add", "4101", "4102,4103"]).ids
    ['4101', '4102,4103']
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping

from tui.cli.common import (
    CliError,
    ExitCode,
    Handler,
    Subcommands,
    add_command,
    add_command_group,
    add_json_flag,
    connection_options,
    print_warning,
)
from tui.domain.ids import ParsedIds, parse_id_list
from tui.domain.text import plain
from tui.domain.watch_entry import WatchEntry
from tui.domain.wording import count_noun
from tui.polling.plan import decision_words
from tui.store.atomic_file import LockTimeout
from tui.store.settings import Settings, open_watchlist, resolve_settings
from tui.store.watchlist.file import (
    WatchlistError,
    WatchlistStore,
    account_entries,
    entries_by_account,
)
from tui.store.watchlist.text import export_json_lines, export_plain, parse_import


def _settings(args: argparse.Namespace) -> Settings:
    return resolve_settings(
        profile=getattr(args, "profile", None),
        api_url=getattr(args, "api_url", None),
        asid=getattr(args, "asid", None),
        need_credentials=False,
    )


def _store() -> WatchlistStore:
    return open_watchlist()


def _account(api_url: str, asid: int) -> str:
    return plain(f"{api_url}, ASID {asid}")


def _ids_text(ids: Iterable[int]) -> str:
    return ", ".join(str(i) for i in ids)


def _parse_or_fail(text: str, what: str) -> ParsedIds:
    """Parse an ID list; any bad token fails the whole command with every bad token named."""
    parsed = parse_id_list(text)
    if parsed.errors:
        listed = "; ".join(str(error) for error in parsed.errors)
        count = len(parsed.errors)
        raise CliError(f"{count_noun(count, 'bad diff ID')} ({what}): {listed}", ExitCode.USAGE)
    if not parsed.ids:
        raise CliError(f"no diff IDs given ({what})", ExitCode.USAGE)
    return parsed


def _flush_notices(store: WatchlistStore) -> None:
    for notice in store.notices:
        print_warning(notice)
    store.notices.clear()


def _add(args: argparse.Namespace, parsed: ParsedIds, labels: Mapping[int, str] = {}) -> int:
    """Watch ``parsed.ids``; ``--label`` if given, else each ID's own label in ``labels``."""
    settings = _settings(args)
    store = _store()
    now = time.time()
    label = getattr(args, "label", None) or ""
    entries = [
        WatchEntry(
            diffid,
            settings.asid,
            settings.account_url,
            label=label or labels.get(diffid, ""),
            added_at=now,
        )
        for diffid in parsed.ids
    ]
    try:
        result = store.add(entries)
    except (LockTimeout, WatchlistError) as exc:
        raise CliError(str(exc), ExitCode.FAILED) from None
    _flush_notices(store)
    skipped = sorted(set(parsed.duplicates) | {entry.diffid for entry in result.duplicates})
    if skipped:
        print_warning(f"already on the watchlist, skipped: {_ids_text(skipped)}")
    where = _account(settings.account_url, settings.asid)
    count = len(result.added)
    print(plain(f"added {count_noun(count, 'diff')} ({where})"), end="")
    print(f": {_ids_text(e.diffid for e in result.added)}" if result.added else "")
    return ExitCode.OK


def run_add(args: argparse.Namespace) -> int:
    """Watch these diff IDs (each argument may hold several, comma-separated)."""
    return _add(args, _parse_or_fail("\n".join(args.ids), "nothing was added"))


def run_import(args: argparse.Namespace) -> int:
    """Watch every diff in a file (or ``-`` for standard input) as ``export`` writes it.

    Plain: IDs, and after ``#`` on the same line their label (a line that is only a
    comment is skipped). JSON Lines: one ``{"diffid": N, "label": "..."}`` a line.
    ``--label`` replaces the file's labels.
    """
    source: str = args.file
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CliError(f"cannot read {source}: {reason}", ExitCode.USAGE) from None
    imported = parse_import(text)
    if imported.errors:
        listed = "; ".join(str(error) for error in imported.errors)
        count = count_noun(len(imported.errors), "error")
        raise CliError(f"{count} in {source}, nothing was imported: {listed}", ExitCode.USAGE)
    if not imported.ids:
        raise CliError(f"no diff IDs in {source}; nothing was imported", ExitCode.USAGE)
    parsed = ParsedIds(imported.ids, (), imported.duplicates)
    return _add(args, parsed, imported.labels)


def run_remove(args: argparse.Namespace) -> int:
    """Stop watching these diff IDs."""
    parsed = _parse_or_fail("\n".join(args.ids), "nothing was removed")
    settings = _settings(args)
    store = _store()
    try:
        account = (settings.account_url, settings.asid)
        before = {e.diffid for e in store.entries_for(*account)}
        removed = store.remove((*account, i) for i in parsed.ids)
    except (LockTimeout, WatchlistError) as exc:
        raise CliError(str(exc), ExitCode.FAILED) from None
    _flush_notices(store)
    absent = [i for i in parsed.ids if i not in before]
    if absent:
        print_warning(f"not on the watchlist: {_ids_text(absent)}")
    print(f"removed {count_noun(removed, 'diff')}")
    return ExitCode.OK


def _all_entries() -> list[WatchEntry]:
    try:
        loaded = _store().load()
    except WatchlistError as exc:
        raise CliError(str(exc), ExitCode.FAILED) from None
    if loaded.notice:
        print_warning(loaded.notice)
    return loaded.entries


def _entries(args: argparse.Namespace) -> list[WatchEntry]:
    """This account's entries; with ``--all``, every account's."""
    if getattr(args, "all", False):
        return _all_entries()
    settings = _settings(args)
    return account_entries(_all_entries(), settings.account_url, settings.asid)


_LAST_FIELDS = ("state_id", "state_name", "progress", "eta", "error", "seen_at", "start")
_ACCEPTED_FIELDS = ("imageversionid", "restart", "full", "force", "game_build", "at")
_REJECTED_FIELDS = ("reinstall", "uninstalljobid", "at")


def _fields(value: object, names: tuple[str, ...]) -> dict[str, object]:
    return {name: getattr(value, name) for name in names}


def _entry_json(entry: WatchEntry) -> dict[str, object]:
    out = _fields(entry, ("diffid", "asid", "api_url", "label", "added_at"))
    if entry.last is not None:
        out["last"] = _fields(entry.last, _LAST_FIELDS)
    if entry.accepted is not None:
        out["accepted"] = _fields(entry.accepted, _ACCEPTED_FIELDS)
    if entry.rejected is not None:
        out["rejected"] = _fields(entry.rejected, _REJECTED_FIELDS)
    return out


def run_list(args: argparse.Namespace) -> int:
    """Print this account's watched diffs with their label and last known state;
    ``--all``: every account's, under a line naming the account (URL and ASID)."""
    entries = _entries(args)
    if args.json:
        for entry in entries:
            print(json.dumps(_entry_json(entry), ensure_ascii=True))
        return ExitCode.OK
    width = max((len(str(e.diffid)) for e in entries), default=1)
    if not args.all:
        _print_entries(entries, width)
        return ExitCode.OK
    for index, ((api_url, asid), group) in enumerate(entries_by_account(entries).items()):
        print(
            ("\n" if index else "") + f"{_account(api_url, asid)}: {count_noun(len(group), 'diff')}"
        )
        _print_entries(group, width)
    return ExitCode.OK


def _print_entries(entries: list[WatchEntry], width: int) -> None:
    for entry in entries:
        state = ""
        if entry.last is not None:
            state = f"{plain(entry.last.state_name, limit=20)} {entry.last.progress}%"
        label = plain(entry.label, limit=200)
        print(f"{entry.diffid:>{width}}  {state:<16}  {label}  {decision_words(entry)}".rstrip())


def run_export(args: argparse.Namespace) -> int:
    """Print this account's diffs as ``watchlist import`` reads them back, labels and all."""
    entries = _entries(args)
    pairs = ((entry.diffid, entry.label) for entry in entries)
    for line in export_json_lines(pairs) if args.json else export_plain(pairs):
        print(line)
    return ExitCode.OK


def register(subparsers: Subcommands) -> None:
    """Add ``watchlist add|remove|list|import|export``; each sets ``handler``."""
    parent = [connection_options()]
    commands = add_command_group(
        subparsers,
        "watchlist",
        help="add, remove, list, import or export watched diff IDs",
        description=(
            "The watchlist of the current account: its API URL and ASID, however they are "
            "given (--profile, --asid, CLANFORGE_* or the config file); every profile of "
            "one account sees the same diffs. A list with any bad "
            "ID is rejected whole; IDs already watched are skipped."
        ),
    )

    def command(name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
        # Every watchlist command is of one account (the connection options) and is
        # described by its handler's docstring.
        return add_command(
            commands, name, handler, parents=parent, help=help, description=handler.__doc__
        )

    def ids_argument(parser: argparse.ArgumentParser, verb: str) -> None:
        parser.add_argument("ids", nargs="+", metavar="ID", help=f"diff IDs to {verb}")

    add = command("add", run_add, "watch diff IDs")
    ids_argument(add, "watch")
    add.add_argument("--label", metavar="TEXT", help="a label shown next to each diff")

    remove = command("remove", run_remove, "stop watching diff IDs")
    ids_argument(remove, "stop watching")

    listing = command("list", run_list, "list watched diffs")
    add_json_flag(listing, "one JSON object per line")
    listing.add_argument(
        "--all", action="store_true", help="every account's diffs, grouped by account"
    )

    imp = command("import", run_import, "watch every ID in a file")
    imp.add_argument("file", metavar="FILE", help="a file of IDs, or - for standard input")
    imp.add_argument(
        "--label", metavar="TEXT", help="a label for every imported diff (replaces the file's)"
    )

    export = command("export", run_export, "print watched IDs")
    add_json_flag(export, "one JSON object per line")
