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

import argparse
import asyncio
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Final, TextIO, TypeVar

from tui.api.errors import ActionOutcomeUnknown, ApiError
from tui.cli.common import ExitCode, print_error
from tui.cli.output import DIFFS, JobOutput, emit_json, error_json
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
        self.refused: dict[object, ApiError] = {}
        """Each key's last slow-down answer, while it waits to be sent again."""
        self.in_flight: set[object] = set()
        """Keys whose request is out; one left here after a cancel (``--timeout``) was
        sent and not answered: its outcome is unknown."""

    async def send(
        self,
        call: Callable[[], Awaitable[_T]],
        key: object = None,
        on_wait: Callable[[], None] | None = None,
    ) -> _T:
        """``call()`` within the cap, sent again after each 429/503 for up to
        ``RETRY_AFTER_LIMIT`` seconds; then :class:`GaveUpWaiting`.

        ``key`` names what the request is about (a diff ID): a slow-down answer for one
        key alone holds back only that key's requests. ``on_wait`` is called each time
        the request starts waiting after such an answer.
        """
        self._keys.add(key)
        first_refusal: float | None = None
        refusals = 0
        own_until = 0.0
        while True:
            slot = await self._slot(own_until)
            sent = slot.at
            self.in_flight.add(key)
            try:
                answer = await call()
            except ApiError as exc:
                self.in_flight.discard(key)
                if not exc.asks_to_wait:
                    self.refused.pop(key, None)
                    raise
                now = self._clock.monotonic()
                first_refusal = now if first_refusal is None else first_refusal
                refusals += 1
                self.refused.pop(key, None)
                own_until = self._refused(key, sent, exc, now, refusals, first_refusal)
                self.refused[key] = exc
                if on_wait is not None:
                    on_wait()
                continue
            finally:
                self.window.close(slot)
            self.in_flight.discard(key)
            self.refused.pop(key, None)
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

    def why_unanswered(self, key: object) -> str:
        """What became of ``key``'s request when the command stopped waiting for it."""
        if key in self.in_flight:
            return "sent, no answer"
        refused = self.refused.get(key)
        if refused is not None:
            return f"the server kept asking to wait ({refused.message})"
        return "not sent"

    def unanswered(self, key: object, timeout: float) -> ApiError:
        """The ``--json`` error of ``key`` when the ``--timeout`` ran out before its answer."""
        message = f"no answer within --timeout {timeout:g} s ({self.why_unanswered(key)})"
        if key in self.in_flight:
            return ActionOutcomeUnknown(message)
        refused = self.refused.get(key)
        return NotAnswered(message, http_status=refused.http_status if refused else None)


class NotAnswered(ApiError):
    """``--timeout`` ran out before the request was sent or answered (nothing was done)."""

    kind = "timeout"


def timeout_line(timeout: float, missing: Iterable[str]) -> str:
    """The one line a command ends with when its ``--timeout`` ran out."""
    return f"--timeout {timeout:g} s ran out: " + "; ".join(missing)


def add_timeout_option(parser: argparse.ArgumentParser, what: str) -> None:
    """``--timeout SECONDS``: how long the whole command may wait for ``what``."""
    parser.add_argument(
        "--timeout",
        type=timeout_seconds,
        default=None,
        metavar="SECONDS",
        help=f"give up after this many seconds in all ({what}): say what was not "
        "answered and exit 1 (default: no limit; each request still waits at most "
        f"{RETRY_AFTER_LIMIT:.0f} s while the server asks to wait)",
    )


def timeout_seconds(text: str) -> float:
    """``--timeout``: a number of seconds above 0, at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError("the timeout must be above 0 and at most 86400 seconds")
    return value


def report_unanswered(
    pacer: Pacer,
    ids: Sequence[int],
    timeout: float,
    as_json: bool,
    out: TextIO,
    output: JobOutput = DIFFS,
) -> None:
    """``--timeout`` ran out before ``ids`` were answered: one JSON error each with
    ``--json``, and one line on stderr saying what became of each."""
    if as_json:
        for jobid in ids:
            emit_json(error_json(jobid, pacer.unanswered(jobid, timeout), output.key), out)
    print_error(
        timeout_line(timeout, (f"{output.noun} {i}: {pacer.why_unanswered(i)}" for i in ids))
    )


def make_pacer(conn: Settings) -> Pacer:
    """The pacing for one command, with the configured ``[poll]`` settings."""
    return Pacer(SystemClock(), conn.poll)


async def each_once(
    ids: Sequence[int],
    send: Callable[[int], Awaitable[_T]],
    show: Callable[[int, _T], None],
    failed: Callable[[int, ApiError], None],
    timed_out: Callable[[Sequence[int]], None] | None = None,
    time_limit: float | None = None,
) -> int:
    """``send`` for each ID, once, in order; ``show`` each answer and ``failed`` each
    error. The exit code: FAILED if any failed; an error no other request would escape
    stops there (CONFIG). When ``time_limit`` seconds run out first, the IDs not
    answered go to ``timed_out`` (FAILED)."""
    result = ExitCode.OK
    answered = 0
    try:
        async with asyncio.timeout(time_limit):
            for jobid in ids:
                try:
                    answer = await send(jobid)
                except ApiError as exc:
                    answered += 1
                    failed(jobid, exc)
                    if exc.stops_command:
                        return ExitCode.CONFIG
                    result = ExitCode.FAILED
                    continue
                answered += 1
                show(jobid, answer)
    except TimeoutError:
        if timed_out is None:
            raise
        timed_out(ids[answered:])
        return ExitCode.FAILED
    return result
