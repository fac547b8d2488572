"""The knobs of status polling, as the config file's ``[poll]`` table sets them."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How politely the app polls.

    The defaults keep a fleet of hundreds of diffs under a few requests per second.
    Any finite positive value is accepted here (tests poll in milliseconds); the
    config file is held to :data:`POLL_RANGES`.
    """

    max_requests_per_second: float = 4.0
    """Global cap across all diffs, enforced client-side."""
    max_in_flight: int = 4
    """Status requests outstanding at once."""
    min_interval: float = 1.0
    """Never poll one diff more often than this (seconds)."""
    waiting_interval: float = 15.0
    """Created / Pending / Queued diffs are polled this often."""
    running_max_interval: float = 30.0
    """A running diff far from its ETA is still polled at least this often."""
    backoff_max: float = 300.0
    """Ceiling of the per-diff exponential backoff on errors."""
    timeout: float = 10.0
    """Read timeout of one request (seconds)."""

    def __post_init__(self) -> None:
        for name in POLL_RANGES:
            value = getattr(self, name)
            # NaN compares false with everything, so "<= 0" alone lets it through.
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number above 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class Range:
    """The values a ``[poll]`` setting may take in the config file, ends included."""

    low: float
    high: float
    unit: str

    def __contains__(self, value: object) -> bool:
        return isinstance(value, int | float) and self.low <= value <= self.high

    def __str__(self) -> str:
        return f"{self.low:g} to {self.high:g} {self.unit}"


POLL_RANGES: Final[Mapping[str, Range]] = MappingProxyType(
    {
        # Below 0.1/s one diff waits minutes for a read; above 100/s is a load test.
        "max_requests_per_second": Range(0.1, 100, "requests per second"),
        "max_in_flight": Range(1, 64, "requests"),
        "min_interval": Range(0.1, 600, "seconds"),
        "waiting_interval": Range(1, 3600, "seconds"),
        "running_max_interval": Range(1, 3600, "seconds"),
        "backoff_max": Range(1, 3600, "seconds"),
        # The app gives up on a poll after 2 x timeout + 5 s; keep that under 10 min.
        "timeout": Range(1, 300, "seconds"),
    }
)
"""What the config file may set each ``[poll]`` key to (NaN and infinities never fit)."""
