"""The app's view of one profile's watchlist on disk (add, remove, relabel, save status)."""

from __future__ import annotations

from collections.abc import Iterable

from tui.clock import Clock
from tui.models import LastStatus, WatchEntry
from tui.watchlist import WatchlistStore


class WatchSession:
    """One profile and account's slice of the watchlist file.

    Every call is a locked read-modify-write in :class:`WatchlistStore`, so another
    instance's changes are merged, never overwritten.

    Example:
        >>> # WatchSession(WatchlistStore(path), profile="prod", asid=1234, clock=SystemClock())
    """

    def __init__(self, store: WatchlistStore, *, profile: str, asid: int, clock: Clock) -> None:
        self._store = store
        self.profile = profile
        self.asid = asid
        self._clock = clock

    def _key(self, diffid: int) -> tuple[str, int, int]:
        return (self.profile, self.asid, diffid)

    def entries(self) -> list[WatchEntry]:
        """This profile's entries, as on disk now."""
        return self._store.entries_for(self.profile, self.asid)

    def add(self, ids: Iterable[int], label: str) -> tuple[list[WatchEntry], list[int]]:
        """Add IDs; return the new entries and the IDs already watched."""
        wanted = [
            WatchEntry(
                diffid=diffid,
                asid=self.asid,
                profile=self.profile,
                label=label,
                added_at=self._clock.now(),
            )
            for diffid in ids
        ]
        result = self._store.add(wanted)
        return list(result.added), [entry.diffid for entry in result.duplicates]

    def remove(self, ids: Iterable[int]) -> None:
        """Stop watching these diffs."""
        self._store.remove(self._key(diffid) for diffid in ids)

    def relabel(self, diffid: int, label: str) -> None:
        """Set one diff's label."""
        self._store.set_label(self._key(diffid), label)

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        """Remember the last known status of these diffs."""
        if statuses:
            self._store.update_status(
                {self._key(diffid): status for diffid, status in statuses.items()}
            )
