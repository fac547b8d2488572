"""`d` can be undone with `u` right after: the diffs come back with their labels and
decisions (Pilot, simulator)."""

from __future__ import annotations

from tests.app_support import MemoryWatchlist, wait_until
from tests.monitor.steps import completed_fleet, toasts
from tui.polling.job_view import AcceptOptions
from tui.ui.screens.confirm import ConfirmScreen


async def test_u_brings_back_what_d_removed_with_labels_and_decisions(simulator: object) -> None:
    async with completed_fleet(simulator, [(1, "eu-west"), (2, "東京"), (3, "stays")]) as (  # type: ignore[arg-type]
        app,
        pilot,
    ):
        await app.tracker.accept([1], AcceptOptions(restart=False))
        accepted = app.tracker.views[1].entry.accepted
        assert accepted is not None
        job_list = app.monitor.job_list
        for diffid in (1, 2):
            job_list.toggle(diffid)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: set(app.tracker.views) == {3})
        assert any("u: undo" in toast for toast in toasts(app))
        await pilot.press("u")
        await wait_until(pilot, lambda: set(app.tracker.views) == {1, 2, 3})
        watchlist = app.watchlist
        assert isinstance(watchlist, MemoryWatchlist)
        assert watchlist.entries[1].label == "eu-west" and watchlist.entries[2].label == "東京"
        assert watchlist.entries[1].accepted == accepted
        assert app.tracker.views[1].label == "eu-west"
        assert app.tracker.views[1].entry.accepted == accepted
        assert app.tracker.views[1].decision is not None  # shown as accepted again
