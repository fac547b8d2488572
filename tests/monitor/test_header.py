"""The header: counts that add up, the poll state in words, a narrow terminal.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

from tests.app_support import make_app, screen_text, wait_until
from tests.monitor.steps import (
    LONG,
    SIZE,
    all_polled,
    header_text,
)
from tui.domain.poll_settings import PollSettings
from tui.simulator import Simulator


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
        counts = "▶ 1 running  ◑ 1 waiting  ✓ 1 completed  ✗ 2 failed  ⚑ 3 need you  sort:"
        # The header is redrawn just after the last answer: wait for that redraw.
        await wait_until(pilot, lambda: counts in header_text(app))
        header = header_text(app)
        assert "ASID 1234" in header and "live" in header
        # And on screen, not only in the widget's text.
        assert "✗ 2 failed" in screen_text(app)


async def test_the_header_counts_add_up_and_erroring_is_apart(simulator: Simulator) -> None:
    """Seen: "1 completed, 3 erroring, 8 not yet known" for 9 diffs."""
    simulator.add_diff(1, state=5)
    for diffid in range(2, 5):
        simulator.add_diff(diffid, state=4, duration=LONG)
        simulator.break_diff(diffid, "500")
    app = make_app(simulator, [1, 2, 3, 4, 5, 6, 7, 8, 9])  # 5 to 9 do not exist
    async with app.run_test(size=SIZE) as pilot:
        # The to-do: 1 to decide, 5 to 9 not found (404); not the 500s, retried by the app.
        expected = "✓ 1 completed  ✗ 0 failed  ? 8 not yet known  ⚑ 6 need you  │ ⚠ 8 of 9 erroring"
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
        assert lines[1].startswith(" ▶ 0 ◑ 0 ✓ 0 ✗ 1")  # narrow: the counts without words
        assert lines[2].split()[:2] == ["ID", "label"]  # the columns' names
        assert "#1" in lines[3]


FAULT_POLL = PollSettings(
    max_requests_per_second=20,
    max_in_flight=4,
    min_interval=0.05,
    waiting_interval=0.2,
    running_max_interval=0.5,
    backoff_max=2.0,
    timeout=1.0,
)
"""Quick polls and a one-second read timeout, for a diff that answers after three."""


async def test_faulty_diffs_next_to_healthy_ones_never_read_offline(simulator: Simulator) -> None:
    """Issue 22: five running diffs, one answering too late, one dropping the connection,
    one answering 503. The server answers every healthy request: the header never says
    offline nor backing off, and the healthy diffs keep being read. (Two diffs whose
    first answers are 503 and 429 with no good answer between may be the account's:
    that case is timed on a fake clock, tests/test_poll_faults.py.)"""
    healthy = list(range(3101, 3106))
    broken = {5005: "slow", 5010: "drop", 5018: "503"}
    for diffid in [*healthy, *broken]:
        simulator.add_diff(diffid, state=4, duration=LONG)
    for diffid, kind in broken.items():
        simulator.break_diff(diffid, kind, delay=3.0 if kind == "slow" else 0.0)
    app = make_app(simulator, [*healthy, *broken], poll=FAULT_POLL)
    states: set[str] = set()
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[5005].poll_error is not None, limit=10)
        simulator.reset_counters()
        for _ in range(100):
            states.add(header_text(app).split("\n")[0])
            await pilot.pause(0.03)
        states.add(header_text(app).split("\n")[0])
    assert not [line for line in states if "offline" in line or "backing off" in line]
    # Each healthy diff is read every half second or so: 3 s, minus room for a busy machine.
    assert all(simulator.count("status", diffid) >= 2 for diffid in healthy)
