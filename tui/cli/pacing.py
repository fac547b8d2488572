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

import argparse
import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TextIO, TypeVar

from tui.api.errors import ActionOutcomeUnknown, ApiError
from tui.cli.common import ExitCode, print_error
from tui.cli.output import DIFFS, JobOutput, emit_json, error_json
from tui.domain.clock import Clock, SystemClock
from tui.domain.poll_settings import PollSettings
from tui.polling.rate_window import RateWindow, Send
from tui.polling.refusals import RETRY_AFTER_LIMIT, Refusals
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
        refusals = Refusals()
        first_sent: float | None = None
        own_until = 0.0
        while True:
            slot = await self._slot(own_until)
            sent = slot.at
            self.in_flight.add(key)
            try:
                answer = await call()
            except ApiError as exc:
                self.in_flight.discard(key)
                self.refused.pop(key, None)
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
                self.refused[key] = exc
                if on_wait is not None:
                    on_wait()
                continue
            finally:
                self.window.close(slot)
            self.in_flight.discard(key)
            self.refused.pop(key, None)
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


class TimeLimit:
    """``--timeout``: how long a whole command may wait (None: no limit), and whether
    that ran out."""

    def __init__(self, seconds: float | None, given: float | None = None) -> None:
        self.seconds = seconds
        self.given = seconds if given is None else given
        """The ``--timeout`` as given (``seconds`` may be what is left of it)."""
        self._scope: asyncio.Timeout | None = None

    def scope(self) -> asyncio.Timeout:
        """The ``async with`` that cancels what it holds when the time runs out (then
        raises :class:`TimeoutError`)."""
        self._scope = asyncio.timeout(self.seconds)
        return self._scope

    @property
    def ran_out(self) -> bool:
        """True once the time ran out (while the cancel goes through, too)."""
        return self._scope is not None and self._scope.expired()

    @property
    def cause(self) -> str:
        """What stopped the requests, for the words of an unknown outcome."""
        return f"--timeout {self.given:g} s ran out"


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
    limit: TimeLimit | None = None,
) -> int:
    """``send`` for each ID, once, in order; ``show`` each answer and ``failed`` each
    error. The exit code: FAILED if any failed; an error no other request would escape
    stops there (CONFIG). When ``limit`` runs out first, the IDs not answered go to
    ``timed_out`` (FAILED)."""
    result = ExitCode.OK
    answered = 0
    try:
        async with limit.scope() if limit is not None else contextlib.nullcontext():
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
