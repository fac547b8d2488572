"""Finish windows of running diffs and the read interval they call for, on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.domain.clock import FakeClock
from tui.domain.jobs import DiffJob, JobState
from tui.domain.poll_settings import PollSettings
from tui.polling.finish_estimate import (
    ETA_ERROR,
    KEPT_READS,
    FinishEstimator,
    RunReads,
    eta_window,
    pace_window,
)

SETTINGS = PollSettings(min_interval=1.0, running_max_interval=30.0)


def running(progress: int, eta: float | None = None, start: float | None = None) -> DiffJob:
    return DiffJob(
        diffid=1,
        state=JobState.RUNNING,
        state_name="Running",
        progress=progress,
        created=0,
        updated=0,
        failed=False,
        eta=None if eta is None else int(eta),
        start=None if start is None else int(start),
    )


def make() -> tuple[FakeClock, FinishEstimator]:
    clock = FakeClock()
    return clock, FinishEstimator(clock, SETTINGS)


def test_nothing_known_means_no_estimate_and_a_capped_interval() -> None:
    clock, estimator = make()
    run = RunReads()
    assert estimator.estimate(run, clock.now()) is None
    assert estimator.interval(run, clock.now()) == min(30.0, 5 * estimator.window_interval)


def test_an_eta_alone_gives_a_window_a_share_of_the_jobs_length_wide() -> None:
    clock, estimator = make()
    now = clock.now()
    run = RunReads(eta=now + 100, start=now - 100)
    assert eta_window(run, now) == (100 - ETA_ERROR * 200, 100 + ETA_ERROR * 200)
    estimate = estimator.estimate(run, now)
    assert estimate is not None
    assert estimate.source == "eta"
    assert estimate.remaining == pytest.approx(100)
    assert estimate.uncertainty == pytest.approx(ETA_ERROR * 200)


def test_the_pace_of_two_reads_on_our_clock_ignores_a_skewed_server_clock() -> None:
    clock, estimator = make()
    run = RunReads()
    run.read(running(10, start=clock.now() + 3600), clock.monotonic(), running=True)
    clock.advance(10)
    run.read(running(20, start=clock.now() + 3600), clock.monotonic(), running=True)
    estimate = estimator.estimate(run, clock.now())
    assert estimate is not None and estimate.source == "progress"
    # 1 point per second, 80 points (less half of one) to go.
    assert estimate.remaining == pytest.approx(79.5)


def test_before_two_reads_the_pace_since_the_start_counts() -> None:
    clock, _ = make()
    run = RunReads()
    run.read(running(25, start=clock.now() - 50), clock.monotonic(), running=True)
    window = pace_window(run, clock.monotonic(), clock.now())
    assert window is not None
    low, high = window
    assert low < (100 - 25.5) * 2 < high


def test_when_eta_and_pace_disagree_both_are_watched() -> None:
    clock, estimator = make()
    run = RunReads(eta=clock.now() + 1000, start=clock.now() - 10)
    run.samples[:] = [(clock.monotonic(), 10)]
    clock.advance(10)
    run.samples.append((clock.monotonic(), 20))
    estimate = estimator.estimate(run, clock.now())
    assert estimate is not None
    assert estimate.remaining - estimate.uncertainty < 80, "the pace says soon"
    assert estimate.remaining + estimate.uncertainty > 990, "the ETA says late"


def test_an_eta_already_over_leaves_the_pace_to_rule() -> None:
    clock, estimator = make()
    run = RunReads(eta=clock.now() - 500, start=clock.now() - 600)
    run.samples[:] = [(clock.monotonic(), 10)]
    clock.advance(10)
    run.samples.append((clock.monotonic(), 20))
    estimate = estimator.estimate(run, clock.now())
    assert estimate is not None and estimate.source == "progress"
    assert estimate.remaining == pytest.approx(79.5)


def test_the_interval_is_a_share_of_the_lead_far_off_and_tight_inside_the_window() -> None:
    clock, estimator = make()
    far = RunReads(eta=clock.now() + 3000, start=clock.now() - 10)
    assert estimator.interval(far, clock.now()) == 30.0, "capped by running_max_interval"
    near = RunReads(eta=clock.now() + 1, start=clock.now() - 1)
    assert estimator.interval(near, clock.now()) <= estimator.window_interval


def test_long_overdue_the_interval_relaxes() -> None:
    clock, estimator = make()
    run = RunReads(eta=clock.now() - 200, start=clock.now() - 210)
    assert estimator.interval(run, clock.now()) == pytest.approx(0.1 * (200 - ETA_ERROR * 10))


def test_a_read_that_is_not_running_forgets_the_pace_and_only_recent_reads_are_kept() -> None:
    run = RunReads()
    for second in range(KEPT_READS + 3):
        run.read(running(second), float(second), running=True)
    assert [t for t, _ in run.samples] == [float(s) for s in range(3, KEPT_READS + 3)]
    run.read(running(100), 99.0, running=False)
    assert run.samples == []
    run.samples.append((1.0, 5))
    run.forget()
    assert run.samples == [] and run.eta is None


@given(
    eta=st.none() | st.floats(-5000, 5000),
    length=st.floats(0, 5000),
    reads=st.lists(st.tuples(st.floats(0, 1, exclude_min=True), st.integers(0, 5)), max_size=8),
)
def test_every_interval_is_positive_and_within_the_cap(
    eta: float | None, length: float, reads: list[tuple[float, int]]
) -> None:
    clock, estimator = make()
    now = clock.now()
    run = RunReads(eta=None if eta is None else now + eta, start=now - length)
    progress = 0
    for gap, gain in reads:
        clock.advance(gap)
        progress = min(99, progress + gain)
        run.samples.append((clock.monotonic(), progress))
    interval = estimator.interval(run, clock.now())
    assert 0 < interval <= SETTINGS.running_max_interval
    estimate = estimator.estimate(run, clock.now())
    if estimate is not None:
        assert estimate.uncertainty >= estimator.window_interval / 2
