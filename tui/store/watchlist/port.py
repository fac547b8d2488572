"""What the app needs from the watchlist (a test seam: tests pass an in-memory one)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

from tui.domain.watch_entry import (
    Accepted,
    LastOutcome,
    LastStatus,
    Rejected,
    SentAction,
    WatchEntry,
)
from tui.store.watchlist.account import WatchlistChange


class WatchlistPort(Protocol):
    """What the app needs from the watchlist: add, remove, relabel, save status.

    :class:`tui.store.watchlist.account.AccountWatchlist` implements it on the watchlist
    file; tests may pass an in-memory one.
    """

    def add(self, ids: Iterable[int], label: str) -> tuple[list[WatchEntry], list[int]]:
        """Add IDs; return the new entries and the IDs that were already watched."""
        ...

    def remove(self, ids: Iterable[int]) -> None:
        """Stop watching these diffs."""
        ...

    def relabel(self, diffid: int, label: str) -> bool:
        """Set a diff's label; False when it is no longer watched (nothing saved)."""
        ...

    def record_decision(
        self, diffid: int, *, accepted: Accepted | None = None, rejected: Rejected | None = None
    ) -> WatchEntry:
        """Remember that a diff was accepted or rejected (and how)."""
        ...

    def note_sent(self, diffid: int, sent: SentAction) -> bool:
        """Keep an action about to be sent with its diff until its outcome is known."""
        ...

    def pending(self, diffid: int) -> tuple[SentAction, ...]:
        """The actions on ``diffid`` in the file whose outcome is unknown (any writer's)."""
        ...

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        """Remember the last known status of these diffs."""
        ...

    def note_outcome(self, diffid: int, action: str, outcome: LastOutcome | None) -> None:
        """Remember what became of the last action on a diff (None: it succeeded), until
        a newer one replaces it; an outcome that is not unknown clears its sent mark."""
        ...

    def check_file(self) -> WatchlistChange:
        """What another writer did to the file since the last call (see
        :meth:`~tui.store.watchlist.account.AccountWatchlist.check_file`)."""
        ...

    def listen(
        self, *, on_lock_wait: Callable[[Path], None], on_notice: Callable[[str], None]
    ) -> None:
        """Be told (from the file thread) of waits for another process's lock, and of
        notices such as a corrupt file moved aside."""
        ...
