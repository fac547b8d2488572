"""JobList's ordering: answers re-sort the list only when a diff's place changed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip

from tests.app_support import list_text, make_app, wait_until
from tui.domain.clock import FakeClock
from tui.domain.jobs import parse_job
from tui.domain.watch_entry import WatchEntry
from tui.polling.job_order import filter_haystack, sort_value
from tui.polling.tracker import JobView
from tui.ui.themes import default_app_variables
from tui.ui.widgets import list_rows as list_rows_module
from tui.ui.widgets.job_list import JobList
from tui.ui.widgets.list_rows import RESORT_AFTER
from tui.ui.widgets.row_painter import ListState

if TYPE_CHECKING:
    from tui.simulator import Simulator

NOW = 1_800_000_000.0


def _view(diffid: int, state: int, progress: int) -> JobView:
    view = JobView(WatchEntry(diffid=diffid, asid=1, api_url="https://p"))
    _answer(view, state, progress)
    return view


def _answer(view: JobView, state: int, progress: int) -> None:
    view.job = parse_job(
        {
            "diffid": view.diffid,
            "jobstateid": state,
            "jobstatename": {4: "Running", 5: "Completed", 6: "Failed"}[state],
            "jobprogress": progress,
            "jobcreated": int(NOW) - 100,
            "jobupdated": int(NOW),
            "jobfailed": 0,
            "jobstart": int(NOW) - 50,
            "jobeta": int(NOW) + 60 if state == 4 else None,
        }
    )
    view.stale = False
    view.updated_at = NOW
    view.version += 1


class ListApp(App[None]):
    def __init__(self, views: dict[int, JobView], clock: FakeClock | None = None) -> None:
        super().__init__()
        self.views = views
        self.clock = clock if clock is not None else FakeClock(NOW)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return default_app_variables(self.current_theme)

    def compose(self) -> ComposeResult:
        yield JobList(self.views, clock=self.clock, id="jobs")


async def test_an_answer_that_moves_a_diff_reorders_within_half_a_minute_in_one_move() -> None:
    views = {1: _view(1, 4, 10), 2: _view(2, 4, 20), 3: _view(3, 5, 100), 4: _view(4, 4, 5)}
    clock = FakeClock(NOW)
    app = ListApp(views, clock)
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)
        before = list(jobs.order)
        assert set(before) == {1, 2, 3, 4}

        rebuilds = 0
        original = jobs.rebuild

        def counting(**kwargs: object) -> bool:
            nonlocal rebuilds
            rebuilds += 1
            return original(**kwargs)  # type: ignore[arg-type]

        jobs.rebuild = counting  # type: ignore[method-assign]
        _answer(views[1], 4, 40)  # progress only: same state, same place
        jobs.rows_changed([1])
        await pilot.pause()
        assert rebuilds == 0
        assert jobs.order == before

        # Finished: it now sorts with the other Completed diff, but keeps its row for now
        # (redrawn in place), and a second finish a few seconds later joins the same move.
        _answer(views[1], 5, 100)
        jobs.rows_changed([1])
        await pilot.pause()
        assert jobs.order == before
        assert "COMPLETED" in jobs.render_line(before.index(1) * 3).text
        clock.advance(5)
        _answer(views[4], 5, 100)
        jobs.rows_changed([4])
        jobs.tick()
        assert rebuilds == 0 and jobs.order == before

        clock.advance(RESORT_AFTER - 5)
        jobs.tick()
        await pilot.pause()
        assert rebuilds == 1
        assert jobs.order == [2, 1, 3, 4]


async def test_a_filter_hides_a_diff_whose_answer_stops_matching() -> None:
    views = {1: _view(1, 4, 10), 2: _view(2, 6, 20)}
    app = ListApp(views)
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)
        jobs.set_filter("run")
        assert jobs.order == [1]
        jobs.set_filter("runn")  # stricter: narrowed from the rows shown
        assert jobs.order == [1]
        _answer(views[1], 5, 100)  # Completed no longer contains "runn"
        jobs.rows_changed([1])
        await pilot.pause()
        assert jobs.order == []
        jobs.set_filter("")
        assert sorted(jobs.order) == [1, 2]


async def test_a_panel_shows_the_jobs_own_time_not_when_it_was_polled(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=6, started_ago=23 * 60 + 5)
    simulator.add_diff(2, state=5, started_ago=105 * 60 + 5)
    simulator.add_diff(3, state=4, duration=3600)
    app = make_app(simulator, [1, 2, 3])
    async with app.run_test(size=(120, 20)) as pilot:
        views = app.tracker.views
        await wait_until(pilot, lambda: not any(view.stale for view in views.values()))
        await wait_until(pilot, lambda: re.search(r"#1 .*FAILED .* 23m ago ", list_text(app)))
        text = list_text(app)
        assert re.search(r"#2 .*COMPLETED .* 1h 45m ago", text)
        assert re.search(r"#3 .*RUNNING .* ETA \d+m", text)


async def test_a_minute_of_ticks_redraws_a_running_panel_once_or_twice() -> None:
    """ETA and elapsed time are as precise as a glance needs (whole minutes here), so the
    timing line of a diff 10 minutes from its ETA is redrawn once or twice a minute, not
    every second."""
    view = _view(1, 4, 30)
    assert view.job is not None
    view.job = replace(view.job, eta=int(NOW) + 600, start=int(NOW) - 300)
    clock = FakeClock(NOW)
    app = ListApp({1: view}, clock)
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)
        await pilot.pause()
        refreshed: list[Region] = []
        original = jobs.refresh

        def counting(*regions: Region, **kwargs: Any) -> JobList:
            refreshed.extend(regions)
            return original(*regions, **kwargs)

        jobs.refresh = counting  # type: ignore[method-assign]
        shown = []
        for _ in range(60):
            clock.advance(1.0)
            jobs.tick()
            await pilot.pause()
            shown.append(jobs.render_line(0).text + jobs.render_line(1).text)
        for y in (0, 1):  # the ETA in the row, the elapsed time below it
            timing_line = [region for region in refreshed if region.y == y]
            assert 1 <= len(timing_line) <= 2, timing_line
        assert "ETA 9m" in shown[-1] and "elapsed 6m" in shown[-1]


async def test_filter_keystrokes_reuse_the_sort_and_each_diffs_search_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    views = {diffid: _view(diffid, 4 if diffid % 3 else 5, 10) for diffid in range(1, 301)}
    app = ListApp(views)
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)
        calls = {"sort": 0, "haystack": 0}

        def counting(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any) -> Any:
                calls[name] += 1
                return real(*args)

            return wrapper

        monkeypatch.setattr(list_rows_module, "sort_value", counting("sort", sort_value))
        monkeypatch.setattr(
            list_rows_module, "filter_haystack", counting("haystack", filter_haystack)
        )
        for text in ("1", "12", "1", "", "comp", ""):
            jobs.set_filter(text)
            await pilot.pause()
        assert jobs.order == sorted(views, key=lambda d: (d % 3 == 0, d))
        assert calls["sort"] == 0
        assert calls["haystack"] == len(views), "each diff's text is built once"

        jobs.set_filter("comp")
        _answer(views[1], 5, 100)  # a change: its text is built again, and it now matches
        jobs.rows_changed([1])
        await pilot.pause()
        assert 1 in jobs.order and all(views[d].state_name == "Completed" for d in jobs.order)
        assert calls["haystack"] == len(views) + 1


async def test_a_frame_builds_each_panel_on_screen_once() -> None:
    views = {diffid: _view(diffid, 4, 10) for diffid in range(1, 101)}
    app = ListApp(views)
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)
        await pilot.pause()
        built: list[int] = []
        original = jobs.painter.row_strips

        def counting(state: ListState, row: int, now: float) -> list[Strip]:
            built.append(row)
            return original(state, row, now)

        jobs.painter.row_strips = counting  # type: ignore[method-assign]
        region = jobs.scrollable_content_region
        jobs.refresh()
        lines = jobs.render_lines(Region(0, 0, region.width, region.height))
        assert len(lines) == region.height
        assert sorted(built) == sorted(set(built)) == list(jobs.visible_rows())
        assert "#1 " in lines[0].text and "ETA" in lines[0].text
        assert "elapsed" in lines[1].text


async def test_the_lists_messages_name_the_list_as_their_control() -> None:
    views = {1: _view(1, 5, 100), 2: _view(2, 6, 100)}
    app = ListApp(views)
    seen: list[Message] = []
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)
        original = jobs.post_message

        def record(message: Any) -> bool:
            if isinstance(
                message, JobList.Highlighted | JobList.SelectionChanged | JobList.Activated
            ):
                seen.append(message)
            return original(message)

        jobs.post_message = record  # type: ignore[method-assign]
        await pilot.press("down", "space", "enter")
        await pilot.pause()
    kinds = {type(message) for message in seen}
    assert {JobList.Highlighted, JobList.SelectionChanged, JobList.Activated} <= kinds
    assert all(message.control is jobs for message in seen)


async def test_a_longer_diff_id_widens_the_id_column_of_every_row() -> None:
    views = {7: _view(7, 4, 10)}
    app = ListApp(views)
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)
        await pilot.pause()
        narrow = jobs.columns.id
        views[1234567] = _view(1234567, 4, 10)
        jobs.rows_changed([1234567])
        await pilot.pause()
        assert jobs.columns.id == narrow + 6
        rows = [jobs.render_line(y).text for y in (0, 3)]
        assert {row.index("RUNNING") for row in rows} == {rows[0].index("RUNNING")}


async def test_a_row_read_longer_ago_than_its_cadence_says_it_is_stale() -> None:
    """Issue 22: running rows read at start showed their first progress for minutes with
    no word that nothing newer had come. A row whose next read is long overdue (by half
    its cadence) says when it was last seen."""
    view = _view(1, 4, 1)
    view.next_poll_at = NOW + 30.0
    clock = FakeClock(NOW)
    app = ListApp({1: view}, clock)
    async with app.run_test(size=(100, 20)) as pilot:
        jobs = app.query_one(JobList)

        def shown() -> str:
            return jobs.render_line(0).text + jobs.render_line(1).text

        for seconds in (20.0, 20.0, 5.0):  # read at 0, next read due at 30: on time
            clock.advance(seconds)
            jobs.tick()
            await pilot.pause()
            assert "stale" not in shown()
        clock.advance(60.0)  # 105 s old, 75 s past its read
        jobs.tick()
        await pilot.pause()
        assert "stale · last seen 1m ago" in shown()
        _answer(view, 4, 40)
        view.next_poll_at = clock.now() + 30.0
        jobs.rows_changed([1])
        await pilot.pause()
        assert "stale" not in shown()
