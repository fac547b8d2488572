"""Human wording for times, durations and failed polls, shared by the CLI and the TUI."""

from __future__ import annotations

import math

from tui.api import (
    ApiError,
    ApiTimeout,
    AuthenticationError,
    BadRequest,
    Forbidden,
    InvalidResponseError,
    NetworkError,
    NotFound,
    RateLimited,
    ServerDisconnected,
    ServerError,
)
from tui.safetext import plain


def duration(seconds: float) -> str:
    """A compact duration: ``45s``, ``3m 12s``, ``2h 05m``, ``3d 4h``.

    >>> duration(192)
    '3m 12s'
    """
    total = max(0, int(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def eta_text(eta: float | None, now: float) -> str:
    """``ETA 14m`` before the ETA, ``overdue 3m`` after it, ``""`` without one.

    As precise as an ETA is (the API's miss by up to a quarter of the run): the steps
    of :func:`age`, whole minutes from a minute out and 10-second steps within it, and
    ``due now`` within ten seconds either side. A list of running diffs then redraws a
    few cells a minute per diff, not every second (see README, Performance).

    >>> eta_text(1000, 0), eta_text(115, 0), eta_text(4, 0), eta_text(0, 45)
    ('ETA 16m', 'ETA 1m', 'due now', 'overdue 40s')
    """
    if eta is None:
        return ""
    left = eta - now
    if abs(left) < 10:
        return "due now"
    if left > 0:
        return f"ETA {age(left)}"
    return f"overdue {age(-left)}"


def age(seconds: float) -> str:
    """A coarse age (or elapsed time, or time to go) that changes at most once a minute
    after the first minute.

    Coarse on purpose: a monitor left open all day should not repaint every
    panel's age every second.

    Under a minute it moves in 10-second steps after the first ten seconds.

    >>> age(4), age(37), age(192), age(7300)
    ('4s', '30s', '3m', '2h 01m')
    """
    total = max(0, int(seconds))
    if total < 10:
        return f"{total}s"
    if total < 60:
        return f"{total // 10 * 10}s"
    if total < 3600:
        return f"{total // 60}m"
    return duration(total)


def ago_text(when: float | None, now: float) -> str:
    """``20s ago`` style age; ``just now`` under ten seconds; ``never`` without a time.

    Each panel's age is on screen all day: it changes every ten seconds at most, not
    every second, so a quiet fleet costs no redraws (see README, Performance).
    """
    if when is None:
        return "never"
    if now - when < 10:
        return "just now"
    return f"{age(now - when)} ago"


def count_noun(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one: ``count_noun(3, "diff")`` is "3 diffs"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def poll_error_parts(exc: ApiError, asid: int | None = None) -> tuple[str, str | None]:
    """What went wrong in a status poll, and how the next try is announced (None: it
    is not: only new keys or settings help).

    >>> poll_error_parts(ServerError("x", http_status=500))
    ('server error 500', 'retrying in')
    """
    status = exc.http_status
    if isinstance(exc, RateLimited):
        return "rate limited", "next try in"
    if isinstance(exc, AuthenticationError):
        return f"{status or 401}: check the profile's keys", None
    if isinstance(exc, Forbidden):
        where = f"account {asid}" if asid is not None else "this account"
        return f"{status or 403}: the keys have no access to {where}", None
    if isinstance(exc, NotFound):
        return f"{status or 404}: no such diff on this account", "next check in"
    if isinstance(exc, ServerError):
        return f"server error {status or ''}".rstrip(), "retrying in"
    if isinstance(exc, ApiTimeout):
        return "timed out", "retrying in"
    if isinstance(exc, ServerDisconnected):
        return "the server hung up without answering", "retrying in"
    if isinstance(exc, NetworkError):
        return "cannot reach the server", "retrying in"
    if isinstance(exc, InvalidResponseError):
        return f"unreadable answer ({plain(str(exc), limit=120)})", "retrying in"
    if isinstance(exc, BadRequest):
        return f"{status or 400}: {plain(str(exc), limit=120)}", "retrying in"
    return plain(str(exc), limit=120), "retrying in"


def describe_poll_error(exc: ApiError, delay: float, asid: int | None = None) -> str:
    """Short human words for a failed status poll, with when it is tried again.

    >>> describe_poll_error(RateLimited("slow down", retry_after=3), 3.0)
    'rate limited, next try in 3s'
    """
    head, verb = poll_error_parts(exc, asid)
    return head if verb is None else f"{head}, {verb} {duration(math.ceil(max(0.0, delay)))}"


def next_try_text(head: str, verb: str | None, wait: float | None) -> str:
    """A failed poll's words with the time to the next try (``wait`` seconds; none is
    told when ``verb`` or ``wait`` is None).

    >>> next_try_text("timed out", "retrying in", 3.2), next_try_text("timed out", "retrying in", 0)
    ('timed out, retrying in 4s', 'timed out, trying again now')
    """
    if verb is None or wait is None:
        return head
    if wait <= 0:
        return f"{head}, trying again now"
    return f"{head}, {verb} {duration(math.ceil(wait))}"
