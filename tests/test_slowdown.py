"""Slowdowns: whether a failure is one job's own or pauses everything, and for how long."""

from __future__ import annotations

import random

from tui.api.errors import AuthenticationError, NetworkError, NotFound, RateLimited
from tui.domain.clock import FakeClock
from tui.domain.poll_settings import PollSettings
from tui.polling.rate_window import RateWindow
from tui.polling.slowdown import (
    OUTAGE_FAILURES,
    RATE_RECOVERY_SECONDS,
    Pause,
    Slowdowns,
)

SETTINGS = PollSettings()


def make() -> tuple[Slowdowns[int], RateWindow]:
    window = RateWindow(FakeClock(), SETTINGS.max_requests_per_second)
    return Slowdowns(SETTINGS, window, random.Random(1), 2 * SETTINGS.min_interval), window


def test_a_slow_down_is_one_jobs_own_until_another_job_sent_after_it_gets_one() -> None:
    slow, _ = make()
    limited = RateLimited("slow down")
    assert slow.classify(1, 0.0, True, limited, now=1.0, jobs=3) is None
    # Sent before the first answer: being in flight together proves nothing.
    assert slow.classify(2, 0.5, True, limited, now=2.0, jobs=3) is None
    assert slow.classify(3, 2.5, True, limited, now=3.0, jobs=3) is Pause.SLOW_DOWN


def test_an_answer_in_between_makes_the_next_slow_down_one_jobs_own_again() -> None:
    slow, _ = make()
    limited = RateLimited("slow down")
    assert slow.classify(1, 0.0, True, limited, now=1.0, jobs=2) is None
    slow.answered()
    assert slow.classify(2, 1.5, True, limited, now=2.0, jobs=2) is None


def test_auth_failures_pause_everything_and_a_missing_diff_pauses_nothing() -> None:
    slow, _ = make()
    assert slow.classify(1, 0.0, True, AuthenticationError("no"), now=1.0, jobs=2) is (
        Pause.ACCOUNT
    )
    assert slow.classify(1, 0.0, True, NotFound("gone"), now=1.0, jobs=2) is None


def test_network_failures_from_different_jobs_make_an_outage_that_an_answer_ends() -> None:
    slow, _ = make()
    down = NetworkError("refused")
    results = [slow.classify(k, 0.0, True, down, now=1.0, jobs=5) for k in range(OUTAGE_FAILURES)]
    assert results[-1] is Pause.OUTAGE and slow.outage
    until = slow.pause(1.0, Pause.OUTAGE, None)
    assert until > 1.0
    assert slow.end_outage(1.5) and slow.until == 1.5 and not slow.outage
    assert not slow.end_outage(2.0)


def test_the_same_job_failing_over_and_over_is_no_outage_while_others_exist() -> None:
    slow, _ = make()
    down = NetworkError("refused")
    assert [slow.classify(7, 0.0, True, down, now=1.0, jobs=3) for _ in range(4)] == [None] * 4


def test_a_slow_down_pause_honours_retry_after_and_halves_the_rate_until_it_recovers() -> None:
    slow, window = make()
    until = slow.pause(10.0, Pause.SLOW_DOWN, 42.0)
    assert until == 52.0 and slow.wait(20.0) == 32.0 and slow.slowed_down(20.0)
    assert window.factor == 0.5
    slow.recover_rate(10.0 + RATE_RECOVERY_SECONDS - 0.1)
    assert window.factor == 0.5
    slow.recover_rate(10.0 + RATE_RECOVERY_SECONDS)
    assert window.factor == 1.0 and not slow.slowed_down(60.0)


def test_backoff_doubles_with_jitter_and_waits_no_less_than_retry_after() -> None:
    slow, _ = make()
    base = 2 * SETTINGS.min_interval
    for errors in (1, 2, 3):
        nominal = base * 2.0 ** (errors - 1)
        assert nominal / 2 <= slow.backoff(errors, NetworkError("x")) <= nominal
    assert slow.backoff(1, RateLimited("wait", retry_after=60.0)) == 60.0
