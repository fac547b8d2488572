"""What the command line does around every state-changing request (retry, accept,
reject, create): journal it before and after, and say what became of one interrupted.

An interrupted action is the one outcome the server cannot tell: Ctrl-C or SIGTERM
while a request is in flight leaves it unknown (the server may have done it), so it is
journaled and said as unknown before the command exits; one interrupted while it waited
to be sent (the rate cap, a 429) was not done.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

from tui.api.errors import ActionOutcomeUnknown, ApiError
from tui.cli.common import Terminated
from tui.cli.pacing import Pacer, TimeLimit
from tui.domain.actions import ActionOutcome
from tui.domain.watch_entry import WatchEntry
from tui.store.journal import EventKind, Journal, JournalEvent, new_ref
from tui.store.paths import app_paths
from tui.store.settings import Settings, open_watchlist

_T = TypeVar("_T")


class JournalAndWatchlist:
    """The journal and the watchlist of one command's actions."""

    def __init__(self, conn: Settings) -> None:
        paths = app_paths()
        self.conn = conn
        self.journal = Journal(paths.journal_file)
        self.store = open_watchlist(paths)

    def event(
        self, diffid: int | None, action: str, outcome: ActionOutcome, reason: str, ref: str
    ) -> None:
        """One action event."""
        self.journal.append(
            JournalEvent(
                at=time.time(),
                kind=EventKind.ACTION,
                diffid=diffid,
                asid=self.conn.asid,
                action=action,
                outcome=outcome,
                reason=reason,
                ref=ref,
            )
        )

    def entry(self, diffid: int, **fields: Any) -> WatchEntry:
        """A watchlist entry of this account's ``diffid`` with ``fields`` set."""
        return WatchEntry(
            diffid, self.conn.asid, self.conn.account_url, added_at=time.time(), **fields
        )


class Sending(Generic[_T]):
    """A request's call that knows whether the request is in flight (sent, and not
    answered yet): what an interrupt leaves unknown."""

    def __init__(self, call: Callable[[], Awaitable[_T]]) -> None:
        self._call = call
        self.in_flight = False

    async def __call__(self) -> _T:
        self.in_flight = True
        try:
            answer = await self._call()
        except ApiError:
            self.in_flight = False  # answered: a 429 is waited out and sent again
            raise
        self.in_flight = False
        return answer


def interrupted_error(action: str, in_flight: bool, cause: str = "interrupted") -> ApiError:
    """What an interrupt (or ``cause``: a ``--timeout``) made of ``action``: unknown
    while its request was in flight, not done while it still waited to be sent."""
    if in_flight:
        return ActionOutcomeUnknown(
            f"{cause} while the {action} was in flight: its outcome is unknown "
            "(the server may have done it)"
        )
    return ApiError(f"{cause} before the {action} was sent: nothing was done")


async def send_action(
    pacer: Pacer,
    records: JournalAndWatchlist,
    diffid: int,
    action: str,
    call: Callable[[], Awaitable[_T]],
    what: str,
    interrupted: Callable[[int, ApiError], None],
    limit: TimeLimit | None = None,
) -> _T:
    """Send one action (once: see :class:`Pacer`), journaled before and after; on an
    interrupt (or ``limit`` running out) its outcome is journaled and given to
    ``interrupted`` (to say it), and the interrupt goes on."""
    ref = new_ref()
    records.event(diffid, action, ActionOutcome.SENT, what, ref)
    sending = Sending(call)
    try:
        answer = await pacer.send(sending, diffid)
    except ApiError as exc:
        records.event(diffid, action, exc.action_outcome, exc.message, ref)
        raise
    except asyncio.CancelledError:
        cause = limit.cause if limit is not None and limit.ran_out else "interrupted"
        error = interrupted_error(action, sending.in_flight, cause)
        records.event(diffid, action, error.action_outcome, error.message, ref)
        interrupted(diffid, error)
        raise
    records.event(diffid, action, ActionOutcome.ACCEPTED, what, ref)
    return answer


def run_actions(main: Coroutine[Any, Any, _T]) -> _T:
    """``asyncio.run(main)`` where SIGTERM stops the actions as Ctrl-C does (each one in
    flight said and journaled), then raises :class:`Terminated`."""
    terminated = False

    async def guarded() -> _T:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()

        def on_sigterm() -> None:
            nonlocal terminated
            terminated = True
            task.cancel()

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await main
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if terminated:
            raise Terminated from None
        raise
