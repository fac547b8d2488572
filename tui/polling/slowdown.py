"""How long a failed poll waits: one job alone, or every job (the scheduler's pauses).

Pure decisions, like :mod:`tui.polling.scheduler` which composes this: no I/O, no asyncio; the
caller passes the monotonic time and the randomness (jitter) comes from an injectable
:class:`random.Random`.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Hashable
from typing import Final, Generic, TypeVar

from tui.api.errors import ApiError
from tui.domain.poll_settings import PollSettings
from tui.polling.rate_window import MIN_RATE_FACTOR, RateWindow

RATE_RECOVERY_SECONDS: Final = 10.0
"""After a slow-down the rate doubles back every this many seconds of good answers."""

OUTAGE_FAILURES: Final = 2
"""Network-level failures in a row (from different diffs, when there are several)
that make an outage."""
OUTAGE_PROBE_MAX: Final = 5.0
"""During an outage the server is probed at least this often (seconds), so that the
monitor is current again within seconds of the server coming back."""
PERMANENT_BACKOFF_STEPS: Final = 3
"""A permanent error (:attr:`tui.api.errors.ApiError.permanent`) will not go away soon: its
backoff starts this many doublings higher."""

K = TypeVar("K", bound=Hashable)


class Pause(enum.Enum):
    """Why every diff waits: each reason pauses, and slows down afterwards, its own way."""

    ACCOUNT = "account"
    """The keys were refused: wait, but the rate was not the problem."""
    SLOW_DOWN = "slow-down"
    """The server asked the account to slow down: wait, then send at half the rate."""
    OUTAGE = "outage"
    """The server is gone: probe it, and do not wait long."""


class Slowdowns(Generic[K]):
    """Decides whether a failure is one job's own or pauses everything, and for how long.

    It keeps what that decision needs: who got the last slow-down answer and when, the
    network-level failures in a row (an outage), the end of the current global pause,
    and the rate window's slow-down factor with its recovery. The scheduler applies its
    answers to the jobs' due times.
    """

    def __init__(
        self,
        settings: PollSettings,
        window: RateWindow,
        rng: random.Random,
        window_interval: float,
    ) -> None:
        self._settings = settings
        self._window = window
        self._rng = rng
        self._base = window_interval
        self.until: float | None = None
        """Monotonic end of the current global pause (None: there was none)."""
        self._global_errors = 0
        self._slowed_by: K | None = None
        """The diff of the last slow-down answer, until an answer succeeds."""
        self._slowed_at = -math.inf
        """When that answer came."""
        self._network_failures = 0
        """Network-level failures in a row, with no success in between."""
        self._network_keys: set[K] = set()
        self.outage = False
        """True while the server looks unreachable."""
        self._rate_changed_at = 0.0

    def slowed_down(self, now: float) -> bool:
        """True while a global pause or a lowered rate is in force."""
        if self.until is not None and now < self.until:
            return True
        return self._window.factor < 1.0

    def wait(self, now: float) -> float:
        """Seconds until the current global pause ends (0 when there is none)."""
        return 0.0 if self.until is None else max(0.0, self.until - now)

    def answered(self) -> None:
        """An answer came: failures are no longer "in a row"."""
        self._global_errors = 0
        self._slowed_by = None
        self._network_failures = 0
        self._network_keys.clear()

    def end_outage(self, now: float) -> bool:
        """An answer came: True when it ended an outage (the pause ends now too)."""
        if not self.outage:
            return False
        self.outage = False
        if self.until is not None and self.until > now:
            self.until = now
        return True

    def recover_rate(self, now: float) -> None:
        """After good answers the lowered rate doubles back, step by step."""
        if self._window.factor < 1.0 and now - self._rate_changed_at >= RATE_RECOVERY_SECONDS:
            self._window.factor = min(1.0, self._window.factor * 2)
            self._rate_changed_at = now

    def classify(
        self, key: K, sent: float | None, known: bool, error: ApiError, now: float, jobs: int
    ) -> Pause | None:
        """Whether ``key``'s failure pauses every job (and why), or None: its own.

        ``sent`` is when the failed request was sent, ``known`` whether ``key`` is
        scheduled, ``jobs`` how many are.
        """
        if error.account_wide:
            return Pause.ACCOUNT
        if error.asks_to_wait:
            # One diff's fault while others answer; the account's when other diffs get
            # the same and nothing answers in between.
            across = (
                self._slowed_by is not None
                and self._slowed_by != key
                and sent is not None
                and sent >= self._slowed_at
            )
            self._slowed_by, self._slowed_at = key, now
            return Pause.SLOW_DOWN if across or not known else None
        if error.no_answer:
            self._network_failures += 1
            self._network_keys.add(key)
            spread = min(OUTAGE_FAILURES, jobs)
            if self.outage or (
                self._network_failures >= OUTAGE_FAILURES and len(self._network_keys) >= spread
            ):
                self.outage = True
                return Pause.OUTAGE
        return None

    def backoff(self, errors: int, error: ApiError) -> float:
        """One job's wait after ``errors`` failures in a row: exponential with jitter,
        no sooner than Retry-After."""
        exponent = errors - 1 + (PERMANENT_BACKOFF_STEPS if error.permanent else 0)
        delay = self._jittered(self._base * 2.0**exponent)
        if error.retry_after is not None:
            delay = max(delay, min(self._settings.backoff_max, error.retry_after))
        return delay

    def pause(self, now: float, why: Pause, retry_after: float | None) -> float:
        """Start (or lengthen) a global pause; returns its monotonic end."""
        if why is Pause.OUTAGE:
            # Probe, do not wait long: the first answer brings everything back.
            ceiling = min(self._settings.backoff_max, OUTAGE_PROBE_MAX)
            nominal = self._base * 2.0 ** (self._network_failures - OUTAGE_FAILURES)
            pause = min(ceiling, nominal) * (0.5 + 0.5 * self._rng.random())
        else:
            self._global_errors += 1
            if retry_after is not None and retry_after >= 0:
                pause = min(
                    self._settings.backoff_max, max(self._settings.min_interval, retry_after)
                )
            else:
                pause = self._jittered(self._base * 2.0 ** (self._global_errors - 1))
        until = now + pause
        if self.until is None or until > self.until:
            self.until = until
        if why is Pause.SLOW_DOWN:
            self._window.factor = max(MIN_RATE_FACTOR, self._window.factor / 2)
            self._rate_changed_at = now
        return self.until

    def _jittered(self, delay: float) -> float:
        """Equal jitter: half fixed, half random, below the backoff ceiling."""
        delay = min(self._settings.backoff_max, delay)
        return delay * (0.5 + 0.5 * self._rng.random())
