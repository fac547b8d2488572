"""The journal in the app: the `l` event view, the retry history across a restart, outages."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from tests.app_support import make_app, screen_text, wait_until
from tests.monitor.steps import LONG, SIZE, all_polled, rich_text
from tui.domain.jobs import JobState
from tui.polling.tracker import Tracker
from tui.simulator import Simulator
from tui.store.journal import EventKind, Journal, JournalEvent
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.events import EventLines, EventsScreen


def event_lines(app: object) -> list[str]:
    from tui.ui.app import ImageDiffApp

    assert isinstance(app, ImageDiffApp) and isinstance(app.screen, EventsScreen)
    return list(app.screen.query_one(EventLines)._lines)


async def test_l_shows_what_the_simulator_did_filters_and_enter_jumps_to_the_diff(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=4, duration=LONG)
    simulator.add_diff(2, state=4, duration=LONG)
    simulator.add_diff(3, state=5)
    app = make_app(simulator, [(1, "alpha"), (2, "beta"), (3, "gamma")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app), limit=10)
        # The server moves each job on; the next polls see it (one after the other).
        simulator.add_diff(1, state=6, fail_with="disk full")
        await wait_until(pilot, lambda: app.tracker.views[1].state is JobState.FAILED, limit=10)
        simulator.add_diff(2, state=5)
        await wait_until(pilot, lambda: app.tracker.views[2].state is JobState.COMPLETED, limit=10)
        # The list's filter hides diff 2; the jump must still land on it.
        await pilot.press("slash", *"gamma", "enter")
        assert app.monitor.job_list.order == [3]
        await pilot.press("l")
        assert isinstance(app.screen, EventsScreen)
        await wait_until(pilot, lambda: len(event_lines(app)) == 2, what="two state changes")
        lines = event_lines(app)
        # Newest first.
        assert "#2" in lines[0] and "beta" in lines[0] and "Completed (was Running" in lines[0]
        assert "#1" in lines[1] and "alpha" in lines[1] and "Failed (was Running" in lines[1]
        assert "job updated" in lines[1]
        assert "Failed (was Running" in screen_text(app)
        await pilot.press("slash", *"failed")
        await wait_until(pilot, lambda: len(event_lines(app)) == 1)
        assert "#1" in event_lines(app)[0]
        await pilot.press("escape")  # clears the view's filter, stays
        assert isinstance(app.screen, EventsScreen) and len(event_lines(app)) == 2
        await pilot.press("enter")  # on the newest: diff 2
        await wait_until(pilot, lambda: not isinstance(app.screen, EventsScreen))
        assert app.monitor.job_list.highlighted == 2
        assert set(app.monitor.job_list.order) == {1, 2, 3}
        assert app.monitor.job_list.has_focus


async def test_the_view_says_so_when_nothing_is_recorded_and_escape_leaves(
    simulator: Simulator,
) -> None:
    simulator.add_diff(3, state=5)
    app = make_app(simulator, [3])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        await wait_until(pilot, lambda: "Nothing recorded yet." in screen_text(app))
        await pilot.press("enter")  # a disabled line: nothing happens
        assert isinstance(app.screen, EventsScreen)
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_the_retry_history_survives_a_restart(simulator: Simulator, tmp_path: Path) -> None:
    simulator.add_diff(5, state=6, fail_with="Checksum mismatch")
    path = tmp_path / "journal.jsonl"
    first = make_app(simulator, [(5, "eu")], journal=Journal(path))
    async with first.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(first))
        await pilot.press("R")
        assert isinstance(first.screen, ConfirmScreen)
        await pilot.press("y")
        view = first.tracker.views[5]
        await wait_until(pilot, lambda: view.retries and view.retries[-1].outcome == "accepted")
        await pilot.press("q")
    second = make_app(simulator, [(5, "eu")], journal=Journal(path))
    async with second.run_test(size=SIZE) as pilot:
        assert second.tracker.views[5].retries == []  # nothing in memory: from the file
        await pilot.press("enter")
        assert isinstance(second.screen, DetailScreen)
        history = second.screen.query_one("#history", Static)
        await wait_until(pilot, lambda: "retry accepted" in rich_text(history))
        assert "Reading the journal" not in rich_text(history)
        assert rich_text(history).count("retry ") == 1  # its sending and outcome: one line


async def test_outages_are_journaled_on_transitions_of_the_poll_state(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On this branch the tracker never says "offline"; a stub stands in for it.
    state = ["live"]
    monkeypatch.setattr(Tracker, "poll_state", property(lambda self: state[0]))
    monkeypatch.setattr(Tracker, "last_answer_at", 1000.0, raising=False)
    simulator.add_diff(3, state=5)
    app = make_app(simulator, [3])

    def outages() -> list[JournalEvent]:
        return [e for e in app.journal.read() if e.kind == EventKind.OUTAGE]

    async with app.run_test(size=SIZE) as pilot:
        state[0] = "offline"
        await wait_until(pilot, lambda: len(outages()) == 1, limit=10)
        state[0] = "live"
        await wait_until(pilot, lambda: len(outages()) == 2, limit=10)
    end, start = outages()
    assert (start.phase, end.phase) == ("start", "end")
    assert start.reason is not None and "last answer at" in start.reason
    assert end.reason is not None and end.reason.startswith("offline for ")
