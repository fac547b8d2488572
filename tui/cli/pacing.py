"""How a command sends its requests: the app's rate cap and its slow-down rules.

Every request of one command goes through one :class:`Pacer`. It keeps to the same
:class:`~tui.polling.rate_window.RateWindow` as the app, and decides what a 429 or 503
means with the app's :class:`~tui.polling.slowdown.Slowdowns`: one diff's own answer
(that diff alone waits, the others go on) or the account's (every request waits and the
rate is halved, then recovers after good answers).

A request answered 429 or 503 was not acted on, so it is sent again after the wait,
even a retry; a timeout or a dropped answer is not (the caller sees it). One request
waits at most ``RETRY_AFTER_LIMIT`` seconds in all, then fails with
:class:`GaveUpWaiting`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from tui.api.errors import ApiError
from tui.cli.common import ExitCode
from tui.domain.clock import Clock, SystemClock
from tui.domain.poll_settings import PollSettings
from tui.polling.rate_window import RateWindow, Send
from tui.polling.slowdown import Slowdowns
from tui.store.settings import Settings

_T = TypeVar("_T")

RETRY_AFTER_LIMIT: Final = 60.0
"""Longest one request waits in all while the server answers 429 or 503 to it (seconds)."""


class GaveUpWaiting(ApiError):
    """The server kept asking to wait (429 or 503) for longer than ``RETRY_AFTER_LIMIT``."""

    def __init__(self, cause: ApiError) -> None:
        super().__init__(
            f"{cause.message}; gave up (this command waits at most "
            f"{RETRY_AFTER_LIMIT:.0f} s per request)",
            http_status=cause.http_status,
        )
        self.kind = cause.kind


class Pacer:
    """The rate cap and the server's "wait" for every request of one command."""

    def __init__(
        self, clock: Clock, settings: PollSettings, rng: random.Random | None = None
    ) -> None:
        self._clock = clock
        self._settings = settings
        self.window = RateWindow(clock, settings.max_requests_per_second)
        # The app's error backoff base: twice the shortest poll interval.
        self._slowdowns: Slowdowns[object] = Slowdowns(
            settings,
            self.window,
            rng if rng is not None else random.Random(),
            2 * settings.min_interval,
        )
        self._keys: set[object] = set()

    async def send(self, call: Callable[[], Awaitable[_T]], key: object = None) -> _T:
        """``call()`` within the cap, sent again after each 429/503 for up to
        ``RETRY_AFTER_LIMIT`` seconds; then :class:`GaveUpWaiting`.

        ``key`` names what the request is about (a diff ID): a slow-down answer for one
        key alone holds back only that key's requests.
        """
        self._keys.add(key)
        first_refusal: float | None = None
        refusals = 0
        own_until = 0.0
        while True:
            slot = await self._slot(own_until)
            sent = slot.at
            try:
                answer = await call()
            except ApiError as exc:
                if not exc.asks_to_wait:
                    raise
                now = self._clock.monotonic()
                first_refusal = now if first_refusal is None else first_refusal
                refusals += 1
                own_until = self._refused(key, sent, exc, now, refusals, first_refusal)
                continue
            finally:
                self.window.close(slot)
            now = self._clock.monotonic()
            self._slowdowns.answered()
            self._slowdowns.recover_rate(now)
            return answer

    def _refused(
        self, key: object, sent: float, error: ApiError, now: float, refusals: int, first: float
    ) -> float:
        """Until when ``key`` waits after a slow-down answer; :class:`GaveUpWaiting`
        when that is beyond its limit (then no pause is started for the others)."""
        why = self._slowdowns.classify(key, sent, True, error, now, len(self._keys))
        own = now + self._slowdowns.backoff(refusals, error)
        retry_after = error.retry_after
        if own - first > RETRY_AFTER_LIMIT or (
            retry_after is not None and now + retry_after - first > RETRY_AFTER_LIMIT
        ):
            raise GaveUpWaiting(error) from None
        if why is None:
            return own
        until = self._slowdowns.pause(now, why, retry_after)
        if until - first > RETRY_AFTER_LIMIT:
            raise GaveUpWaiting(error) from None
        return own

    async def _slot(self, own_until: float) -> Send:
        # The cap and the pauses free up with time, not with an event: sleeping is right.
        while True:
            now = self._clock.monotonic()
            pause = max(own_until - now, self._slowdowns.wait(now))
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            send = self.window.acquire()
            if send is not None:
                return send
            await asyncio.sleep(max(0.01, self.window.seconds_until_slot()))


def make_pacer(conn: Settings) -> Pacer:
    """The pacing for one command, with the configured ``[poll]`` settings."""
    return Pacer(SystemClock(), conn.poll)


async def each_once(
    ids: Sequence[int],
    send: Callable[[int], Awaitable[_T]],
    show: Callable[[int, _T], None],
    failed: Callable[[int, ApiError], None],
) -> int:
    """``send`` for each ID, once, in order; ``show`` each answer and ``failed`` each
    error. The exit code: FAILED if any failed; an error no other request would escape
    stops there (CONFIG)."""
    result = ExitCode.OK
    for jobid in ids:
        try:
            answer = await send(jobid)
        except ApiError as exc:
            failed(jobid, exc)
            if exc.stops_command:
                return ExitCode.CONFIG
            result = ExitCode.FAILED
            continue
        show(jobid, answer)
    return result
