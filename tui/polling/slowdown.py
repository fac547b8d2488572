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
        """Network-level failures that say the server may be gone (see :meth:`classify`),
        with no answer since."""
        self._network_keys: set[K] = set()
        self._heard_at = -math.inf
        """When the server last answered anything (any HTTP status)."""
        self._good_at = -math.inf
        """When the server last answered well."""
        self.outage = False
        """True while the server looks unreachable."""
        self._rate_changed_at = 0.0
        self._answered_since_slowed = True
        """A good answer came after the rate was last lowered: time brings it back."""

    def slowed_down(self, now: float) -> bool:
        """True while a global pause or a lowered rate is in force."""
        if self.until is not None and now < self.until:
            return True
        return self._window.factor < 1.0

    def wait(self, now: float) -> float:
        """Seconds until the current global pause ends (0 when there is none)."""
        return 0.0 if self.until is None else max(0.0, self.until - now)

    @property
    def suspect(self) -> bool:
        """A failure may be the server's or the account's (a network-level failure, a
        slow-down answer) and no answer has said otherwise yet: a job that is not
        failing should be asked now (a witness) rather than at its next turn."""
        return (self._network_failures > 0 and not self.outage) or self._slowed_by is not None

    def heard(self, now: float) -> bool:
        """The server answered (any HTTP status, errors included): it is there. True
        when that ended an outage (the pause ends now too)."""
        self._heard_at = now
        self._network_failures = 0
        self._network_keys.clear()
        if not self.outage:
            return False
        self.outage = False
        if self.until is not None and self.until > now:
            self.until = now
        return True

    def answered(self, now: float) -> bool:
        """A good answer came: failures are no longer "in a row" (see :meth:`heard`)."""
        self._global_errors = 0
        self._slowed_by = None
        self._good_at = now
        self._answered_since_slowed = True
        return self.heard(now)

    def recover_rate(self, now: float) -> None:
        """Once a good answer came, the lowered rate doubles back, step by step, as time
        passes with no new slow-down (healthy jobs may be asked only every half minute:
        the step does not wait for their next answer)."""
        if (
            self._window.factor < 1.0
            and self._answered_since_slowed
            and now - self._rate_changed_at >= RATE_RECOVERY_SECONDS
        ):
            self._window.factor = min(1.0, self._window.factor * 2)
            self._rate_changed_at = now

    def classify(
        self,
        key: K,
        error: ApiError,
        now: float,
        *,
        sent: float | None,
        since: float | None = None,
        jobs: int = 1,
    ) -> Pause | None:
        """Whether ``key``'s failure pauses every job (and why), or None: its own.

        ``sent`` is when the failed request was sent and ``since`` when the first
        request of its run of failures was (None: ``key`` is not scheduled); ``jobs``
        is how many are scheduled. A job that keeps failing while the server answers
        others (any answer for an outage, a good one for a slow-down) has a fault of
        its own, which says nothing of the server or the account. Call :meth:`heard`
        first for an error the server answered.
        """
        if since is None:
            since = sent
        if error.account_wide:
            return Pause.ACCOUNT
        if error.asks_to_wait:
            if since is not None and self._good_at > since:
                return None
            # One job's fault while others answer; the account's when another job gets
            # the same, sent after it, with no good answer in between.
            across = (
                self._slowed_by is not None
                and self._slowed_by != key
                and sent is not None
                and sent >= self._slowed_at
            )
            self._slowed_by, self._slowed_at = key, now
            return Pause.SLOW_DOWN if across or sent is None else None
        if not error.no_answer:
            return None
        if self.outage:
            # Each failed probe waits longer for the next (see :meth:`pause`).
            self._network_failures += 1
            return Pause.OUTAGE
        if since is None or self._heard_at > since:
            # The server answered while this job kept failing: its fault, not an outage.
            return None
        self._network_failures += 1
        self._network_keys.add(key)
        spread = min(OUTAGE_FAILURES, jobs)
        if self._network_failures >= OUTAGE_FAILURES and len(self._network_keys) >= spread:
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
            self._answered_since_slowed = False
        return self.until

    def _jittered(self, delay: float) -> float:
        """Equal jitter: half fixed, half random, below the backoff ceiling."""
        delay = min(self._settings.backoff_max, delay)
        return delay * (0.5 + 0.5 * self._rng.random())
