"""Filter and sort the list.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.screen import Screen
from textual.widget import Widget

from tests.app_support import list_text, make_app, wait_until
from tests.monitor.steps import (
    LONG,
    SIZE,
    all_polled,
    completed_fleet,
    header_text,
    type_text,
)
from tests.textual_probes import count_layouts, on_every_frame
from tui.domain.clock import FakeClock
from tui.simulator import Simulator
from tui.ui.widgets import list_rows


async def test_filter_narrows_and_escape_clears(simulator: Simulator) -> None:
    simulator.add_diff(101, state=5)
    simulator.add_diff(102, state=6)
    simulator.add_diff(203, state=5)
    app = make_app(simulator, [(101, "eu-west"), (102, "eu-east"), (203, "us-west")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("slash")
        await type_text(pilot, "westq")
        await pilot.press("backspace")
        assert app.monitor.job_list.order == [101, 203]
        # Letters typed into the box are text, not the list's keys (s, t; q quits).
        assert app.is_running and app.screen is app.screen_stack[0]
        assert "sort: state" in header_text(app) and not app.monitor.job_list.selected
        assert "filter: west" in header_text(app)
        text = list_text(app)
        assert "#101" in text and "#203" in text and "#102" not in text
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await type_text(pilot, "failed")
        assert app.monitor.job_list.order == [102]
        await pilot.press("escape")
        assert app.monitor.job_list.order == [102, 101, 203]
        assert "filter:" not in header_text(app)
        assert app.monitor.job_list.has_focus
        assert "#101" in list_text(app)


async def test_sort_cycles_and_changes_the_order(simulator: Simulator) -> None:
    simulator.add_diff(3, state=5)
    simulator.add_diff(1, state=4, duration=LONG)
    simulator.add_diff(2, state=6)
    app = make_app(simulator, [3, 1, 2])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        # Failed, running, completed (re-sorted just after the last answer).
        await wait_until(pilot, lambda: app.monitor.job_list.order == [2, 1, 3])
        assert "sort: state" in header_text(app)
        await pilot.press("s")
        assert app.monitor.job_list.order == [1, 2, 3]
        assert "sort: ID" in header_text(app)
        text = list_text(app)
        assert text.index("#1") < text.index("#2") < text.index("#3")
        await pilot.press("s")
        assert "sort: ETA" in header_text(app)
        assert app.monitor.job_list.order[0] == 1  # the only one with an ETA
        await pilot.press("s")
        assert "sort: last update" in header_text(app)
        await pilot.press("s")
        assert "sort: state" in header_text(app)
        assert app.monitor.job_list.order == [2, 1, 3]


async def test_a_filter_that_matches_nothing_says_so_and_escape_clears_it(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [(1, "eu")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("slash")
        await type_text(pilot, "[b]zz")
        await wait_until(pilot, lambda: "No watched diff matches the filter" in list_text(app))
        assert "“[b]zz”" in list_text(app)
        await pilot.press("backspace")
        await wait_until(pilot, lambda: "“[b]z”" in list_text(app))
        await pilot.press("enter")  # keep the filter, back to the list
        assert app.monitor.job_list.has_focus
        assert "filter: [b]z" in header_text(app)
        await pilot.press("escape")  # from the list: clears it too
        assert "filter:" not in header_text(app)
        await wait_until(pilot, lambda: "#1 eu" in list_text(app))


async def test_a_filter_that_hides_diffs_says_how_many_are_shown(simulator: Simulator) -> None:
    async with completed_fleet(
        simulator, [(101, "eu-west"), (102, "eu-east"), (203, "us-west")]
    ) as (app, pilot):
        assert "shown" not in header_text(app)
        await pilot.press("slash")
        await type_text(pilot, "west")
        await wait_until(pilot, lambda: "2 of 3 shown" in header_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: "shown" not in header_text(app))


async def test_capital_s_reverses_the_sort_and_the_header_shows_the_arrow(
    simulator: Simulator,
) -> None:
    async with completed_fleet(simulator, [3, 1, 2]) as (app, pilot):
        await pilot.press("s")
        assert app.monitor.job_list.order == [1, 2, 3]
        assert "sort: ID ↑" in header_text(app)
        await pilot.press("S")
        assert app.monitor.job_list.order == [3, 2, 1]
        assert "sort: ID ↓" in header_text(app)
        await pilot.press("S")
        assert app.monitor.job_list.order == [1, 2, 3]
        assert "sort: ID ↑" in header_text(app)


async def test_a_selection_holds_the_order_until_it_is_cleared(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows do not jump under a user who is selecting: a diff that fails keeps its row
    (and the cursor its diff) until the selection is cleared, then the list re-sorts."""
    monkeypatch.setattr(list_rows, "RESORT_AFTER", 0.0)  # any owed re-sort is due at once
    simulator.add_diff(1, state=4, duration=LONG)
    simulator.add_diff(2, state=4, duration=LONG)
    simulator.add_diff(3, state=4, duration=LONG)
    app = make_app(simulator, [1, 2, 3])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        job_list = app.monitor.job_list
        job_list.rows_changed([1, 2, 3])  # the first answers placed (else a timer away)
        assert job_list.order == [1, 2, 3]
        await pilot.press("space")  # selects 1, the cursor moves to 2
        assert job_list.highlighted == 2
        simulator.add_diff(3, state=6, fail_with="boom")
        app.tracker.refresh([3])
        await wait_until(pilot, lambda: app.tracker.views[3].state_name == "Failed")
        # What the screen does with answers (a timer away, as it coalesces bursts).
        job_list.rows_changed([3])
        for _ in range(3):
            job_list.tick()
            await pilot.pause()
        assert job_list.order == [1, 2, 3] and job_list.highlighted == 2
        await pilot.press("A")  # select none: the held re-sort is paid
        await wait_until(pilot, lambda: job_list.order == [3, 1, 2])
        assert job_list.highlighted == 2


async def test_f_shows_only_what_needs_attention_and_combines_with_the_filter(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=6, fail_with="boom")
    simulator.add_diff(2, state=5)
    simulator.add_diff(3, state=6, fail_with="bang")
    simulator.add_diff(4, state=4, duration=LONG)
    simulator.break_diff(4, "500")
    app = make_app(simulator, [(1, "eu"), (2, "eu"), (3, "us"), (4, "eu")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all(app.tracker.views[d].state_name for d in (1, 2, 3)))
        await wait_until(pilot, lambda: app.tracker.views[4].poll_error is not None)
        job_list = app.monitor.job_list
        await pilot.press("f")
        # The to-do: failed (1, 3) and undecided (2); a fault the app retries by itself
        # (4) is on its row, and waiting is all there is to do about it.
        assert sorted(job_list.order) == [1, 2, 3]
        assert "⚑ 3 need you (f)" in header_text(app) and "3 of 4 shown" in header_text(app)
        await pilot.press("slash")
        await type_text(pilot, "eu")
        assert sorted(job_list.order) == [1, 2]
        await pilot.press("enter")
        await pilot.press("ctrl+z")  # k9s's "toggle faults": the same key
        assert sorted(job_list.order) == [1, 2, 4]
        assert "(f)" not in header_text(app)


async def test_a_filter_keystroke_lays_out_the_screen_only_when_the_list_changes_size(
    simulator: Simulator,
) -> None:
    async with completed_fleet(simulator, [101, 102, 203]) as (app, pilot):
        await pilot.press("slash")
        await pilot.pause()
        layouts = count_layouts(app.screen)
        # "0" keeps every row (no list size change): the box alone changed.
        await type_text(pilot, "0")
        await pilot.pause()
        assert app.monitor.job_list.order == [101, 102, 203]
        assert "filter: 0" in header_text(app)
        assert layouts == []


async def test_a_filter_longer_than_its_box_shows_its_end(simulator: Simulator) -> None:
    simulator.add_diff(101, state=5)
    app = make_app(simulator, [101])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("slash")
        text = "x" * (SIZE[0] + 20) + "end"
        await type_text(pilot, text)
        await pilot.pause()
        box = app.monitor.query_one("#filter")
        shown = "".join(segment.text for segment in box.render_line(0))
        assert "xend" in shown


async def test_a_filter_that_changes_the_row_count_repaints_only_and_moves_the_scrollbar(
    simulator: Simulator,
) -> None:
    ids = list(range(200, 260))
    for diffid in ids:
        simulator.add_diff(diffid, state=5)
    app = make_app(simulator, ids)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        jobs = app.monitor.job_list
        await pilot.press("end")
        await pilot.pause()
        bar = jobs.vertical_scrollbar
        assert jobs.show_vertical_scrollbar and bar.window_virtual_size == 60 * 3
        await pilot.press("slash")
        await pilot.pause()
        layouts = count_layouts(app.screen)
        await type_text(pilot, "1")  # 15 diffs: still more than a screenful
        await pilot.pause()
        shown = [d for d in ids if "1" in str(d)]
        assert jobs.order == shown and bar.window_virtual_size == len(shown) * 3
        assert layouts == []
        # The list was scrolled to its end: the offset stays within the shorter list.
        assert jobs.scroll_offset.y <= jobs.max_scroll_y
        await type_text(pilot, "5")
        await pilot.pause()
        assert jobs.order == [215] and not jobs.show_vertical_scrollbar
        assert jobs.scroll_offset.y == 0 and "#215" in list_text(app)


def record_frames(
    screen: Screen[object], widgets: dict[str, Widget], text: Callable[[], str]
) -> list[tuple[set[str], str]]:
    """A list that grows by one entry per frame Textual draws of ``screen`` from now on:
    the names (keys of ``widgets``) of those among them that the frame repainted, and
    ``text()`` as the frame drew it."""
    frames: list[tuple[set[str], str]] = []

    def seen(dirty: set[Widget]) -> None:
        frames.append(({name for name, widget in widgets.items() if widget in dirty}, text()))

    on_every_frame(screen, seen)
    return frames


async def test_a_filter_keystroke_draws_the_box_the_header_and_the_list_in_one_frame(
    simulator: Simulator,
) -> None:
    # A second frame waits for Textual's next frame slot (up to two at 60 fps): one
    # frame keeps the keystroke's echo and its effect together, and sooner on screen.
    for diffid in (101, 102, 203):
        simulator.add_diff(diffid, state=5)
    # A clock that stands still: the second's tick changes nothing on screen.
    app = make_app(simulator, [101, 102, 203], clock=FakeClock(1_700_000_000.0))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("slash")
        await pilot.pause()
        monitor = app.monitor
        widgets = {
            "box": monitor.query_one("#filter"),
            "header": monitor.header,
            "list": monitor.job_list,
        }
        frames = record_frames(app.screen, widgets, lambda: header_text(app))
        steps = (("2", [102, 203], True), ("backspace", [101, 102, 203], False))
        for key, order, filtered in steps:
            frames.clear()
            await pilot.press(key)
            await wait_until(pilot, lambda: any("list" in names for names, _ in frames))
            assert monitor.job_list.order == order
            names, header = frames[0]
            assert names == {"box", "header", "list"}, frames
            # The header, as that frame drew it, had the filter and how many it shows.
            assert ("filter: 2" in header) == filtered, header
            assert ("2 of 3 shown" in header) == filtered, header
            await pilot.pause(0.1)
            # Nor is any of them drawn again for it (the header's count came with it).
            assert not set().union(*(names for names, _ in frames[1:])), frames
