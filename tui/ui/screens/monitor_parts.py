"""What the app hands each monitor screen: the watched account's pieces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.domain.clock import Clock
from tui.polling.tracker import Tracker
from tui.store.journal import Journal
from tui.store.watchlist.port import WatchlistPort
from tui.store.watchlist.writes import WatchlistWrites
from tui.ui.app_options import AppOptions


@dataclass(frozen=True)
class MonitorParts:
    """The pieces of the account the monitor screen shows, owned by the app
    (:class:`tui.ui.app.ImageDiffApp`), which makes a new screen when it switches
    account."""

    tracker: Tracker
    journal: Journal
    clock: Clock
    options: AppOptions
    watchlist: WatchlistPort
    writes: WatchlistWrites
    """All watchlist file work, in order, off the event loop."""
    quitting: Callable[[], bool]
    """True once the app is on its way out: results that arrive late are dropped."""
