"""The to-do (`f`, "⚑ N need you", the row's reason): what needs the operator, and
only that, with Pilot against the simulator."""

from __future__ import annotations

from tests.app_support import list_text, make_app, wait_until
from tests.monitor.steps import LONG, SIZE, all_polled, header_text
from tui.domain.jobs import JobState
from tui.polling.job_view import AcceptOptions
from tui.simulator import Simulator


async def test_f_shows_exactly_the_to_do(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)  # undecided: decide
    simulator.add_diff(2, state=6, fail_with="checksum mismatch")  # failed
    simulator.add_diff(3, state=5)  # rejected: settled
    simulator.add_diff(4, state=5)  # accepted, its version Completes: settled
    simulator.add_diff(5, state=5, version_error="install failed on 3 machines")
    simulator.add_diff(6, state=5, allocations=True)  # accept refused
    simulator.add_diff(7, state=4, duration=LONG)  # in flight: nothing to do yet
    app = make_app(simulator, [1, 2, 3, 4, 5, 6, 7])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        tracker = app.tracker
        await tracker.reject([3], reinstall=False)
        await tracker.accept([4, 5, 6], AcceptOptions(restart=False))
        views = tracker.views

        def version_state(diffid: int) -> JobState | None:
            followed = views[diffid].followed
            return followed.job.known_state if followed is not None else None

        await wait_until(
            pilot,
            lambda: version_state(4) is JobState.COMPLETED and version_state(5) is JobState.FAILED,
            limit=15,
        )
        await pilot.pause(0.2)
        assert "⚑ 4 need you" in header_text(app)
        await pilot.press("f")
        await pilot.pause()
        assert sorted(app.monitor.job_list.order) == [1, 2, 5, 6]
        assert "⚑ 4 need you (f)" in header_text(app)
        rows = {
            line.split("#")[1].split()[0]: line
            for line in list_text(app).splitlines()
            if "#" in line
        }
        assert "⚑ decide" in rows["1"]
        assert "⚑ failed" in rows["2"]
        assert "⚑ version failed" in rows["5"]
        assert "⚑ refused" in rows["6"]


async def test_the_events_view_says_what_each_diff_of_the_to_do_needs_now(
    simulator: Simulator,
) -> None:
    from tui.ui.screens.events import EventLines, EventsScreen

    simulator.add_diff(1, state=4, duration=LONG)
    simulator.add_diff(2, state=4, duration=LONG)
    app = make_app(simulator, [(1, "東京ビルド東京ビルド東京"), (2, "beta")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        simulator.add_diff(1, state=6, fail_with="disk full")
        await wait_until(pilot, lambda: app.tracker.views[1].state is JobState.FAILED)
        simulator.add_diff(2, state=5)
        await wait_until(pilot, lambda: app.tracker.views[2].state is JobState.COMPLETED)
        await pilot.press("l")
        assert isinstance(app.screen, EventsScreen)
        events = app.screen.query_one(EventLines)
        await wait_until(pilot, lambda: len(events._lines) == 2)
        newest, older = events._lines
        assert "#2" in newest and "#1" in older
        assert "⚑ decide now · Completed (was Running" in newest
        assert "⚑ failed now · Failed (was Running" in older
        assert "⚑ 2 need you" in str(app.screen.query_one("#events-title").render())
        # A wide label is cut by cells: what follows it starts in the same column.
        from rich.cells import cell_len

        def what_column(line: str) -> int:
            return cell_len(line[: line.index("⚑")])

        assert what_column(newest) == what_column(older)
