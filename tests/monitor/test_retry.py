"""Retry: what is sent (once), what is skipped and why, outcomes on the panel.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

from tests.app_support import list_text, make_app, wait_until
from tests.monitor.steps import (
    LONG,
    SIZE,
    all_polled,
    dialog_text,
    header_text,
    toasts,
)
from tui.domain.actions import ActionOutcome
from tui.domain.jobs import JobState
from tui.simulator import Simulator
from tui.ui.screens.confirm import ConfirmScreen


async def test_retry_sends_once_per_terminal_diff_and_lists_the_rest_as_skipped(
    simulator: Simulator,
) -> None:
    simulator.add_diff(11, state=5)
    simulator.add_diff(12, state=6, fail_with="Machine 7712 unreachable")
    simulator.add_diff(13, state=4, duration=LONG)
    simulator.add_diff(14, state=3, duration=LONG)
    app = make_app(simulator, [(11, "done"), (12, "broken"), (13, "busy"), (14, "waiting")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("a")
        assert "[4 selected]" in header_text(app)
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        text = dialog_text(app)
        assert "Retry 2 diffs?" in text
        will, skipped = text.split("Skipped:")
        assert "#11 done" in will and "#12 broken" in will
        assert "#13" not in will and "#14" not in will
        assert "#13 busy: Running" in skipped and "#14 waiting: Queued" in skipped
        assert "#11" not in skipped and "#12" not in skipped
        assert simulator.count("retry") == 0  # nothing before the confirmation
        await pilot.press("y")
        await wait_until(pilot, lambda: simulator.count("retry") == 2)
        await wait_until(
            pilot,
            lambda: all(
                app.tracker.views[d].retries and not app.tracker.views[d].retry_in_flight
                for d in (11, 12)
            ),
        )
        await pilot.pause(0.3)
        assert [simulator.count("retry", d) for d in (11, 12, 13, 14)] == [1, 1, 0, 0]
        for diffid in (11, 12):
            assert app.tracker.views[diffid].retries[-1].outcome == "accepted"
        await wait_until(pilot, lambda: list_text(app).count("last retry: accepted") == 2)


async def test_retry_refused_by_the_server_is_shown_on_the_panel_and_counted(
    simulator: Simulator,
) -> None:
    simulator.add_diff(21, state=6, fail_with="Checksum mismatch")
    simulator.add_diff(22, state=5)
    app = make_app(simulator, [21, 22])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        simulator.inject("400", endpoint="retry", diffid=21)
        await pilot.press("a", "R", "y")
        await wait_until(
            pilot,
            lambda: all(
                len(v.retries) == 1 and not v.retry_in_flight for v in app.tracker.views.values()
            ),
        )
        assert app.tracker.views[21].retries[-1].outcome is ActionOutcome.REFUSED
        assert app.tracker.views[22].retries[-1].outcome is ActionOutcome.ACCEPTED
        await wait_until(pilot, lambda: "Retry: 1 accepted, 1 refused" in toasts(app))
        await wait_until(pilot, lambda: "↻ retry refused: " in list_text(app), what="on panel")
        text = list_text(app)
        assert "Invalid request for diff 21" in text
        assert simulator.count("retry", 21) == 1  # a refusal is not retried automatically
        await pilot.pause(0.3)
        assert simulator.count("retry", 21) == 1


async def test_nothing_to_retry_cannot_be_confirmed(simulator: Simulator) -> None:
    simulator.add_diff(31, state=4, duration=LONG)
    app = make_app(simulator, [31])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Nothing can be retried" in dialog_text(app)
        await pilot.press("y")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.pause(0.2)
        assert simulator.count("retry") == 0


async def test_retry_with_a_lost_answer_shows_unknown_then_settles_by_status(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=6, duration=LONG)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        # The server runs the retry, then the connection drops before the answer.
        simulator.inject("drop-after", endpoint="retry")
        simulator.inject("slow", delay=0.5)  # keep the settling status poll in view a moment
        await pilot.press("R", "y")
        view = app.tracker.views[1]
        await wait_until(pilot, lambda: view.retries and view.retries[-1].outcome != "sent")
        assert view.retries[-1].outcome == "unknown"
        await wait_until(pilot, lambda: "retry outcome unknown" in list_text(app))
        await wait_until(pilot, lambda: not view.retry_outcome_unknown)
        assert view.retries[-1].outcome == "accepted"
        assert simulator.count("retry", 1) == 1  # never re-sent
        await wait_until(pilot, lambda: "last retry: accepted" in list_text(app))


async def test_a_diff_that_changed_while_the_dialog_was_open_is_not_retried(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=6)
    app = make_app(simulator, [1, 2])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("a", "R")
        assert "Retry 2 diffs?" in dialog_text(app)
        # Meanwhile someone else retried #1: it is Running when the answer comes in.
        simulator.add_diff(1, state=4, duration=LONG)
        app.tracker.refresh([1])
        await wait_until(pilot, lambda: app.tracker.views[1].state is JobState.RUNNING)
        await pilot.press("y")
        await wait_until(pilot, lambda: simulator.count("retry", 2) == 1)
        await wait_until(
            pilot,
            lambda: (
                "Retry: 1 accepted; not sent (no longer Completed or Failed): #1" in toasts(app)
            ),
        )
        assert simulator.count("retry", 1) == 0
