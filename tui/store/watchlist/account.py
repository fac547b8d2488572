"""One account's slice of the watchlist (its API URL and ASID): what the app writes to."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tui.domain.actions import ActionOutcome
from tui.domain.clock import Clock
from tui.domain.watch_entry import (
    Accepted,
    LastOutcome,
    LastStatus,
    Rejected,
    SentAction,
    WatchEntry,
)
from tui.store.watchlist.file import WatchlistStore


@dataclass
class WatchlistChange:
    """What another writer (the command line, another instance) did to one account's
    diffs in the file, as found by :meth:`AccountWatchlist.check_file`."""

    added: list[WatchEntry] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    relabeled: dict[int, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.relabeled)

    def words(self) -> str:
        """One line for the user: what changed."""
        parts = []
        if self.added:
            parts.append(f"added {_ids(entry.diffid for entry in self.added)}")
        if self.removed:
            parts.append(f"removed {_ids(self.removed)}")
        if self.relabeled:
            parts.append(f"relabelled {_ids(self.relabeled)}")
        return (
            "The watchlist file was changed by another writer (the command line or another "
            f"instance): {'; '.join(parts)}."
        )


def _ids(ids: Iterable[int], shown: int = 5) -> str:
    listed = [f"#{diffid}" for diffid in ids]
    more = f" and {len(listed) - shown} more" if len(listed) > shown else ""
    return ", ".join(listed[:shown]) + more


class AccountWatchlist:
    """One account's slice of the watchlist file and its status cache.

    Every call is a locked read-modify-write in :class:`WatchlistStore`, so another
    instance's changes are merged, never overwritten. It also remembers the list it
    holds (what the app shows): when a change finds the file unreadable (a corrupt copy
    is moved aside), that list is written in its place, not lost.

    Example:
        >>> # AccountWatchlist(WatchlistStore(path), api_url="https://api.x", asid=1234,
        >>> #                  clock=SystemClock())
    """

    def __init__(
        self,
        store: WatchlistStore,
        *,
        api_url: str,
        asid: int,
        clock: Clock,
        held: Iterable[WatchEntry] = (),
    ) -> None:
        self._store = store
        self.api_url = api_url
        self.asid = asid
        self._clock = clock
        self._held = {entry.diffid: entry for entry in held}
        self._on_notice: Callable[[str], None] | None = None
        self._found = WatchlistChange()
        """Changes by other writers found and not yet taken by :meth:`check_file`."""
        store.recover = lambda: list(self._held.values())

    def _key(self, diffid: int) -> tuple[str, int, int]:
        return (self.api_url, self.asid, diffid)

    def listen(
        self, *, on_lock_wait: Callable[[Path], None], on_notice: Callable[[str], None]
    ) -> None:
        """Be told (from the thread doing the file work) of lock waits and files moved aside."""
        self._store.on_lock_wait = on_lock_wait
        self._on_notice = on_notice

    def _tell_notices(self) -> None:
        notices, self._store.notices[:] = list(self._store.notices), []
        if self._on_notice is not None:
            for notice in notices:
                self._on_notice(notice)

    def entries(self) -> list[WatchEntry]:
        """This account's entries, as on disk now."""
        return self._store.entries_for(self.api_url, self.asid)

    def add(self, ids: Iterable[int], label: str) -> tuple[list[WatchEntry], list[int]]:
        """Add IDs; return the new entries and the IDs already watched."""
        wanted = [
            WatchEntry(
                diffid=diffid,
                asid=self.asid,
                api_url=self.api_url,
                label=label,
                added_at=self._clock.now(),
            )
            for diffid in ids
        ]
        try:
            result = self._store.add(wanted)
        finally:
            self._tell_notices()
        for entry in [*result.added, *result.duplicates]:
            self._held.setdefault(entry.diffid, entry)
        return list(result.added), [entry.diffid for entry in result.duplicates]

    def remove(self, ids: Iterable[int]) -> None:
        """Stop watching these diffs."""
        doomed = list(ids)
        try:
            self._store.remove(self._key(diffid) for diffid in doomed)
        finally:
            self._tell_notices()
        for diffid in doomed:
            self._held.pop(diffid, None)

    def relabel(self, diffid: int, label: str) -> bool:
        """Set one diff's label; False when it is no longer watched (another writer
        removed it): nothing is saved."""
        try:
            saved = self._store.set_label(self._key(diffid), label)
        finally:
            self._tell_notices()
        if not saved:
            return False
        if diffid in self._held:
            self._held[diffid] = dataclasses.replace(self._held[diffid], label=label)
        return True

    def check_file(self) -> WatchlistChange:
        """What another writer did to this account's diffs since the last call (nothing,
        most often: a stat). The file is read again when it changed: a missing or
        unreadable file gets the list this instance holds written back (and a notice
        says so); diffs added, removed or relabelled elsewhere are returned, and held."""
        self._look()
        found, self._found = self._found, WatchlistChange()
        return found

    def _look(self) -> None:
        """Read the file again if another writer touched it; note what it did."""
        store = self._store
        if not store.changed_on_disk():
            return
        try:
            on_disk = store.reread()
        finally:
            self._tell_notices()
        store.changed_elsewhere = False
        mine = {e.diffid: e for e in on_disk if e.api_url == self.api_url and e.asid == self.asid}
        found = self._found
        for diffid in [d for d in self._held if d not in mine]:
            del self._held[diffid]
            found.removed.append(diffid)
        for diffid, entry in mine.items():
            held = self._held.get(diffid)
            if held is None:
                self._held[diffid] = entry
                found.added.append(entry)
            elif held.label != entry.label:
                self._held[diffid] = dataclasses.replace(held, label=entry.label)
                found.relabeled[diffid] = entry.label

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        """Remember the last known status of these diffs (in the status cache); look at
        the file on the way (see :meth:`check_file`)."""
        self._look()
        if not statuses:
            return
        self._store.update_status(
            {self._key(diffid): status for diffid, status in statuses.items()}
        )
        for diffid, status in statuses.items():
            if diffid in self._held:
                self._held[diffid] = dataclasses.replace(self._held[diffid], last=status)

    def record_decision(
        self, diffid: int, *, accepted: Accepted | None = None, rejected: Rejected | None = None
    ) -> WatchEntry:
        """Note that a diff was accepted (its image version linked) or rejected; a diff
        not on the list is added with it. Returns the entry as now held."""
        held = self._held.get(diffid)
        if held is None:
            held = WatchEntry(diffid, self.asid, self.api_url, added_at=self._clock.now())
        entry = dataclasses.replace(held, accepted=accepted, rejected=rejected)
        try:
            self._store.record_decision(entry)
        finally:
            self._tell_notices()
        self._held[diffid] = entry
        return entry

    def note_sent(self, diffid: int, sent: SentAction) -> bool:
        """Keep an action about to be sent with its diff, in the file, until its outcome
        is known (never in the cache: losing that must not let it be sent twice)."""
        try:
            kept = self._store.note_sent(self._key(diffid), sent)
        finally:
            self._tell_notices()
        held = self._held.get(diffid)
        if kept and held is not None:
            others = tuple(s for s in held.sent if s.action != sent.action)
            self._held[diffid] = dataclasses.replace(held, sent=(*others, sent))
        return kept

    def pending(self, diffid: int) -> tuple[SentAction, ...]:
        """The actions on ``diffid`` in the file now whose outcome is unknown (noted by
        any writer: this instance, another, the command line)."""
        return next((entry.sent for entry in self.entries() if entry.diffid == diffid), ())

    def note_outcome(self, diffid: int, action: str, outcome: LastOutcome | None) -> None:
        """The outcome of ``action`` on a diff (None: it succeeded); see
        :meth:`WatchlistStore.note_outcome`."""
        try:
            self._store.note_outcome(self._key(diffid), action, outcome)
        finally:
            self._tell_notices()
        held = self._held.get(diffid)
        if held is not None and (outcome is None or outcome.outcome is not ActionOutcome.UNKNOWN):
            kept = tuple(s for s in held.sent if s.action != action)
            self._held[diffid] = dataclasses.replace(held, sent=kept, outcome=outcome)

    def save_version_status(self, statuses: dict[int, LastStatus]) -> None:
        """Remember the last known status of the image versions of these diffs."""
        if not statuses:
            return
        self._store.update_version_status(
            {self._key(diffid): status for diffid, status in statuses.items()}
        )
        for diffid, status in statuses.items():
            accepted = self._held[diffid].accepted if diffid in self._held else None
            if accepted is not None:
                self._held[diffid] = dataclasses.replace(
                    self._held[diffid], accepted=dataclasses.replace(accepted, last=status)
                )
