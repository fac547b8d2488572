"""The app and a watchlist file in trouble: locked by another process, corrupted while it runs.

The app keeps working on screen whatever the file does: the file work happens on a
thread, a wait for another process's lock is said in words, and the list the app
holds is written back when the file on disk turns out unreadable.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.app_support import make_app, screen_text, wait_until
from tests.textual_probes import toasts
from tui.domain.clock import SystemClock
from tui.domain.watch_entry import WatchEntry
from tui.store.atomic_file import lock_path
from tui.store.watchlist.account import AccountWatchlist
from tui.store.watchlist.file import WatchlistStore
from tui.ui.screens.help import HelpScreen

if TYPE_CHECKING:
    from tui.simulator import Simulator

SIZE = (110, 36)


def _account_watchlist(path: Path, simulator: Simulator, ids: list[int]) -> AccountWatchlist:
    store = WatchlistStore(path)
    entries = [WatchEntry(diffid=i, asid=simulator.asid, api_url=simulator.url) for i in ids]
    store.add(entries)
    return AccountWatchlist(
        store, api_url=simulator.url, asid=simulator.asid, clock=SystemClock(), held=entries
    )


@contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """Another process's lock on the watchlist (flock is per open file, as between processes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _corrupt_copies(folder: Path) -> list[Path]:
    return list(folder.glob("watchlist.toml.corrupt-*"))


def _toasts(app: object) -> str:
    return "\n".join(toasts(app))  # type: ignore[arg-type]


async def test_a_locked_watchlist_never_freezes_the_screen(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    path = tmp_path / "watchlist.toml"
    app = make_app(simulator, [1], watchlist=_account_watchlist(path, simulator, [1]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        with held_lock(path):
            await pilot.press("n")
            await pilot.press("2", "ctrl+s")
            await wait_until(
                pilot,
                lambda: "Waiting for the watchlist lock" in _toasts(app),
                limit=2.0,
                what="the lock wait is shown",
            )
            assert str(lock_path(path)) in _toasts(app)
            # Keys are answered while the add waits for the lock.
            await pilot.press("question_mark")
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), limit=1.0)
            await pilot.press("escape")
            assert set(app.tracker.views) == {1}
        # Once the other process lets go, the add is saved and shown.
        await wait_until(pilot, lambda: "Added 1 diff" in _toasts(app), limit=5.0)
        assert set(app.tracker.views) == {1, 2}
    assert {e.diffid for e in WatchlistStore(path).load().entries} == {1, 2}


async def test_quit_with_the_watchlist_locked_is_quick_and_says_what_was_not_saved(
    simulator: Simulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    simulator.add_diff(1, state=5)
    path = tmp_path / "watchlist.toml"
    watchlist = _account_watchlist(path, simulator, [1])
    cache = WatchlistStore(path).cache.path  # the statuses go to the cache, under its lock
    app = make_app(simulator, [1], watchlist=watchlist)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[1].state_name == "Completed")
        with held_lock(cache):
            await pilot.press("q")
            await wait_until(
                pilot, lambda: app.return_code is not None, limit=3.0, what="the app exits"
            )
    # Printed after the screen is gone (Textual's exit message), and logged.
    said = caplog.text
    assert "could not be saved" in said and str(lock_path(cache)) in said


async def test_a_watchlist_corrupted_while_running_is_written_back_and_reported(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    path = tmp_path / "watchlist.toml"
    app = make_app(simulator, [1, 2], watchlist=_account_watchlist(path, simulator, [1, 2]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[1].state_name == "Completed")
        with path.open("a", encoding="utf-8") as file:
            file.write("[[diff]\nbroken = \n")  # another tool appended a broken line
        await pilot.press("e")
        await pilot.press("x", "enter")  # the next change of the file finds it unreadable
        await wait_until(pilot, lambda: "could not be read" in _toasts(app), limit=3.0)
        toast = _toasts(app)
        copies = _corrupt_copies(tmp_path)
        assert len(copies) == 1 and str(copies[0]) in toast
        assert "written back" in toast
        assert "broken" in copies[0].read_text(encoding="utf-8")
        await wait_until(pilot, lambda: "The watchlist" in screen_text(app), what="on screen")
    entries = {e.diffid: e for e in WatchlistStore(path).load().entries}
    assert set(entries) == {1, 2}
    assert entries[1].label.endswith("x")


async def test_a_watchlist_corrupted_while_running_survives_quit(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=6, fail_with="boom")
    path = tmp_path / "watchlist.toml"
    app = make_app(simulator, [1, 2], watchlist=_account_watchlist(path, simulator, [1, 2]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[2].state_name == "Failed")
        path.write_text("schema = 1\n[[diff]\n", encoding="utf-8")
        await pilot.press("q")  # the last status save on the way out finds it unreadable
    entries = {e.diffid: e for e in WatchlistStore(path).load().entries}
    assert set(entries) == {1, 2}
    last = entries[2].last
    assert last is not None and last.state_id == 6
    assert len(_corrupt_copies(tmp_path)) == 1


async def test_a_watchlist_deleted_while_running_is_written_back_and_reported(
    simulator: Simulator, tmp_path: Path
) -> None:
    for diffid in (1011, 1012, 1013):
        simulator.add_diff(diffid, state=5)
    path = tmp_path / "watchlist.toml"
    watchlist = _account_watchlist(path, simulator, [1011, 1012, 1013])
    app = make_app(simulator, [1011, 1012, 1013], watchlist=watchlist)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[1011].state_name == "Completed")
        path.unlink()  # rm watchlist.toml from the shell
        await pilot.press("e")
        await pilot.press("x", "enter")
        await wait_until(pilot, lambda: "was missing" in _toasts(app), limit=3.0)
        assert "written back" in _toasts(app)
    entries = {e.diffid: e for e in WatchlistStore(path).load().entries}
    assert set(entries) == {1011, 1012, 1013}
    assert sum(entry.label == "x" for entry in entries.values()) == 1


async def test_a_watchlist_deleted_while_running_is_written_back_on_quit(
    simulator: Simulator, tmp_path: Path
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=5)
    path = tmp_path / "watchlist.toml"
    app = make_app(simulator, [1, 2], watchlist=_account_watchlist(path, simulator, [1, 2]))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[2].state_name == "Completed")
        path.unlink()
        await pilot.press("q")
    assert {e.diffid for e in WatchlistStore(path).load().entries} == {1, 2}


async def test_changes_by_another_writer_are_shown(simulator: Simulator, tmp_path: Path) -> None:
    for diffid in (1401, 1402, 1403):
        simulator.add_diff(diffid, state=5)
    path = tmp_path / "watchlist.toml"
    app = make_app(
        simulator, [1401, 1402], watchlist=_account_watchlist(path, simulator, [1401, 1402])
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[1401].state_name == "Completed")
        # `watchlist remove 1401`, `add 1403 --label cli`, a relabel: from the shell.
        shell = WatchlistStore(path)
        shell.remove([(simulator.url, simulator.asid, 1401)])
        shell.add([WatchEntry(1403, simulator.asid, simulator.url, "cli")])
        shell.set_label((simulator.url, simulator.asid, 1402), "relabelled")
        await wait_until(
            pilot,
            lambda: set(app.tracker.views) == {1402, 1403},
            limit=8.0,
            what="the app shows the file as the shell left it",
        )
        assert app.tracker.views[1402].label == "relabelled"
        assert app.tracker.views[1403].label == "cli"
        await wait_until(pilot, lambda: "removed #1401" in _toasts(app), limit=3.0)
        toast = _toasts(app)
        assert "added #1403" in toast and "relabelled #1402" in toast


async def test_an_edit_to_a_diff_removed_elsewhere_says_so(
    simulator: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tui.ui.screens import monitor

    monkeypatch.setattr(monitor, "WATCHLIST_CHECK_EVERY", 600.0)  # only the edit looks
    simulator.add_diff(1401, state=5)
    path = tmp_path / "watchlist.toml"
    app = make_app(simulator, [1401], watchlist=_account_watchlist(path, simulator, [1401]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[1401].state_name == "Completed")
        WatchlistStore(path).remove([(simulator.url, simulator.asid, 1401)])
        await pilot.press("e")
        await pilot.press("x", "enter")
        await wait_until(pilot, lambda: "no longer on the watchlist" in _toasts(app), limit=3.0)
        await wait_until(pilot, lambda: 1401 not in app.tracker.views, limit=3.0)
    assert WatchlistStore(path).load().entries == []
