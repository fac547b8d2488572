"""What the app learned of the watched diffs: a cache beside the watchlist file.

The last status of each diff and of the jobs its accept or reject started, the last
action's outcome when it was not a plain success, and when the diff was added. JSON,
in the user's cache folder; written with the watchlist file's rules (a lock around
read-modify-write that merges with what is on disk, an atomic replace). Losing it, or
finding it unreadable, costs a first poll: the watchlist itself (IDs, labels,
decisions, actions whose outcome is unknown) never depends on it.

::

    {"schema": 1, "accounts": [{"api_url": "...", "asid": 1234,
        "last": {"4101": [4, "Running", 40, 1764340600, null, 1764340100.2, 1764340050]},
        "added": {"4101": 1764340000.0},
        "version": {"4102": [...]}, "uninstall": {"4103": [...]},
        "outcome": {"4101": {"action": "retry", "outcome": "refused", "reason": "...",
                             "at": 1764340800.0}}}]}

A status is a list in the order of :class:`~tui.domain.watch_entry.LastStatus`'s fields
(state ID, state name, progress, ETA, error, seen at, start), and each kind of fact has
its own map: a 10,000-diff cache is read before the first frame, so it is read in one
pass per kind with no object per diff beyond the status itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from tui.domain.actions import ActionOutcome
from tui.domain.watch_entry import LastOutcome, LastStatus, WatchEntry
from tui.store.atomic_file import atomic_write_text, ensure_private_dir, file_lock
from tui.store.watchlist.fields import Corrupt, clean_label, read_asid, read_float, read_str

log = logging.getLogger(__name__)

CACHE_SCHEMA: Final = 1

Key = tuple[str, int, int]
"""(api_url, asid, diffid)."""

STATUS_KINDS: Final = ("last", "version", "uninstall")
"""The statuses kept: the diff's, its version job's, its uninstall job's."""


@dataclass
class Learned:
    """What the app last learned of the watched diffs, kind by kind."""

    last: dict[Key, LastStatus] = field(default_factory=dict)
    version: dict[Key, LastStatus] = field(default_factory=dict)
    """The image-version job each accept started."""
    uninstall: dict[Key, LastStatus] = field(default_factory=dict)
    """The uninstall job each reject started, as the reject's answer described it."""
    outcome: dict[Key, LastOutcome] = field(default_factory=dict)
    added: dict[Key, float] = field(default_factory=dict)
    """When each diff was added to the watchlist (Unix time)."""

    def statuses(self, kind: str) -> dict[Key, LastStatus]:
        """One of :data:`STATUS_KINDS`."""
        found: dict[Key, LastStatus] = getattr(self, kind)
        return found

    def note(self, entry: WatchEntry) -> None:
        """Keep what ``entry`` holds of what was learned (its statuses, outcome, time added)."""
        key = entry.key
        accepted, rejected = entry.accepted, entry.rejected
        for kind, last in (
            ("last", entry.last),
            ("version", accepted.last if accepted is not None else None),
            ("uninstall", rejected.last if rejected is not None else None),
        ):
            if last is not None:
                self.statuses(kind)[key] = last
        if entry.outcome is not None:
            self.outcome[key] = entry.outcome
        if entry.added_at:
            self.added[key] = entry.added_at

    def forget(self, key: Key) -> None:
        """Drop everything known of ``key``."""
        for kind in (*STATUS_KINDS, "outcome", "added"):
            getattr(self, kind).pop(key, None)

    def rare(self) -> set[Key]:
        """The keys with more than a status and a time: a decision's job, an outcome."""
        return {*self.version, *self.uninstall, *self.outcome}

    def applied(self, entry: WatchEntry) -> WatchEntry:
        """``entry`` (as the watchlist file holds it) with what was learned of it."""
        key = entry.key
        accepted, rejected = entry.accepted, entry.rejected
        version, uninstall = self.version.get(key), self.uninstall.get(key)
        if accepted is not None and version is not None:
            accepted = dataclasses.replace(accepted, last=version)
        if rejected is not None and uninstall is not None:
            rejected = dataclasses.replace(rejected, last=uninstall)
        return dataclasses.replace(
            entry,
            added_at=self.added.get(key, entry.added_at),
            last=self.last.get(key),
            accepted=accepted,
            rejected=rejected,
            outcome=self.outcome.get(key),
        )


def _outcome(data: object) -> LastOutcome:
    if not isinstance(data, dict):
        raise Corrupt("an outcome must be an object")
    try:
        outcome = ActionOutcome(read_str(data, "outcome", "outcome") or "")
    except ValueError:
        raise Corrupt(f"not an outcome: {data.get('outcome')!r}") from None
    return LastOutcome(
        action=read_str(data, "action", "outcome") or "",
        outcome=outcome,
        reason=read_str(data, "reason", "outcome", optional=True) or "",
        at=read_float(data, "at", "outcome"),
    )


_NONE: Final = type(None)
_STATUS_TYPES: Final = frozenset(
    itertools.product(
        (int, _NONE), (str,), (int,), (int, _NONE), (str, _NONE), (float, int), (int, _NONE)
    )
)
"""The types a status list may hold, field by field (one set lookup checks all seven)."""


def _status(data: object) -> LastStatus:
    """A status as :func:`_status_list` writes it."""
    if type(data) is not list or tuple(map(type, data)) not in _STATUS_TYPES:
        raise Corrupt("a status must be a list of its seven fields")
    return LastStatus(*data)


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


def _added(data: object) -> float:
    if type(data) is float:
        return data
    if type(data) is not int:
        raise Corrupt("a time added must be a number")
    return float(data)


_READERS: Final[dict[str, Callable[[object], Any]]] = {
    "last": _status,
    "version": _status,
    "uninstall": _status,
    "outcome": _outcome,
    "added": _added,
}


def parse_cache(text: str) -> Learned:
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
    learned = Learned()
    for index, account in enumerate(accounts, start=1):
        where = f"account #{index}"
        if not isinstance(account, dict):
            raise Corrupt(f"{where} must be an object")
        api_url = read_str(account, "api_url", where) or ""
        asid = read_asid(account.get("asid"), where)
        for kind, read in _READERS.items():
            items = account.get(kind, {})
            if not isinstance(items, dict):
                raise Corrupt(f"{where}: {kind} must be an object")
            found = getattr(learned, kind)
            try:
                for diffid, item in items.items():
                    found[(api_url, asid, int(diffid))] = read(item)
            except (Corrupt, ValueError) as exc:
                raise Corrupt(f"{where} {kind}: {exc}") from None
    return learned


def cache_text(learned: Learned) -> str:
    """The cache's file text."""
    accounts: dict[tuple[str, int], dict[str, Any]] = {}
    write: dict[str, Callable[[Any], object]] = {
        "last": _status_list,
        "version": _status_list,
        "uninstall": _status_list,
        "outcome": dataclasses.asdict,
        "added": float,
    }
    for kind, to_json in write.items():
        for (api_url, asid, diffid), item in getattr(learned, kind).items():
            account = accounts.get((api_url, asid))
            if account is None:
                account = accounts[(api_url, asid)] = {"api_url": api_url, "asid": asid}
            account.setdefault(kind, {})[str(diffid)] = to_json(item)
    data = {"schema": CACHE_SCHEMA, "accounts": list(accounts.values())}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class StatusCache:
    """The cache file: read whole, changed under its lock, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.on_lock_wait: Callable[[Path], None] | None = None

    def read(self) -> Learned:
        """What the cache holds; nothing when it is missing or unreadable (logged)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return Learned()
        except (OSError, UnicodeDecodeError) as exc:
            log.warning(
                "the status cache %s cannot be read (%s): starting without it", self.path, exc
            )
            return Learned()
        try:
            return parse_cache(text)
        except (Corrupt, RecursionError) as exc:
            log.warning(
                "the status cache %s is unreadable (%s): starting without it", self.path, exc
            )
            return Learned()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        ensure_private_dir(self.path.parent)
        with file_lock(self.path, on_wait=self.on_lock_wait):
            yield

    def change(self, update: Callable[[Learned], bool]) -> None:
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

    def set_statuses(self, kind: str, statuses: Mapping[Key, LastStatus]) -> None:
        """Remember these statuses (``kind``: one of :data:`STATUS_KINDS`)."""
        if statuses:
            self.change(lambda learned: learned.statuses(kind).update(statuses) is None)

    def set_outcome(self, key: Key, outcome: LastOutcome | None) -> None:
        """Remember the last action's outcome on ``key`` (None: nothing to say)."""

        def update(learned: Learned) -> bool:
            if outcome is None:
                return learned.outcome.pop(key, None) is not None
            learned.outcome[key] = outcome
            return True

        self.change(update)

    def merge(self, entries: Iterable[WatchEntry]) -> None:
        """Keep what these entries hold of what was learned, where the cache knows no
        newer status (an old file's statuses, a diff just added)."""
        found = Learned()
        for entry in entries:
            found.note(entry)
        if not any((found.last, found.version, found.uninstall, found.outcome, found.added)):
            return

        def update(learned: Learned) -> bool:
            for key, last in found.last.items():
                known = learned.last.get(key)
                if known is None or last.seen_at > known.seen_at:
                    learned.last[key] = last
            for kind in ("version", "uninstall", "outcome", "added"):
                for key, value in getattr(found, kind).items():
                    getattr(learned, kind).setdefault(key, value)
            return True

        self.change(update)

    def forget(self, keys: Iterable[Key]) -> None:
        """Drop what was learned of these keys (no longer watched)."""
        doomed = set(keys)

        def update(learned: Learned) -> bool:
            for key in doomed:
                learned.forget(key)
            return True

        if doomed and self.path.exists():
            self.change(update)
