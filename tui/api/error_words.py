"""Human words for a failed status poll, and for when it is tried again."""

from __future__ import annotations

import math

from tui.api.errors import (
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
from tui.domain.text import plain
from tui.domain.wording import duration


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
