"""A diff that holds its image's lock says so, naming the image once the app knows it
(Pilot, simulator)."""

from __future__ import annotations

from textual.widgets import Static

from tests.app_support import list_text, make_app, wait_until
from tests.monitor.steps import all_polled, rich_text
from tui.polling.job_view import AcceptOptions
from tui.simulator import Simulator
from tui.ui.screens.detail import DetailScreen


async def test_an_undecided_completed_diff_says_it_holds_the_lock_on_its_image(
    simulator: Simulator,
) -> None:
    simulator.add_diff(4103, state=5, imageid=50101)
    simulator.add_diff(4104, state=5, imageid=50102)
    app = make_app(simulator, [4103, 4104])
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await wait_until(pilot, lambda: list_text(app).count("holds its image's lock") >= 2)
        await pilot.press("enter")  # the detail screen reads diff_info: the image
        assert isinstance(app.screen, DetailScreen)
        detail = app.screen
        await wait_until(
            pilot,
            lambda: (
                "holds the lock on image 5010" in rich_text(detail.query_one("#fields", Static))
            ),
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: "holds the lock on image 5010" in list_text(app))
        # Accepted: the lock is released, the row no longer claims it.
        highlighted = app.monitor.job_list.highlighted
        assert highlighted is not None
        await app.tracker.accept([highlighted], AcceptOptions(restart=False))
        await pilot.pause(0.2)
        assert "holds the lock on image" not in list_text(app)
