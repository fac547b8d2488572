"""What the app is given: how this run is set up, and the watchlist it writes to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from tui.domain.poll_settings import PollSettings
from tui.domain.watch_entry import Accepted, LastStatus, Rejected, WatchEntry

if TYPE_CHECKING:
    from tui.ui.profile_switch import ConfigProfiles


class WatchlistPort(Protocol):
    """What the app needs from the watchlist: add, remove, relabel, save status.

    :class:`tui.store.watchlist.session.WatchSession` implements it on the watchlist file; tests
    may pass an in-memory one.
    """

    def add(self, ids: Iterable[int], label: str) -> tuple[list[WatchEntry], list[int]]:
        """Add IDs; return the new entries and the IDs that were already watched."""
        ...

    def remove(self, ids: Iterable[int]) -> None:
        """Stop watching these diffs."""
        ...

    def relabel(self, diffid: int, label: str) -> None:
        """Set a diff's label."""
        ...

    def record_decision(
        self, diffid: int, *, accepted: Accepted | None = None, rejected: Rejected | None = None
    ) -> WatchEntry:
        """Remember that a diff was accepted or rejected (and how)."""
        ...

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        """Remember the last known status of these diffs."""
        ...

    def listen(
        self, *, on_lock_wait: Callable[[Path], None], on_notice: Callable[[str], None]
    ) -> None:
        """Be told (from the file thread) of waits for another process's lock, and of
        notices such as a corrupt file moved aside."""
        ...


@dataclass
class AppOptions:
    """How this run of the app is set up."""

    profile: str
    asid: int
    api_host: str
    """The API's host name (and port), as the header shows it."""
    api_url: str = ""
    """The account's API URL as the watchlist keys it (:func:`tui.store.config.account_url`)."""
    read_only: bool = False
    bell: bool = False
    compact: bool = False
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    save_theme: Callable[[str], None] | None = None
    """Persist a theme picked with `t` (None: do not persist, e.g. demo or --theme)."""
    save_compact: Callable[[bool], None] | None = None
    """Persist compact mode as `m` leaves it (None: do not persist, e.g. demo)."""
    poll: PollSettings = field(default_factory=PollSettings)
    profiles: ConfigProfiles | None = None
    """The profiles `P` switches between (None: this run has no other)."""
