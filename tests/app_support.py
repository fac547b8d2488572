"""Shared helpers for tests of the live monitor (Pilot tests and snapshot tests).

Keep this small and stable: other test files import it.

* :class:`MemoryWatchlist`: an in-memory ``WatchlistPort`` that records every call.
* :func:`make_app`: an :class:`~tui.ui.app.ImageDiffApp` against a running simulator.
* :func:`wait_until`: pump the Pilot until a condition holds (or fail after a timeout).
* :func:`screen_text`: the text the terminal would show, line by line.

Example::

    async def test_something(simulator):
        simulator.add_diff(1, state=5)
        app = make_app(simulator, [1])
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: not app.tracker.views[1].stale)
            assert "#1" in screen_text(app)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.theme import Theme

from tests.textual_probes import drawn_strips
from tui.api.client import ClanforgeClient
from tui.domain.actions import ActionOutcome
from tui.domain.clock import Clock, SystemClock
from tui.domain.poll_settings import PollSettings
from tui.domain.watch_entry import (
    Accepted,
    LastOutcome,
    LastStatus,
    Rejected,
    SentAction,
    WatchEntry,
)
from tui.store.journal import Journal
from tui.store.watchlist.account import WatchlistChange
from tui.ui import themes
from tui.ui.app import AppOptions, ImageDiffApp, WatchlistPort

if TYPE_CHECKING:
    from tui.simulator import Simulator

PROFILE = "test"

FAST_POLL = PollSettings(
    max_requests_per_second=50,
    max_in_flight=4,
    min_interval=0.05,
    waiting_interval=0.2,
    running_max_interval=0.5,
    backoff_max=1.0,
    timeout=2.0,
)
"""Polls quickly, so a test sees changes within a fraction of a second."""


class MemoryWatchlist:
    """A ``WatchlistPort`` in memory; ``calls`` and ``saves`` record what the app asked."""

    def __init__(
        self, entries: Iterable[WatchEntry] = (), *, asid: int = 1234, url: str = "http://sim"
    ) -> None:
        self.asid = asid
        self.url = url
        self.entries: dict[int, WatchEntry] = {entry.diffid: entry for entry in entries}
        self.calls: list[tuple[str, object]] = []
        self.saves: list[dict[int, LastStatus]] = []
        self.sent: dict[int, tuple[SentAction, ...]] = {}
        """Actions noted as sent whose outcome is not known yet, by diff."""
        self.fail_with: Exception | None = None
        """Raise this from add, remove and relabel (a watchlist that cannot be written)."""

    def _check(self) -> None:
        if self.fail_with is not None:
            raise self.fail_with

    def add(self, ids: Iterable[int], label: str) -> tuple[list[WatchEntry], list[int]]:
        ids = list(ids)
        self.calls.append(("add", (ids, label)))
        self._check()
        added: list[WatchEntry] = []
        already: list[int] = []
        for diffid in ids:
            if diffid in self.entries:
                already.append(diffid)
                continue
            entry = WatchEntry(diffid=diffid, asid=self.asid, api_url=self.url, label=label)
            self.entries[diffid] = entry
            added.append(entry)
        return added, already

    def remove(self, ids: Iterable[int]) -> None:
        ids = list(ids)
        self.calls.append(("remove", ids))
        self._check()
        for diffid in ids:
            self.entries.pop(diffid, None)

    def relabel(self, diffid: int, label: str) -> bool:
        self.calls.append(("relabel", (diffid, label)))
        self._check()
        entry = self.entries.get(diffid)
        if entry is not None:
            self.entries[diffid] = WatchEntry(
                diffid=diffid, asid=entry.asid, api_url=entry.api_url, label=label, last=entry.last
            )
        return True

    def check_file(self) -> WatchlistChange:
        return WatchlistChange()

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        self.calls.append(("save_status", dict(statuses)))
        self.saves.append(dict(statuses))

    def note_outcome(self, diffid: int, action: str, outcome: LastOutcome | None) -> None:
        self.calls.append(("note_outcome", (diffid, action, outcome)))
        entry = self.entries.get(diffid)
        if entry is not None:
            self.entries[diffid] = replace(entry, outcome=outcome)
        if outcome is None or outcome.outcome is not ActionOutcome.UNKNOWN:
            kept = tuple(s for s in self.sent.get(diffid, ()) if s.action != action)
            self.sent[diffid] = kept

    def record_decision(
        self, diffid: int, *, accepted: Accepted | None = None, rejected: Rejected | None = None
    ) -> WatchEntry:
        self._check()
        entry = self.entries.get(diffid) or WatchEntry(diffid, self.asid, self.url)
        entry = replace(entry, accepted=accepted, rejected=rejected)
        self.entries[diffid] = entry
        self.calls.append(("record_decision", entry))
        return entry

    def note_sent(self, diffid: int, sent: SentAction) -> bool:
        self.calls.append(("note_sent", (diffid, sent)))
        self._check()
        if diffid not in self.entries:
            return False
        others = tuple(s for s in self.sent.get(diffid, ()) if s.action != sent.action)
        self.sent[diffid] = (*others, sent)
        return True

    def pending(self, diffid: int) -> tuple[SentAction, ...]:
        return self.sent.get(diffid, ())

    def listen(
        self, *, on_lock_wait: Callable[[Path], None], on_notice: Callable[[str], None]
    ) -> None:
        self.on_lock_wait = on_lock_wait
        self.on_notice = on_notice


def make_app(
    simulator: Simulator,
    diffs: Iterable[int | tuple[int, str] | WatchEntry],
    *,
    clock: Clock | None = None,
    poll: PollSettings = FAST_POLL,
    watchlist: WatchlistPort | None = None,
    start_polling: bool = True,
    journal: Journal | None = None,
    **options: object,
) -> ImageDiffApp:
    """An app watching ``diffs`` (IDs, ``(id, label)``, or entries as a watchlist
    loaded them) on ``simulator``.

    ``options`` go to :class:`~tui.ui.app.AppOptions` (``read_only``, ``keymap``,
    ``compact``, ``theme`` ...). The watchlist is ``app.watchlist`` (a
    :class:`MemoryWatchlist` unless one is given); the journal is in memory unless
    one is given.
    """
    entries = []
    for item in diffs:
        if isinstance(item, WatchEntry):
            entries.append(item)
            continue
        diffid, label = item if isinstance(item, tuple) else (item, "")
        entries.append(
            WatchEntry(diffid=diffid, asid=simulator.asid, api_url=simulator.url, label=label)
        )
    if watchlist is None:
        watchlist = MemoryWatchlist(entries, asid=simulator.asid, url=simulator.url)
    client = ClanforgeClient(
        simulator.url,
        simulator.asid,
        simulator.access_key,
        simulator.secret_key,
        read_timeout=poll.timeout,
    )
    app_options = AppOptions(
        profile=PROFILE,
        asid=simulator.asid,
        api_host=simulator.url.removeprefix("http://"),
        api_url=simulator.url,
        poll=poll,
        **options,  # type: ignore[arg-type]
    )
    return ImageDiffApp(
        client,
        entries,
        watchlist=watchlist,
        clock=clock if clock is not None else SystemClock(),
        options=app_options,
        start_polling=start_polling,
        journal=journal,
    )


async def wait_until(
    pilot: Pilot[object],
    condition: Callable[[], object],
    *,
    limit: float = 5.0,
    what: str = "",
) -> None:
    """Let the app run until ``condition()`` is true; fail after ``limit`` seconds."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not reached within {limit}s: {what or condition}")
        await pilot.pause(0.02)


def screen_text(app: ImageDiffApp, screen: Screen[object] | None = None) -> str:
    """What the terminal shows of ``screen`` (default: the top one), as plain lines."""
    target = screen if screen is not None else app.screen
    strips = drawn_strips(target)
    return "\n".join(strip.text.rstrip() for strip in strips)


def list_text(app: ImageDiffApp) -> str:
    """The lines of the job list as drawn on the main screen."""
    lines = screen_text(app, app.screen_stack[0]).split("\n")
    region = app.monitor.job_list.region
    return "\n".join(lines[region.y : region.y + region.height])


def run_python_in(dirs: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with the XDG folders ``dirs`` and no ``CLANFORGE_`` settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLANFORGE_", "XDG_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**env, **dirs},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def theme_files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The stems of the theme files read from now on (the list grows as they are)."""
    read: list[str] = []
    load = themes.load_theme_file

    def counted(path: Path) -> Theme:
        read.append(path.stem)
        return load(path)

    monkeypatch.setattr(themes, "load_theme_file", counted)
    return read
