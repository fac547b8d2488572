"""What became of the last action stays on its row after a restart: a refused accept
and a refused retry, saved with the diff, shown again until something newer replaces
them (Pilot, simulator, the real watchlist files)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.app_support import list_text, make_app, wait_until
from tests.monitor.steps import SIZE, all_polled, rich_text
from tui.domain.clock import SystemClock
from tui.domain.watch_entry import WatchEntry
from tui.polling.job_view import AcceptOptions
from tui.simulator import Simulator
from tui.store.watchlist.account import AccountWatchlist
from tui.store.watchlist.file import WatchlistStore
from tui.ui.screens.detail import DetailScreen


def _open(path: Path, simulator: Simulator) -> tuple[AccountWatchlist, list[WatchEntry]]:
    """The account's watchlist as the app opens it, and its entries as loaded."""
    store = WatchlistStore(path)
    held = [e for e in store.load().entries if e.asid == simulator.asid]
    return AccountWatchlist(
        store, api_url=simulator.url, asid=simulator.asid, clock=SystemClock(), held=held
    ), held


async def test_a_refused_accept_and_retry_are_on_their_rows_after_a_restart(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add_diff(4001, state=5, allocations=True)  # accept refused: use force=1
    simulator.add_diff(4002, state=6)
    path = tmp_path / "watchlist.toml"
    WatchlistStore(path).add(
        [WatchEntry(d, simulator.asid, simulator.url, label="eu") for d in (4001, 4002)]
    )
    watchlist, entries = _open(path, simulator)
    first = make_app(simulator, entries, watchlist=watchlist)
    async with first.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(first))
        await first.tracker.accept([4001], AcceptOptions(restart=False))
        simulator.inject("400", endpoint="retry")
        await first.tracker.retry([4002])
        await wait_until(pilot, lambda: "image has active allocations" in list_text(first))
        await pilot.press("q")
    await first.writes.drain(5.0)

    watchlist, entries = _open(path, simulator)
    second = make_app(simulator, entries, watchlist=watchlist)
    async with second.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: all_polled(second))
        await wait_until(pilot, lambda: "image has active allocations" in list_text(second))
        text = list_text(second)
        assert "✗ refused: image has active allocations; use force=1" in text
        assert "↻ retry refused: Invalid request for diff 4002" in text
        assert "⚑ refused" in text
        # The detail screen says it too.
        second.monitor.show_diff(4001)
        await pilot.press("enter")
        assert isinstance(second.screen, DetailScreen)
        history = second.screen.query_one("#history", Static)
        await wait_until(pilot, lambda: "now: ✗ refused: image has active" in rich_text(history))
        await pilot.press("escape")
        # Something newer replaces it: the accept, forced this time, goes through.
        await second.tracker.accept([4001], AcceptOptions(restart=False, force=True))
        await second.writes.drain(5.0)
    watchlist, entries = _open(path, simulator)
    assert next(e for e in entries if e.diffid == 4001).outcome is None


async def test_an_unknown_retry_kept_from_before_is_settled_by_the_status(
    simulator: Simulator,
) -> None:
    from tests.app_support import MemoryWatchlist
    from tests.monitor.steps import LONG
    from tui.domain.actions import ActionOutcome
    from tui.domain.watch_entry import LastOutcome

    simulator.add_diff(7, state=4, duration=LONG)  # it went through: Running now
    unknown = LastOutcome("retry", ActionOutcome.UNKNOWN, "timed out", 1.0)
    entry = WatchEntry(7, simulator.asid, simulator.url, outcome=unknown)
    app = make_app(simulator, [entry])
    async with app.run_test(size=SIZE) as pilot:
        view = app.tracker.views[7]
        assert view.retry_outcome_unknown  # shown as unknown until a status tells
        await wait_until(pilot, lambda: not view.retry_outcome_unknown)
        assert view.retries[-1].outcome is ActionOutcome.ACCEPTED
        watchlist = app.watchlist
        assert isinstance(watchlist, MemoryWatchlist)
        await wait_until(pilot, lambda: ("note_outcome", (7, "retry", None)) in watchlist.calls)
