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


async def test_a_diff_this_app_created_is_read_every_couple_of_seconds_while_it_waits() -> None:
    from tests.monitor.steps import type_text
    from tui.ui.screens.new_diff import NewDiffScreen

    # Speed 1: the new diff waits to run for seconds, inside the default waiting
    # interval (15 s) that a diff started elsewhere is read at.
    with Simulator(speed=1.0, seed_demo=False) as simulator:
        simulator.add_diff(51, state=6, fail_with="boom", imageid=600, machineid=70)
        app = make_app(simulator, [51], poll=PollSettings())
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all_polled(app))
            await pilot.press("N")
            await wait_until(pilot, lambda: isinstance(app.screen, NewDiffScreen))
            await type_text(pilot, "again\n")
            await wait_until(pilot, lambda: len(app.tracker.views) == 2)
            new = next(d for d in app.tracker.views if d != 51)
            await pilot.pause(7.0)  # without the rule: one read in 15 s
            assert simulator.count("status", new) >= 3, simulator.count("status", new)
