"""Completion notices: plain text on one line, gone after their time, no toast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.app_support import make_app, screen_text, wait_until
from tests.textual_probes import toasts
from tui.ui.themes import default_app_variables
from tui.ui.widgets.notices import MOST, Notices

if TYPE_CHECKING:
    from tui.simulator import Simulator


class NoticeApp(App[None]):
    def get_theme_variable_defaults(self) -> dict[str, str]:
        return default_app_variables(self.current_theme)

    def compose(self) -> ComposeResult:
        yield Static("list", id="list")
        yield Notices(id="notices")


async def test_a_notice_shows_as_plain_text_and_goes_after_its_time() -> None:
    app = NoticeApp()
    async with app.run_test(size=(80, 10)) as pilot:
        notices = app.query_one(Notices)
        assert notices.render_line(0).text.strip() == ""
        notices.add("✓ #2 completed", timeout=0.3)
        notices.add("✗ #1 ([b]eu[/b]) failed", severity="error", timeout=0.3)
        await pilot.pause()
        assert notices.render_line(0).text.strip() == "✗ #1 ([b]eu[/b]) failed  (+1 more)"
        assert not toasts(app), "no toast: its rack repaints the whole screen"
        await wait_until(pilot, lambda: notices.render_line(0).text.strip() == "")
        assert notices.shown == []


async def test_the_line_shows_the_newest_that_has_not_expired() -> None:
    app = NoticeApp()
    async with app.run_test(size=(80, 10)) as pilot:
        notices = app.query_one(Notices)
        notices.add("✓ #1 completed", timeout=30)
        notices.add("✓ #2 completed", timeout=0.2)
        await pilot.pause()
        assert "#2 completed  (+1 more)" in notices.render_line(0).text
        await wait_until(pilot, lambda: "(+" not in notices.render_line(0).text)
        assert notices.render_line(0).text.strip() == "✓ #1 completed"
        for diffid in range(3, MOST + 5):
            notices.add(f"✓ #{diffid} completed", timeout=30)
        assert len(notices.shown) == MOST


async def test_the_filter_box_shows_over_the_notice_line(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1])
    async with app.run_test(size=(100, 20)) as pilot:
        await wait_until(pilot, lambda: not app.tracker.views[1].stale)
        app.query_one(Notices).add("✓ #2 completed", timeout=30)
        await pilot.press("slash")
        await wait_until(pilot, lambda: "filter by ID, label or state" in screen_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: "✓ #2 completed" in screen_text(app))
