"""The detail screen shows what an action taken from it did, without a reload (Pilot,
simulator)."""

from __future__ import annotations

from textual.widgets import Static

from tests.app_support import make_app, wait_until
from tests.monitor.steps import SIZE, all_polled, rich_text
from tui.simulator import Simulator
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.detail import DetailScreen


async def test_a_refused_retry_from_the_detail_screen_shows_in_its_lifecycle(
    simulator: Simulator,
) -> None:
    simulator.add_diff(4001, state=6)
    simulator.inject("400", endpoint="retry")  # the server says no
    app = make_app(simulator, [4001])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        detail = app.screen

        def lifecycle() -> str:
            return rich_text(detail.query_one("#history", Static))

        await wait_until(pilot, lambda: "Nothing recorded" in lifecycle())
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_until(pilot, lambda: simulator.count("retry") == 1)
        await wait_until(pilot, lambda: "retry refused: Invalid request" in lifecycle())
        assert "Nothing recorded" not in lifecycle()
        # And what the row says of it, while it stands.
        await wait_until(pilot, lambda: "now: ↻ retry refused: Invalid request" in lifecycle())
