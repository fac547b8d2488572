"""The live monitor, driven with Textual's Pilot against the real simulator on loopback."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import time
from collections.abc import Iterator

import pytest
from rich.console import Console
from textual import events
from textual.widgets import Input, Static, TextArea

from tests.app_support import FAST_POLL, list_text, make_app, screen_text, wait_until
from tui.app import ImageDiffApp
from tui.models import JobState
from tui.screens.add_diffs import AddDiffsScreen
from tui.screens.confirm import ConfirmScreen
from tui.simulator import Simulator

SIZE = (120, 40)
LONG = 1e7
"""A duration (simulated seconds) that keeps a diff in its state for the whole test."""


def all_polled(app: ImageDiffApp) -> bool:
    return all(not view.stale for view in app.tracker.views.values())


def header_text(app: ImageDiffApp) -> str:
    return str(app.monitor.header.render())


def rich_text(static: Static) -> str:
    """The whole content of a Static as plain text (also the part scrolled out of view)."""
    console = Console(width=100, file=io.StringIO(), record=True, color_system=None)
    console.print(static.content)
    return console.export_text()


def dialog_text(app: ImageDiffApp) -> str:
    return "\n".join(rich_text(static) for static in app.screen.query(Static))


def toasts(app: ImageDiffApp) -> list[str]:
    """The messages of the notifications on show (a long one wraps on screen)."""
    return [notification.message for notification in app._notifications]


def footer_text(app: ImageDiffApp) -> str:
    return screen_text(app).split("\n")[-1]


async def type_text(pilot: object, text: str) -> None:
    keys = ["enter" if char == "\n" else char for char in text]
    await pilot.press(*keys)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a test does, the app and the tracker log no error (no swallowed crash)."""
    caplog.set_level(logging.WARNING, logger="tui")
    yield
    errors = [r for r in caplog.records if r.name.startswith("tui") and r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# --------------------------------------------------------------------------- header


async def test_header_counts_every_state(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=6)
    simulator.add_diff(3, state=6)
    simulator.add_diff(4, state=4, duration=LONG)
    simulator.add_diff(5, state=3, duration=LONG)
    app = make_app(simulator, [1, 2, 3, 4, 5])
    async with app.run_test(size=SIZE) as pilot:
        assert "1 running" not in header_text(app)
        await wait_until(pilot, lambda: all_polled(app))
        counts = "▶ 1 running  ◑ 1 waiting  ✓ 1 completed  ✗ 2 failed  sort:"
        # The header is redrawn just after the last answer: wait for that redraw.
        await wait_until(pilot, lambda: counts in header_text(app))
        header = header_text(app)
        assert "ASID 1234" in header and "live" in header
        # And on screen, not only in the widget's text.
        assert "✗ 2 failed" in screen_text(app)


# --------------------------------------------------------------------------- retry


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


async def test_retry_rejected_by_the_server_is_shown_on_the_panel(simulator: Simulator) -> None:
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
        assert app.tracker.views[21].retries[-1].outcome == "rejected"
        assert app.tracker.views[22].retries[-1].outcome == "accepted"
        await wait_until(pilot, lambda: "rejected" in list_text(app), what="rejection on panel")
        text = list_text(app)
        assert "Invalid request for diff 21" in text
        assert simulator.count("retry", 21) == 1  # a rejection is not retried automatically
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


# --------------------------------------------------------------------------- poll errors


async def test_rate_limit_and_server_error_show_as_words_then_recover(
    simulator: Simulator,
) -> None:
    simulator.add_diff(41, state=4, duration=LONG)
    app = make_app(simulator, [41])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        simulator.inject("429", retry_after=1)
        await wait_until(pilot, lambda: "rate limited" in list_text(app), what="429 words")
        # One diff's 429 is its own: the account is not slowed down for it.
        assert "● live" in header_text(app)
        assert "│ ⚠ 1 of 1 erroring" in header_text(app)
        await wait_until(pilot, lambda: "rate limited" not in list_text(app), what="recovery")
        assert app.tracker.views[41].poll_error is None
        simulator.inject("500")
        await wait_until(pilot, lambda: "server error 500" in list_text(app), what="500 words")
        await wait_until(pilot, lambda: "server error" not in list_text(app), what="recovery")
        assert app.tracker.views[41].state is JobState.RUNNING


async def test_poll_errors_of_every_kind_never_crash_the_app(simulator: Simulator) -> None:
    simulator.add_diff(51, state=4, duration=LONG)
    simulator.add_diff(52, state=5)
    from dataclasses import replace

    quick = replace(FAST_POLL, backoff_max=0.3)
    app = make_app(simulator, [51, 52, 53], poll=quick)  # 53 does not exist: 404
    seen: set[str] = set()

    def faults_used() -> bool:
        seen.add(app.tracker.views[51].poll_error or "")
        return simulator.pending_faults() == 0

    async with app.run_test(size=SIZE) as pilot:
        for kind in ("malformed", "html", "empty", "text", "drop", "wrong-type", "502"):
            simulator.inject(kind, diffid=51)
        await wait_until(pilot, faults_used, limit=10)
        await wait_until(pilot, lambda: app.tracker.views[51].poll_error is None, limit=5)
        assert any(error.startswith("unreadable answer") for error in seen), seen
        assert "no such diff" in list_text(app)
        assert app.is_running
        assert app.return_code is None


# --------------------------------------------------------------------------- hostile text


async def test_markup_and_escapes_in_remote_text_are_shown_literally(
    simulator: Simulator,
) -> None:
    simulator.add_diff(61, state=6, fail_with="[red]x[/red] \x1b[31mboom [bold]")
    simulator.add_diff(62, state=6)
    simulator.inject("hostile", diffid=62, count=20)  # escapes in jobstatename and joberror
    app = make_app(simulator, [(61, "[b]mine[/b]"), 62])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "boom" in list_text(app))
        await wait_until(pilot, lambda: "pwned" in list_text(app))
        text = list_text(app)
        assert "[bold red]x[/] \\x1b[2J\\x1b[31m[bold red]x[/]" in text
        assert "\\x1b]0;pwned\\x07" in text
        assert "[red]x[/red] \\x1b[31mboom [bold]" in text
        assert "[b]mine[/b]" in text
        assert "\x1b" not in text
        # No style from the remote text: "x" has the same style as the text around it.
        strips = app.screen._compositor.render_strips()
        line = next(s for s in strips if "boom" in s.text)
        styles = {seg.style for seg in line if "boom" in seg.text or "[red]" in seg.text}
        assert len(styles) == 1


# --------------------------------------------------------------------------- pause, quit


async def test_pause_stops_requests_and_resume_restarts_them(simulator: Simulator) -> None:
    for diffid in (71, 72, 73):
        simulator.add_diff(diffid, state=4, duration=LONG)
    app = make_app(simulator, [71, 72, 73])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("p")
        assert "paused" in header_text(app)
        await wait_until(pilot, lambda: app.tracker.scheduler.in_flight == 0)
        before = simulator.count("status")
        await pilot.pause(0.8)
        assert simulator.count("status") == before
        await pilot.press("r")  # a refresh does not poll while paused either
        await pilot.pause(0.2)
        assert simulator.count("status") == before
        await pilot.press("p")
        assert "live" in header_text(app)
        await wait_until(pilot, lambda: simulator.count("status") > before + 2)


async def test_quit_with_requests_in_flight_is_fast_and_saves(simulator: Simulator) -> None:
    for diffid in (81, 82, 83):
        simulator.add_diff(diffid, state=4, duration=LONG)
    app = make_app(simulator, [81, 82, 83])
    watchlist = app.watchlist
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        simulator.inject("slow", count=50, delay=5)
        slow_seen = simulator.count("status")
        await wait_until(pilot, lambda: simulator.count("status") >= slow_seen + 2)
        assert app.tracker.scheduler.in_flight > 0
        started = time.monotonic()
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, limit=3)
    assert time.monotonic() - started < 2.0
    assert app.return_code == 0
    saved = [call for call in watchlist.calls if call[0] == "save_status"]  # type: ignore[attr-defined]
    assert saved
    assert set(watchlist.saves[-1]) == {81, 82, 83}  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- watchlist edits


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
    for diffid in (1, 2, 3):
        simulator.add_diff(diffid, state=5)
    app = make_app(simulator, [1, 2, 3])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
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


async def test_edit_label(simulator: Simulator) -> None:
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


# --------------------------------------------------------------------------- list


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


async def test_selection_with_space_a_and_shift_a(simulator: Simulator) -> None:
    for diffid in (1, 2, 3, 4):
        simulator.add_diff(diffid, state=5)
    app = make_app(simulator, [1, 2, 3, 4])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
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
    for diffid in (1, 2):
        simulator.add_diff(diffid, state=5)
    app = make_app(simulator, [1, 2])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        lines = list_text(app).split("\n")
        assert "#2" in lines[3]
        await pilot.press("m")
        lines = list_text(app).split("\n")
        assert "#1" in lines[0] and "#2" in lines[1]


async def test_compact_from_the_options_and_a_bell_when_a_diff_completes(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=4, progress=60, duration=LONG)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [(1, "eu"), 2], compact=True, bell=True)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "RUNNING    #1 eu" in list_text(app).split("\n")[0])
        assert "#2" in list_text(app).split("\n")[1]
        simulator.add_diff(1, state=5)  # it completes (seen running first)
        app.tracker.refresh([1])
        await wait_until(pilot, lambda: "#1 (eu) completed" in screen_text(app))
        assert bells == [1]
        await wait_until(pilot, lambda: "COMPLETED  #1 eu" in list_text(app).split("\n")[0])
        assert "COMPLETED  #2" in list_text(app).split("\n")[1]


# --------------------------------------------------------------------------- screens


async def test_enter_opens_details_with_diff_info_files_and_raw_answer(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5, files=12)
    app = make_app(simulator, [(1, "eu build")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("enter")
        from textual.widgets import OptionList, TabbedContent

        from tui.screens.detail import DetailScreen

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


async def test_help_lists_the_bindings(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        text = rich_text(app.screen.query(Static).last())
        for key, words in (
            ("R", "Retry"),
            ("n", "Add"),
            ("d", "Remove"),
            ("p", "Pause"),
            ("q", "Quit"),
            ("/", "Filter"),
            ("l", "Events: what happened"),
            ("ctrl+p", "Command palette"),
        ):
            assert any(key in line and words in line for line in text.split("\n")), key
        lines = [line.split() for line in text.strip().split("\n")]
        # The app's own actions come first; the scroll keys the list inherits are left out.
        assert lines[0][:2] == ["R", "Retry"], lines[:4]
        assert ["↓", "j", "Down"] in lines  # aliases share a row
        assert "Scroll" not in text
        assert "Select all" in text
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_command_palette_has_the_apps_commands(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Retry selected diffs" in titles and "Add diffs" in titles
        assert "Quit" in titles  # Textual's own
        assert titles.count("Keys") == 1 and "Key bindings" in titles  # no two "Keys"
        await pilot.press("ctrl+p")
        await type_text(pilot, "retry sel")
        await wait_until(pilot, lambda: "Retry selected diffs" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape", "enter")  # the detail screen
        from tui.screens.detail import DetailScreen

        assert isinstance(app.screen, DetailScreen)
        on_details = [command.title for command in app.get_system_commands(app.screen)]
        assert "Remove diffs" not in on_details and "Filter" not in on_details
        assert "Pause / resume polling" in on_details and "Key bindings" in on_details


async def test_read_only_hides_retry_and_remove(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6)
    app = make_app(simulator, [1], read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        assert "READ-ONLY" in header_text(app)
        await wait_until(pilot, lambda: "Pause" in footer_text(app))
        footer = footer_text(app)
        assert "Retry" not in footer and "Remove" not in footer
        assert "Pause" in footer
        await pilot.press("R")
        await pilot.press("d")
        assert app.screen is app.screen_stack[0]
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Retry selected diffs" not in titles and "Remove diffs" not in titles
        await pilot.pause(0.2)
        assert simulator.count("retry") == 0
        assert set(app.tracker.views) == {1}
        await pilot.press("question_mark")
        keys = rich_text(app.screen.query(Static).last())
        assert "Pause" in keys and "Retry" not in keys and "Remove" not in keys


async def test_keymap_rebinds_a_key(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1], keymap={"pause": "x"})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("p")
        assert not app.tracker.paused
        await pilot.press("x")
        assert app.tracker.paused
        await wait_until(pilot, lambda: "x Pause" in footer_text(app))
        await wait_until(pilot, lambda: "Polling paused: press x to resume" in screen_text(app))


# --------------------------------------------------------------------------- time


async def test_tick_counts_the_eta_down_without_a_poll() -> None:
    from tui.clock import FakeClock
    from tui.poll_settings import PollSettings

    clock = FakeClock(1_700_000_000.0)
    settings = PollSettings(
        max_requests_per_second=50,
        min_interval=0.05,
        waiting_interval=600,
        running_max_interval=600,
        backoff_max=1.0,
        timeout=2.0,
    )
    with Simulator(speed=1.0, seed_demo=False, clock=clock.now) as sim:
        sim.add_diff(1, state=4, progress=10, duration=3600)
        app = make_app(sim, [1], clock=clock, poll=settings)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all_polled(app))
            eta = app.tracker.views[1].eta
            assert eta is not None
            from tui.formatting import eta_text

            await wait_until(pilot, lambda: eta_text(eta, clock.now()) in list_text(app))
            polls = sim.count("status")
            clock.advance(7)
            await wait_until(pilot, lambda: eta_text(eta, clock.now()) in list_text(app), limit=3)
            assert sim.count("status") == polls
            await asyncio.sleep(0)


# --------------------------------------------------------------------------- more paths


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
        await wait_until(pilot, lambda: not view.outcome_unknown)
        assert view.retries[-1].outcome == "accepted"
        assert simulator.count("retry", 1) == 1  # never re-sent
        await wait_until(pilot, lambda: "last retry: accepted" in list_text(app))


async def test_a_diff_that_fails_during_the_session_raises_a_plain_text_toast(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=4, progress=50, duration=LONG)
    app = make_app(simulator, [(1, "[i]eu[/i]")])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[1].state is JobState.RUNNING)
        # Now it fails (seen running first: a finish this session raises a toast).
        simulator.add_diff(1, state=6, fail_with="[b]disk[/b] \x1b[2J gone")
        app.tracker.refresh([1])
        await wait_until(pilot, lambda: app.tracker.views[1].state is JobState.FAILED)
        await wait_until(pilot, lambda: "failed: [b]disk" in screen_text(app))  # the toast
        toast = next(line for line in screen_text(app).split("\n") if "failed:" in line)
        assert "#1 ([i]eu[/i]) failed: [b]disk[/b] \\x1b[2J gone" in toast
        await wait_until(pilot, lambda: "✗ 1 failed" in header_text(app))


async def test_copy_puts_the_focused_id_on_the_clipboard(simulator: Simulator) -> None:
    simulator.add_diff(4101, state=5)
    app = make_app(simulator, [4101])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        assert app.clipboard == "4101"


async def test_refresh_polls_a_finished_diff_again(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [1, 2])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.pause(0.3)  # terminal diffs are confirmed, then left alone
        before = [simulator.count("status", d) for d in (1, 2)]
        await pilot.pause(0.3)
        assert [simulator.count("status", d) for d in (1, 2)] == before
        await pilot.press("r")  # the focused diff only
        await wait_until(pilot, lambda: simulator.count("status", 1) == before[0] + 1)
        assert simulator.count("status", 2) == before[1]


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
    from tui.models import WatchEntry

    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=6)
    # The file already has #2 (another instance added it after this one started).
    watchlist = MemoryWatchlist(
        [WatchEntry(diffid=d, asid=simulator.asid, profile="test") for d in (1, 2)]
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
        await wait_until(pilot, lambda: "FAILED     #2" in list_text(app))
        await pilot.pause(0.2)
        assert app.monitor.job_list.highlighted == 2  # the re-sort after the poll follows it
        assert "added by another instance: #2" in screen_text(app)


async def test_a_long_list_scrolls_and_polls_what_is_on_screen(simulator: Simulator) -> None:
    ids = simulator.add_many(60, first_id=1000)
    app = make_app(simulator, ids)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app), limit=10)
        await wait_until(pilot, lambda: "#1059" not in list_text(app))
        assert "COMPLETED  #1000" in list_text(app)
        await pilot.press("s")  # by ID
        await pilot.press("end")
        assert app.monitor.job_list.highlighted == 1059
        text = list_text(app)
        assert "#1059" in text and "#1000" not in text
        await wait_until(pilot, lambda: 1059 in app.monitor._last_visible, limit=3)
        await pilot.press("pageup")
        assert (
            app.monitor.job_list.highlighted is not None and app.monitor.job_list.highlighted < 1059
        )
        await pilot.press("home")
        assert app.monitor.job_list.highlighted == 1000
        assert "#1000" in list_text(app)


async def test_mouse_click_on_the_mark_selects_and_double_click_opens(
    simulator: Simulator,
) -> None:
    from tui.screens.detail import DetailScreen
    from tui.widgets.job_list import JobList

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


async def test_notices_and_unknown_keymap_ids_are_shown(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(
        simulator, [1], notices=["watchlist [b]moved[/b] aside"], keymap={"no-such": "x"}
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "watchlist [b]moved[/b] aside" in screen_text(app))
        await wait_until(pilot, lambda: "unknown binding ids: no-such" in screen_text(app))


async def test_theme_picker_applies_and_saves(simulator: Simulator) -> None:
    from tui.screens.theme_picker import ThemePicker

    simulator.add_diff(1, state=5)
    saved: list[str] = []
    app = make_app(simulator, [1], save_theme=saved.append)
    async with app.run_test(size=SIZE) as pilot:
        original = app.theme
        await pilot.press("t")
        assert isinstance(app.screen, ThemePicker)
        await pilot.press("down", "enter")
        assert not isinstance(app.screen, ThemePicker)
        assert app.theme != original
        assert saved == [app.theme]
        await pilot.press("t", "down", "escape")
        assert saved == [app.theme]


async def test_tick_counts_down_to_the_next_try_after_a_poll_error() -> None:
    import math

    from tui.clock import FakeClock
    from tui.poll_settings import PollSettings

    clock = FakeClock(1_700_000_000.0)
    # A long backoff: the next try is ~10-20 s away on the fake clock.
    settings = PollSettings(
        max_requests_per_second=50,
        min_interval=10,
        waiting_interval=600,
        running_max_interval=600,
        backoff_max=300,
        timeout=2.0,
    )
    with Simulator(speed=1.0, seed_demo=False, clock=clock.now) as sim:
        sim.add_diff(1, state=4, progress=10, duration=3600)
        sim.inject("500")
        app = make_app(sim, [1], clock=clock, poll=settings)
        view = app.tracker.views[1]

        def shown() -> str:
            assert view.next_poll_at is not None
            return f"server error 500, retrying in {math.ceil(view.next_poll_at - clock.now())}s"

        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: view.poll_error is not None)
            await wait_until(pilot, lambda: shown() in list_text(app))
            first = shown()
            clock.advance(3)
            await wait_until(pilot, lambda: shown() in list_text(app), limit=3)
            assert shown() != first
            assert sim.count("status") == 1


async def test_an_empty_watchlist_says_how_to_add(simulator: Simulator) -> None:
    simulator.add_diff(7, state=5)
    app = make_app(simulator, [], keymap={"add": "plus"})
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Nothing watched yet" in list_text(app))
        assert "press + to add diff IDs" in list_text(app)
        await pilot.press("plus")
        await type_text(pilot, "7")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "COMPLETED  #7" in list_text(app))
        assert "Nothing watched" not in list_text(app)


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


async def test_the_header_counts_add_up_and_erroring_is_apart(simulator: Simulator) -> None:
    """Seen: "1 completed, 3 erroring, 8 not yet known" for 9 diffs."""
    simulator.add_diff(1, state=5)
    for diffid in range(2, 5):
        simulator.add_diff(diffid, state=4, duration=LONG)
        simulator.break_diff(diffid, "500")
    app = make_app(simulator, [1, 2, 3, 4, 5, 6, 7, 8, 9])  # 5 to 9 do not exist
    async with app.run_test(size=SIZE) as pilot:
        expected = "✓ 1 completed  ✗ 0 failed  ? 8 not yet known  │ ⚠ 8 of 9 erroring"
        await wait_until(pilot, lambda: expected in header_text(app), what="counts")


async def test_the_header_says_offline_in_words_then_live_again(simulator: Simulator) -> None:
    for diffid in range(1, 5):
        simulator.add_diff(diffid, state=4, duration=LONG)
    app = make_app(simulator, [1, 2, 3, 4])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        simulator.start_outage("refused")
        await wait_until(
            pilot, lambda: "✕ offline, last answer just now" in header_text(app), what="offline"
        )
        assert "live" not in header_text(app)
        simulator.end_outage()
        await wait_until(pilot, lambda: "● live" in header_text(app), what="live again")
        await wait_until(
            pilot,
            lambda: all(v.poll_error is None for v in app.tracker.views.values()),
            what="every diff current",
        )
        await wait_until(pilot, lambda: "erroring" not in header_text(app), what="no errors")


async def test_a_narrow_terminal_keeps_the_counts_in_the_header(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6)
    app = make_app(simulator, [1])
    async with app.run_test(size=(50, 16)) as pilot:
        await wait_until(pilot, lambda: "✗ 1" in screen_text(app).split("\n")[1])
        lines = screen_text(app).split("\n")
        assert lines[0].startswith(" imagediff-tui") and lines[0].endswith("…")
        assert lines[1].startswith(" ▶ 0 running")
        assert "#1" in lines[2]


async def test_details_of_a_diff_that_cannot_be_read_say_why(simulator: Simulator) -> None:
    from tui.screens.detail import DetailScreen

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
    from tui.clock import FakeClock
    from tui.screens.detail import DetailScreen

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


async def test_wide_characters_in_a_label_keep_the_panel_aligned(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [(1, "東京ビルド 1.4 🚀"), (2, "plain label")])
    async with app.run_test(size=(100, 20)) as pilot:
        import re

        from rich.cells import cell_len

        await wait_until(pilot, lambda: list_text(app).count("COMPLETED") == 2)
        lines = list_text(app).split("\n")
        wide, narrow = lines[0], lines[3]
        assert "東京ビルド" in wide and "plain label" in narrow
        assert cell_len(wide) == cell_len(narrow)
        note = r"finished (just now|\d+s ago)$"
        assert re.search(note, wide) and re.search(note, narrow)


async def test_an_internal_error_in_the_poller_restarts_it(
    simulator: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.add_diff(1, state=4, duration=LONG)
    app = make_app(simulator, [1])
    tracker = app.tracker
    original = tracker._next_wake
    calls = 0

    def broken_once() -> float:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("a bug in the loop")
        return original()

    tracker._next_wake = broken_once  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "Polling hit an internal error" in screen_text(app))
        assert app.is_running
        stopped_at = simulator.count("status")
        await wait_until(pilot, lambda: simulator.count("status") > stopped_at + 2, limit=5)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == [
        "polling stopped on an error: RuntimeError('a bug in the loop'); restarting"
    ]
    caplog.clear()


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


@pytest.mark.parametrize("theme", ["ansi-16", "imagediff-dark"])
async def test_without_colour_the_progress_bar_still_shows_its_fill(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is built
    simulator.add_diff(1, state=4, progress=40, duration=LONG)
    app = make_app(simulator, [1], theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "RUNNING" in list_text(app))
        bar = list_text(app).split("\n")[1].split()[1]
        done = round(40 * (app.tracker.views[1].progress or 0) / 100)
        assert 10 <= done <= 30
        if theme == "ansi-16":
            # Every colour is dropped (NoColor): the empty part needs its own glyph.
            assert bar == "━" * done + "─" * (40 - done)
        else:
            # Monochrome keeps grey levels apart: the bar is drawn as with colour.
            assert bar == "━" * 40
