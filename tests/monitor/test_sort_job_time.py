"""Sort "last update" orders by the job's time that the column shows, not by when this
app last polled (Pilot, simulator)."""

from __future__ import annotations

from tests.app_support import make_app, wait_until
from tests.monitor.steps import SIZE, all_polled, header_text
from tui.simulator import Simulator


async def test_last_update_sorts_by_the_jobs_own_time(simulator: Simulator) -> None:
    # Finished 2h 01m, 8m and 1h 59m ago.
    for diffid, ago in ((1, 7260.0), (2, 480.0), (3, 7140.0)):
        simulator.add_diff(diffid, state=5, started_ago=ago)
    app = make_app(simulator, [1, 2, 3])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        # Polled last, but its job is the oldest: the poll's time must not count.
        polled = app.tracker.views[1].updated_at
        app.tracker.refresh([1])
        await wait_until(pilot, lambda: app.tracker.views[1].updated_at != polled)
        await pilot.press("s", "s", "s")
        assert "sort: last update" in header_text(app)
        assert app.monitor.job_list.order == [2, 3, 1]
