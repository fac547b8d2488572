"""The scheduler's rule for jobs this app just started: read within a couple of seconds,
then at most JUST_STARTED_MAX apart until they end; other jobs keep their intervals."""

from __future__ import annotations

import random

from tests.test_scheduler import job
from tui.domain.clock import FakeClock
from tui.domain.jobs import JobState
from tui.domain.poll_settings import PollSettings
from tui.polling.scheduler import JUST_STARTED_FIRST, JUST_STARTED_MAX, PollScheduler


def _scheduler() -> tuple[FakeClock, PollScheduler[int]]:
    clock = FakeClock()
    return clock, PollScheduler(clock, PollSettings(), random.Random(1))


def test_a_retried_diff_waiting_to_run_is_read_every_couple_of_seconds() -> None:
    _clock, scheduler = _scheduler()
    for diffid in (1, 2):
        scheduler.add(diffid, JobState.COMPLETED)
    scheduler.mark_retried(1, job(1, JobState.CREATED))
    for diffid in (1, 2):
        scheduler.started(diffid)
    # Diff 2 was created by someone else: the default waiting interval.
    assert scheduler.succeeded(2, job(2, JobState.CREATED)) == PollSettings().waiting_interval
    assert scheduler.succeeded(1, job(1, JobState.CREATED)) == JUST_STARTED_FIRST


def test_a_just_started_running_job_is_read_at_most_a_few_seconds_apart_until_it_ends() -> None:
    clock, scheduler = _scheduler()
    scheduler.add(1)
    scheduler.follow_closely(1)
    now = clock.now()
    for _ in range(5):
        scheduler.started(1)
        delay = scheduler.succeeded(1, job(1, JobState.RUNNING, 10, eta=now + 600, start=now))
        assert delay is not None and delay <= JUST_STARTED_MAX
        clock.advance(delay)
    scheduler.started(1)
    assert scheduler.succeeded(1, job(1, JobState.COMPLETED, 100)) is None
