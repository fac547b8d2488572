"""The app's watchlist session keeps a diff's accept or reject in the file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tui.clock import SystemClock
from tui.models import Accepted, LastStatus, Rejected, WatchEntry
from tui.session import WatchSession
from tui.watchlist import WatchlistStore


def test_a_decision_is_written_to_the_file_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    store = WatchlistStore(path)
    entries = [WatchEntry(diffid=d, asid=7, profile="p", label=f"d{d}") for d in (1, 2)]
    store.add(entries)
    session = WatchSession(store, profile="p", asid=7, clock=SystemClock(), held=entries)
    last = LastStatus(4, "Running", 40, None, None, 10.0)
    accepted = Accepted(900, restart=True, force=True, game_build="b 1", at=5.0, last=last)
    session.save_decision(dataclasses.replace(entries[0], accepted=accepted))
    session.save_decision(dataclasses.replace(entries[1], rejected=Rejected(reinstall=False)))
    again = {e.diffid: e for e in WatchlistStore(path).entries_for("p", 7)}
    assert again[1].accepted == accepted
    assert again[1].label == "d1"
    assert again[2].rejected == Rejected(reinstall=False)
    assert again[2].accepted is None
