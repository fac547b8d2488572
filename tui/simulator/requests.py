"""What the simulator was asked: which endpoint and diff a path names, the request log, and
the server-wide rate limit on requests."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from tui.simulator.replies import Reply, json_body

ENDPOINTS: Final[tuple[str, ...]] = (
    "status",
    "retry",
    "create",
    "reject",
    "accept",
    "version-status",
    "other",
)
"""``accept`` is image version create; ``version-status`` names the version by its ID."""


_PREFIX: Final = "/cfp/v1/imagediff/"
_VERSION_PREFIX: Final = "/cfp/v1/imageversion/"


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator saw: clock time, endpoint, diff (if any) and HTTP status.

    ``status`` is 0 when the connection was dropped without an answer.
    """

    at: float
    endpoint: str
    diffid: int | None
    status: int


def route(path: str) -> tuple[str, str | None]:
    """(endpoint, ID token) for a request path; ("other", None) if it is not an endpoint.

    The token is the diff's ID, or the image version's for ``version-status``.
    """
    if path.startswith(_VERSION_PREFIX):
        parts = path[len(_VERSION_PREFIX) :].rstrip("/").split("/")
        if parts == ["create"]:
            return "accept", None
        if len(parts) == 2 and parts[1] == "status" and parts[0]:
            return "version-status", parts[0]
        return "other", None
    if not path.startswith(_PREFIX):
        return "other", None
    rest = path[len(_PREFIX) :].rstrip("/").split("/")
    if rest == ["create"]:
        return "create", None
    if len(rest) == 2 and rest[1] in ("status", "retry", "reject") and rest[0]:
        return rest[1], rest[0]
    return "other", None


def int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text or not text.lstrip("-").isdigit() or not text.isascii():
        return None
    return int(text)


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most events within any ``window`` seconds (a half-open sliding window).

    >>> max_in_window([0.0, 0.5, 0.99, 1.0, 1.5], 1.0)
    3
    """
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class RateLimit:
    """A server-wide limit of requests per second (any endpoint): beyond it 429 with
    Retry-After. It keeps when the requests of the last second were let through.

    >>> limit = RateLimit()
    >>> limit.refusal(0.0, per_second=1) is None, limit.refusal(0.5, per_second=1).status
    (True, 429)
    """

    _answered_at: list[float] = field(default_factory=list)

    def refusal(self, now: float, *, per_second: int | None) -> Reply | None:
        """A 429 when ``per_second`` requests (None: no limit) were let through in the
        second before ``now``; else None, and this request counts."""
        if per_second is None:
            return None
        self._answered_at = [at for at in self._answered_at if at > now - 1.0]
        if len(self._answered_at) < per_second:
            self._answered_at.append(now)
            return None
        wait = max(1, math.ceil(min(self._answered_at, default=now) + 1.0 - now))
        return Reply(
            429, json_body({"error": "Too many requests"}), headers=[("Retry-After", str(wait))]
        )
