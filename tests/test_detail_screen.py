"""The detail screen acts on the diff shown and reads well: R, V and X retry, accept
and reject that diff, the raw answer is indented JSON, sizes are human (exact on `b`),
`/` filters the file lists, and the diff_info fields line up with the others."""

from __future__ import annotations

import json

import pytest
from textual.screen import Screen
from textual.widgets import OptionList, Static, TabbedContent

from tests.app_support import make_app, screen_text, wait_until
from tests.monitor.steps import SIZE, all_polled, dialog_text, rich_text, toasts, type_text
from tui.simulator import Simulator
from tui.ui.app import ImageDiffApp
from tui.ui.screens.accept_reject import AcceptScreen, RejectScreen
from tui.ui.screens.confirm import ConfirmScreen
from tui.ui.screens.detail import DetailScreen, human_size


async def _open_details(app: ImageDiffApp, pilot: object, row: int) -> DetailScreen:
    """Enter on the ``row``-th diff of the list; wait until its diff_info has loaded."""
    await wait_until(pilot, lambda: all_polled(app))  # type: ignore[arg-type]
    await pilot.press(*["down"] * row, "enter")  # type: ignore[attr-defined]
    screen = app.screen
    assert isinstance(screen, DetailScreen)
    await wait_until(pilot, lambda: "machine" in screen_text(app))  # type: ignore[arg-type]
    return screen


def _options(screen: DetailScreen, name: str) -> list[str]:
    option_list = screen.query_one(f"#{name}", OptionList)
    return [str(option_list.get_option_at_index(i).prompt) for i in range(option_list.option_count)]


async def test_r_on_details_retries_the_diff_shown(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6)
    simulator.add_diff(2, state=6)
    app = make_app(simulator, [1, 2])
    async with app.run_test(size=SIZE) as pilot:
        await _open_details(app, pilot, row=1)
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        body = dialog_text(app)
        assert "#2" in body and "#1" not in body
        await pilot.press("y")
        await wait_until(pilot, lambda: simulator.count("retry") == 1)
        assert isinstance(app.screen, DetailScreen)


async def test_r_on_details_in_read_only_says_why(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6)
    app = make_app(simulator, [1], read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _open_details(app, pilot, row=0)
        assert "Retry" not in screen_text(app).split("\n")[-1]
        await pilot.press("R")
        await wait_until(pilot, lambda: toasts(app))
        assert toasts(app) == ["read-only: retry is disabled"]
        assert isinstance(app.screen, DetailScreen) and simulator.count("retry") == 0


@pytest.mark.parametrize(
    ("key", "dialog", "endpoint", "decision"),
    [("V", AcceptScreen, "accept", "accepted"), ("X", RejectScreen, "reject", "rejected")],
)
async def test_v_and_x_on_details_act_on_the_diff_shown(
    simulator: Simulator, key: str, dialog: type[Screen[object]], endpoint: str, decision: str
) -> None:
    for diffid in (1, 2, 3):
        simulator.add_diff(diffid, state=5)
    app = make_app(simulator, [1, 2, 3])
    async with app.run_test(size=SIZE) as pilot:
        await _open_details(app, pilot, row=1)
        await pilot.press(key)
        assert isinstance(app.screen, dialog)
        body = dialog_text(app)
        assert "#2" in body and "#1" not in body and "#3" not in body
        await pilot.press("0", "y")
        await wait_until(pilot, lambda: simulator.count(endpoint) == 1)
        await wait_until(pilot, lambda: (simulator.decision(2) or ("",))[0] == decision)
        assert simulator.count(endpoint, 2) == 1
        assert isinstance(app.screen, DetailScreen)


async def test_v_and_x_on_details_in_read_only_say_why(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1], read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await _open_details(app, pilot, row=0)
        footer = screen_text(app).split("\n")[-1]
        assert "Accept" not in footer and "Reject" not in footer
        await pilot.press("V", "X")
        await wait_until(pilot, lambda: len(toasts(app)) == 2)
        assert toasts(app) == ["read-only: accept is disabled", "read-only: reject is disabled"]
        assert isinstance(app.screen, DetailScreen)
    assert simulator.count("accept") == simulator.count("reject") == 0


async def test_raw_response_is_indented_json(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5, files=3)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_details(app, pilot, row=0)
        screen.query_one(TabbedContent).active = "tab-raw"
        await pilot.pause()
        raw = rich_text(screen.query_one("#raw", Static))
        assert '\n  "diffid": 1,' in raw
        assert json.loads(raw)["diffid"] == 1


async def test_sizes_are_human_and_exact_on_b(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5, files=20)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_details(app, pilot, row=0)
        assert screen._job is not None and screen._job.info is not None
        entry = screen._job.info.modified[0]
        assert entry.size is not None
        assert _options(screen, "modified")[0] == f"{entry.path}  {human_size(entry.size)}"
        await pilot.press("b")
        assert _options(screen, "modified")[0] == f"{entry.path}  {entry.size:,} B"


def test_human_size_steps() -> None:
    assert [human_size(n) for n in (0, 1023, 1024, 1536, 5 * 1024**2, 3 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "1.5 KiB",
        "5.0 MiB",
        "3.0 GiB",
    ]


async def test_slash_filters_the_file_lists_and_escape_clears(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5, files=40)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_details(app, pilot, row=0)
        assert screen._job is not None and screen._job.info is not None
        modified = screen._job.info.modified
        wanted = modified[0].path.rsplit("/", 1)[-1]
        matching = [e for e in modified if wanted.casefold() in e.path.casefold()]
        await pilot.press("slash")
        assert screen.query_one(TabbedContent).active == "tab-added"
        await type_text(pilot, wanted)
        screen.query_one(TabbedContent).active = "tab-modified"
        await wait_until(pilot, lambda: len(_options(screen, "modified")) == len(matching))
        assert f"Modified ({len(matching)} of {len(modified)})" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: len(_options(screen, "modified")) == len(modified))
        assert app.screen is screen
        await pilot.press("escape")
        assert app.screen is not screen


async def test_diff_info_values_line_up_with_the_fields(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5, files=3)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        await _open_details(app, pilot, row=0)
        lines = screen_text(app).split("\n")

        def value_column(name: str) -> int:
            line = next(line for line in lines if line.strip().startswith(name + " "))
            return len(line) - len(line[line.index(name) + len(name) :].lstrip())

        assert value_column("game") == value_column("diff") == value_column("state")
