"""The one rule for a request the server asked to wait (429, 503): wait, send again,
within one bound (tui/polling/refusals.py; the app and the command line use it)."""

from __future__ import annotations

import pytest

from tui.api.errors import RateLimited, ServerError
from tui.polling.refusals import RETRY_AFTER_LIMIT, GaveUpWaiting, Refusals


def test_the_wait_is_the_callers_backoff_and_never_less_than_retry_after() -> None:
    refusals = Refusals()
    assert refusals.send_again_at(RateLimited("slow", retry_after=5.0), 100.0, 2.0) == 105.0
    assert refusals.send_again_at(ServerError("busy", http_status=503), 105.0, 3.0) == 108.0
    assert refusals.count == 2 and refusals.first == 100.0


def test_a_request_waits_at_most_the_limit_in_all_then_gives_up() -> None:
    refusals = Refusals()
    limited = RateLimited("slow", retry_after=20.0)
    now = 0.0
    with pytest.raises(GaveUpWaiting, match="gave up") as gave_up:
        for _ in range(10):
            now = refusals.send_again_at(limited, now, 1.0)
    assert now <= RETRY_AFTER_LIMIT
    assert gave_up.value.kind == limited.kind
    # A wait that alone is beyond the limit is not started at all.
    with pytest.raises(GaveUpWaiting):
        Refusals().send_again_at(RateLimited("slow", retry_after=3600.0), 0.0, 1.0)
