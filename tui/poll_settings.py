"""The knobs of status polling, as the config file's ``[poll]`` table sets them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PollSettings:
    """How politely the app polls.

    The defaults keep a fleet of hundreds of diffs under a few requests per second.
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
        if self.max_requests_per_second <= 0:
            raise ValueError("max_requests_per_second must be above 0")
        if self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        for name in ("min_interval", "waiting_interval", "running_max_interval", "backoff_max"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0")
        if self.timeout <= 0:
            raise ValueError("timeout must be above 0")
