"""SVG snapshots of every screen and every built-in theme.

The apps come from :mod:`tests.snapshot_apps.fleet`: no polling, a clock that
stands still, a fixed host. This module pins what is left of the environment
(the time zone, ``NO_COLOR``), so a screenshot is the same on every machine and
every run. Regenerate after an intended change with::

    .venv/bin/python -m pytest tests/test_snapshots.py --snapshot-update

and look at the SVGs in ``tests/__snapshots__/test_snapshots/`` before committing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from textual import constants
from textual.pilot import Pilot
from textual.widgets import OptionList, TabbedContent

from tests.snapshot_apps.fleet import (
    COMPLETED,
    FAILED,
    NOW,
    RUNNING,
    build_app,
    settle,
)
from tui.domain.actions import ActionOutcome
from tui.domain.jobs import JobKind, JobState, VersionJob
from tui.polling.tracker import ActionRecord, FollowedJob
from tui.store.journal import EventKind, JournalEvent
from tui.ui.app import ImageDiffApp
from tui.ui.screens.detail import DetailScreen
from tui.ui.screens.events import EventLines, EventsScreen
from tui.ui.themes import load_catalog

SnapCompare = Callable[..., bool]

BUILTIN_THEMES = load_catalog(None).names()


@pytest.fixture(autouse=True)
def _fixed_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """UTC for the header clock and the detail times; colour unless a test asks."""
    if constants.FILTERS.strip() or constants.DIM_FACTOR != 0.66:
        pytest.skip("TEXTUAL_FILTERS / TEXTUAL_DIM_FACTOR change every screenshot")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _app(pilot: Pilot[Any]) -> ImageDiffApp:
    app = pilot.app
    assert isinstance(app, ImageDiffApp)
    return app


async def _cursor_to(pilot: Pilot[Any], diffid: int) -> None:
    job_list = _app(pilot).monitor.job_list
    job_list.cursor = job_list.order.index(diffid)
    await pilot.pause()


async def _press(pilot: Pilot[Any], *keys: str) -> None:
    await settle(pilot)
    await pilot.press(*keys)
    await pilot.pause()


# -- the main screen ----------------------------------------------------------------------


def test_main_80x24(snap_compare: SnapCompare) -> None:
    """Every state at the smallest supported size: failed first, then work in flight."""
    assert snap_compare(build_app(), terminal_size=(80, 24), run_before=settle)


def test_main_120x40(snap_compare: SnapCompare) -> None:
    """The whole fleet: running with progress and ETA, queued, pending, created,
    completed, failed with its error, a poll error counting down, one stale."""
    assert snap_compare(build_app(), terminal_size=(120, 40), run_before=settle)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_main_compact(snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    """Compact mode (m): one line per diff, in the same columns, under the same header."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _press(pilot, "m")

    assert snap_compare(build_app(), terminal_size=size, run_before=run_before)


def test_main_needs_attention_reversed(snap_compare: SnapCompare) -> None:
    """f: only what needs attention (failed, erroring), "N of M shown"; S: the sort
    reversed (↓)."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _press(pilot, "m", "f", "S")

    assert snap_compare(build_app(), terminal_size=(80, 24), run_before=run_before)


def test_main_selection_of_two(snap_compare: SnapCompare) -> None:
    """Two diffs selected with space: marks on both, "[2 selected]" in the header."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _press(pilot, "space", "space")

    assert snap_compare(build_app(), terminal_size=(80, 24), run_before=run_before)


# -- the other screens --------------------------------------------------------------------


async def _open_failed_details(pilot: Pilot[Any]) -> DetailScreen:
    """Enter on the failed diff; wait until its diff_info has loaded."""
    await settle(pilot)
    await _cursor_to(pilot, FAILED)
    await pilot.press("enter")
    app = _app(pilot)
    for _ in range(500):
        screen = app.screen
        # The file lists stay empty until the diff_info answer is painted.
        if (
            isinstance(screen, DetailScreen)
            and screen.query_one("#modified", OptionList).option_count
        ):
            await pilot.pause()
            return screen
        await pilot.pause(0.01)
    raise AssertionError("the detail screen never loaded diff_info")


def test_detail_screen(snap_compare: SnapCompare) -> None:
    """Enter on the failed diff: every field, diff_info, file counts on the tabs."""
    assert snap_compare(build_app(), terminal_size=(100, 34), run_before=_open_failed_details)


def test_detail_modified_files(snap_compare: SnapCompare) -> None:
    """The detail screen's Modified tab: the file list with sizes."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await _open_failed_details(pilot)
        screen.query_one(TabbedContent).active = "tab-modified"
        await pilot.pause()

    assert snap_compare(build_app(), terminal_size=(100, 24), run_before=run_before)


def test_add_dialog_with_a_bad_token(snap_compare: SnapCompare) -> None:
    """n, then three IDs of which one is not a number: reported inline, Add disabled."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _press(pilot, "n")
        await pilot.press(*"4201, 42x2 4203")
        await pilot.pause()

    assert snap_compare(build_app(), terminal_size=(80, 24), run_before=run_before)


def test_retry_confirmation_skips_a_running_diff(snap_compare: SnapCompare) -> None:
    """R on a selection of failed, running and completed: the running one is skipped."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        job_list = _app(pilot).monitor.job_list
        for diffid in (FAILED, RUNNING, COMPLETED):
            job_list.toggle(diffid)
        await pilot.pause()
        await pilot.press("R")
        await pilot.pause()

    assert snap_compare(build_app(), terminal_size=(80, 24), run_before=run_before)


def test_help_screen(snap_compare: SnapCompare) -> None:
    """?: every key of the list screen."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _press(pilot, "question_mark")

    assert snap_compare(build_app(), terminal_size=(100, 40), run_before=run_before)


def test_event_view(snap_compare: SnapCompare) -> None:
    """l: the journal newest first, state changes, retries with their outcome, an outage."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = _app(pilot)
        for event in (
            JournalEvent(
                at=NOW - 3600,
                kind=EventKind.STATE,
                diffid=FAILED,
                asid=1234,
                label="eu-west nightly",
                old="Running",
                new="Failed",
                job_time=int(NOW - 3602),
            ),
            JournalEvent(
                at=NOW - 1800,
                kind=EventKind.ACTION,
                diffid=FAILED,
                asid=1234,
                label="eu-west nightly",
                action="retry",
                outcome="refused",
                reason="Image locked by diffid 4102\x1b[2J",
                ref="a",
            ),
            JournalEvent(
                at=NOW - 900,
                kind=EventKind.OUTAGE,
                asid=1234,
                phase="start",
                reason="last answer at 12:04:40",
            ),
            JournalEvent(
                at=NOW - 855,
                kind=EventKind.OUTAGE,
                asid=1234,
                phase="end",
                reason="offline for 45s",
            ),
            JournalEvent(
                at=NOW - 60,
                kind=EventKind.STATE,
                diffid=RUNNING,
                asid=1234,
                label="a label far too long to fit",
                old="Queued",
                new="Running",
                job_time=int(NOW - 61),
            ),
        ):
            app.journal.append(event)
        await _press(pilot, "l")
        screen = app.screen
        assert isinstance(screen, EventsScreen)
        for _ in range(500):
            if len(screen.query_one(EventLines)._lines) == 5:
                break
            await pilot.pause(0.01)
        await pilot.pause()

    assert snap_compare(build_app(), terminal_size=(100, 16), run_before=run_before)


def test_theme_picker(snap_compare: SnapCompare) -> None:
    """t: the theme picker over the list, previewing the highlighted theme."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await _press(pilot, "t")

    assert snap_compare(build_app(), terminal_size=(100, 30), run_before=run_before)


# -- themes -------------------------------------------------------------------------------


async def _select_completed(pilot: Pilot[Any]) -> None:
    """The cursor on the first panel and the completed diff selected."""
    await settle(pilot)
    _app(pilot).monitor.job_list.toggle(COMPLETED)
    await pilot.pause()


@pytest.mark.parametrize("theme", BUILTIN_THEMES)
def test_theme(snap_compare: SnapCompare, theme: str) -> None:
    """Each built-in theme on the main screen: every state, the cursor, a selection."""
    assert snap_compare(
        build_app(theme=theme), terminal_size=(100, 30), run_before=_select_completed
    )


# Textual reads NO_COLOR when the app is built: set it first. The default theme gets
# Textual's Monochrome filter (grey levels); an ANSI theme gets NoColor (app.py swaps
# them as the theme changes), which drops every colour: glyphs and words still tell
# the states apart, and a progress bar's empty part has a line of its own.


@pytest.mark.parametrize("theme", ["imagediff-dark", "ansi-16"])
def test_no_color_main(
    snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    """NO_COLOR=1 on the main screen: states told apart by glyph and word, not colour."""
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(
        build_app(theme=theme), terminal_size=(100, 30), run_before=_select_completed
    )


def test_no_color_ansi_16_details(
    snap_compare: SnapCompare, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR=1 with ansi-16: NoColor, not Monochrome, so text stays legible (not grey
    on black); the detail screen, whose content never depends on colour."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(theme="ansi-16")
    assert snap_compare(app, terminal_size=(100, 30), run_before=_open_failed_details)


# -- accept, reject, locks ------------------------------------------------------------------


def _lifecycle_app() -> ImageDiffApp:
    """Completed, accepted: its image version installing; failed on another diff's lock."""
    app = build_app(diffs=[RUNNING, COMPLETED, FAILED])
    views = app.tracker.views
    accepted = views[COMPLETED]
    accepted.decision = ActionRecord(
        at=NOW - 60,
        outcome=ActionOutcome.ACCEPTED,
        message="accepted",
        action="accept",
        options="restart=1",
    )
    version = VersionJob(
        imageversionid=700001,
        state=JobState.RUNNING,
        state_name="Running",
        progress=45,
        created=int(NOW) - 60,
        updated=int(NOW) - 5,
        failed=False,
        start=int(NOW) - 55,
        eta=int(NOW) + 130,
    )
    accepted.followed = FollowedJob(JobKind.VERSION, 700001, version)
    locked = views[FAILED]
    assert locked.job is not None
    locked.job = replace(locked.job, error="Image locked by diffid 4113")
    return app


def test_panel_lines_of_an_accepted_and_a_locked_diff(snap_compare: SnapCompare) -> None:
    """The version job on its diff's panel; the lock named, with the key that goes to it."""
    assert snap_compare(_lifecycle_app(), terminal_size=(100, 16), run_before=settle)


def test_accept_dialog_with_nothing_chosen(snap_compare: SnapCompare) -> None:
    """V on a completed and a running diff: one accepted, one skipped; restart unchosen."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        job_list = _app(pilot).monitor.job_list
        for diffid in (RUNNING, COMPLETED):
            job_list.toggle(diffid)
        await pilot.pause()
        await pilot.press("V")
        await pilot.pause()

    app = build_app(diffs=[RUNNING, COMPLETED, FAILED])
    assert snap_compare(app, terminal_size=(100, 40), run_before=run_before)


def test_reject_dialog_after_y_without_a_choice(snap_compare: SnapCompare) -> None:
    """X on a failed diff, then y: the dialog says to choose reinstall first."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await _cursor_to(pilot, FAILED)
        await pilot.press("X")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()

    app = build_app(diffs=[RUNNING, COMPLETED, FAILED])
    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
