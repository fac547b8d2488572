"""The persisted watchlist: ``watchlist.toml`` in the user's data folder.

::

    schema = 2

    [[diff]]
    diffid = 4101
    asid = 1234
    api_url = "https://api.multiplay.co.uk"
    label = "EU build 812"
    added_at = 1764340000.0

    [diff.last]          # optional: the last status seen, so the app paints at once
    state_id = 4
    state_name = "Running"
    progress = 40
    eta = 1764340600
    seen_at = 1764340100.0

    [diff.accepted]      # optional: the diff became an image version (its job's ID)
    imageversionid = 700001
    restart = true
    full = false
    force = false
    game_build = "1.4.2"
    at = 1764340700.0

    [diff.accepted.last] # optional: the version job's last status, as [diff.last]
    ...

    [diff.rejected]      # optional, instead of accepted
    reinstall = true
    uninstalljobid = 900001
    at = 1764340700.0

    [diff.rejected.last] # optional: the uninstall job as the reject answered it

Files written before accept and reject existed have neither table and load as they are.

Entries belong to an account, the API URL and ASID, whichever profile (or the
``CLANFORGE_*`` variables) reaches it. Schema 1 files keyed them by profile name
(``profile = "prod"`` instead of ``api_url``); they are read with each profile's URL
from the config (:attr:`WatchlistStore.legacy_url`) and written back as schema 2.

The list is never lost: every change is a read-modify-write under a lock that
merges with what is on disk now (another instance may have changed it), then an
atomic replace. A file that cannot be read is moved aside, never overwritten, and
the caller is told where it went.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from tui.domain.ids import MAX_DIFF_ID
from tui.domain.watch_entry import Accepted, LastStatus, Rejected, WatchEntry
from tui.store.atomic_file import (
    LockTimeout,
    atomic_write_text,
    ensure_private_dir,
    file_lock,
    sweep_temp_files,
)
from tui.store.config import DEFAULT_API_URL

log = logging.getLogger(__name__)

SCHEMA: Final = 2
"""The version of the file format this code writes (it reads 1 too)."""
PROFILE_SCHEMA: Final = 1
"""The file format that keyed entries by profile name, not by account."""

Key = tuple[str, int, int]
"""(api_url, asid, diffid): :attr:`WatchEntry.key`."""
Account = tuple[str, int]
"""(api_url, asid): whose diffs an entry watches."""
LegacyUrl = Callable[[str, int], str]
"""The API URL of a schema 1 entry's profile name and ASID."""

_T = TypeVar("_T")
_SURROGATES: Final = re.compile("[\ud800-\udfff]")


class WatchlistError(Exception):
    """The watchlist cannot be used (for example, written by a newer version)."""


class _Corrupt(Exception):
    """The file's content is unreadable; the message says why."""


@dataclass(frozen=True)
class _MovedAside:
    """An unreadable file, moved aside: why, and where it went."""

    reason: str
    target: Path


@dataclass(frozen=True)
class WatchlistLoad:
    """What :meth:`WatchlistStore.load` found."""

    entries: list[WatchEntry]
    notice: str | None = None
    """Set when the file was unreadable and moved aside: says why and where it went."""


@dataclass(frozen=True)
class AddResult:
    """What :meth:`WatchlistStore.add` did."""

    added: list[WatchEntry] = field(default_factory=list)
    duplicates: list[WatchEntry] = field(default_factory=list)
    """Entries already watched (or given twice); skipped."""


def account_entries(entries: Iterable[WatchEntry], api_url: str, asid: int) -> list[WatchEntry]:
    """One account's entries, in file order (``api_url`` as :func:`~tui.store.config.account_url`
    writes it)."""
    return [e for e in entries if e.asid == asid and e.api_url == api_url]


def entries_by_account(entries: Iterable[WatchEntry]) -> dict[Account, list[WatchEntry]]:
    """Every account's entries, accounts in order of their first entry, entries in file order."""
    grouped: dict[Account, list[WatchEntry]] = {}
    for entry in entries:
        grouped.setdefault((entry.api_url, entry.asid), []).append(entry)
    return grouped


def default_legacy_url(profile: str, asid: int) -> str:
    """With no config to ask, a schema 1 profile's entries belong to the default API."""
    return DEFAULT_API_URL


def clean_label(label: str) -> str:
    """``label`` made storable: lone surrogates (undecodable argv bytes) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", label)


# --- reading and writing the TOML ---------------------------------------------------


def _int(data: Mapping[str, Any], name: str, where: str, *, optional: bool = False) -> int | None:
    value = data.get(name)
    if type(value) is int:  # the usual case first: 10,000 diffs read a dozen of these each
        return value
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Corrupt(f"{where}: {name} must be an integer")
    return value


def _float(data: Mapping[str, Any], name: str, where: str) -> float:
    value = data.get(name, 0.0)
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Corrupt(f"{where}: {name} must be a number")
    return float(value)


def _str(data: Mapping[str, Any], name: str, where: str, *, optional: bool = False) -> str | None:
    value = data.get(name)
    if type(value) is str:
        return value
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Corrupt(f"{where}: {name} must be a string")
    return value


def _read_last(data: object, where: str) -> LastStatus:
    if not isinstance(data, dict):
        raise _Corrupt(f"{where}: last must be a table")
    progress = _int(data, "progress", where, optional=True)
    return LastStatus(
        state_id=_int(data, "state_id", where, optional=True),
        state_name=_str(data, "state_name", where, optional=True) or "",
        progress=progress or 0,
        eta=_int(data, "eta", where, optional=True),
        error=_str(data, "error", where, optional=True),
        seen_at=_float(data, "seen_at", where),
        start=_int(data, "start", where, optional=True),
    )


def _bool(data: Mapping[str, Any], name: str, where: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise _Corrupt(f"{where}: {name} must be true or false")
    return value


def _table(data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Corrupt(f"{where}: {name} must be a table")
    return value


def _read_accepted(data: Mapping[str, Any], where: str) -> Accepted | None:
    table = _table(data, "accepted", where)
    if table is None:
        return None
    where = f"{where} accepted"
    vid = _int(table, "imageversionid", where)
    assert vid is not None
    if not 0 < vid <= MAX_DIFF_ID:
        raise _Corrupt(f"{where}: imageversionid must be positive")
    return Accepted(
        imageversionid=vid,
        restart=_bool(table, "restart", where),
        full=_bool(table, "full", where),
        force=_bool(table, "force", where),
        game_build=_str(table, "game_build", where, optional=True),
        at=_float(table, "at", where),
        last=_read_last(table["last"], where) if "last" in table else None,
    )


def _read_rejected(data: Mapping[str, Any], where: str) -> Rejected | None:
    table = _table(data, "rejected", where)
    if table is None:
        return None
    where = f"{where} rejected"
    return Rejected(
        reinstall=_bool(table, "reinstall", where),
        uninstalljobid=_int(table, "uninstalljobid", where, optional=True),
        at=_float(table, "at", where),
        last=_read_last(table["last"], where) if "last" in table else None,
    )


def _read_entry(data: object, index: int, legacy_url: LegacyUrl | None) -> WatchEntry:
    where = f"diff #{index}"
    if not isinstance(data, dict):
        raise _Corrupt(f"{where} must be a table")
    diffid = _int(data, "diffid", where)
    asid = _int(data, "asid", where)
    assert diffid is not None and asid is not None
    if not 0 < diffid <= MAX_DIFF_ID or asid <= 0:
        raise _Corrupt(f"{where}: diffid and asid must be positive")
    if legacy_url is None:
        api_url = _str(data, "api_url", where)
    else:
        profile = _str(data, "profile", where)
        api_url = None if profile is None else legacy_url(profile, asid)
    assert api_url is not None
    return WatchEntry(
        diffid=diffid,
        asid=asid,
        api_url=api_url,
        label=_str(data, "label", where, optional=True) or "",
        added_at=_float(data, "added_at", where),
        last=_read_last(data["last"], where) if "last" in data else None,
        accepted=_read_accepted(data, where),
        rejected=_read_rejected(data, where),
    )


_INT: Final = r"-?(?:0|[1-9][0-9]*)"
_FLOAT: Final = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:e[+-]?[0-9]+)?|e[+-]?[0-9]+)"
_PLAIN_CHARS: Final = r'[^"\\\x00-\x1f\x7f]*'
_ESCAPE: Final = r'(?:\\[btnfr"\\]|\\u(?![dD][89a-fA-F])[0-9A-Fa-f]{4})'
# Runs of plain characters between escapes ("unrolled"): one step per run, not per character.
_STRING: Final = rf'"{_PLAIN_CHARS}(?:{_ESCAPE}{_PLAIN_CHARS})*"'
_FAST_LINE: Final = re.compile(
    rf"([A-Za-z_][A-Za-z0-9_]*) = (?:(true|false)|({_INT})|({_FLOAT})|({_STRING}))"
)
"""One ``key = value`` line; the group that matched says the value's kind."""
_BOOL_GROUP, _INT_GROUP, _FLOAT_GROUP, _STRING_GROUP = 2, 3, 4, 5

_FAST_ENTRY: Final = re.compile(
    rf"""\[\[diff\]\]\n
    diffid\ =\ (?P<diffid>{_INT})\n
    asid\ =\ (?P<asid>{_INT})\n
    api_url\ =\ (?P<api_url>{_STRING})\n
    label\ =\ (?P<label>{_STRING})\n
    added_at\ =\ (?P<added_at>{_FLOAT})\n
    (?P<last>\n\[diff\.last\]\n
        (?:state_id\ =\ (?P<state_id>{_INT})\n)?
        state_name\ =\ (?P<state_name>{_STRING})\n
        progress\ =\ (?P<progress>{_INT})\n
        (?:eta\ =\ (?P<eta>{_INT})\n)?
        (?:error\ =\ (?P<error>{_STRING})\n)?
        seen_at\ =\ (?P<seen_at>{_FLOAT})\n
        (?:start\ =\ (?P<start>{_INT})\n)?
    )?""",
    re.VERBOSE,
)
"""A ``[[diff]]`` and its ``[diff.last]`` exactly as :func:`watchlist_to_toml` writes
them (most of a watchlist): one match per entry instead of one per line. Every line
it takes means what :data:`_FAST_LINE` would read from it; lines after the match
(another table, a key written by hand) go line by line from there."""
_FAST_GROUPS: Final = (
    *("diffid", "asid", "api_url", "label", "added_at", "last", "state_id"),
    *("state_name", "progress", "eta", "error", "seen_at", "start"),
)
""":data:`_FAST_ENTRY`'s groups in the order ``match.groups()`` gives them (one call
instead of one lookup per name: 10,000 entries are read before the first frame)."""


_FAST_SUBTABLES: Final = {
    "[diff.last]": ("last",),
    "[diff.accepted]": ("accepted",),
    "[diff.accepted.last]": ("accepted", "last"),
    "[diff.rejected]": ("rejected",),
    "[diff.rejected.last]": ("rejected", "last"),
}


def _fast_string(raw: str) -> str:
    """A basic string's value (``raw`` matched :data:`_STRING`: JSON's escapes are TOML's)."""
    return json.loads(raw) if "\\" in raw else raw[1:-1]


def _fast_subtable(
    diff: dict[str, Any], path: tuple[str, ...], defined: set[int]
) -> dict[str, Any] | None:
    """The new table ``path`` of ``diff``; None where TOML would read the header otherwise
    (a table defined twice, a key of that name, a parent this reader did not open)."""
    parent = diff
    for name in path[:-1]:
        child = parent.get(name)
        if not isinstance(child, dict) or id(child) not in defined:
            return None
        parent = child
    if path[-1] in parent:
        return None
    table: dict[str, Any] = {}
    parent[path[-1]] = table
    return table


def _fast_entry(match: re.Match[str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The ``[[diff]]`` table and its ``last`` table (None: none) of a :data:`_FAST_ENTRY`."""
    (diffid, asid, api_url, label, added_at, has_last, state_id, *rest) = match.groups()
    (state_name, progress, eta, error, seen_at, start) = rest
    diff: dict[str, Any] = {
        "diffid": int(diffid),
        "asid": int(asid),
        "api_url": _fast_string(api_url),
        "label": _fast_string(label),
        "added_at": float(added_at),
    }
    if has_last is None:
        return diff, None
    last: dict[str, Any] = {}
    if state_id is not None:
        last["state_id"] = int(state_id)
    last["state_name"] = _fast_string(state_name)
    last["progress"] = int(progress)
    if eta is not None:
        last["eta"] = int(eta)
    if error is not None:
        last["error"] = _fast_string(error)
    last["seen_at"] = float(seen_at)
    if start is not None:
        last["start"] = int(start)
    diff["last"] = last
    return diff, last


_FAST_HEADER: Final = f"schema = {SCHEMA}\n"
_NEXT_ENTRY: Final = "\n[[diff]]\n"


def _fast_entries(text: str) -> list[WatchEntry] | None:
    """The entries of a watchlist exactly as :func:`watchlist_to_toml` writes it, built
    straight from each :data:`_FAST_ENTRY` match (10,000 diffs: about a third of the time
    of reading the data and then checking it); an entry with more tables (a decision) goes
    through :func:`_fast_toml` alone. None for anything else, or for anything wrong: the
    whole file is then read the general way, which says what is wrong."""
    if not text.startswith(_FAST_HEADER) or "\r" in text:
        return None
    entries: list[WatchEntry] = []
    strings: dict[str, str] = {}
    pos, size = len(_FAST_HEADER), len(text)
    if pos < size and not text.startswith(_NEXT_ENTRY, pos):
        return None
    pos += 1
    while pos < size:
        match = _FAST_ENTRY.match(text, pos)
        if match is None:
            return None
        end = match.end()
        if end == size or text.startswith(_NEXT_ENTRY, end):
            entry = _entry_of_match(match, strings)
        else:
            # More tables follow: the entry's text up to the next entry, read as TOML.
            end = text.find(_NEXT_ENTRY, end)
            if end < 0:
                end = size
            entry = _entry_of_text(text[pos:end], len(entries) + 1)
        if entry is None:
            return None
        entries.append(entry)
        pos = end + 1
    return entries


def _entry_of_match(match: re.Match[str], strings: dict[str, str]) -> WatchEntry | None:
    """The entry a whole :data:`_FAST_ENTRY` match holds; None for values out of range.

    ``strings``: API URLs read so far, so 10,000 entries of one account share one string."""
    (diffid, asid, api_url, label, added_at, has_last, state_id, *rest) = match.groups()
    diff, account = int(diffid), int(asid)
    if not 0 < diff <= MAX_DIFF_ID or account <= 0:
        return None
    last = None
    if has_last is not None:
        (state_name, progress, eta, error, seen_at, start) = rest
        # Positional: the constructors' order (a keyword call costs more, 10,000 times).
        last = LastStatus(
            None if state_id is None else int(state_id),
            _fast_string(state_name),
            int(progress),
            None if eta is None else int(eta),
            None if error is None else _fast_string(error),
            float(seen_at),
            None if start is None else int(start),
        )
    url = strings.get(api_url)
    if url is None:
        url = strings[api_url] = _fast_string(api_url)
    return WatchEntry(diff, account, url, _fast_string(label), float(added_at), last)


def _entry_of_text(text: str, index: int) -> WatchEntry | None:
    """The one ``[[diff]]`` entry (the ``index``th) that ``text`` holds; None for anything
    else."""
    data = _fast_toml(text)
    if data is None or data.keys() != {"diff"} or len(data["diff"]) != 1:
        return None
    try:
        return _read_entry(data["diff"][0], index, None)
    except _Corrupt:
        return None


def _fast_toml(text: str) -> dict[str, Any] | None:
    """The data of a watchlist in the shape :func:`watchlist_to_toml` writes, read about
    ten times faster than ``tomllib`` (10,000 diffs: 0.1 s instead of 1 s); None for
    anything else (comments, other value kinds, a hand-edited layout), which ``tomllib``
    then reads. Each accepted line means what TOML says it means (tests compare the two)."""
    data: dict[str, Any] = {}
    diffs: list[dict[str, Any]] = []
    table = data
    # Tables opened by a header: TOML lets a [a.b] header follow [a] (not the reverse here).
    defined: set[int] = set()
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        return None
    pos, size = 0, len(text)
    while pos < size:
        if text.startswith("[[diff]]", pos):
            if "diff" not in data:
                data["diff"] = diffs
            elif data["diff"] is not diffs:
                return None
            entry = _FAST_ENTRY.match(text, pos)
            if entry is not None:
                table, last = _fast_entry(entry)
                diffs.append(table)
                if last is not None:
                    defined.add(id(last))
                    table = last
                pos = entry.end()
                continue
        end = text.find("\n", pos)
        if end < 0:
            end = size
        line = text[pos:end]
        pos = end + 1
        if not line:
            continue
        if line == "[[diff]]":
            table = {}
            diffs.append(table)
            continue
        if line in _FAST_SUBTABLES:
            if not diffs:
                return None
            opened = _fast_subtable(diffs[-1], _FAST_SUBTABLES[line], defined)
            if opened is None:
                return None
            defined.add(id(opened))
            table = opened
            continue
        match = _FAST_LINE.fullmatch(line)
        if match is None:
            return None
        key, raw = match.group(1), match.group(match.lastindex or 0)
        if key in table:
            return None
        kind = match.lastindex
        if kind == _BOOL_GROUP:
            table[key] = raw == "true"
        elif kind == _INT_GROUP:
            table[key] = int(raw)
        elif kind == _FLOAT_GROUP:
            table[key] = float(raw)
        else:
            table[key] = _fast_string(raw)
    return data


def parse_watchlist(text: str, legacy_url: LegacyUrl = default_legacy_url) -> list[WatchEntry]:
    """The entries of a watchlist file's text; raises ``_Corrupt`` or :class:`WatchlistError`.

    A schema 1 file's entries get their account's URL from ``legacy_url``."""
    entries = _fast_entries(text)
    if entries is None:
        data = _fast_toml(text)
        if data is None:
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise _Corrupt(f"not valid TOML: {exc}") from None
        entries = _entries_of(data, legacy_url)
    return _one_per_diff(entries)


def _entries_of(data: Mapping[str, Any], legacy_url: LegacyUrl) -> list[WatchEntry]:
    """The entries of a watchlist file's data, in file order (a diff may be listed twice)."""
    schema = data.get("schema")
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
        # Moving a newer version's file aside would lose it for that version.
        raise WatchlistError(
            f"the watchlist was written by a newer imagediff-tui (schema {schema}); "
            "upgrade imagediff-tui to use it (the file is left as it is)"
        )
    if schema not in (SCHEMA, PROFILE_SCHEMA) or isinstance(schema, bool):
        raise _Corrupt(f"schema must be {SCHEMA}, got {schema!r}")
    migrate = legacy_url if schema == PROFILE_SCHEMA else None
    raw = data.get("diff", [])
    if not isinstance(raw, list):
        raise _Corrupt("diff must be an array of tables")
    return [_read_entry(item, index, migrate) for index, item in enumerate(raw, start=1)]


def _one_per_diff(entries: list[WatchEntry]) -> list[WatchEntry]:
    """``entries`` with a diff listed twice in one account (two profiles of one account
    in schema 1, or a hand edit) made one entry that keeps what each knew."""
    unique: list[WatchEntry] = []
    where: dict[Key, int] = {}
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


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    # TOML has no null: an absent key means "unknown".
    return {key: value for key, value in data.items() if value is not None}


def _last_table(last: LastStatus) -> dict[str, Any]:
    return _drop_none(
        {
            "state_id": last.state_id,
            "state_name": clean_label(last.state_name),
            "progress": last.progress,
            "eta": last.eta,
            "error": clean_label(last.error) if last.error is not None else None,
            "seen_at": float(last.seen_at),
            "start": last.start,
        }
    )


def _entry_tables(entry: WatchEntry) -> list[tuple[str, dict[str, Any]]]:
    """The entry's tables, each with its header (the first, ``[[diff]]``)."""
    tables: list[tuple[str, dict[str, Any]]] = [
        (
            "[[diff]]",
            {
                "diffid": entry.diffid,
                "asid": entry.asid,
                "api_url": clean_label(entry.api_url),
                "label": clean_label(entry.label),
                "added_at": float(entry.added_at),
            },
        )
    ]
    if entry.last is not None:
        tables.append(("[diff.last]", _last_table(entry.last)))
    accepted = entry.accepted
    if accepted is not None:
        game_build = accepted.game_build
        table = {
            "imageversionid": accepted.imageversionid,
            "restart": accepted.restart,
            "full": accepted.full,
            "force": accepted.force,
            "game_build": clean_label(game_build) if game_build is not None else None,
            "at": float(accepted.at),
        }
        tables.append(("[diff.accepted]", _drop_none(table)))
        if accepted.last is not None:
            tables.append(("[diff.accepted.last]", _last_table(accepted.last)))
    rejected = entry.rejected
    if rejected is not None:
        table = {
            "reinstall": rejected.reinstall,
            "uninstalljobid": rejected.uninstalljobid,
            "at": float(rejected.at),
        }
        tables.append(("[diff.rejected]", _drop_none(table)))
        if rejected.last is not None:
            tables.append(("[diff.rejected.last]", _last_table(rejected.last)))
    return tables


def watchlist_to_toml(entries: Iterable[WatchEntry]) -> str:
    """The file text for ``entries``."""
    # Written here rather than by tomli_w: always the one layout the fast reader above
    # takes (tomli_w switches to inline tables for some values), in about half of
    # tomli_w's time at 10,000 diffs. Tests compare both with tomllib.
    out = [f"schema = {SCHEMA}\n"]
    for entry in entries:
        for header, table in _entry_tables(entry):
            out.append(f"\n{header}\n")
            out.extend(f"{key} = {_toml_value(value)}\n" for key, value in table.items())
    return "".join(out)


def _toml_value(value: str | int | float) -> str:
    """One value in TOML: a basic string (JSON's escapes are TOML's, and DEL, which
    TOML refuses raw, escaped too), a boolean, an integer, or a float as Python spells it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a file is where a folder should be"
    return exc.strerror or str(exc)


# --- the store ------------------------------------------------------------------------


class WatchlistStore:
    """The watchlist file, shared safely between instances of the app and the CLI."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.notices: list[str] = []
        """Every "moved aside" notice this store produced, for callers of the mutations."""
        self.recover: Callable[[], list[WatchEntry]] | None = None
        """The list to write when a change finds the file unreadable (None: start empty).

        Set by an app that holds the list on screen: its list is not lost with the file.
        """
        self.on_lock_wait: Callable[[Path], None] | None = None
        """Told the lock file when another process keeps this store waiting (see file_lock)."""
        self.legacy_url: LegacyUrl = default_legacy_url
        """The account URL of a schema 1 file's profile (see :func:`parse_watchlist`)."""

    def _move_aside(self, reason: str) -> _MovedAside:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        base = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        target = base
        for attempt in range(1, 1000):
            try:
                # link + unlink instead of rename: link refuses to replace an existing
                # file, so an earlier corrupt copy is never overwritten either.
                os.link(self.path, target)
                break
            except FileExistsError:
                target = base.with_name(f"{base.name}-{attempt}")
        else:  # pragma: no cover - a thousand corrupt files in one second
            raise WatchlistError(f"cannot move the unreadable {self.path} aside")
        os.unlink(self.path)
        return _MovedAside(reason, target)

    def _report(self, moved: _MovedAside, outcome: str) -> str:
        notice = (
            f"The watchlist {self.path} could not be read ({moved.reason}); it was moved to "
            f"{moved.target} and {outcome}."
        )
        log.warning("%s", notice)
        self.notices.append(notice)
        return notice

    def _read_locked(self) -> tuple[list[WatchEntry], _MovedAside | None]:
        """The entries on disk; the caller holds the lock."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return [], None
        except IsADirectoryError:
            raise WatchlistError(
                f"{self.path} is a folder, not a watchlist file; move it away and try again"
            ) from None
        except OSError as exc:
            raise WatchlistError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            return parse_watchlist(raw.decode("utf-8"), self.legacy_url), None
        except UnicodeDecodeError as exc:
            return [], self._move_aside(f"not UTF-8 text at byte {exc.start}")
        except _Corrupt as exc:
            return [], self._move_aside(str(exc))
        except WatchlistError as exc:
            raise WatchlistError(f"{self.path}: {exc}") from None

    def _write_locked(self, entries: list[WatchEntry]) -> None:
        atomic_write_text(self.path, watchlist_to_toml(entries), 0o600)

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.path, on_wait=self.on_lock_wait)

    @contextlib.contextmanager
    def _file_errors(self) -> Iterator[None]:
        """The folder made if missing; an OSError (not a lock wait) said in words."""
        try:
            ensure_private_dir(self.path.parent)
            yield
        except LockTimeout:
            raise
        except OSError as exc:
            where = exc.filename or self.path
            reason = _os_reason(exc)
            raise WatchlistError(
                f"cannot use the watchlist {self.path}: {where}: {reason}; make "
                f"{self.path.parent} a folder you can write to, or set XDG_DATA_HOME"
            ) from None

    def _mutate(
        self, change: Callable[[list[WatchEntry]], tuple[list[WatchEntry] | None, _T]]
    ) -> _T:
        """Read, ``change`` and write back under the lock; ``None`` entries means unchanged.

        A file found unreadable is moved aside; with :attr:`recover` set, the list it
        gives is changed and written in its place.
        """
        with self._file_errors(), self._lock():
            sweep_temp_files(self.path)
            current, moved = self._read_locked()
            if moved is not None and self.recover is not None:
                current = self.recover()
                updated, result = change(current)
                self._write_locked(current if updated is None else updated)
                self._report(moved, f"the list this instance holds was written back to {self.path}")
                return result
            if moved is not None:
                self._report(moved, "the list starts empty")
            updated, result = change(current)
            if updated is not None:
                self._write_locked(updated)
        return result

    def load(self) -> WatchlistLoad:
        """All entries; an unreadable file is moved aside and reported in ``notice``."""
        if not self.path.exists():
            return WatchlistLoad([])
        with self._file_errors(), self._lock():
            entries, moved = self._read_locked()
        return WatchlistLoad(
            entries, None if moved is None else self._report(moved, "the list starts empty")
        )

    def entries_for(self, api_url: str, asid: int) -> list[WatchEntry]:
        """One account's entries, in file order."""
        return account_entries(self.load().entries, api_url, asid)

    def add(self, entries: Iterable[WatchEntry]) -> AddResult:
        """Append entries not already watched; the others are returned as duplicates."""
        wanted = [replace(entry, label=clean_label(entry.label)) for entry in entries]

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, AddResult]:
            keys = {entry.key for entry in current}
            result = AddResult()
            for entry in wanted:
                if entry.key in keys:
                    result.duplicates.append(entry)
                else:
                    keys.add(entry.key)
                    result.added.append(entry)
            return (current + result.added if result.added else None), result

        return self._mutate(change)

    def remove(self, keys: Iterable[Key]) -> int:
        """Stop watching these keys; returns how many were removed."""
        doomed = set(keys)

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, int]:
            kept = [entry for entry in current if entry.key not in doomed]
            removed = len(current) - len(kept)
            return (kept if removed else None), removed

        return self._mutate(change)

    def set_label(self, key: Key, label: str) -> None:
        """Set one entry's label (nothing happens if another instance removed it)."""
        text = clean_label(label)

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, None]:
            if not any(entry.key == key for entry in current):
                return None, None
            return [replace(e, label=text) if e.key == key else e for e in current], None

        self._mutate(change)

    def update_status(self, statuses: Mapping[Key, LastStatus]) -> None:
        """Remember the last status of these entries; entries removed meanwhile stay removed."""
        if not statuses:
            return

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, None]:
            if not any(entry.key in statuses for entry in current):
                return None, None
            return [
                replace(entry, last=statuses[entry.key]) if entry.key in statuses else entry
                for entry in current
            ], None

        self._mutate(change)

    def record_decision(self, entry: WatchEntry) -> None:
        """Note that ``entry``'s diff was accepted or rejected (its ``accepted`` or
        ``rejected``); a diff not on the list is added with it."""

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, None]:
            if not any(e.key == entry.key for e in current):
                return [*current, replace(entry, label=clean_label(entry.label))], None
            return [
                replace(e, accepted=entry.accepted, rejected=entry.rejected)
                if e.key == entry.key
                else e
                for e in current
            ], None

        self._mutate(change)

    def update_version_status(self, statuses: Mapping[Key, LastStatus]) -> None:
        """Remember the last status of the image versions of these (accepted) diffs."""

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, None]:
            touched = [e for e in current if e.key in statuses and e.accepted is not None]
            if not touched:
                return None, None
            return [
                replace(e, accepted=replace(e.accepted, last=statuses[e.key]))
                if e.key in statuses and e.accepted is not None
                else e
                for e in current
            ], None

        if statuses:
            self._mutate(change)
