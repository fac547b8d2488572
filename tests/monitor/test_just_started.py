"""A job this app just started is followed closely: read a couple of seconds after it
starts, then at most a few seconds apart, so its end is seen within 6 s (Pilot, a
simulator whose jobs take seconds, the default poll settings)."""

from __future__ import annotations

import time

from tests.app_support import make_app, wait_until
from tests.monitor.steps import SIZE, all_polled
from tui.domain.jobs import JobState
from tui.domain.poll_settings import PollSettings
from tui.polling.job_view import AcceptOptions
from tui.simulator import Simulator


async def test_an_accepts_version_job_is_seen_running_then_ended_within_seconds() -> None:
    # Speed 20: the version job (40 to 120 simulated seconds) ends 2 to 6 s after the
    # accept, well inside the default waiting interval (15 s).
    with Simulator(speed=20.0, seed_demo=False) as simulator:
        simulator.add_diff(1, state=5)
        app = make_app(simulator, [1], poll=PollSettings())
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all_polled(app))
            await app.tracker.accept([1], AcceptOptions(restart=False))
            view = app.tracker.views[1]
            assert view.followed is not None
            vid = view.followed.jobid

            def seen() -> JobState | None:
                return view.followed.job.known_state if view.followed is not None else None

            def server_ended() -> bool:
                return int(simulator.version_job(vid)["jobstateid"]) == 5

            await wait_until(pilot, server_ended, limit=15, what="the server ends the job")
            ended_at = time.monotonic()
            await wait_until(pilot, lambda: seen() is JobState.COMPLETED, limit=15)
            late = time.monotonic() - ended_at
            assert late <= 6.0, f"its end was seen {late:.1f}s late"
