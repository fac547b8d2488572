"""What ``status`` and ``watch`` learn about watched diffs, kept where the app reads it.

The app starts from the last status it knows of each watched diff; a command that saw a
newer one saves it through the watchlist store (its lock and merge rules), so the app
opened later does not paint a diff as it was before. Diffs that are not watched are
not added. A store that cannot be written costs a warning, never the command.
"""

from __future__ import annotations

from collections.abc import Mapping

from tui.cli.common import print_warning
from tui.domain.watch_entry import LastStatus, WatchEntry
from tui.store.atomic_file import LockTimeout
from tui.store.settings import open_watchlist
from tui.store.watchlist.file import WatchlistError


class LearnedStatuses:
    """Saves the statuses of the watched diffs among those a command read."""

    def __init__(self, watched: Mapping[int, WatchEntry] | None) -> None:
        self._watched = watched if watched is not None else {}
        self._failed = False

    def save(self, statuses: Mapping[int, LastStatus]) -> None:
        """Save these statuses of watched diffs (the others are left out)."""
        known = {
            self._watched[diffid].key: status
            for diffid, status in statuses.items()
            if diffid in self._watched
        }
        if not known or self._failed:
            return
        try:
            open_watchlist().update_status(known)
        except (WatchlistError, LockTimeout, OSError) as exc:
            self._failed = True
            print_warning(f"the statuses read were not saved for the app: {exc}")
