"""Watchlist files of earlier releases (schema 1 and 2): read once, then written anew.

Both held one ``[[diff]]`` table per diff, with the last status the app saw of it
(``[diff.last]``) beside what the user said. Schema 1 keyed entries by profile name
(``profile = "prod"``) instead of the account's ``api_url``; each profile's URL comes
from the config (:data:`LegacyUrl`). The store writes what these files held in today's
layout: the user's part in the file, the statuses in the status cache.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Final

from tui.domain.watch_entry import Accepted, Rejected, WatchEntry
from tui.store.watchlist.fields import (
    Corrupt,
    read_asid,
    read_bool,
    read_float,
    read_id,
    read_int,
    read_last,
    read_str,
    read_table,
)

PROFILE_SCHEMA: Final = 1
"""Entries keyed by profile name."""
ACCOUNT_SCHEMA: Final = 2
"""Entries keyed by account, statuses beside them."""
LEGACY_SCHEMAS: Final = (PROFILE_SCHEMA, ACCOUNT_SCHEMA)

LegacyUrl = Callable[[str, int], str]
"""The API URL of a schema 1 entry's profile name and ASID."""


def _accepted(data: Mapping[str, Any], where: str) -> Accepted | None:
    table = read_table(data, "accepted", where)
    if table is None:
        return None
    where = f"{where} accepted"
    vid = read_int(table, "imageversionid", where)
    return Accepted(
        imageversionid=read_id(vid, "imageversionid", where),
        restart=read_bool(table, "restart", where),
        full=read_bool(table, "full", where),
        force=read_bool(table, "force", where),
        game_build=read_str(table, "game_build", where, optional=True),
        at=read_float(table, "at", where),
        last=read_last(table["last"], where) if "last" in table else None,
    )


def _rejected(data: Mapping[str, Any], where: str) -> Rejected | None:
    table = read_table(data, "rejected", where)
    if table is None:
        return None
    where = f"{where} rejected"
    return Rejected(
        reinstall=read_bool(table, "reinstall", where),
        uninstalljobid=read_int(table, "uninstalljobid", where, optional=True),
        at=read_float(table, "at", where),
        last=read_last(table["last"], where) if "last" in table else None,
    )


def _entry(data: object, index: int, legacy_url: LegacyUrl | None) -> WatchEntry:
    where = f"diff #{index}"
    if not isinstance(data, dict):
        raise Corrupt(f"{where} must be a table")
    diffid = read_id(read_int(data, "diffid", where), "diffid", where)
    asid = read_asid(read_int(data, "asid", where), where)
    if legacy_url is None:
        api_url = read_str(data, "api_url", where)
    else:
        profile = read_str(data, "profile", where)
        api_url = None if profile is None else legacy_url(profile, asid)
    assert api_url is not None
    return WatchEntry(
        diffid=diffid,
        asid=asid,
        api_url=api_url,
        label=read_str(data, "label", where, optional=True) or "",
        added_at=read_float(data, "added_at", where),
        last=read_last(data["last"], where) if "last" in data else None,
        accepted=_accepted(data, where),
        rejected=_rejected(data, where),
    )


def legacy_entries(data: Mapping[str, Any], schema: int, legacy_url: LegacyUrl) -> list[WatchEntry]:
    """The entries of a schema 1 or 2 file's data, one per diff, in file order."""
    migrate = legacy_url if schema == PROFILE_SCHEMA else None
    raw = data.get("diff", [])
    if not isinstance(raw, list):
        raise Corrupt("diff must be an array of tables")
    entries = [_entry(item, index, migrate) for index, item in enumerate(raw, start=1)]
    return _one_per_diff(entries)


def _one_per_diff(entries: list[WatchEntry]) -> list[WatchEntry]:
    """``entries`` with a diff listed twice in one account (two profiles of one account
    in schema 1, or a hand edit) made one entry that keeps what each knew."""
    unique: list[WatchEntry] = []
    where: dict[tuple[str, int, int], int] = {}
    for entry in entries:
        at = where.get(entry.key)
        if at is None:
            where[entry.key] = len(unique)
            unique.append(entry)
        else:
            unique[at] = _merged(unique[at], entry)
    return unique


def _merged(first: WatchEntry, later: WatchEntry) -> WatchEntry:
    """One entry for two of the same diff: the first's label and decision unless it has
    none, the newer last status, watched since the earlier."""
    last = first.last
    if later.last is not None and (last is None or later.last.seen_at > last.seen_at):
        last = later.last
    decision = first if first.decided else later
    return dataclasses.replace(
        first,
        label=first.label or later.label,
        added_at=min(first.added_at, later.added_at),
        last=last,
        accepted=decision.accepted,
        rejected=decision.rejected,
    )
