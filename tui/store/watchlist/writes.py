"""The app's watchlist file work: in order, on one thread, off the event loop.

A big file or another process holding the lock must never stall keys or redraws;
on the way out, a bounded wait says in words what could not be saved.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Final, TypeVar

from tui.domain.watch_entry import LastOutcome, LastStatus, SentAction, WatchEntry
from tui.store.watchlist.port import WatchlistPort

log = logging.getLogger(__name__)

_T = TypeVar("_T")

ONCE_ACTIONS: Final = ("accept", "reject")
"""A diff is accepted or rejected once: a repeat of these may do harm."""


class FileThread:
    """One daemon thread that does file work in the order given, off the event loop.

    A daemon, so that a write stuck behind another process's lock never keeps the
    process alive once the app has decided to exit (files are replaced atomically:
    stopping mid-write leaves the old file or the new one, never a mix).
    """

    def __init__(self, name: str = "watchlist-files") -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False
        self._start_lock = threading.Lock()

    def submit(self, work: Callable[[], _T]) -> Future[_T]:
        """Run ``work`` after the work already given; its result or error in the future."""
        future: Future[_T] = Future()
        self._jobs.put((work, future))
        with self._start_lock:
            if not self._started:
                self._started = True
                self._thread.start()
        return future

    def _run(self) -> None:
        while True:
            work, future = self._jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = work()
            except BaseException as exc:  # handed to whoever waits on the future
                future.set_exception(exc)
            else:
                future.set_result(result)


class WatchlistWrites:
    """Queue watchlist work on the file thread; save statuses; drain on exit.

    Example:
        >>> # writes = WatchlistWrites(session); await writes.run(lambda: session.remove([1]))
    """

    def __init__(self, watchlist: WatchlistPort) -> None:
        self._watchlist = watchlist
        self._files = FileThread()
        self.lock_waited: Path | None = None
        """The lock another process held, the last time a write had to wait for it."""

    def use(self, watchlist: WatchlistPort) -> None:
        """Write to ``watchlist`` from now on (another account's, after :meth:`drain`)."""
        self._watchlist = watchlist

    async def run(self, work: Callable[[], _T]) -> _T:
        """``work()`` done on the file thread, after the file work already queued."""
        return await asyncio.wrap_future(self._files.submit(work))

    def waiting_for(self, lock: Path) -> str:
        """Note that a write waits for another process's ``lock``; the notice, in words."""
        self.lock_waited = lock
        return (
            f"Waiting for the watchlist lock: another process holds {lock}. "
            "Keys keep working; the change is saved once it lets go."
        )

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        """Queue a save of the last known statuses (a failure is logged, not raised)."""
        self._files.submit(lambda: self._write_status(statuses))

    def save_decision(self, entry: WatchEntry) -> None:
        """Queue a save of a diff's accept or reject (a failure is logged, not raised)."""

        def write() -> None:
            try:
                self._watchlist.record_decision(
                    entry.diffid, accepted=entry.accepted, rejected=entry.rejected
                )
            except Exception:
                log.exception("saving the decision on #%d to the watchlist failed", entry.diffid)

        self._files.submit(write)

    async def note_sent(
        self, diffid: int, sent: SentAction, check: bool = False
    ) -> tuple[SentAction, ...]:
        """Note in the file that ``sent`` is about to go out; returns once it is written
        (after the file work queued before it). An error is raised: then it is not sent.
        With ``check``, an accept or reject of the diff with an unknown outcome already
        in the file (another writer's) is returned instead, and nothing noted."""

        def work() -> tuple[SentAction, ...]:
            if check:
                earlier = tuple(
                    s for s in self._watchlist.pending(diffid) if s.action in ONCE_ACTIONS
                )
                if earlier:
                    return earlier
            self._watchlist.note_sent(diffid, sent)
            return ()

        return await self.run(work)

    def save_outcome(self, diffid: int, action: str, outcome: LastOutcome | None) -> None:
        """Queue a save of the last action's outcome on a diff (a failure is logged)."""

        def write() -> None:
            try:
                self._watchlist.note_outcome(diffid, action, outcome)
            except Exception:
                log.exception("saving the outcome of a %s of #%d failed", action, diffid)

        self._files.submit(write)

    def _write_status(self, statuses: dict[int, LastStatus]) -> None:
        try:
            self._watchlist.save_status(statuses)
        except Exception:
            log.exception("saving the last statuses to the watchlist failed")

    def _final_check(self) -> None:
        try:
            self._watchlist.check_file()
        except Exception:
            log.exception("checking the watchlist file on the way out failed")

    async def drain(self, within: float) -> str | None:
        """Wait up to ``within`` s for the work queued; what could not be saved, in words."""
        try:
            await asyncio.wait_for(self.run(self._final_check), within)
        except TimeoutError:
            where = (
                f": another process holds the lock {self.lock_waited}"
                if self.lock_waited is not None
                else ""
            )
            message = (
                f"The watchlist could not be saved before exit{where}. Not written: the "
                "statuses seen in this run, and any change still waiting to be saved."
            )
            log.error("%s", message)
            return message
        return None
