"""One rule, for the app and the command line alike, for a request the server refused to
act on and asked to wait (429, 503, any Retry-After): wait, then send it again.

Such an answer means the server did nothing with the request (API.md), so sending it
again is not a repeat, even for a retry, an accept or a reject. One request waits at
most :data:`RETRY_AFTER_LIMIT` seconds in all; then it fails with :class:`GaveUpWaiting`.
A timeout or a lost answer is another matter: never sent again (the outcome is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tui.api.errors import ApiError

RETRY_AFTER_LIMIT: Final = 60.0
"""Longest one request waits in all while the server answers 429 or 503 to it (seconds)."""


class GaveUpWaiting(ApiError):
    """The server kept asking to wait (429 or 503) for longer than ``RETRY_AFTER_LIMIT``."""

    def __init__(self, cause: ApiError) -> None:
        super().__init__(
            f"{cause.message}; gave up (a request waits at most "
            f"{RETRY_AFTER_LIMIT:.0f} s for the server)",
            http_status=cause.http_status,
        )
        self.kind = cause.kind


@dataclass
class Refusals:
    """One request's run of answers asking it to wait."""

    first: float | None = None
    """Monotonic time of the first."""
    count: int = 0

    def send_again_at(self, error: ApiError, now: float, wait: float) -> float:
        """When to send the request again after ``error``: ``wait`` seconds from ``now``
        (the caller's backoff), and no sooner than Retry-After. :class:`GaveUpWaiting`
        when that is beyond the limit."""
        if self.first is None:
            self.first = now
        self.count += 1
        if error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return self.within(now + wait, error)

    def within(self, until: float, error: ApiError) -> float:
        """``until``, if the request may wait that long; else :class:`GaveUpWaiting`."""
        first = self.first if self.first is not None else until
        if until - first > RETRY_AFTER_LIMIT:
            raise GaveUpWaiting(error) from None
        return until
