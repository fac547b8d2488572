"""Polling as the monitor shows it: errors in words, pause, refresh, ticks, quitting.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from tests.app_support import FAST_POLL, list_text, make_app, screen_text, wait_until
from tests.monitor.steps import (
    LONG,
    SIZE,
    all_polled,
    header_text,
)
from tui.domain.jobs import JobState
from tui.simulator import Simulator


async def test_rate_limit_and_server_error_show_as_words_then_recover(
    simulator: Simulator,
) -> None:
    simulator.add_diff(41, state=4, duration=LONG)
    app = make_app(simulator, [41])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        simulator.inject("429", retry_after=1)
        await wait_until(pilot, lambda: "rate limited" in list_text(app), what="429 words")
        # The list is drawn from the diff's view as it is; the header's counts follow
        # with the next coalesced redraw (within 50 ms), so wait for them too.
        await wait_until(
            pilot, lambda: "│ ⚠ 1 of 1 erroring" in header_text(app), what="erroring count"
        )
        # One diff's 429 is its own: the account is not slowed down for it.
        assert "● live" in header_text(app)
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


async def test_tick_counts_the_eta_down_without_a_poll() -> None:
    from tui.domain.clock import FakeClock
    from tui.domain.poll_settings import PollSettings

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
            from tui.domain.wording import eta_text

            await wait_until(pilot, lambda: eta_text(eta, clock.now()) in list_text(app))
            polls = sim.count("status")
            clock.advance(7)
            await wait_until(pilot, lambda: eta_text(eta, clock.now()) in list_text(app), limit=3)
            assert sim.count("status") == polls
            await asyncio.sleep(0)


async def test_tick_counts_down_to_the_next_try_after_a_poll_error() -> None:
    import math

    from tui.domain.clock import FakeClock
    from tui.domain.poll_settings import PollSettings

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


async def test_a_long_list_scrolls_and_polls_what_is_on_screen(simulator: Simulator) -> None:
    ids = simulator.add_many(60, first_id=1000)
    app = make_app(simulator, ids)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app), limit=10)
        await wait_until(pilot, lambda: "#1059" not in list_text(app))
        assert re.search(r"#1000 .*COMPLETED", list_text(app))
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
