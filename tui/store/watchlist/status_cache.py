"""What the app learned of the watched diffs: a cache beside the watchlist file.

The last status of each diff and of the jobs its accept or reject started, and the
last action's outcome when it was not a plain success. JSON, in the user's cache
folder; written with the watchlist file's rules (a lock around read-modify-write that
merges with what is on disk, an atomic replace). Losing it, or finding it unreadable,
costs a first poll: the watchlist itself (IDs, labels, decisions, actions whose
outcome is unknown) never depends on it.

::

    {"schema": 1, "accounts": [{"api_url": "...", "asid": 1234, "diffs": {
        "4101": {"last": [4, "Running", 40, 1764340600, null, 1764340100.2, 1764340050],
                 "version": [...], "uninstall": [...],
                 "outcome": {"action": "retry", "outcome": "refused", "reason": "...",
                             "at": 1764340800.0}}}}]}

A status is a list in the order of :class:`~tui.domain.watch_entry.LastStatus`'s fields
(state ID, state name, progress, ETA, error, seen at, start): one list per diff rather
than an object keeps a 10,000-diff cache quick to read before the first frame.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tui.domain.watch_entry import ActionOutcome, LastStatus, WatchEntry
from tui.store.atomic_file import atomic_write_text, ensure_private_dir, file_lock
from tui.store.watchlist.fields import (
    Corrupt,
    clean_label,
    read_asid,
    read_float,
    read_str,
)

log = logging.getLogger(__name__)

CACHE_SCHEMA: Final = 1

Key = tuple[str, int, int]
"""(api_url, asid, diffid)."""


@dataclass(frozen=True, slots=True)
class Learned:
    """What the app last learned of one diff."""

    last: LastStatus | None = None
    version: LastStatus | None = None
    """The image-version job its accept started."""
    uninstall: LastStatus | None = None
    """The uninstall job its reject started, as the reject's answer described it."""
    outcome: ActionOutcome | None = None

    @classmethod
    def of(cls, entry: WatchEntry) -> Learned:
        """What ``entry`` holds of what was learned."""
        accepted, rejected = entry.accepted, entry.rejected
        return cls(
            entry.last,
            accepted.last if accepted is not None else None,
            rejected.last if rejected is not None else None,
            entry.outcome,
        )

    def is_empty(self) -> bool:
        """Nothing learned."""
        return self == _NOTHING


_NOTHING: Final = Learned()


def with_learned(entry: WatchEntry, learned: Learned | None) -> WatchEntry:
    """``entry`` (as the watchlist file holds it) with what was learned of it."""
    if learned is None:
        return entry
    accepted, rejected = entry.accepted, entry.rejected
    if accepted is not None and learned.version is not None:
        accepted = dataclasses.replace(accepted, last=learned.version)
    if rejected is not None and learned.uninstall is not None:
        rejected = dataclasses.replace(rejected, last=learned.uninstall)
    return WatchEntry(
        entry.diffid,
        entry.asid,
        entry.api_url,
        entry.label,
        entry.added_at,
        learned.last,
        accepted,
        rejected,
        entry.sent,
        learned.outcome,
    )


def _outcome(data: object, where: str) -> ActionOutcome:
    if not isinstance(data, dict):
        raise Corrupt(f"{where}: outcome must be an object")
    return ActionOutcome(
        action=read_str(data, "action", where) or "",
        outcome=read_str(data, "outcome", where) or "",
        reason=read_str(data, "reason", where, optional=True) or "",
        at=read_float(data, "at", where),
    )


_INT: Final = (int, type(None))
_STR: Final = (str, type(None))


def _status(data: object) -> LastStatus | None:
    """A status as :func:`_status_list` writes it."""
    if data is None:
        return None
    if type(data) is not list or len(data) != _STATUS_LENGTH:
        raise Corrupt(f"a status must be a list of {_STATUS_LENGTH}")
    state_id, name, progress, eta, error, seen_at, start = data
    if (
        type(state_id) not in _INT
        or type(name) is not str
        or type(progress) is not int
        or type(eta) not in _INT
        or type(error) not in _STR
        or type(seen_at) not in (float, int)
        or type(start) not in _INT
    ):
        raise Corrupt("a status value of the wrong type")
    return LastStatus(state_id, name, progress, eta, error, float(seen_at), start)


_STATUS_LENGTH: Final = 7


def _status_list(last: LastStatus) -> list[object]:
    return [
        last.state_id,
        clean_label(last.state_name),
        last.progress,
        last.eta,
        None if last.error is None else clean_label(last.error),
        float(last.seen_at),
        last.start,
    ]


def _learned(data: object) -> Learned:
    if type(data) is not dict:
        raise Corrupt("must be an object")
    get = data.get
    outcome = get("outcome")
    return Learned(
        _status(get("last")),
        _status(get("version")),
        _status(get("uninstall")),
        None if outcome is None else _outcome(outcome, "outcome"),
    )


def parse_cache(text: str) -> dict[Key, Learned]:
    """The cache's content; raises :class:`Corrupt` for anything unreadable."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Corrupt(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA:
        raise Corrupt(f"not a status cache of schema {CACHE_SCHEMA}")
    accounts = data.get("accounts")
    if not isinstance(accounts, list):
        raise Corrupt("accounts must be a list")
    learned: dict[Key, Learned] = {}
    for index, account in enumerate(accounts, start=1):
        where = f"account #{index}"
        if not isinstance(account, dict) or not isinstance(account.get("diffs"), dict):
            raise Corrupt(f"{where} must be an object with diffs")
        api_url = read_str(account, "api_url", where) or ""
        asid = read_asid(account.get("asid"), where)
        for key, item in account["diffs"].items():
            try:
                learned[(api_url, asid, int(key))] = _learned(item)
            except (Corrupt, ValueError) as exc:
                raise Corrupt(f"{where} diff {key!r}: {exc}") from None
    return learned


def _item(learned: Learned) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, last in (
        ("last", learned.last),
        ("version", learned.version),
        ("uninstall", learned.uninstall),
    ):
        if last is not None:
            item[name] = _status_list(last)
    if learned.outcome is not None:
        item["outcome"] = dataclasses.asdict(learned.outcome)
    return item


def cache_text(learned: Mapping[Key, Learned]) -> str:
    """The cache's file text."""
    accounts: dict[tuple[str, int], dict[str, Any]] = {}
    for (api_url, asid, diffid), item in learned.items():
        if item.is_empty():
            continue
        account = accounts.setdefault(
            (api_url, asid), {"api_url": api_url, "asid": asid, "diffs": {}}
        )
        account["diffs"][str(diffid)] = _item(item)
    data = {"schema": CACHE_SCHEMA, "accounts": list(accounts.values())}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class StatusCache:
    """The cache file: read whole, changed under its lock, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.on_lock_wait: Callable[[Path], None] | None = None

    def read(self) -> dict[Key, Learned]:
        """What the cache holds; nothing when it is missing or unreadable (logged)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            log.warning(
                "the status cache %s cannot be read (%s): starting without it", self.path, exc
            )
            return {}
        try:
            return parse_cache(text)
        except (Corrupt, RecursionError) as exc:
            log.warning(
                "the status cache %s is unreadable (%s): starting without it", self.path, exc
            )
            return {}

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_private_dir(self.path.parent)
        with file_lock(self.path, on_wait=self.on_lock_wait):
            yield

    def change(self, update: Callable[[dict[Key, Learned]], bool]) -> None:
        """Read, ``update`` in place (True: something changed) and write back, under the lock.

        A cache that cannot be written is logged and left: it costs a poll, not a diff.
        """
        try:
            with self._locked():
                learned = self.read()
                if update(learned):
                    atomic_write_text(self.path, cache_text(learned), 0o600)
        except OSError as exc:
            log.warning("the status cache %s cannot be written: %s", self.path, exc)

    def set(self, field: str, values: Mapping[Key, LastStatus | ActionOutcome | None]) -> None:
        """Set one field (``last``, ``version``, ``uninstall`` or ``outcome``) of each key."""
        if not values:
            return

        def update(learned: dict[Key, Learned]) -> bool:
            for key, value in values.items():
                learned[key] = _with(learned.get(key, _NOTHING), field, value)
            return True

        self.change(update)

    def merge(self, entries: Iterable[WatchEntry]) -> None:
        """Keep what these entries learned where it is newer than the cache's (a migration)."""
        found = {entry.key: Learned.of(entry) for entry in entries}
        found = {key: item for key, item in found.items() if not item.is_empty()}

        def update(learned: dict[Key, Learned]) -> bool:
            for key, item in found.items():
                known = learned.get(key)
                if known is None or _seen(item.last) > _seen(known.last):
                    learned[key] = item
            return bool(found)

        if found:
            self.change(update)

    def forget(self, keys: Iterable[Key]) -> None:
        """Drop what was learned of these keys (no longer watched)."""
        doomed = set(keys)

        def update(learned: dict[Key, Learned]) -> bool:
            before = len(learned)
            for key in doomed:
                learned.pop(key, None)
            return len(learned) != before

        if doomed and self.path.exists():
            self.change(update)


def _with(item: Learned, field: str, value: LastStatus | ActionOutcome | None) -> Learned:
    if field == "outcome":
        assert value is None or isinstance(value, ActionOutcome)
        return dataclasses.replace(item, outcome=value)
    assert value is None or isinstance(value, LastStatus)
    if field == "last":
        return dataclasses.replace(item, last=value)
    if field == "version":
        return dataclasses.replace(item, version=value)
    assert field == "uninstall", field
    return dataclasses.replace(item, uninstall=value)


def _seen(last: LastStatus | None) -> float:
    return -1.0 if last is None else last.seen_at
