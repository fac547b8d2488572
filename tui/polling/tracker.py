"""The live state of every watched diff, and the loop that keeps it current.

:class:`Tracker` is the one source of truth for each diff's live state (last answer,
last poll error, next poll time, the actions sent for it). Panels are views of its
:class:`JobView` objects; they never call the network. It runs on plain asyncio
(the TUI runs :meth:`Tracker.run` as a Textual worker) and asks a
:class:`~tui.polling.scheduler.PollScheduler` what to poll and when. It composes its parts:
a :class:`~tui.polling.view_board.ViewBoard` (the views and who hears of changes), an
:class:`~tui.polling.action_sender.ActionSender` (retry, accept, reject, create) and
:class:`~tui.polling.followed_jobs.FollowedJobs` (the jobs decisions started).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import random
from collections.abc import Callable, Iterable
from typing import Final

from tui.api.errors import ApiError, ApiTimeout
from tui.domain.actions import ActionOutcome
from tui.domain.clock import Clock
from tui.domain.jobs import DiffJob
from tui.domain.poll_settings import PollSettings
from tui.domain.watch_entry import LastOutcome, LastStatus, WatchEntry
from tui.polling.action_sender import ActionSender
from tui.polling.followed_jobs import FollowedJobs
from tui.polling.job_view import (
    AcceptOptions,
    ActionNotes,
    ActionRecord,
    FollowedJob,
    FollowKey,
    JobView,
    PollFailure,
    PollKey,
    StatusClient,
    locked_by,
    restored_record,
    saved_unknown,
)
from tui.polling.plan import Action, Plan
from tui.polling.scheduler import PollScheduler
from tui.polling.view_board import ViewBoard
from tui.store.journal import EventKind, JournalEvent

__all__ = [
    "SAVE_INTERVAL",
    "SAVE_SECONDS_PER_DIFF",
    "AcceptOptions",
    "ActionRecord",
    "FollowKey",
    "FollowedJob",
    "JobView",
    "PollFailure",
    "PollKey",
    "StatusClient",
    "Tracker",
    "locked_by",
]

logger = logging.getLogger(__name__)

SAVE_INTERVAL: Final = 10.0
"""Seconds between write-backs of the last known statuses (plus one on close)."""

SAVE_SECONDS_PER_DIFF: Final = 0.005
"""... and at least this many seconds per watched diff: a write-back reads, changes and
rewrites the whole watchlist in a thread that shares the interpreter with the screen,
so a large list saves less often and its keys stay quick. The statuses only paint the next start
before its first answers; the write-back on close still saves them all."""

KEYS_PROBE_MAX: Final = 30.0
"""While the keys are refused (401/403) one status request at most this often (or every
``backoff_max``, if shorter) asks whether they work again: every other poll waits."""

_MAX_WAIT: Final = 5.0
"""The loop wakes at least this often, whatever the scheduler says (belt and braces)."""


def _last_status_key(status: LastStatus | None) -> tuple[object, ...] | None:
    if status is None:
        return None
    return (status.state_id, status.state_name, status.progress, status.eta, status.error)


class Tracker:
    """Polls the watched diffs politely and keeps one :class:`JobView` per diff.

    Callbacks run on the event loop that runs :meth:`run`; an exception in one is
    logged, never fatal.
    """

    def __init__(
        self,
        client: StatusClient,
        entries: Iterable[WatchEntry],
        *,
        clock: Clock,
        settings: PollSettings,
        rng: random.Random | None = None,
        on_change: Callable[[set[int]], None] | None = None,
        on_finished: Callable[[JobView], None] | None = None,
        save_status: Callable[[dict[int, LastStatus]], None] | None = None,
        save_interval: float = SAVE_INTERVAL,
        on_event: Callable[[JournalEvent], None] | None = None,
        on_followed_finished: Callable[[JobView, FollowedJob], None] | None = None,
        save_decision: Callable[[WatchEntry], None] | None = None,
        every: float | None = None,
        notes: ActionNotes | None = None,
        save_outcome: Callable[[int, str, LastOutcome | None], None] | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._settings = settings
        self._scheduler: PollScheduler[PollKey] = PollScheduler(clock, settings, rng, every)
        self._board = ViewBoard(clock, self._scheduler, on_change, on_event, save_outcome)
        self._on_finished = on_finished
        self._save_status = save_status
        self._save_interval = save_interval
        self.views: dict[int, JobView] = self._board.views
        """Every watched diff's view, by diff ID."""
        self._followed = FollowedJobs(
            self._board, self._cancel_poll, save_decision, on_followed_finished
        )
        self._actions = ActionSender(
            client, self._board, self._followed, settings, self._apply_job, notes
        )
        self._tasks: dict[PollKey, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        self._last_save = clock.monotonic()
        self._wake = self._board.wake
        self._closing = False
        self._running = False
        self._stopped = asyncio.Event()
        self.keys_refused: ApiError | None = None
        """The account-wide refusal (401/403) of the last poll, until an answer comes."""
        self._probe_at = -math.inf
        """Monotonic time of the next probe while the keys are refused."""
        self.add(entries)

    # ------------------------------------------------------------------ state
    @property
    def last_answer_at(self) -> float | None:
        """Wall time of the server's last answer, errors included (None: none yet)."""
        return self._board.last_answer_at

    @property
    def scheduler(self) -> PollScheduler[PollKey]:
        """The scheduler (read-only use: estimates, due times)."""
        return self._scheduler

    @property
    def paused(self) -> bool:
        """True while polling is paused by the user."""
        return self._scheduler.paused

    @property
    def poll_state(self) -> str:
        """``"live"``, ``"paused"``, ``"keys refused"`` (401/403: see :attr:`keys_refused`;
        polling is down to a probe), ``"offline"`` (no answer at all from the server:
        requests fail at the network level across diffs, including diffs that were not
        failing, and nothing answers, not even with an error; see
        :attr:`last_answer_at`) or ``"backing off"`` (a global slow-down is on). One
        diff's own fault (a hang, a dropped connection, an error) is shown on its row."""
        if self._scheduler.paused:
            return "paused"
        if self.keys_refused is not None:
            return "keys refused"
        if self._scheduler.outage:
            return "offline"
        if self._scheduler.slowed_down:
            return "backing off"
        return "live"

    def summary(self) -> dict[str, int]:
        """Counts for a status bar.

        ``running``, ``waiting``, ``completed``, ``failed`` and ``unknown`` split the
        views by state; ``erroring`` counts views whose last poll failed (any state).
        Kept up to date from the changes the views announce (see :meth:`ViewBoard.counts`).
        """
        return self._board.counts()

    # ------------------------------------------------------------------ commands
    def pause(self) -> None:
        """Send no status request until :meth:`resume` (answers in flight still land)."""
        self._scheduler.pause()
        self._wake.set()

    def resume(self) -> None:
        """Poll again; what fell due meanwhile is spread out rather than sent at once."""
        self._scheduler.resume()
        self._board.refresh_next_poll(self.views)
        self._wake.set()

    def refresh(self, diffids: Iterable[int]) -> None:
        """Poll these diffs as soon as the caps allow (terminal ones too)."""
        ids = [d for d in diffids if d in self.views]
        self._scheduler.refresh_now([*ids, *self._followed.keys_of(ids)])
        self._board.refresh_next_poll(ids)
        self._wake.set()

    def set_visible(self, diffids: Iterable[int]) -> None:
        """The diffs on screen now: they are polled first."""
        self._scheduler.set_visible(diffids)
        self._wake.set()

    def add(self, entries: Iterable[WatchEntry]) -> None:
        """Watch more diffs (already watched IDs are left as they are)."""
        added: set[int] = set()
        views, schedule = self.views, self._scheduler.add
        for entry in entries:
            diffid, last = entry.diffid, entry.last
            if diffid in views:
                continue
            view = views[diffid] = JobView(entry, keys_refused=self.keys_refused is not None)
            if last is None:
                schedule(diffid)
            else:
                eta, start = last.eta, last.start
                schedule(
                    diffid,
                    last.state,
                    None if eta is None else float(eta),
                    last.progress,
                    None if start is None else float(start),
                )
            added.add(diffid)
            if diffid in self._actions.just_created:
                self._actions.just_created.discard(diffid)
                self._scheduler.follow_closely(diffid)
            if entry.outcome is not None:
                _restore_outcome(view, entry.outcome)
            if entry.decided:
                self._followed.restore_decision(view)
            elif entry.sent:
                self._restore_sent(view)
        if added:
            self._board.refresh_next_poll(added)
            self._board.notify(added)
            self._wake.set()

    def _restore_sent(self, view: JobView) -> None:
        """Show the actions an earlier run (or the command line) sent whose outcome is
        still unknown: an accept or reject is not offered again without the user's say;
        a retry is settled by the next status reads."""
        for sent in view.entry.sent:
            record = saved_unknown(sent)
            if sent.action == "retry":
                if not view.retry_outcome_unknown:  # not already shown from the cache
                    view.retries.append(record)
                    view.retry_outcome_unknown = True
                self._scheduler.mark_retried(view.diffid)
            elif sent.action in ("accept", "reject"):
                view.decision = record

    def remove(self, diffids: Iterable[int]) -> None:
        """Stop watching these diffs; an answer still in flight for one is dropped."""
        removed: set[int] = set()
        for diffid in diffids:
            if self.views.pop(diffid, None) is None:
                continue
            self._scheduler.remove(diffid)
            self._followed.forget(diffid)
            self._dirty.discard(diffid)
            self._actions.forget(diffid)
            self._cancel_poll(diffid)
            removed.add(diffid)
        if removed:
            self._board.notify(removed)
            self._wake.set()

    def relabel(self, diffid: int, label: str) -> None:
        """Change a diff's label in its view (the watchlist file is not touched here)."""
        view = self.views.get(diffid)
        if view is None:
            return
        view.entry = dataclasses.replace(view.entry, label=label)
        self._board.changed(view)

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        """Poll until :meth:`close` (or cancellation); never ends on a failed request."""
        if self._running:
            raise RuntimeError("Tracker.run() is already running")
        self._running = True
        self._stopped.clear()
        try:
            while not self._closing:
                self._wake.clear()
                self._launch_ready()
                self._maybe_save(force=False)
                timeout = self._next_wake()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            await self._stop_tasks()
            self._maybe_save(force=True)
            self._running = False
            self._stopped.set()

    async def close(self) -> None:
        """Stop the loop, cancel the polls in flight, write back the last statuses."""
        self._closing = True
        self._wake.set()
        if self._running:
            await self._stopped.wait()
        else:
            await self._stop_tasks()
            self._maybe_save(force=True)

    def _next_wake(self) -> float:
        wait = self._scheduler.seconds_until_next()
        timeout = _MAX_WAIT if wait is None else min(_MAX_WAIT, wait)
        if self.keys_refused is not None:
            timeout = max(timeout, self._probe_at - self._clock.monotonic())
        if self._dirty and self._save_status is not None:
            save_in = self._last_save + self._save_every() - self._clock.monotonic()
            timeout = min(timeout, save_in)
        # Never spin: a due time "now" that the scheduler cannot honour yet still waits.
        return max(0.005, timeout)

    def _launch_ready(self) -> None:
        if self.keys_refused is not None:
            self._launch_probe()
            return
        while (key := self._scheduler.next_ready()) is not None:
            self._launch(key)

    def _launch(self, key: PollKey) -> None:
        self._scheduler.started(key)
        self._tasks[key] = asyncio.create_task(self._poll(key), name=f"poll {key}")

    def _probe_every(self) -> float:
        return min(KEYS_PROBE_MAX, self._settings.backoff_max)

    def _launch_probe(self) -> None:
        """While the keys are refused: one request at a time, one per probe interval
        (the others would be refused too, and each refusal is a failed login)."""
        now = self._clock.monotonic()
        if self._tasks or now < self._probe_at:
            return
        key = self._scheduler.next_ready()
        if key is not None:
            self._probe_at = now + self._probe_every()
            self._launch(key)

    async def _stop_tasks(self) -> None:
        tasks = dict(self._tasks)
        for task in tasks.values():
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        for key in tasks:
            # A task cancelled before it first ran never reached its own clean-up, and
            # the scheduler would count its diff as in flight for ever (no more polls
            # for it after a restart of the loop). Idempotent for the others.
            self._scheduler.cancelled(key)
        self._tasks.clear()

    async def _poll(self, key: PollKey) -> None:
        started = self._clock.monotonic()
        try:
            # The client has its own timeouts; this guard only keeps a stuck call from
            # holding an in-flight slot for ever.
            async with asyncio.timeout(self._settings.timeout * 2 + 5):
                if isinstance(key, FollowKey):
                    version = await self._client.version_status(key.jobid)
                else:
                    job = await self._client.status(key)
        except asyncio.CancelledError:
            self._scheduler.cancelled(key)
            raise
        except ApiError as exc:
            self._poll_failed(key, exc)
        except TimeoutError:
            self._poll_failed(key, ApiTimeout("the request got no answer"))
        except Exception as exc:
            logger.exception("status poll of %s failed unexpectedly", key)
            self._poll_failed(key, _InternalError(f"internal error: {type(exc).__name__}"))
        else:
            if self.keys_refused is not None:
                self._keys_work_again()
            if isinstance(key, FollowKey):
                self._followed.answered(key, version)
            else:
                self._poll_answered(key, job, started)
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
            self._wake.set()

    def _poll_answered(self, diffid: int, job: DiffJob, started: float) -> None:
        self._board.heard()
        view = self.views.get(diffid)
        if view is None:
            return
        if started < self._actions.retry_sent_at.get(diffid, -math.inf):
            # Asked before a retry was sent: the answer may describe the old run.
            self._scheduler.cancelled(diffid)
            self._board.refresh_next_poll([diffid])
            return
        before = view.state if not view.stale else None
        was_offline = self._scheduler.outage
        delay = self._scheduler.succeeded(diffid, job)
        if was_offline:
            # The first answer after an outage brought every other diff's poll forward.
            self._board.refresh_next_poll([d for d in self.views if d != diffid])
        self._apply_job(view, job)
        view.poll_failure = None
        view.next_poll_at = None if delay is None else self._clock.now() + delay
        if view.retry_outcome_unknown:
            self._actions.settle_unknown(view, job, still_polling=delay is not None)
        self._board.changed(view)
        if before is not None and not before.is_terminal and job.is_terminal:
            self._finished(view)

    def _apply_job(self, view: JobView, job: DiffJob) -> None:
        # The saved state counts: a change while the app was closed is a change too.
        before = view.state_name or None
        view.job = job
        if job.info is not None and job.info.imageid is not None:
            # Later polls come without diff_info: keep what this one said.
            view.imageid = job.info.imageid
        view.stale = False
        view.updated_at = self._clock.now()
        saved = LastStatus.from_job(job, view.updated_at)
        if _last_status_key(saved) != _last_status_key(view.entry.last):
            self._dirty.add(view.diffid)
        if before is not None and before != job.display_state:
            self._board.journal(
                view,
                kind=EventKind.STATE,
                old=before,
                new=job.display_state,
                job_time=job.updated,
                # Why it failed, for whoever is told of it (a notification, the hook).
                reason=job.error if job.failed and job.error else None,
            )

    def _keys_refused(self, exc: ApiError, delay: float) -> None:
        """The keys were refused: every diff's state is unknown until they work again."""
        first = self.keys_refused is None
        self.keys_refused = exc
        self._probe_at = self._clock.monotonic() + self._probe_every()
        if not first:
            return
        now = self._clock.now()
        for view in self.views.values():
            view.keys_refused = True
            view.poll_failure = PollFailure.of(exc, delay, view.entry.asid)
            view.next_poll_at = now + delay
            view.version += 1
        self._board.notify(set(self.views))

    def _keys_work_again(self) -> None:
        """An answer came while the keys were refused: every diff is read again now."""
        self.keys_refused = None
        self._probe_at = -math.inf
        for view in self.views.values():
            view.keys_refused = False
            if view.poll_failure is not None and view.poll_failure.error.account_wide:
                view.poll_failure = None
            view.version += 1
        self._board.notify(set(self.views))
        self.refresh(self.views)

    def _poll_failed(self, key: PollKey, exc: ApiError) -> None:
        if exc.answered:
            self._board.heard()
        was_offline = self._scheduler.outage
        delay = self._scheduler.failed(key, exc)
        if exc.account_wide:
            self._keys_refused(exc, delay)
        logger.info("status poll of %s failed (%s): %s", key, exc.kind, exc)
        if self._scheduler.global_wait > 0 or (was_offline and not self._scheduler.outage):
            # A global slow-down, or the end of an outage, moved every diff's next poll.
            self._board.refresh_next_poll([d for d in self.views if d != key])
        if isinstance(key, FollowKey):
            self._followed.failed(key, exc, delay)
            return
        view = self.views.get(key)
        if view is None:
            return
        view.poll_failure = PollFailure.of(exc, delay, view.entry.asid)
        view.next_poll_at = self._clock.now() + delay
        self._board.changed(view)

    def _cancel_poll(self, key: PollKey) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    # ------------------------------------------------------------------ actions
    async def retry(self, diffids: Iterable[int]) -> dict[int, ActionRecord]:
        """Retry the diffs that :data:`~tui.polling.plan.RETRY`'s plan sends, each once (see
        :meth:`ActionSender.retry`); returns the record of each retry sent, by diff ID."""
        return await self._actions.retry(diffids)

    async def accept(
        self, diffids: Iterable[int], options: AcceptOptions, *, again: bool = False
    ) -> dict[int, ActionRecord]:
        """Accept the diffs that :data:`~tui.polling.plan.ACCEPT`'s plan sends, each once, and
        follow the version jobs they start (see :meth:`ActionSender.accept`); ``again``:
        also those whose earlier accept has an unknown outcome (the user chose so)."""
        return await self._actions.accept(diffids, options, again=again)

    async def reject(
        self, diffids: Iterable[int], reinstall: bool, *, again: bool = False
    ) -> dict[int, ActionRecord]:
        """Reject the diffs that :data:`~tui.polling.plan.REJECT`'s plan sends, each once (see
        :meth:`ActionSender.reject`); ``again`` as for :meth:`accept`."""
        return await self._actions.reject(diffids, reinstall, again=again)

    def plan(self, action: Action, diffids: Iterable[int], *, again: bool = False) -> Plan:
        """What ``action`` on the watched diffs among ``diffids`` would send and skip
        (``again``: see :meth:`ActionSender.plan`)."""
        return self._actions.plan(action, diffids, again=again)

    async def create(self, imageid: int, machineid: int) -> DiffJob:
        """Start a new diff, sent once (see :meth:`ActionSender.create`); errors propagate."""
        return await self._actions.create(imageid, machineid)

    # ------------------------------------------------------------------ details
    async def fetch_details(self, diffid: int) -> DiffJob:
        """The diff's status with ``diff_info`` (for the detail screen); errors propagate."""
        await self._actions.wait_for_slot()
        job = await self._client.status(diffid, diff_info=True)
        self._board.heard()
        view = self.views.get(diffid)
        if view is not None and job.diffid == diffid:
            self._apply_job(view, job)
            self._board.changed(view)
        return job

    def _finished(self, view: JobView) -> None:
        if self._on_finished is None:
            return
        try:
            self._on_finished(view)
        except Exception:
            logger.exception("on_finished callback failed")

    def _save_every(self) -> float:
        """Seconds between write-backs for a watchlist of this size."""
        return max(self._save_interval, len(self.views) * SAVE_SECONDS_PER_DIFF)

    def _maybe_save(self, *, force: bool) -> None:
        if not self._dirty:
            return
        now = self._clock.monotonic()
        if not force and now - self._last_save < self._save_every():
            return
        payload: dict[int, LastStatus] = {}
        for diffid in self._dirty:
            view = self.views.get(diffid)
            if view is None or view.job is None or view.updated_at is None:
                continue
            status = LastStatus.from_job(view.job, view.updated_at)
            payload[diffid] = status
            view.entry = dataclasses.replace(view.entry, last=status)
        self._dirty.clear()
        self._last_save = now
        if not payload or self._save_status is None:
            return
        try:
            self._save_status(payload)
        except Exception:
            logger.exception("saving the last statuses failed")


def _restore_outcome(view: JobView, saved: LastOutcome) -> None:
    """Show the last action's outcome kept from an earlier run, as it was shown then,
    until something newer replaces it (an unknown retry: the status that settles it)."""
    record = restored_record(saved)
    if saved.action == "retry":
        view.retries.append(record)
        view.retry_outcome_unknown = saved.outcome is ActionOutcome.UNKNOWN
    elif saved.action in ("accept", "reject"):
        view.decision = record


class _InternalError(ApiError):
    """A poll that failed without an API error (a bug): shown, retried."""

    kind = "internal"
