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
    assert slow.classify(1, limited, 1.0, sent=0.0, jobs=3) is None
    # Sent before the first answer: being in flight together proves nothing.
    assert slow.classify(2, limited, 2.0, sent=0.5, jobs=3) is None
    assert slow.suspect, "another job should be asked"
    assert slow.classify(3, limited, 3.0, sent=2.5, jobs=3) is Pause.SLOW_DOWN


def test_an_answer_in_between_makes_the_next_slow_down_one_jobs_own_again() -> None:
    slow, _ = make()
    limited = RateLimited("slow down")
    assert slow.classify(1, limited, 1.0, sent=0.0, jobs=2) is None
    slow.answered(1.2)
    assert not slow.suspect
    assert slow.classify(2, limited, 2.0, sent=1.5, jobs=2) is None


def test_a_job_that_keeps_answering_429_while_others_answer_well_is_its_own_fault() -> None:
    slow, _ = make()
    limited = RateLimited("slow down")
    assert slow.classify(1, limited, 1.0, sent=0.9, jobs=3) is None
    slow.answered(1.5)  # a witness answered well after job 1's trouble began
    for now in (2.0, 3.0, 4.0):
        assert slow.classify(1, limited, now, sent=now - 0.1, since=0.9, jobs=3) is None
    # ... and says nothing of the account when another job gets one.
    assert slow.classify(2, limited, 5.0, sent=4.5, jobs=3) is None


def test_auth_failures_pause_everything_and_a_missing_diff_pauses_nothing() -> None:
    slow, _ = make()
    denied = AuthenticationError("no", http_status=401)
    assert slow.classify(1, denied, 1.0, sent=0.0, jobs=2) is Pause.ACCOUNT
    assert slow.classify(1, NotFound("gone", http_status=404), 1.0, sent=0.0, jobs=2) is None


def test_network_failures_from_different_jobs_make_an_outage_that_an_answer_ends() -> None:
    slow, _ = make()
    down = NetworkError("refused")
    results = [slow.classify(k, down, 1.0, sent=0.0, jobs=5) for k in range(OUTAGE_FAILURES)]
    assert results[-1] is Pause.OUTAGE and slow.outage
    until = slow.pause(1.0, Pause.OUTAGE, None)
    assert until > 1.0
    # Any answer, a 503 too, says the server is there.
    assert slow.heard(1.5) and slow.until == 1.5 and not slow.outage
    assert not slow.heard(2.0)


def test_a_failure_sent_before_the_last_answer_is_no_sign_of_an_outage() -> None:
    slow, _ = make()
    down = NetworkError("timed out")
    slow.heard(5.0)
    # Both requests were out while the server answered: their own trouble.
    assert slow.classify(1, down, 10.0, sent=4.0, jobs=5) is None
    assert slow.classify(2, down, 11.0, sent=4.5, jobs=5) is None
    assert not slow.outage and not slow.suspect


def test_the_same_job_failing_over_and_over_is_no_outage_while_others_exist() -> None:
    slow, _ = make()
    down = NetworkError("refused")
    failures = [slow.classify(7, down, 1.0 + t, sent=0.5 + t, jobs=3) for t in range(4)]
    assert failures == [None] * 4
    assert slow.suspect, "another job should be asked"


def test_one_job_alone_failing_twice_is_an_outage() -> None:
    slow, _ = make()
    down = NetworkError("refused")
    assert slow.classify(7, down, 1.0, sent=0.5, jobs=1) is None
    assert slow.classify(7, down, 3.0, sent=2.5, since=0.5, jobs=1) is Pause.OUTAGE


def test_a_slow_down_pause_honours_retry_after_and_halves_the_rate_until_it_recovers() -> None:
    slow, window = make()
    until = slow.pause(10.0, Pause.SLOW_DOWN, 42.0)
    assert until == 52.0 and slow.wait(20.0) == 32.0 and slow.slowed_down(20.0)
    assert window.factor == 0.5
    slow.recover_rate(10.0 + RATE_RECOVERY_SECONDS)
    assert window.factor == 0.5, "no good answer yet"
    slow.answered(11.0)
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
