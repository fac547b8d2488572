"""Exactly once, across restarts: an action sent with an unknown outcome is noted in the
watchlist file before it goes out, survives a restart, and an accept or reject is not
sent again without the user's explicit "send again anyway".
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.app_support import FAST_POLL, list_text, make_app, screen_text, wait_until
from tests.monitor.steps import SIZE, all_polled, dialog_text
from tui.domain.actions import ActionOutcome
from tui.domain.clock import SystemClock
from tui.domain.watch_entry import SentAction, WatchEntry
from tui.simulator import Simulator
from tui.store.watchlist.account import AccountWatchlist
from tui.store.watchlist.file import WatchlistStore
from tui.ui.app import ImageDiffApp
from tui.ui.screens.accept_reject import AcceptScreen
from tui.ui.screens.detail import DetailScreen

STALL = 4.0
"""The stalled answer comes this long after the request: past the client's timeout."""


def _open(path: Path, simulator: Simulator) -> tuple[AccountWatchlist, list[WatchEntry]]:
    """The account's watchlist as a start of the app opens it (entries from the file)."""
    store = WatchlistStore(path)
    watchlist = AccountWatchlist(
        WatchlistStore(path), api_url=simulator.url, asid=simulator.asid, clock=SystemClock()
    )
    entries = store.entries_for(simulator.url, simulator.asid)
    return watchlist, entries


def _app(path: Path, simulator: Simulator) -> ImageDiffApp:
    watchlist, entries = _open(path, simulator)
    return make_app(simulator, entries, watchlist=watchlist)


def _start(path: Path, simulator: Simulator, ids: list[int]) -> None:
    WatchlistStore(path).add(
        [WatchEntry(diffid=i, asid=simulator.asid, api_url=simulator.url) for i in ids]
    )


async def test_a_stalled_accept_survives_a_restart_and_is_not_sent_again(
    simulator: Simulator, tmp_path: Path
) -> None:
    assert FAST_POLL.timeout < STALL
    simulator.add_diff(41, state=5)
    path = tmp_path / "watchlist.toml"
    _start(path, simulator, [41])
    # The server creates the image version, then its answer stalls past the timeout.
    simulator.break_diff(41, "slow", endpoint="accept", delay=STALL)
    first = _app(path, simulator)
    async with first.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(first))
        await pilot.press("V", "0", "y")
        decision = lambda: first.tracker.views[41].decision  # noqa: E731
        await wait_until(
            pilot,
            lambda: (d := decision()) is not None and d.outcome is ActionOutcome.UNKNOWN,
            limit=15,
        )
    assert simulator.count("accept", 41) == 1
    saved = WatchlistStore(path).entries_for(simulator.url, simulator.asid)[0]
    assert [sent.action for sent in saved.sent] == ["accept"]
    assert saved.sent[0].options == "restart=0"
    simulator.mend_diff(41)

    second = _app(path, simulator)
    async with second.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(second))
        row = list_text(second)
        assert "? accept outcome unknown" in row
        assert "Clanforge dashboard" in row
        await pilot.press("V")
        assert isinstance(second.screen, AcceptScreen)
        text = dialog_text(second)
        assert "Nothing can be accepted" in text
        assert "#41" in text and "sending it again may make a second image version" in text
        await pilot.press("n")
        # The detail screen says the same, in full: how it settles.
        await pilot.press("enter")
        assert isinstance(second.screen, DetailScreen)
        await wait_until(pilot, lambda: "a status read cannot tell" in screen_text(second))
        await pilot.press("escape")
        await pilot.pause(0.3)
    assert simulator.count("accept", 41) == 1


async def test_send_again_anyway_sends_a_second_accept_only_when_chosen(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add_diff(42, state=5)
    path = tmp_path / "watchlist.toml"
    _start(path, simulator, [42])
    simulator.break_diff(42, "drop-after", endpoint="accept")
    first = _app(path, simulator)
    async with first.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(first))
        await pilot.press("V", "1", "y")
        await wait_until(pilot, lambda: simulator.count("accept", 42) == 1)
        await wait_until(pilot, lambda: not first.tracker.views[42].decision_in_flight)
    simulator.mend_diff(42)
    second = _app(path, simulator)
    async with second.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(second))
        await pilot.press("V")
        text = dialog_text(second)
        assert "A: send again anyway" in text
        assert "a second image version" in text
        await pilot.press("A")
        assert isinstance(second.screen, AcceptScreen)
        again = dialog_text(second)
        assert "Sent again anyway: this may make a second image version" in again
        assert "#42" in again.split("Skipped:")[0]
        await pilot.press("1", "y")
        await wait_until(pilot, lambda: simulator.count("accept", 42) == 2)
        await wait_until(pilot, lambda: not second.tracker.views[42].decision_in_flight)
    # Its outcome is known now (the simulator refuses a second accept, or took it):
    # the pending mark is gone from the file.
    saved = WatchlistStore(path).entries_for(simulator.url, simulator.asid)[0]
    assert saved.sent == ()


async def test_an_accept_the_command_line_left_unknown_blocks_v_in_a_running_app(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add_diff(43, state=5)
    path = tmp_path / "watchlist.toml"
    _start(path, simulator, [43])
    app = _app(path, simulator)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        # The command line's accept, answer lost, while the app runs.
        key = (simulator.url, simulator.asid, 43)
        WatchlistStore(path).note_sent(key, SentAction("accept", time.time(), "restart=1"))
        await pilot.press("V", "0", "y")
        await wait_until(pilot, lambda: "? accept outcome unknown" in list_text(app))
        await pilot.pause(0.3)
    assert simulator.count("accept", 43) == 0
    # The command line's mark stays: the app's "not sent" did not clear it.
    saved = WatchlistStore(path).entries_for(simulator.url, simulator.asid)[0]
    assert [sent.action for sent in saved.sent] == ["accept"]
