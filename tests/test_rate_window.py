"""The shared requests-per-second cap, on a fake clock."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.poll_support import most_spans_in_a_window
from tui.domain.clock import FakeClock
from tui.polling.rate_window import RATE_WINDOW_MARGIN, RateWindow, Send


def test_a_burst_of_floor_rate_then_one_window_of_wait() -> None:
    clock = FakeClock()
    window = RateWindow(clock, rate=4.0)
    assert [window.take_slot() for _ in range(5)] == [True] * 4 + [False]
    assert window.seconds_until_slot() == pytest.approx(1.0 + RATE_WINDOW_MARGIN)
    clock.advance(1.0)
    assert not window.take_slot(), "the margin still holds"
    clock.advance(RATE_WINDOW_MARGIN)
    assert window.take_slot()


def test_a_rate_below_one_spreads_single_requests() -> None:
    clock = FakeClock()
    window = RateWindow(clock, rate=0.5)
    assert window.take_slot()
    assert window.seconds_until_slot() == pytest.approx(2.0 + RATE_WINDOW_MARGIN)


def test_an_open_request_counts_as_now_until_its_answer() -> None:
    clock = FakeClock()
    window = RateWindow(clock, rate=1.0)
    send = window.acquire()
    assert send is not None
    clock.advance(5.0)
    assert window.acquire() is None, "still in flight: it may reach the server only now"
    window.close(send)
    assert window.seconds_until_slot() == pytest.approx(1.0 + RATE_WINDOW_MARGIN)
    clock.advance(1.0 + RATE_WINDOW_MARGIN)
    assert window.acquire() is not None


def test_the_factor_scales_the_rate() -> None:
    clock = FakeClock()
    window = RateWindow(clock, rate=4.0)
    window.factor = 0.5
    assert window.rate == 2.0
    assert window.window() == (2, 1.0 + RATE_WINDOW_MARGIN)
    assert [window.take_slot() for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize("rate", [0.0, -1.0, math.inf, math.nan])
def test_a_nonsense_rate_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        RateWindow(FakeClock(), rate)


steps = st.lists(
    st.tuples(st.sampled_from(["acquire", "close", "slot", "advance"]), st.floats(0.0, 1.2)),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(steps, st.sampled_from([0.3, 1.0, 2.5, 4.0, 10.0]))
def test_no_one_second_window_ever_holds_more_than_the_rate(
    script: list[tuple[str, float]], rate: float
) -> None:
    clock = FakeClock()
    window = RateWindow(clock, rate)
    opened: list[tuple[float, Send]] = []
    # Each request reaches the server somewhere between its start and its answer.
    spans: list[tuple[float, float]] = []
    for action, value in script:
        if action == "acquire":
            send = window.acquire()
            if send is not None:
                opened.append((clock.monotonic(), send))
        elif action == "close" and opened:
            start, send = opened.pop(0)
            window.close(send)
            spans.append((start, clock.monotonic()))
        elif action == "slot" and window.take_slot():
            spans.append((clock.monotonic(), clock.monotonic()))
        elif action == "advance":
            clock.advance(value)
    spans.extend((start, clock.monotonic()) for start, _ in opened)
    assert most_spans_in_a_window(spans, 1.0) <= max(1, math.floor(rate))
