"""The watchlist file's layout (schema 3): what the user said and did, nothing learned.

::

    schema = 3

    [[account]]                     # one per account: its API URL and ASID
    api_url = "https://api.multiplay.co.uk"
    asid = 1234
    diffs = [4101, 4102, 4103]      # the watched diffs, in the order they were added

    [account.labels]                # each label, and the diffs that carry it
    "EU build 812" = [4101, 4102]

    [account.accepted.4102]         # the diff became an image version
    imageversionid = 700001
    restart = true
    full = false
    force = false
    game_build = "1.4.2"
    at = 1764340700.0

    [account.rejected.4103]         # instead of accepted
    reinstall = true
    uninstalljobid = 900001
    at = 1764340700.0

    [account.sent.4101.retry]       # sent, outcome not known yet: never sent again by itself
    at = 1764340800.0
    options = ""

Arrays of IDs (labels too: a label usually names a batch of diffs) and tables keyed
by ID, rather than a table per diff: ``tomllib`` reads them fast enough for 10,000 diffs
before the first frame. A diff under two labels keeps the first. Labels, decisions and actions
of a diff that is not in ``diffs`` are dropped. When each diff was added, and its
statuses, live in the status cache (:mod:`.status_cache`): the app noted them, the user
did not say them, and they would slow down reading what the user said.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, cast

import tomli_w

from tui.domain.ids import MAX_DIFF_ID
from tui.domain.watch_entry import Accepted, Rejected, SentAction, WatchEntry
from tui.store.watchlist.fields import (
    Corrupt,
    clean_label,
    drop_none,
    read_asid,
    read_bool,
    read_float,
    read_id,
    read_int,
    read_str,
    read_table,
)
from tui.store.watchlist.status_cache import Learned

SCHEMA: Final = 3
"""The layout this module reads and writes."""
ACTIONS: Final = ("retry", "accept", "reject", "create")
"""The actions a ``sent`` table may name."""


def _by_id(account: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    table = read_table(account, name, where)
    return {} if table is None else table


def _labels(account: Mapping[str, Any], where: str) -> dict[int, str]:
    """Each labelled diff's label (the first, for a diff listed under two)."""
    labels: dict[int, str] = {}
    # Last label first, so that the first one a diff is listed under is the one it keeps.
    for label, ids in reversed(list(_by_id(account, "labels", where).items())):
        if not isinstance(ids, list):
            raise Corrupt(f"{where}: labels.{label!r} must be an array of diff IDs")
        labels.update(dict.fromkeys(ids, label))
    return labels


def _accepted(table: object, where: str) -> Accepted:
    if not isinstance(table, dict):
        raise Corrupt(f"{where} must be a table")
    vid = read_int(table, "imageversionid", where)
    return Accepted(
        imageversionid=read_id(vid, "imageversionid", where),
        restart=read_bool(table, "restart", where),
        full=read_bool(table, "full", where),
        force=read_bool(table, "force", where),
        game_build=read_str(table, "game_build", where, optional=True),
        at=read_float(table, "at", where),
    )


def _rejected(table: object, where: str) -> Rejected:
    if not isinstance(table, dict):
        raise Corrupt(f"{where} must be a table")
    return Rejected(
        reinstall=read_bool(table, "reinstall", where),
        uninstalljobid=read_int(table, "uninstalljobid", where, optional=True),
        at=read_float(table, "at", where),
    )


def _sent(table: object, where: str) -> tuple[SentAction, ...]:
    if not isinstance(table, dict):
        raise Corrupt(f"{where} must be a table")
    sent = []
    for action, fields in table.items():
        if action not in ACTIONS or not isinstance(fields, dict):
            raise Corrupt(f"{where}: {action} is not an action ({', '.join(ACTIONS)})")
        here = f"{where}.{action}"
        options = read_str(fields, "options", here, optional=True) or ""
        sent.append(SentAction(action, read_float(fields, "at", here), options))
    return tuple(sent)


def _account_entries(account: object, index: int, learned: Learned) -> list[WatchEntry]:
    where = f"account #{index}"
    if not isinstance(account, dict):
        raise Corrupt(f"{where} must be a table")
    api_url = read_str(account, "api_url", where)
    asid = read_asid(account.get("asid"), where)
    assert api_url is not None
    ids = account.get("diffs", [])
    if not isinstance(ids, list):
        raise Corrupt(f"{where}: diffs must be an array of diff IDs")
    labels = _labels(account, where)
    accepted = _by_id(account, "accepted", where)
    rejected = _by_id(account, "rejected", where)
    sent = _by_id(account, "sent", where)
    ids = _checked_ids(ids, where)
    special = {_key_id(name) for name in (*accepted, *rejected, *sent)}
    special |= {
        diffid for url, account_id, diffid in learned.rare() if (url, account_id) == (api_url, asid)
    }
    last, added, label_of = learned.last.get, learned.added.get, labels.get
    # One comprehension for the usual diff (no decision, nothing rare learned), built
    # positionally in the constructor's order: 10,000 of them are read before the first frame.
    entries = [
        WatchEntry(diffid, asid, api_url, label_of(diffid, ""), added(key, 0.0), last(key))
        if diffid not in special
        else _decided(diffid, asid, api_url, label_of(diffid, ""), learned, account, where)
        for diffid in ids
        for key in ((api_url, asid, diffid),)
    ]
    return entries


def _checked_ids(raw: list[object], where: str) -> list[int]:
    """``raw`` as diff IDs, each once (the first time it is listed)."""
    ids = cast("list[int]", raw)
    # Checked as a whole (set, min, max run in C); one by one only to say what is wrong.
    if set(map(type, raw)) - {int} or (ids and not 0 < min(ids) <= max(ids) <= MAX_DIFF_ID):
        ids = [read_id(diffid, "diffs", where) for diffid in raw]
    if len(set(ids)) != len(ids):
        ids = list(dict.fromkeys(ids))
    return ids


def _key_id(name: str) -> int | str:
    """A decision's table key as the diff ID it names (a key that names none stays)."""
    return int(name) if name.isascii() and name.isdigit() else name


def _decided(
    diffid: int,
    asid: int,
    api_url: str,
    label: str,
    learned: Learned,
    account: Mapping[str, Any],
    where: str,
) -> WatchEntry:
    """A diff with a decision, an action sent or something rare learned."""
    name = str(diffid)
    accepted = _by_id(account, "accepted", where)
    rejected = _by_id(account, "rejected", where)
    sent = _by_id(account, "sent", where)
    entry = _with_decision(
        WatchEntry(diffid, asid, api_url, label), name, accepted, rejected, sent, where
    )
    return learned.applied(entry)


def _with_decision(
    entry: WatchEntry,
    key: str,
    accepted: Mapping[str, Any],
    rejected: Mapping[str, Any],
    sent: Mapping[str, Any],
    where: str,
) -> WatchEntry:
    return WatchEntry(
        entry.diffid,
        entry.asid,
        entry.api_url,
        entry.label,
        entry.added_at,
        accepted=_accepted(accepted[key], f"{where}: accepted.{key}") if key in accepted else None,
        rejected=_rejected(rejected[key], f"{where}: rejected.{key}") if key in rejected else None,
        sent=_sent(sent[key], f"{where}: sent.{key}") if key in sent else (),
    )


def layout_entries(data: Mapping[str, Any], learned: Learned | None = None) -> list[WatchEntry]:
    """The entries of a schema 3 file's data: accounts in file order, each one's diffs in
    the order of its ``diffs`` (a diff listed twice is kept once), with what the app
    ``learned`` of them (none: as the file holds them)."""
    learned = Learned() if learned is None else learned
    raw = data.get("account", [])
    if not isinstance(raw, list):
        raise Corrupt("account must be an array of tables")
    entries: list[WatchEntry] = []
    known: set[tuple[str, int, int]] = set()
    for index, account in enumerate(raw, start=1):
        for entry in _account_entries(account, index, learned):
            if entry.key not in known:
                known.add(entry.key)
                entries.append(entry)
    return entries


def _decision_tables(entry: WatchEntry) -> dict[str, dict[str, Any]]:
    tables: dict[str, dict[str, Any]] = {}
    if (accepted := entry.accepted) is not None:
        game_build = accepted.game_build
        tables["accepted"] = drop_none(
            {
                "imageversionid": accepted.imageversionid,
                "restart": accepted.restart,
                "full": accepted.full,
                "force": accepted.force,
                "game_build": clean_label(game_build) if game_build is not None else None,
                "at": float(accepted.at),
            }
        )
    if (rejected := entry.rejected) is not None:
        tables["rejected"] = drop_none(
            {
                "reinstall": rejected.reinstall,
                "uninstalljobid": rejected.uninstalljobid,
                "at": float(rejected.at),
            }
        )
    if entry.sent:
        tables["sent"] = {
            sent.action: {"at": float(sent.at), "options": clean_label(sent.options)}
            for sent in entry.sent
        }
    return tables


def _account_table(entries: list[WatchEntry]) -> dict[str, Any]:
    first = entries[0]
    table: dict[str, Any] = {
        "api_url": clean_label(first.api_url),
        "asid": first.asid,
        "diffs": [entry.diffid for entry in entries],
    }
    labels: dict[str, list[int]] = {}
    for entry in entries:
        if entry.label:
            labels.setdefault(clean_label(entry.label), []).append(entry.diffid)
    if labels:
        table["labels"] = labels
    for entry in entries:
        if entry.decided or entry.sent:
            for name, fields in _decision_tables(entry).items():
                table.setdefault(name, {})[str(entry.diffid)] = fields
    return table


def layout_text(entries: Iterable[WatchEntry]) -> str:
    """The file text for ``entries`` (their statuses are not part of it)."""
    accounts: dict[tuple[str, int], list[WatchEntry]] = {}
    for entry in entries:
        accounts.setdefault((entry.api_url, entry.asid), []).append(entry)
    data = {"schema": SCHEMA, "account": [_account_table(group) for group in accounts.values()]}
    return tomli_w.dumps(data)
