"""Add, remove and label diffs: the watchlist changes only when it can be written.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

import logging
import re

import pytest
from textual import events
from textual.widgets import Input, Static, TextArea

from tests.app_support import list_text, make_app, screen_text, wait_until
from tests.monitor.steps import (
    SIZE,
    all_polled,
    completed_fleet,
    dialog_text,
    header_text,
    rich_text,
    type_text,
)
from tui.simulator import Simulator
from tui.ui.screens.add_diffs import AddDiffsScreen
from tui.ui.screens.confirm import ConfirmScreen


async def test_add_reports_bad_tokens_inline_and_adds_good_ids_with_a_label(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(901, state=5)
    simulator.add_diff(902, state=6)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("n")
        assert isinstance(app.screen, AddDiffsScreen)
        await type_text(pilot, "901, x -5")
        problems = rich_text(app.screen.query_one("#problems", Static))
        assert "'x': use digits only" in problems
        assert "'-5': IDs are positive" in problems
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, AddDiffsScreen)
        assert [c for c in app.watchlist.calls if c[0] == "add"] == []  # type: ignore[attr-defined]
        assert set(app.tracker.views) == {1}
        area = app.screen.query_one("#ids", TextArea)
        area.clear()
        # Many IDs pasted at once, one a line, with a comment and a repeat.
        app.post_message(events.Paste("901\n902  # eu\n901\n"))  # as a terminal does
        await pilot.pause()
        assert rich_text(app.screen.query_one("#problems", Static)).strip() == ""
        assert "2 IDs, 1 repeated" in rich_text(app.screen.query_one("#summary", Static))
        app.screen.query_one("#label", Input).focus()
        await type_text(pilot, "eu [b]2")
        await pilot.press("enter")
        assert not isinstance(app.screen, AddDiffsScreen)
        # The file work is done off the event loop: the list changes once it is saved.
        await wait_until(pilot, lambda: set(app.tracker.views) == {1, 901, 902})
        assert app.watchlist.calls[-1] == ("add", ([901, 902], "eu [b]2"))  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: all_polled(app))
        await wait_until(pilot, lambda: app.monitor.job_list.order == [902, 1, 901])
        assert app.monitor.job_list.highlighted == 901  # the cursor stays on the first diff added
        text = list_text(app)
        assert "#901 eu [b]2" in text and "#902 eu [b]2" in text


async def test_remove_asks_first_and_only_then_removes(simulator: Simulator) -> None:
    async with completed_fleet(simulator, [1, 2, 3]) as (app, pilot):
        await pilot.press("space")  # select #1, cursor moves to #2
        await pilot.press("space")
        assert "[2 selected]" in header_text(app)
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert "Stop watching 2 diffs?" in dialog_text(app)
        await pilot.press("n")
        assert set(app.tracker.views) == {1, 2, 3}
        await pilot.press("d", "y")
        await wait_until(pilot, lambda: set(app.tracker.views) == {3})
        assert set(app.watchlist.entries) == {3}  # type: ignore[attr-defined]
        text = list_text(app)
        assert "#3" in text and "#1 " not in text and "#2 " not in text
        assert "selected]" not in header_text(app)
        assert "✓ 1 completed" in header_text(app)
        assert simulator.diff_ids() == [1, 2, 3]  # nothing happens on the server


async def test_e_edits_the_focused_diffs_label_and_saves_it(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [(1, "old")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("e")
        box = app.screen.query_one(Input)
        assert box.value == "old"
        await pilot.press("escape")
        assert app.tracker.views[1].label == "old"
        await pilot.press("e")
        app.screen.query_one(Input).value = ""
        await type_text(pilot, "new label")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.tracker.views[1].label == "new label")
        assert ("relabel", (1, "new label")) in app.watchlist.calls  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: "#1 new label" in list_text(app))


async def test_a_watchlist_that_cannot_be_written_changes_nothing(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [(1, "one")])
    app.watchlist.fail_with = OSError("disk full")  # type: ignore[attr-defined]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("n")
        await type_text(pilot, "2")
        await pilot.press("ctrl+s")
        await pilot.press("d", "y")
        await pilot.press("e")
        await type_text(pilot, "x\n")
        assert set(app.tracker.views) == {1}
        assert app.tracker.views[1].label == "one"
        await wait_until(pilot, lambda: "Could not save the label: disk full" in screen_text(app))
        assert "Could not save the watchlist: disk full" in screen_text(app)
        assert app.is_running
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged == [
        "saving the watchlist failed",
        "saving the watchlist failed",
        "saving the label failed",
    ]
    caplog.clear()  # expected errors: the autouse check is for unexpected ones


async def test_an_id_another_instance_already_added_is_shown(simulator: Simulator) -> None:
    from tests.app_support import MemoryWatchlist
    from tui.domain.watch_entry import WatchEntry

    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=6)
    # The file already has #2 (another instance added it after this one started).
    watchlist = MemoryWatchlist(
        [WatchEntry(diffid=d, asid=simulator.asid, api_url=simulator.url) for d in (1, 2)]
    )
    app = make_app(simulator, [1], watchlist=watchlist)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("n")
        await type_text(pilot, "2")
        await pilot.press("ctrl+s")
        assert 2 in app.tracker.views
        assert app.monitor.job_list.highlighted == 2
        await wait_until(pilot, lambda: all_polled(app))
        await wait_until(pilot, lambda: re.search(r"#2 .*FAILED", list_text(app)) is not None)
        await pilot.pause(0.2)
        assert app.monitor.job_list.highlighted == 2  # the re-sort after the poll follows it
        assert "added by another instance: #2" in screen_text(app)
