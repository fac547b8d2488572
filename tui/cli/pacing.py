"""How a command sends its requests: the app's rate cap and its slow-down rules.

Every request of one command goes through one :class:`Pacer`. It keeps to the same
:class:`~tui.polling.rate_window.RateWindow` as the app, and decides what a 429 or 503
means with the app's :class:`~tui.polling.slowdown.Slowdowns`: one diff's own answer
(that diff alone waits, the others go on) or the account's (every request waits and the
rate is halved, then recovers after good answers).

A request answered 429 or 503 was not acted on, so it is sent again after the wait,
even a retry, within one bound: the app's rule too (:mod:`tui.polling.refusals`). A
timeout or a dropped answer is not (the caller sees it).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from tui.api.errors import ApiError
from tui.cli.common import ExitCode
from tui.domain.clock import Clock, SystemClock
from tui.domain.poll_settings import PollSettings
from tui.polling.rate_window import RateWindow, Send
from tui.polling.refusals import Refusals
from tui.polling.slowdown import Slowdowns
from tui.store.settings import Settings

_T = TypeVar("_T")


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
        refusals = Refusals()
        first_sent: float | None = None
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
                first_sent = sent if first_sent is None else first_sent
                self._slowdowns.heard(now)
                why = self._slowdowns.classify(
                    key, exc, now, sent=sent, since=first_sent, jobs=len(self._keys)
                )
                backoff = self._slowdowns.backoff(refusals.count + 1, exc)
                own_until = refusals.send_again_at(exc, now, backoff)
                if why is not None:
                    # The account's: everyone waits (not started when this one gives up).
                    refusals.within(self._slowdowns.pause(now, why, exc.retry_after), exc)
                continue
            finally:
                self.window.close(slot)
            now = self._clock.monotonic()
            self._slowdowns.answered(now)
            self._slowdowns.recover_rate(now)
            return answer

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
