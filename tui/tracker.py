"""The live state of every watched diff, and the loop that keeps it current.

:class:`Tracker` is the one source of truth for each diff's live state (last answer,
last poll error, next poll time, retry history). Panels are views of its
:class:`JobView` objects; they never call the network. It runs on plain asyncio
(the TUI runs :meth:`Tracker.run` as a Textual worker) and asks a
:class:`~tui.scheduler.PollScheduler` what to poll and when.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import random
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, TypeAlias, TypeVar

from tui.api import (
    ApiError,
    ApiTimeout,
    BadRequest,
)
from tui.clock import Clock
from tui.formatting import describe_poll_error, next_try_text, poll_error_parts
from tui.journal import JournalEvent, new_ref
from tui.models import (
    Accepted,
    DiffJob,
    JobState,
    LastStatus,
    Rejected,
    UninstallJob,
    VersionJob,
    WatchEntry,
)
from tui.plan import (
    ACCEPT,
    REJECT,
    RETRY,
    Action,
    Candidate,
    Plan,
    decision_words,
    make_plan,
)
from tui.poll_settings import PollSettings
from tui.safetext import plain
from tui.scheduler import PollScheduler

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

SAVE_INTERVAL: Final = 10.0
"""Seconds between write-backs of the last known statuses (plus one on close)."""

_MAX_WAIT: Final = 5.0
"""The loop wakes at least this often, whatever the scheduler says (belt and braces)."""

RETRY_OUTCOMES: Final = ("sent", "accepted", "rejected", "unknown", "failed")

_JOURNAL_OUTCOMES: Final = {
    "sent": "sent",
    "accepted": "accepted",
    "rejected": "refused",
    "failed": "not done",
    "unknown": "unknown",
}
"""A retry's outcome in the journal's words (see :data:`tui.journal.ACTION_OUTCOMES`)."""


class StatusClient(Protocol):
    """What the tracker needs of :class:`tui.api.ClanforgeClient`."""

    async def status(self, diffid: int, diff_info: bool = False) -> DiffJob:
        """The diff's current state."""
        ...

    async def retry(self, diffid: int) -> DiffJob:
        """Recalculate a terminal diff (state-changing: sent once)."""
        ...

    async def accept(
        self,
        diffid: int,
        restart: bool,
        full: bool = False,
        game_build: str | None = None,
        force: bool = False,
    ) -> VersionJob:
        """Create an image version from a Completed diff (state-changing: sent once)."""
        ...

    async def reject(self, diffid: int, reinstall: bool) -> UninstallJob | None:
        """Reject a terminal diff (state-changing: sent once)."""
        ...

    async def version_status(self, imageversionid: int) -> VersionJob:
        """An image-version job's current state."""
        ...

    async def create(self, imageid: int, machineid: int, diffid: int | None = None) -> DiffJob:
        """Start a new diff of ``machineid`` against ``imageid`` (state-changing: sent once)."""
        ...


_LOCKED_BY: Final = re.compile(r"\bimage locked by diffid\s+#?(\d{1,19})\b", re.IGNORECASE)


def locked_by(text: str | None) -> int | None:
    """The diff named by an "Image locked by diffid N" message, else None.

    >>> locked_by("Image locked by diffid 4113")
    4113
    >>> locked_by("checksum mismatch") is None
    True
    """
    if not text:
        return None
    match = _LOCKED_BY.search(text)
    if match is None:
        return None
    diffid = int(match.group(1))
    return diffid if 0 < diffid < 2**63 else None


@dataclass(frozen=True, slots=True)
class FollowKey:
    """Names a job that an action on a diff started, for the scheduler: never equal to
    a diff ID (the diffs' keys), so both kinds share one scheduler and one cap."""

    kind: Literal["version"]
    jobid: int


PollKey: TypeAlias = int | FollowKey
"""What the tracker's scheduler polls: a diff (by ID) or a job followed for a diff."""


@dataclass(frozen=True, slots=True)
class AcceptOptions:
    """How to create an image version from a diff (API.md, Accept); ``restart`` has no
    default, by design: the operator chooses it."""

    restart: bool
    full: bool = False
    game_build: str | None = None
    force: bool = False

    def words(self) -> str:
        """The options as the journal and the detail screen say them."""
        parts = [f"restart={int(self.restart)}"]
        if self.full:
            parts.append("full image")
        if self.force:
            parts.append("force")
        if self.game_build:
            parts.append(f"game build {plain(self.game_build, limit=60)!r}")
        return ", ".join(parts)


@dataclass
class RetryRecord:
    """One action this app sent (or learned about): a retry (newest last in
    ``JobView.retries``), or the diff's accept or reject (``JobView.decision``)."""

    at: float
    """Wall time the retry was sent."""
    outcome: str
    """``"sent"`` (no answer yet), ``"accepted"``, ``"rejected"``, ``"unknown"``, ``"failed"``."""
    message: str
    """Human words, safe to show as plain text."""
    by: str = "this app"
    reason: str | None = None
    """The words behind the outcome alone (the server's reason when it gave one)."""
    ref: str = field(default_factory=new_ref)
    """Ties this retry's journal events together (its sending, its outcome)."""
    action: str = "retry"
    """``"retry"``, ``"accept"`` or ``"reject"``."""
    options: str = ""
    """What was asked with it, in words (``"restart=1, force"``); "" for a retry."""


@dataclass
class FollowedJob:
    """A job an accept or reject of a diff started, shown on the diff's panel.

    An image-version job is polled (by the diffs' scheduler) until it ends; an uninstall
    job is shown as the reject's answer described it, since the API has no status call
    for it.
    """

    kind: Literal["version", "uninstall"]
    jobid: int
    job: VersionJob | UninstallJob
    """The last answer about it."""
    poll_failure: PollFailure | None = None
    """The last failed poll, None once one succeeds."""
    next_poll_at: float | None = None
    """Wall time of its next poll; None when none is planned."""

    @property
    def followed(self) -> bool:
        """True when its status can be read (an image-version job)."""
        return self.kind == "version"

    @property
    def title(self) -> str:
        """``image version 7001`` or ``uninstall job 88``."""
        return (
            f"image version {self.jobid}"
            if self.kind == "version"
            else (f"uninstall job {self.jobid}")
        )


@dataclass
class JobView:
    """Everything the UI shows about one diff; the tracker changes it, the UI reads it."""

    entry: WatchEntry
    job: DiffJob | None = None
    """The last good answer this session."""
    stale: bool = True
    """True until the first answer this session (paint from ``entry.last`` meanwhile)."""
    updated_at: float | None = None
    """Wall time of the last good answer."""
    poll_failure: PollFailure | None = None
    """The last failed poll, None once a poll succeeds."""
    next_poll_at: float | None = None
    """Wall time of the next poll; None when none is planned (confirmed terminal)."""
    retry_in_flight: bool = False
    outcome_unknown: bool = False
    """A retry may or may not have happened; status polls are settling it."""
    retries: list[RetryRecord] = field(default_factory=list)
    decision: RetryRecord | None = None
    """The accept or reject this app sent for the diff (one per diff, by the API)."""
    decision_in_flight: bool = False
    followed: FollowedJob | None = None
    """The image-version (or uninstall) job the decision started."""
    version: int = 0
    """Bumped on every change, so the UI redraws only the rows that changed."""

    @property
    def diffid(self) -> int:
        """The diff's ID."""
        return self.entry.diffid

    @property
    def poll_error(self) -> str | None:
        """Human words for the last failed poll (plain text), None once a poll succeeds."""
        return self.poll_failure.words if self.poll_failure is not None else None

    def poll_error_text(self, now: float) -> str | None:
        """``poll_error`` with the time to the next try counted from ``now``.

        ``poll_error`` itself gives the wait as it was when the poll failed, which a
        screen would show unchanged for the whole backoff.
        """
        failure, due = self.poll_failure, self.next_poll_at
        if failure is None or failure.verb is None or due is None:
            return self.poll_error
        return next_try_text(failure.head, failure.verb, due - now)

    @property
    def label(self) -> str:
        """The user's label for the diff ("" when none)."""
        return self.entry.label

    def _live_or_saved(
        self, live: Callable[[DiffJob], _T], saved: Callable[[LastStatus], _T]
    ) -> _T | None:
        """The live job's value this session, else the saved status's, else None."""
        if self.job is not None:
            return live(self.job)
        return saved(self.entry.last) if self.entry.last is not None else None

    @property
    def state(self) -> JobState | None:
        """The live state, else the saved one, else None."""
        return self._live_or_saved(lambda job: job.known_state, lambda last: last.state)

    @property
    def state_name(self) -> str:
        """The state's name for display ("" when nothing is known)."""
        name = self._live_or_saved(
            lambda job: job.display_state,
            lambda last: last.state.label if last.state is not None else last.state_name,
        )
        return name or ""

    @property
    def progress(self) -> int | None:
        """Percent done, live or saved."""
        return self._live_or_saved(lambda job: job.progress, lambda last: last.progress)

    @property
    def eta(self) -> int | None:
        """The API's Unix ETA, live or saved."""
        return self._live_or_saved(lambda job: job.eta, lambda last: last.eta)

    @property
    def error(self) -> str | None:
        """The job's own error (``joberror``) as safe plain text, live or saved."""
        raw = self._live_or_saved(lambda job: job.error, lambda last: last.error)
        return plain(raw) if raw else None

    @property
    def locked_by(self) -> int | None:
        """The diff that holds this diff's image locked, when the diff failed with
        "Image locked by diffid N" or its last retry was refused with it; else None."""
        state = self.state
        last = self.retries[-1] if self.retries else None
        if last is not None and last.outcome == "rejected" and (state is None or state.is_terminal):
            holder = locked_by(last.reason)
            if holder is not None:
                return holder
        if state is JobState.FAILED:
            raw = self._live_or_saved(lambda job: job.error, lambda saved: saved.error)
            return locked_by(raw)
        return None

    @property
    def start(self) -> int | None:
        """Unix time the job started, live or saved."""
        return self._live_or_saved(lambda job: job.start, lambda last: last.start)

    @property
    def finished_at(self) -> int | None:
        """Unix time a terminal job last changed (its finish), else None."""
        if self.job is not None and self.job.is_terminal:
            return self.job.updated
        return None

    @property
    def seen_at(self) -> float | None:
        """Wall time of the last answer, this session or a saved one."""
        if self.updated_at is not None:
            return self.updated_at
        return self.entry.last.seen_at if self.entry.last is not None else None


@dataclass(frozen=True, slots=True)
class PollFailure:
    """The last failed status poll of a diff, and its words (plain text)."""

    error: ApiError
    head: str
    """What went wrong, without the time to the next try."""
    verb: str | None
    """How the next try is announced (``"retrying in"``), None when it is not."""
    words: str
    """``head`` with the time to the next try as it was when the poll failed."""

    @classmethod
    def of(cls, error: ApiError, delay: float, asid: int | None) -> PollFailure:
        """The failure of a poll that is tried again in ``delay`` seconds."""
        head, verb = poll_error_parts(error, asid)
        return cls(error, head, verb, describe_poll_error(error, delay, asid))


_PAST: Final = {"accept": "accepted", "reject": "rejected"}


def _candidate(view: JobView, action: Action) -> Candidate:
    decision = view.decision
    decided = decision_words(view.entry)
    if not decided and decision is not None and decision.outcome in ("accepted", "unknown"):
        # Sent this session and not (or not yet) in the entry: an unknown outcome too,
        # since it may have happened and is never sent again automatically.
        decided = _PAST[decision.action]
        if decision.outcome == "unknown":
            decided += " (outcome unknown: check it before sending again)"
    busy = view.decision_in_flight if action.once else view.retry_in_flight
    return Candidate(
        view.diffid,
        view.state,
        view.state_name,
        saved_only=view.stale,
        busy=busy,
        decided=decided,
    )


def _saved_record(action: str, at: float, options: str) -> RetryRecord:
    past = _PAST[action]
    return RetryRecord(
        at=at, outcome="accepted", message=past, by="saved", reason=past, action=action,
        options=options,
    )  # fmt: skip


def _saved_fields(last: LastStatus | None) -> dict[str, Any]:
    """A job's fields as the watchlist saved them (nothing known: state None)."""
    if last is None:
        return {"state": None, "state_name": "", "progress": 0, "created": 0, "updated": 0,
                "failed": False}  # fmt: skip
    state = last.state
    return {
        "state": state,
        "state_name": last.state_name,
        "progress": last.progress,
        "created": 0,
        "updated": 0,
        "failed": state is JobState.FAILED,
        "start": last.start,
        "eta": last.eta,
        "error": last.error,
    }


def _saved_version(imageversionid: int, last: LastStatus | None) -> VersionJob:
    return VersionJob(imageversionid=imageversionid, **_saved_fields(last))


def _saved_uninstall(uninstalljobid: int, last: LastStatus) -> UninstallJob:
    return UninstallJob(uninstalljobid=uninstalljobid, **_saved_fields(last))


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
    ) -> None:
        self._client = client
        self._clock = clock
        self._settings = settings
        self._scheduler: PollScheduler[PollKey] = PollScheduler(clock, settings, rng)
        self._on_change = on_change
        self._on_finished = on_finished
        self._save_status = save_status
        self._save_interval = save_interval
        self._on_event = on_event
        self._on_followed_finished = on_followed_finished
        self._save_decision = save_decision
        self.views: dict[int, JobView] = {}
        """Every watched diff's view, by diff ID."""
        self._followed: dict[FollowKey, int] = {}
        """The diff each followed job was started from."""
        self._tasks: dict[PollKey, asyncio.Task[None]] = {}
        self._retry_sent_at: dict[int, float] = {}
        """Monotonic time of the last retry per diff: older poll answers are dropped."""
        self._dirty: set[int] = set()
        self._last_save = clock.monotonic()
        self._wake = asyncio.Event()
        self._closing = False
        self._running = False
        self._stopped = asyncio.Event()
        self.last_answer_at: float | None = None
        """Wall time of the last successful answer from the server (None: none yet)."""
        self.add(entries)

    # ------------------------------------------------------------------ state
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
        """``"live"``, ``"paused"``, ``"offline"`` (requests fail at the network level
        across diffs and none succeeds: see :attr:`last_answer_at`) or ``"backing off"``
        (a global slow-down is on)."""
        if self._scheduler.paused:
            return "paused"
        if self._scheduler.outage:
            return "offline"
        if self._scheduler.slowed_down:
            return "backing off"
        return "live"

    def summary(self) -> dict[str, int]:
        """Counts for a status bar.

        ``running``, ``waiting``, ``completed``, ``failed`` and ``unknown`` split the
        views by state; ``erroring`` counts views whose last poll failed (any state).
        """
        counts = dict.fromkeys(
            ("running", "waiting", "completed", "failed", "erroring", "unknown"), 0
        )
        for view in self.views.values():
            state = view.state
            if state is None:
                counts["unknown"] += 1
            elif state is JobState.RUNNING:
                counts["running"] += 1
            elif state.is_waiting:
                counts["waiting"] += 1
            elif state is JobState.COMPLETED:
                counts["completed"] += 1
            else:
                counts["failed"] += 1
            if view.poll_error is not None:
                counts["erroring"] += 1
        return counts

    # ------------------------------------------------------------------ commands
    def pause(self) -> None:
        """Send no status request until :meth:`resume` (answers in flight still land)."""
        self._scheduler.pause()
        self._wake.set()

    def resume(self) -> None:
        """Poll again; what fell due meanwhile is spread out rather than sent at once."""
        self._scheduler.resume()
        self._refresh_next_poll(self.views)
        self._wake.set()

    def refresh(self, diffids: Iterable[int]) -> None:
        """Poll these diffs as soon as the caps allow (terminal ones too)."""
        ids = [d for d in diffids if d in self.views]
        self._scheduler.refresh_now([*ids, *(k for k, d in self._followed.items() if d in ids)])
        self._refresh_next_poll(ids)
        self._wake.set()

    def set_visible(self, diffids: Iterable[int]) -> None:
        """The diffs on screen now: they are polled first."""
        self._scheduler.set_visible(diffids)
        self._wake.set()

    def add(self, entries: Iterable[WatchEntry]) -> None:
        """Watch more diffs (already watched IDs are left as they are)."""
        added: set[int] = set()
        for entry in entries:
            if entry.diffid in self.views:
                continue
            self.views[entry.diffid] = JobView(entry=entry)
            last = entry.last
            self._scheduler.add(
                entry.diffid,
                last.state if last is not None else None,
                float(last.eta) if last is not None and last.eta is not None else None,
                last.progress if last is not None else 0,
                float(last.start) if last is not None and last.start is not None else None,
            )
            added.add(entry.diffid)
            self._restore_decision(self.views[entry.diffid])
        if added:
            self._refresh_next_poll(added)
            self._notify(added)
            self._wake.set()

    def remove(self, diffids: Iterable[int]) -> None:
        """Stop watching these diffs; an answer still in flight for one is dropped."""
        removed: set[int] = set()
        for diffid in diffids:
            if self.views.pop(diffid, None) is None:
                continue
            self._scheduler.remove(diffid)
            for key in [k for k, d in self._followed.items() if d == diffid]:
                self._unfollow(key)
            self._dirty.discard(diffid)
            self._retry_sent_at.pop(diffid, None)
            task = self._tasks.pop(diffid, None)
            if task is not None:
                task.cancel()
            removed.add(diffid)
        if removed:
            self._notify(removed)
            self._wake.set()

    def relabel(self, diffid: int, label: str) -> None:
        """Change a diff's label in its view (the watchlist file is not touched here)."""
        view = self.views.get(diffid)
        if view is None:
            return
        view.entry = dataclasses.replace(view.entry, label=label)
        self._changed(view)

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
        if self._dirty and self._save_status is not None:
            save_in = self._last_save + self._save_interval - self._clock.monotonic()
            timeout = min(timeout, save_in)
        # Never spin: a due time "now" that the scheduler cannot honour yet still waits.
        return max(0.005, timeout)

    def _launch_ready(self) -> None:
        while (key := self._scheduler.next_ready()) is not None:
            self._scheduler.started(key)
            self._tasks[key] = asyncio.create_task(self._poll(key), name=f"poll {key}")

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
            if isinstance(key, FollowKey):
                self._followed_answered(key, version)
            else:
                self._poll_answered(key, job, started)
        finally:
            if self._tasks.get(key) is asyncio.current_task():
                del self._tasks[key]
            self._wake.set()

    def _poll_answered(self, diffid: int, job: DiffJob, started: float) -> None:
        self.last_answer_at = self._clock.now()
        view = self.views.get(diffid)
        if view is None:
            return
        if started < self._retry_sent_at.get(diffid, -math.inf):
            # Asked before a retry was sent: the answer may describe the old run.
            self._scheduler.cancelled(diffid)
            self._refresh_next_poll([diffid])
            return
        before = view.state if not view.stale else None
        was_offline = self._scheduler.outage
        delay = self._scheduler.succeeded(diffid, job)
        if was_offline:
            # The first answer after an outage brought every other diff's poll forward.
            self._refresh_next_poll([d for d in self.views if d != diffid])
        self._apply_job(view, job)
        view.poll_failure = None
        view.next_poll_at = None if delay is None else self._clock.now() + delay
        if view.outcome_unknown:
            self._settle_unknown(view, job, still_polling=delay is not None)
        self._changed(view)
        if before is not None and not before.is_terminal and job.is_terminal:
            self._finished(view)

    def _apply_job(self, view: JobView, job: DiffJob) -> None:
        # The saved state counts: a change while the app was closed is a change too.
        before = view.state_name or None
        view.job = job
        view.stale = False
        view.updated_at = self._clock.now()
        saved = LastStatus.from_job(job, view.updated_at)
        if _last_status_key(saved) != _last_status_key(view.entry.last):
            self._dirty.add(view.diffid)
        if before is not None and before != job.display_state:
            self._journal(
                view, kind="state", old=before, new=job.display_state, job_time=job.updated
            )

    def _settle_unknown(self, view: JobView, job: DiffJob, *, still_polling: bool) -> None:
        record = next((r for r in reversed(view.retries) if r.outcome == "unknown"), None)
        if not job.is_terminal:
            view.outcome_unknown = False
            if record is not None:
                record.outcome = "accepted"
                record.message = f"the retry went through (status now {job.display_state})"
                record.reason = f"status now {job.display_state}"
                self._journal_action(view, record)
        elif not still_polling:
            view.outcome_unknown = False
            if record is not None:
                record.outcome = "failed"
                record.message = (
                    f"the retry did not take effect (status still {job.display_state}); "
                    "retry again if needed"
                )
                record.reason = f"status still {job.display_state}"
                self._journal_action(view, record)

    def _poll_failed(self, key: PollKey, exc: ApiError) -> None:
        delay = self._scheduler.failed(key, exc)
        logger.info("status poll of %s failed (%s): %s", key, exc.kind, exc)
        if self._scheduler.global_wait > 0:
            # A global slow-down moved every diff's next poll.
            self._refresh_next_poll([d for d in self.views if d != key])
        if isinstance(key, FollowKey):
            view = self.views.get(self._followed.get(key, 0))
            followed = view.followed if view is not None else None
            if view is None or followed is None or followed.jobid != key.jobid:
                return
            followed.poll_failure = PollFailure.of(exc, delay, view.entry.asid)
            followed.next_poll_at = self._clock.now() + delay
            self._changed(view)
            return
        view = self.views.get(key)
        if view is None:
            return
        view.poll_failure = PollFailure.of(exc, delay, view.entry.asid)
        view.next_poll_at = self._clock.now() + delay
        self._changed(view)

    # ------------------------------------------------------------------ followed jobs
    def _follow(self, view: JobView, followed: FollowedJob) -> None:
        """Show ``followed`` on ``view``'s panel; poll it until it ends when it can be."""
        view.followed = followed
        if followed.kind != "version" or followed.job.is_terminal:
            return
        key = FollowKey("version", followed.jobid)
        self._followed[key] = view.diffid
        job = followed.job
        self._scheduler.add(
            key,
            job.state,
            float(job.eta) if job.eta is not None else None,
            job.progress,
            float(job.start) if job.start is not None else None,
        )
        self._refresh_next_poll([view.diffid])
        self._wake.set()

    def _restore_decision(self, view: JobView) -> None:
        """Show a decision saved in the watchlist; follow its version job if not ended."""
        accepted, rejected = view.entry.accepted, view.entry.rejected
        if accepted is not None:
            options = AcceptOptions(
                accepted.restart, accepted.full, accepted.game_build, accepted.force
            )
            view.decision = _saved_record("accept", accepted.at, options.words())
            job = _saved_version(accepted.imageversionid, accepted.last)
            self._follow(view, FollowedJob("version", accepted.imageversionid, job))
        elif rejected is not None:
            words = f"reinstall={int(rejected.reinstall)}"
            view.decision = _saved_record("reject", rejected.at, words)
            if rejected.uninstalljobid is not None and rejected.last is not None:
                uninstall = _saved_uninstall(rejected.uninstalljobid, rejected.last)
                view.followed = FollowedJob("uninstall", rejected.uninstalljobid, uninstall)

    def _record_decision(self, view: JobView, entry: WatchEntry) -> None:
        """Keep ``entry``'s decision on the view and hand it to the watchlist."""
        view.entry = entry
        if self._save_decision is None:
            return
        try:
            self._save_decision(entry)
        except Exception:
            logger.exception("saving a decision failed")

    def _unfollow(self, key: FollowKey) -> None:
        self._followed.pop(key, None)
        self._scheduler.remove(key)
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def _followed_answered(self, key: FollowKey, job: VersionJob) -> None:
        self.last_answer_at = self._clock.now()
        was_offline = self._scheduler.outage
        delay = self._scheduler.succeeded(key, job)
        if was_offline:
            self._refresh_next_poll(self.views)
        view = self.views.get(self._followed.get(key, 0))
        followed = view.followed if view is not None else None
        if view is None or followed is None or followed.jobid != key.jobid:
            self._unfollow(key)
            return
        before = followed.job
        followed.job = job
        followed.poll_failure = None
        followed.next_poll_at = None if delay is None else self._clock.now() + delay
        if before.display_state != job.display_state:
            self._journal(
                view,
                kind="state",
                old=f"{followed.title}: {before.display_state}",
                new=f"{followed.title}: {job.display_state}",
                job_time=job.updated,
            )
        if delay is None:
            self._unfollow(key)
        accepted = view.entry.accepted
        if job.is_terminal and accepted is not None and accepted.imageversionid == key.jobid:
            last = LastStatus.from_job(job, self._clock.now())
            entry = dataclasses.replace(
                view.entry, accepted=dataclasses.replace(accepted, last=last)
            )
            self._record_decision(view, entry)
        self._changed(view)
        if not before.is_terminal and job.is_terminal and self._on_followed_finished is not None:
            try:
                self._on_followed_finished(view, followed)
            except Exception:
                logger.exception("on_followed_finished callback failed")

    # ------------------------------------------------------------------ retry
    async def retry(self, diffids: Iterable[int]) -> dict[int, RetryRecord]:
        """Retry the given diffs that :data:`~tui.plan.RETRY`'s plan sends (decided
        again now: a diff may have changed since a dialog showed the plan), each sent
        exactly once and never repeated automatically.

        Returns the record of each retry sent, by diff ID; other IDs are left out.
        """
        chosen = [self.views[diffid] for diffid in self.plan(RETRY, diffids).send]
        records: dict[int, RetryRecord] = {}
        for view in chosen:
            record = RetryRecord(at=self._clock.now(), outcome="sent", message="retry sent")
            view.retries.append(record)
            view.retry_in_flight = True
            view.outcome_unknown = False
            records[view.diffid] = record
            self._changed(view)
        limit = asyncio.Semaphore(self._settings.max_in_flight)
        await asyncio.gather(
            *(self._retry_one(view, records[view.diffid], limit) for view in chosen)
        )
        return records

    def plan(self, action: Action, diffids: Iterable[int]) -> Plan:
        """What ``action`` on the watched diffs among ``diffids`` would send and skip."""
        views = (self.views[diffid] for diffid in diffids if diffid in self.views)
        return make_plan(action, (_candidate(view, action) for view in views))

    async def _wait_for_slot(self) -> None:
        # The cap frees up with time, not with an event: sleeping until then is right.
        while not self._scheduler.take_slot():  # noqa: ASYNC110
            await asyncio.sleep(max(0.01, self._scheduler.seconds_until_slot()))

    async def _retry_one(
        self, view: JobView, record: RetryRecord, limit: asyncio.Semaphore
    ) -> None:
        diffid = view.diffid

        async def send() -> DiffJob:
            self._retry_sent_at[diffid] = self._clock.monotonic()
            return await self._client.retry(diffid)

        def answered(job: DiffJob) -> None:
            record.outcome = "accepted"
            record.message = f"retry accepted: {job.display_state}"
            record.reason = f"now {job.display_state}"
            if job.diffid == diffid and diffid in self.views:
                self._apply_job(view, job)
            self._scheduler.mark_retried(diffid, job)

        def unknown(message: str) -> None:
            self._retry_unknown(view, record, message)

        try:
            await self._send_once(view, record, limit, send, answered, unknown)
        finally:
            view.retry_in_flight = False
            if diffid in self.views:
                self._refresh_next_poll([diffid])
                self._changed(view)
            self._wake.set()

    async def _send_once(
        self,
        view: JobView,
        record: RetryRecord,
        limit: asyncio.Semaphore,
        send: Callable[[], Awaitable[_T]],
        answered: Callable[[_T], None],
        unknown: Callable[[str], None],
    ) -> None:
        """Send one state-changing request, once, under the cap; sort its outcome into
        ``record`` (an answer, a refusal, or unknown: never sent again) and journal it."""
        diffid = view.diffid
        try:
            async with limit:
                await self._wait_for_slot()
                record.at = self._clock.now()
                self._journal_action(view, record)
                try:
                    answer = await send()
                except asyncio.CancelledError:
                    unknown("cancelled before the answer arrived")
                    raise
                except BadRequest as exc:
                    record.outcome = "rejected"
                    # "retry rejected" as the panels always said; "accept refused".
                    said = "rejected" if record.action == "retry" else "refused"
                    record.message = f"{said}: {plain(str(exc))}"
                    record.reason = str(exc)
                except ApiError as exc:
                    if exc.may_have_acted:
                        unknown(plain(str(exc)))
                    else:
                        self._action_refused(diffid, record, exc)
                except Exception as exc:
                    logger.exception("%s of diff %d failed unexpectedly", record.action, diffid)
                    unknown(f"internal error: {type(exc).__name__}")
                else:
                    self.last_answer_at = self._clock.now()
                    answered(answer)
        finally:
            if record.outcome != "sent":
                self._journal_action(view, record)

    # ------------------------------------------------------------------ accept, reject
    async def accept(
        self, diffids: Iterable[int], options: AcceptOptions
    ) -> dict[int, RetryRecord]:
        """Accept (create an image version from) the diffs that :data:`~tui.plan.ACCEPT`'s
        plan sends, decided again now; each sent exactly once, never repeated. Each
        version job it starts is then followed on its diff's panel until it ends."""

        def send(view: JobView) -> Awaitable[VersionJob]:
            return self._client.accept(
                view.diffid, options.restart, options.full, options.game_build, options.force
            )

        def answered(view: JobView, record: RetryRecord, job: VersionJob) -> None:
            followed = FollowedJob("version", job.imageversionid, job)
            record.outcome = "accepted"
            record.message = f"accepted: {followed.title} {job.display_state}"
            record.reason = f"{followed.title} {job.display_state}"
            now = self._clock.now()
            accepted = Accepted(
                job.imageversionid,
                options.restart,
                full=options.full,
                force=options.force,
                game_build=options.game_build,
                at=now,
                last=LastStatus.from_job(job, now),
            )
            self._record_decision(view, dataclasses.replace(view.entry, accepted=accepted))
            self._follow(view, followed)

        return await self._decide(ACCEPT, diffids, options.words(), send, answered)

    async def reject(self, diffids: Iterable[int], reinstall: bool) -> dict[int, RetryRecord]:
        """Reject the diffs that :data:`~tui.plan.REJECT`'s plan sends, decided again now;
        each sent exactly once, never repeated. With ``reinstall`` the answer is an
        uninstall job, shown on the diff's panel as the answer described it."""

        def send(view: JobView) -> Awaitable[UninstallJob | None]:
            return self._client.reject(view.diffid, reinstall)

        def answered(view: JobView, record: RetryRecord, job: UninstallJob | None) -> None:
            record.outcome = "accepted"
            record.message = "rejected: the image is unlocked"
            record.reason = "rejected"
            now = self._clock.now()
            rejected = Rejected(
                reinstall,
                job.uninstalljobid if job is not None else None,
                at=now,
                last=LastStatus.from_job(job, now) if job is not None else None,
            )
            self._record_decision(view, dataclasses.replace(view.entry, rejected=rejected))
            if job is not None:
                followed = FollowedJob("uninstall", job.uninstalljobid, job)
                record.message += f"; {followed.title} {job.display_state}"
                record.reason += f"; {followed.title} {job.display_state}"
                self._follow(view, followed)

        return await self._decide(REJECT, diffids, f"reinstall={int(reinstall)}", send, answered)

    async def _decide(
        self,
        action: Action,
        diffids: Iterable[int],
        options: str,
        send: Callable[[JobView], Awaitable[_T]],
        answered: Callable[[JobView, RetryRecord, _T], None],
    ) -> dict[int, RetryRecord]:
        chosen = [self.views[diffid] for diffid in self.plan(action, diffids).send]
        records: dict[int, RetryRecord] = {}
        for view in chosen:
            record = RetryRecord(
                at=self._clock.now(),
                outcome="sent",
                message=f"{action.name} sent",
                action=action.name,
                options=options,
            )
            view.decision = record
            view.decision_in_flight = True
            records[view.diffid] = record
            self._changed(view)
        limit = asyncio.Semaphore(self._settings.max_in_flight)

        async def one(view: JobView, record: RetryRecord) -> None:
            def unknown(message: str) -> None:
                record.outcome = "unknown"
                record.message = f"outcome unknown: {message}"
                record.reason = message

            try:
                await self._send_once(
                    view,
                    record,
                    limit,
                    lambda: send(view),
                    lambda answer: answered(view, record, answer),
                    unknown,
                )
            finally:
                view.decision_in_flight = False
                if view.diffid in self.views:
                    self._changed(view)
                self._wake.set()

        await asyncio.gather(*(one(view, records[view.diffid]) for view in chosen))
        return records

    def _retry_unknown(self, view: JobView, record: RetryRecord, message: str) -> None:
        record.outcome = "unknown"
        record.message = f"outcome unknown: {message}"
        record.reason = message
        view.outcome_unknown = True
        self._scheduler.mark_retried(view.diffid)

    def _action_refused(self, diffid: int, record: RetryRecord, exc: ApiError) -> None:
        """The request was refused before it could act (auth, 429, 503, no connection)."""
        record.outcome = "failed"
        verb = "retried" if record.action == "retry" else f"{record.action}ed"
        record.message = f"not {verb}: {plain(str(exc))}"
        record.reason = str(exc)
        if exc.account_wide or exc.asks_to_wait:
            self._scheduler.failed(diffid, exc)

    # ------------------------------------------------------------------ create
    async def create(self, imageid: int, machineid: int) -> DiffJob:
        """Start a new diff of ``machineid`` against ``imageid``: sent once, under the cap,
        never repeated, and journaled (refusals too). The caller watches the new diff.

        Errors propagate: :class:`~tui.api.BadRequest` carries the server's reason ("Image
        locked by diffid N"), :class:`~tui.api.RetryOutcomeUnknown` means it may exist.
        """
        asked = f"image {imageid} on machine {machineid}"
        await self._wait_for_slot()
        try:
            job = await self._client.create(imageid, machineid)
        except BadRequest as exc:
            self._journal_create(None, "refused", f"{asked}: {exc}")
            raise
        except ApiError as exc:
            outcome = "unknown" if exc.may_have_acted else "not done"
            self._journal_create(None, outcome, f"{asked}: {exc}")
            raise
        self.last_answer_at = self._clock.now()
        self._journal_create(job.diffid, "accepted", asked)
        return job

    def _journal_create(self, diffid: int | None, outcome: str, reason: str) -> None:
        if self._on_event is None:
            return
        event = JournalEvent(
            at=self._clock.now(),
            kind="action",
            diffid=diffid,
            action="create",
            outcome=outcome,
            reason=reason,
        )
        try:
            self._on_event(event)
        except Exception:
            logger.exception("on_event callback failed")

    # ------------------------------------------------------------------ details
    async def fetch_details(self, diffid: int) -> DiffJob:
        """The diff's status with ``diff_info`` (for the detail screen); errors propagate."""
        await self._wait_for_slot()
        job = await self._client.status(diffid, diff_info=True)
        self.last_answer_at = self._clock.now()
        view = self.views.get(diffid)
        if view is not None and job.diffid == diffid:
            self._apply_job(view, job)
            self._changed(view)
        return job

    # ------------------------------------------------------------------ plumbing
    def _refresh_next_poll(self, diffids: Iterable[int]) -> None:
        now = self._clock.now()
        changed: set[int] = set()
        for diffid in diffids:
            view = self.views.get(diffid)
            if view is None:
                continue
            due = self._scheduler.due_in(diffid)
            next_at = None if due is None else now + due
            if next_at != view.next_poll_at:
                view.next_poll_at = next_at
                view.version += 1
                changed.add(diffid)
        if changed:
            self._notify(changed)

    def _changed(self, view: JobView) -> None:
        view.version += 1
        self._notify({view.diffid})

    def _notify(self, diffids: set[int]) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(diffids)
        except Exception:
            logger.exception("on_change callback failed")

    def _journal_action(self, view: JobView, record: RetryRecord) -> None:
        # Each outcome replaces the sending in the lifecycle: keep what was asked in it.
        reason = record.reason
        if record.options:
            reason = f"{record.options}; {reason}" if reason else record.options
        self._journal(
            view,
            kind="action",
            action=record.action,
            outcome=_JOURNAL_OUTCOMES.get(record.outcome, record.outcome),
            reason=reason,
            ref=record.ref,
        )

    def _journal(self, view: JobView, **fields: Any) -> None:
        """Tell ``on_event`` what happened to ``view``'s diff (an exception is logged)."""
        if self._on_event is None:
            return
        event = JournalEvent(
            at=self._clock.now(),
            diffid=view.diffid,
            asid=view.entry.asid,
            label=view.label,
            **fields,
        )
        try:
            self._on_event(event)
        except Exception:
            logger.exception("on_event callback failed")

    def _finished(self, view: JobView) -> None:
        if self._on_finished is None:
            return
        try:
            self._on_finished(view)
        except Exception:
            logger.exception("on_finished callback failed")

    def _maybe_save(self, *, force: bool) -> None:
        if not self._dirty:
            return
        now = self._clock.monotonic()
        if not force and now - self._last_save < self._save_interval:
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


class _InternalError(ApiError):
    """A poll that failed without an API error (a bug): shown, retried."""

    kind = "internal"
