"""The events view (`l`) says each thing once, the new state first (Pilot, simulator)."""

from __future__ import annotations

from tests.app_support import make_app, wait_until
from tests.monitor.steps import SIZE, all_polled
from tui.domain.jobs import JobState
from tui.polling.job_view import AcceptOptions
from tui.simulator import Simulator
from tui.ui.screens.events import EventLines, EventsScreen


async def test_accept_reject_and_a_version_job_read_once_new_state_first(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [1, 2])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await app.tracker.accept([1], AcceptOptions(restart=False))
        await app.tracker.reject([2], reinstall=False)
        view = app.tracker.views[1]
        assert view.followed is not None
        version = view.followed.jobid
        await wait_until(
            pilot,
            lambda: (
                view.followed is not None and view.followed.job.known_state is JobState.COMPLETED
            ),
            limit=10,
        )
        await pilot.press("l")
        assert isinstance(app.screen, EventsScreen)
        events = app.screen.query_one(EventLines)
        await wait_until(pilot, lambda: any("Completed (was" in line for line in events._lines))
        text = "\n".join(events._lines)
        assert f"accepted: image version {version} (restart=0)" in text, text
        assert "rejected, no reinstall" in text, text
        assert f"image version {version}: Completed (was Running" in text, text
        assert "accept accepted" not in text and "reject accepted" not in text
        assert f"(was image version {version}" not in text  # the job is named once
