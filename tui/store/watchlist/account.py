"""One account's slice of the watchlist (its API URL and ASID): what the app writes to."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path

from tui.domain.clock import Clock
from tui.domain.watch_entry import Accepted, LastStatus, Rejected, WatchEntry
from tui.store.watchlist.file import WatchlistStore


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

    def relabel(self, diffid: int, label: str) -> None:
        """Set one diff's label."""
        try:
            self._store.set_label(self._key(diffid), label)
        finally:
            self._tell_notices()
        if diffid in self._held:
            self._held[diffid] = dataclasses.replace(self._held[diffid], label=label)

    def check_file(self) -> None:
        """If another writer changed, deleted or broke the file since this instance last
        read or wrote it, read it again: a missing or unreadable file gets the list this
        instance holds written back (and a notice says so). A stat when nothing changed."""
        if not self._store.changed_on_disk():
            return
        try:
            self._store.reread()
        finally:
            self._tell_notices()

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        """Remember the last known status of these diffs (in the status cache); check the
        file on the way (see :meth:`check_file`)."""
        self.check_file()
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
