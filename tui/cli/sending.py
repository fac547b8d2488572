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
from tui.cli.common import Terminated, print_warning
from tui.cli.pacing import Pacer, TimeLimit
from tui.domain.actions import ActionOutcome, how_unknown_settles
from tui.domain.watch_entry import LastOutcome, SentAction, WatchEntry
from tui.store.atomic_file import LockTimeout
from tui.store.journal import EventKind, Journal, JournalEvent, new_ref
from tui.store.paths import app_paths
from tui.store.settings import Settings, open_watchlist
from tui.store.watchlist.writes import ONCE_ACTIONS

_T = TypeVar("_T")


class JournalAndWatchlist:
    """The journal and the watchlist of one command's actions."""

    def __init__(self, conn: Settings) -> None:
        paths = app_paths()
        self.conn = conn
        self.journal = Journal(paths.journal_file)
        self.store = open_watchlist(paths)
        self._added_for_note: set[int] = set()
        """Diffs added to the watchlist only to hold an accept's or reject's note."""

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

    def _key(self, diffid: int) -> tuple[str, int, int]:
        return (self.conn.account_url, self.conn.asid, diffid)

    def pending(self, diffid: int) -> tuple[SentAction, ...]:
        """The actions sent on ``diffid`` (by the app or the command line) whose outcome
        is still unknown."""
        for entry in self.store.entries_for(self.conn.account_url, self.conn.asid):
            if entry.diffid == diffid:
                return entry.sent
        return ()

    def note_sent(self, diffid: int, sent: SentAction, *, add: bool) -> None:
        """Note ``sent`` as about to go out, in the watchlist file; with ``add``, a diff
        not watched is added first (an accept or reject adds it anyway once done).
        Raises :class:`ApiError` when the file cannot be written: nothing is sent."""
        try:
            if not self.store.note_sent(self._key(diffid), sent) and add:
                self.store.add([self.entry(diffid)])
                self._added_for_note.add(diffid)
                self.store.note_sent(self._key(diffid), sent)
        except (OSError, LockTimeout) as exc:
            raise ApiError(
                f"not sent: the watchlist could not note the {sent.action} ({exc})"
            ) from None

    def note_outcome(self, diffid: int, action: str, outcome: ActionOutcome, reason: str) -> None:
        """``action``'s outcome: the pending mark goes unless it is unknown."""
        last = (
            None
            if outcome is ActionOutcome.ACCEPTED
            else LastOutcome(action, outcome, reason, time.time())
        )
        try:
            self.store.note_outcome(self._key(diffid), action, last)
            done_or_unknown = (ActionOutcome.ACCEPTED, ActionOutcome.UNKNOWN)
            if diffid in self._added_for_note and outcome not in done_or_unknown:
                # Added only to hold the note: not done, so not watched after all.
                self.store.remove([self._key(diffid)])
        except (OSError, LockTimeout) as exc:
            print_warning(f"diff {diffid}: the {action}'s outcome was not noted ({exc})")

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


class SentBefore(ApiError):
    """An accept or reject was sent on this diff before (by the app or the command
    line) and its outcome is unknown: not sent again without ``--again``."""

    kind = "outcome-unknown-before"


def sent_before_error(action: str, earlier: SentAction) -> SentBefore:
    """Why ``action`` is not sent: ``earlier`` (an accept or reject) may have happened."""
    harm = "a second image version" if action == "accept" else f"a second {action}"
    return SentBefore(
        f"not sent: {_article(earlier.action)} {earlier.action} was sent before and its "
        f"outcome is unknown ({how_unknown_settles(earlier.action)}); sending may make "
        f"{harm}: add --again to send it anyway"
    )


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


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
    *,
    again: bool = False,
) -> _T:
    """Send one action (once: see :class:`Pacer`), noted in the watchlist file and
    journaled before, its outcome after; on an interrupt (or ``limit`` running out) its
    outcome is journaled and given to ``interrupted`` (to say it), and the interrupt
    goes on.

    An accept or reject is not sent on a diff whose accept or reject (by the app or
    the command line) has an unknown outcome, unless ``again``: :class:`SentBefore`."""
    once = action in ONCE_ACTIONS
    if once and not again:
        earlier = [sent for sent in records.pending(diffid) if sent.action in ONCE_ACTIONS]
        if earlier:
            raise sent_before_error(action, earlier[0])
    records.note_sent(diffid, SentAction(action, time.time(), what), add=once)
    ref = new_ref()
    records.event(diffid, action, ActionOutcome.SENT, what, ref)
    sending = Sending(call)
    try:
        answer = await pacer.send(sending, diffid)
    except ApiError as exc:
        records.event(diffid, action, exc.action_outcome, exc.message, ref)
        records.note_outcome(diffid, action, exc.action_outcome, exc.message)
        raise
    except asyncio.CancelledError:
        cause = limit.cause if limit is not None and limit.ran_out else "interrupted"
        error = interrupted_error(action, sending.in_flight, cause)
        records.event(diffid, action, error.action_outcome, error.message, ref)
        records.note_outcome(diffid, action, error.action_outcome, error.message)
        interrupted(diffid, error)
        raise
    records.event(diffid, action, ActionOutcome.ACCEPTED, what, ref)
    records.note_outcome(diffid, action, ActionOutcome.ACCEPTED, what)
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
