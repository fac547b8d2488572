"""The list: selection, compact mode, the mouse, copy, details, drawing.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

import re

import pytest
from textual.widgets import Static

from tests.app_support import list_text, make_app, screen_text, wait_until
from tests.monitor.steps import (
    LONG,
    SIZE,
    all_polled,
    completed_fleet,
    header_text,
    rich_text,
    type_text,
)
from tui.simulator import Simulator


async def test_selection_with_space_a_and_shift_a(simulator: Simulator) -> None:
    async with completed_fleet(simulator, [1, 2, 3, 4]) as (app, pilot):
        await pilot.press("space")
        assert app.monitor.job_list.selected == {1}
        assert "[1 selected]" in header_text(app)
        await pilot.press("down", "space")
        assert app.monitor.job_list.selected == {1, 3}
        await pilot.press("a")
        assert app.monitor.job_list.selected == {1, 2, 3, 4}
        assert "[4 selected]" in header_text(app)
        await pilot.press("A")
        assert app.monitor.job_list.selected == set()
        assert "selected]" not in header_text(app)
        await pilot.press("up", "space")
        assert app.monitor.job_list.selected == {3}  # space had moved the cursor on to #4
        assert "●" in list_text(app)


async def test_compact_mode_shows_one_line_per_diff(simulator: Simulator) -> None:
    async with completed_fleet(simulator, [1, 2]) as (app, pilot):
        lines = list_text(app).split("\n")
        assert "#2" in lines[3]
        await pilot.press("m")
        lines = list_text(app).split("\n")
        assert "#1" in lines[0] and "#2" in lines[1]


async def test_mouse_click_on_the_mark_selects_and_double_click_opens(
    simulator: Simulator,
) -> None:
    from tui.ui.screens.detail import DetailScreen
    from tui.ui.widgets.job_list import JobList

    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [1, 2])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.click(JobList, offset=(0, 3))
        assert app.monitor.job_list.selected == {2}
        assert app.monitor.job_list.highlighted == 2
        assert "[1 selected]" in header_text(app)
        await pilot.click(JobList, offset=(20, 0), times=2)
        await wait_until(pilot, lambda: isinstance(app.screen, DetailScreen))
        assert "Diff #1" in screen_text(app)


async def test_copy_puts_the_focused_id_on_the_clipboard(simulator: Simulator) -> None:
    simulator.add_diff(4101, state=5)
    app = make_app(simulator, [4101])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        assert app.clipboard == "4101"


async def test_an_empty_watchlist_says_how_to_add(simulator: Simulator) -> None:
    simulator.add_diff(7, state=5)
    app = make_app(simulator, [], keymap={"add": "plus"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Nothing watched yet" in list_text(app))
        assert "press + to add diff IDs" in list_text(app)
        await pilot.press("plus")
        await type_text(pilot, "7")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "#7 " in list_text(app) and "COMPLETED" in list_text(app))
        assert "Nothing watched" not in list_text(app)


async def test_wide_characters_in_a_label_keep_the_panel_aligned(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [(1, "東京ビルド 1.4 🚀 大阪 名古屋 福岡"), (2, "plain label")])
    async with app.run_test(size=(100, 20)) as pilot:
        from rich.cells import cell_len

        await wait_until(pilot, lambda: list_text(app).count("COMPLETED") == 2)
        lines = list_text(app).split("\n")
        wide, narrow = lines[0], lines[3]
        assert "東京ビルド" in wide and "plain label" in narrow
        assert cell_len(wide) == cell_len(narrow)
        # Cut by cells to the label column: the state starts in the same cell in both.
        assert "…" in wide and "福岡" not in wide
        at = [cell_len(line[: line.index("COMPLETED")]) for line in (wide, narrow)]
        assert at[0] == at[1]
        heading = screen_text(app).split("\n")[app.monitor.job_list.region.y - 1]
        assert cell_len(heading[: heading.index("state")]) == at[0] - 2


@pytest.mark.parametrize("theme", ["ansi-16", "imagediff-dark"])
async def test_without_colour_the_progress_bar_still_shows_its_fill(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is built
    simulator.add_diff(1, state=4, progress=40, duration=LONG)
    app = make_app(simulator, [1], theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "RUNNING" in list_text(app))
        row = list_text(app).split("\n")[0]
        bar = next(word for word in row.split() if word[0] in "━─")
        width = app.monitor.job_list.columns.bar
        done = round(width * (app.tracker.views[1].progress or 0) / 100)
        assert 3 <= done <= width - 3
        if theme == "ansi-16":
            # Every colour is dropped (NoColor): the empty part needs its own glyph.
            assert bar == "━" * done + "─" * (width - done)
        else:
            # Monochrome keeps grey levels apart: the bar is drawn as with colour.
            assert bar == "━" * width


async def test_enter_opens_details_with_diff_info_files_and_raw_answer(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5, files=12)
    app = make_app(simulator, [(1, "eu build")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("enter")
        from textual.widgets import OptionList, TabbedContent

        from tui.ui.screens.detail import DetailScreen

        assert isinstance(app.screen, DetailScreen)
        await wait_until(pilot, lambda: simulator.count("status", 1) >= 2)
        await wait_until(pilot, lambda: "machine" in screen_text(app))
        info = rich_text(app.screen.query_one("#info", Static))
        assert "game" in info and "image" in info and "added" in info
        tabs = app.screen.query_one(TabbedContent)
        files = sum(
            app.screen.query_one(f"#{name}", OptionList).option_count
            for name in ("added", "modified", "removed")
        )
        assert files >= 12
        tabs.active = "tab-raw"
        await pilot.pause()
        raw = rich_text(app.screen.query_one("#raw", Static))
        assert '"diffid": 1' in raw and '"added"' in raw
        assert "Diff #1 · eu build" in screen_text(app)
        # The list's keys do not act behind the detail screen.
        await pilot.press("d")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)


async def test_details_of_a_diff_that_cannot_be_read_say_why(simulator: Simulator) -> None:
    from tui.ui.screens.detail import DetailScreen

    app = make_app(simulator, [(53, "gone")])  # the server has no diff 53
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[53].poll_error is not None)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await wait_until(pilot, lambda: "Could not load diff_info" in screen_text(app))
        text = screen_text(app)
        assert "Diff 53 not found" in text
        assert "None" not in text
        assert re.search(r"progress +—", text) and re.search(r"state +unknown", text)
        assert re.search(r"poll error +404: no such diff", text)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "no answer yet" in list_text(app))
        await pilot.press("enter")
        before = simulator.count("status", 53)
        await pilot.press("r")
        await wait_until(pilot, lambda: simulator.count("status", 53) > before)
        assert isinstance(app.screen, DetailScreen)


async def test_details_say_when_the_eta_has_passed() -> None:
    from tui.domain.clock import FakeClock
    from tui.ui.screens.detail import DetailScreen

    clock = FakeClock(1_700_000_000.0)
    with Simulator(speed=1.0, seed_demo=False, clock=clock.now) as sim:
        sim.add_diff(1, state=4, progress=50, duration=600, eta_error=1.0)
        app = make_app(sim, [1], clock=clock)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all_polled(app))
            eta = app.tracker.views[1].eta
            assert eta is not None
            clock.advance(eta - clock.now() + 90)  # late: the job runs twice as long
            await pilot.press("enter")
            assert isinstance(app.screen, DetailScreen)
            await wait_until(pilot, lambda: "(overdue 1m 30s)" in screen_text(app))
