"""The state-changing requests on watched diffs: retry, accept, reject and create.

Each is sent at most once and never repeated automatically (API.md: a retry is a
state-changing GET); an outcome that cannot be known (a timeout, a lost answer) is
recorded as unknown and settled by reading the diff's status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from tui.api.errors import ApiError
from tui.domain.actions import ActionOutcome
from tui.domain.jobs import DiffJob, JobKind, UninstallJob, VersionJob
from tui.domain.poll_settings import PollSettings
from tui.domain.text import plain
from tui.domain.watch_entry import Accepted, LastStatus, Rejected, SentAction
from tui.polling.followed_jobs import PAST, FollowedJobs
from tui.polling.job_view import (
    AcceptOptions,
    ActionClient,
    ActionNotes,
    ActionRecord,
    FollowedJob,
    JobView,
    outcome_message,
    saved_unknown,
)
from tui.polling.plan import (
    ACCEPT,
    REJECT,
    RETRY,
    Action,
    Candidate,
    Plan,
    decision_words,
    make_plan,
)
from tui.polling.refusals import Refusals
from tui.polling.view_board import ViewBoard
from tui.store.journal import EventKind, JournalEvent

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


def _candidate(view: JobView, action: Action, again: bool) -> Candidate:
    decision = view.decision
    decided = decision_words(view.entry)
    unknown = ""
    if not decided and decision is not None:
        # Sent (this session, or saved by an earlier one) and not in the entry yet.
        if decision.outcome is ActionOutcome.ACCEPTED:
            decided = PAST[decision.action]
        elif decision.outcome is ActionOutcome.UNKNOWN and not again:
            # It may have happened: never sent again unless the user says so.
            unknown = decision.action
    busy = view.decision_in_flight if action.once else view.retry_in_flight
    failure = view.poll_failure
    return Candidate(
        view.diffid,
        view.state,
        view.state_name,
        # Refused keys: the state is unknown (not merely waiting for a first poll).
        error=failure.error if view.keys_refused and failure is not None else None,
        saved_only=view.stale,
        busy=busy,
        decided=decided,
        unknown=unknown,
    )


class ActionSender:
    """Sends the tracker's state-changing requests and records what became of them.

    It decides what is sent (each action's :mod:`tui.polling.plan`, decided again when sending:
    a diff may have changed since a dialog showed the plan), sends each request once
    under the scheduler's cap, and sorts its outcome (an answer, a refusal, or unknown)
    into a :class:`~tui.polling.job_view.ActionRecord` on the diff's view, journaling the sending
    and the outcome.
    """

    def __init__(
        self,
        client: ActionClient,
        board: ViewBoard,
        followed: FollowedJobs,
        settings: PollSettings,
        apply_job: Callable[[JobView, DiffJob], None],
        notes: ActionNotes | None = None,
    ) -> None:
        self._client = client
        self._notes = notes
        self._board = board
        self._scheduler = board.scheduler
        self._clock = board.clock
        self._followed = followed
        self._settings = settings
        self._apply_job = apply_job
        self.just_created: set[int] = set()
        """Diffs this app created and has not watched yet: once watched, they are
        followed closely (see :meth:`~tui.polling.scheduler.PollScheduler.follow_closely`)."""
        self.retry_sent_at: dict[int, float] = {}
        """Monotonic time of the last retry per diff: older poll answers are dropped."""

    def forget(self, diffid: int) -> None:
        """``diffid`` is no longer watched."""
        self.retry_sent_at.pop(diffid, None)

    async def retry(self, diffids: Iterable[int]) -> dict[int, ActionRecord]:
        """Retry the given diffs that :data:`~tui.polling.plan.RETRY`'s plan sends (decided
        again now: a diff may have changed since a dialog showed the plan), each sent
        exactly once and never repeated automatically.

        Returns the record of each retry sent, by diff ID; other IDs are left out.
        """
        chosen = [self._board.views[diffid] for diffid in self.plan(RETRY, diffids).send]
        records: dict[int, ActionRecord] = {}
        for view in chosen:
            record = ActionRecord(
                at=self._clock.now(), outcome=ActionOutcome.SENT, message="retry sent"
            )
            view.retries.append(record)
            view.retry_in_flight = True
            view.retry_outcome_unknown = False
            records[view.diffid] = record
            self._board.changed(view)
        limit = asyncio.Semaphore(self._settings.max_in_flight)
        await asyncio.gather(
            *(self._retry_one(view, records[view.diffid], limit) for view in chosen)
        )
        return records

    def plan(self, action: Action, diffids: Iterable[int], *, again: bool = False) -> Plan:
        """What ``action`` on the watched diffs among ``diffids`` would send and skip;
        ``again``: an accept or reject whose outcome is unknown is sent again too (the
        user chose "send again anyway")."""
        views = (self._board.views[diffid] for diffid in diffids if diffid in self._board.views)
        return make_plan(action, (_candidate(view, action, again) for view in views))

    async def wait_for_slot(self) -> None:
        """Wait until the requests-per-second cap allows one more request, and take it."""
        # The cap frees up with time, not with an event: sleeping until then is right.
        while not self._scheduler.take_slot():  # noqa: ASYNC110
            await asyncio.sleep(max(0.01, self._scheduler.seconds_until_slot()))

    async def _retry_one(
        self, view: JobView, record: ActionRecord, limit: asyncio.Semaphore
    ) -> None:
        diffid = view.diffid

        async def send() -> DiffJob:
            self.retry_sent_at[diffid] = self._clock.monotonic()
            return await self._client.retry(diffid)

        def answered(job: DiffJob) -> None:
            record.outcome = ActionOutcome.ACCEPTED
            record.message = f"retry accepted: {job.display_state}"
            record.reason = f"now {job.display_state}"
            if job.diffid == diffid and diffid in self._board.views:
                self._apply_job(view, job)
            self._scheduler.mark_retried(diffid, job)

        def unknown(message: str) -> None:
            self._retry_unknown(view, record, message)

        try:
            await self._send_once(view, record, limit, send, answered, unknown)
        finally:
            view.retry_in_flight = False
            if diffid in self._board.views:
                self._board.refresh_next_poll([diffid])
                self._board.changed(view)
            self._board.wake.set()

    async def _send_once(
        self,
        view: JobView,
        record: ActionRecord,
        limit: asyncio.Semaphore,
        send: Callable[[], Awaitable[_T]],
        answered: Callable[[_T], None],
        unknown: Callable[[str], None],
        check_elsewhere: bool = False,
    ) -> None:
        """Send one state-changing request, once, under the cap; sort its outcome into
        ``record`` (an answer, a refusal, or unknown: never sent again) and journal it.
        ``check_elsewhere``: not sent when the watchlist file holds an accept or reject
        of the diff with an unknown outcome from another writer (the command line)."""
        diffid = view.diffid
        noted = True
        try:
            async with limit:
                await self.wait_for_slot()
                record.at = self._clock.now()
                noted = await self._noted(view, record, check_elsewhere)
                if not noted:
                    return
                self._board.journal_action(view, record)
                try:
                    answer = await self._send_waiting_out(view, record, send)
                except asyncio.CancelledError:
                    unknown("cancelled before the answer arrived")
                    raise
                except ApiError as exc:
                    if exc.action_outcome is ActionOutcome.UNKNOWN:
                        unknown(plain(str(exc)))
                    else:
                        self._not_done(diffid, record, exc)
                except Exception as exc:
                    logger.exception("%s of diff %d failed unexpectedly", record.action, diffid)
                    unknown(f"internal error: {type(exc).__name__}")
                else:
                    self._board.heard()
                    answered(answer)
        finally:
            if record.outcome is not ActionOutcome.SENT:
                self._board.journal_action(view, record, keep=noted)

    async def _noted(self, view: JobView, record: ActionRecord, check_elsewhere: bool) -> bool:
        """Note in the watchlist file that ``record``'s action is about to be sent (so
        that an unknown outcome outlives this run); False, with the record saying why,
        when it could not be noted or (``check_elsewhere``) another writer's accept or
        reject of the diff is unknown: then it is not sent."""
        if self._notes is None:
            return True
        sent = SentAction(record.action, record.at, record.options)
        try:
            earlier = await self._notes.sent(view.diffid, sent, check_elsewhere)
            if earlier:
                # Shown as the unknown it is; the toast says this one was not sent.
                view.decision = saved_unknown(earlier[0])
                record.outcome = ActionOutcome.NOT_DONE
                record.reason = f"not sent: {view.decision.message}"
                record.message = record.reason
                return False
        except Exception as exc:
            logger.exception("noting the %s of diff %d failed", record.action, view.diffid)
            record.outcome = ActionOutcome.NOT_DONE
            record.reason = f"the watchlist could not note it: {plain(str(exc))}"
            record.message = f"{record.action} not sent: {record.reason}"
            return False
        return True

    async def _send_waiting_out(
        self, view: JobView, record: ActionRecord, send: Callable[[], Awaitable[_T]]
    ) -> _T:
        """``send()``; a "wait" answer (429, 503: the server did nothing) is waited out
        and the request sent again, as the command line does, within the same bound
        (:mod:`tui.polling.refusals`); then :class:`~tui.polling.refusals.GaveUpWaiting`."""
        refusals = Refusals()
        while True:
            try:
                return await send()
            except ApiError as exc:
                if not exc.asks_to_wait:
                    raise
                # The account may be slowed down: the scheduler hears of it as of a poll.
                self._scheduler.failed(view.diffid, exc)
                now = self._clock.monotonic()
                wait = self._scheduler.refused_wait(refusals.count + 1, exc)
                until = refusals.send_again_at(exc, now, wait)
                record.message = f"{record.action} waiting {until - now:.0f}s: {plain(str(exc))}"
            self._board.changed(view)
            await self._clock.sleep(until - now)
            await self.wait_for_slot()

    # ------------------------------------------------------------------ accept, reject
    async def accept(
        self, diffids: Iterable[int], options: AcceptOptions, *, again: bool = False
    ) -> dict[int, ActionRecord]:
        """Accept (create an image version from) the diffs that :data:`~tui.polling.plan.ACCEPT`'s
        plan sends, decided again now; each sent exactly once, never repeated. Each
        version job it starts is then followed on its diff's panel until it ends."""

        def send(view: JobView) -> Awaitable[VersionJob]:
            return self._client.accept(
                view.diffid, options.restart, options.full, options.game_build, options.force
            )

        def answered(view: JobView, record: ActionRecord, job: VersionJob) -> None:
            followed = FollowedJob(JobKind.VERSION, job.imageversionid, job)
            record.outcome = ActionOutcome.ACCEPTED
            record.message = f"accepted: {followed.title} {job.display_state}"
            record.reason = followed.title
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
            self._followed.record_decision(view, dataclasses.replace(view.entry, accepted=accepted))
            self._followed.follow(view, followed, just_started=True)

        return await self._decide(ACCEPT, diffids, options.words(), send, answered, again)

    async def reject(
        self, diffids: Iterable[int], reinstall: bool, *, again: bool = False
    ) -> dict[int, ActionRecord]:
        """Reject the diffs that :data:`~tui.polling.plan.REJECT`'s plan sends, decided again now;
        each sent exactly once, never repeated. With ``reinstall`` the answer is an
        uninstall job, shown on the diff's panel as the answer described it."""

        def send(view: JobView) -> Awaitable[UninstallJob | None]:
            return self._client.reject(view.diffid, reinstall)

        def answered(view: JobView, record: ActionRecord, job: UninstallJob | None) -> None:
            record.outcome = ActionOutcome.ACCEPTED
            record.message = "rejected: the image is unlocked"
            record.reason = "rejected"
            now = self._clock.now()
            rejected = Rejected(
                reinstall,
                job.uninstalljobid if job is not None else None,
                at=now,
                last=LastStatus.from_job(job, now) if job is not None else None,
            )
            self._followed.record_decision(view, dataclasses.replace(view.entry, rejected=rejected))
            if job is not None:
                followed = FollowedJob(JobKind.UNINSTALL, job.uninstalljobid, job)
                record.message += f"; {followed.title} {job.display_state}"
                record.reason += f"; {followed.title} {job.display_state}"
                self._followed.follow(view, followed)

        what = f"reinstall={int(reinstall)}"
        return await self._decide(REJECT, diffids, what, send, answered, again)

    async def _decide(
        self,
        action: Action,
        diffids: Iterable[int],
        options: str,
        send: Callable[[JobView], Awaitable[_T]],
        answered: Callable[[JobView, ActionRecord, _T], None],
        again: bool,
    ) -> dict[int, ActionRecord]:
        plan = self.plan(action, diffids, again=again)
        chosen = [self._board.views[diffid] for diffid in plan.send]
        records: dict[int, ActionRecord] = {}
        for view in chosen:
            record = ActionRecord(
                at=self._clock.now(),
                outcome=ActionOutcome.SENT,
                message=f"{action.name} sent",
                action=action.name,
                options=options,
            )
            view.decision = record
            view.decision_in_flight = True
            records[view.diffid] = record
            self._board.changed(view)
        limit = asyncio.Semaphore(self._settings.max_in_flight)

        async def one(view: JobView, record: ActionRecord) -> None:
            def unknown(message: str) -> None:
                record.outcome = ActionOutcome.UNKNOWN
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
                    check_elsewhere=not again,
                )
            finally:
                view.decision_in_flight = False
                if view.diffid in self._board.views:
                    self._board.changed(view)
                self._board.wake.set()

        await asyncio.gather(*(one(view, records[view.diffid]) for view in chosen))
        return records

    def _retry_unknown(self, view: JobView, record: ActionRecord, message: str) -> None:
        record.outcome = ActionOutcome.UNKNOWN
        record.message = f"outcome unknown: {message}"
        record.reason = message
        view.retry_outcome_unknown = True
        self._scheduler.mark_retried(view.diffid)

    def _not_done(self, diffid: int, record: ActionRecord, exc: ApiError) -> None:
        """The server refused the request (with its reason), or it did not act on it
        (the keys, 429, 503, no connection)."""
        record.outcome = exc.action_outcome
        record.reason = str(exc)
        record.message = outcome_message(record.action, record.outcome, str(exc))
        if record.outcome is ActionOutcome.REFUSED:
            return
        if exc.account_wide or exc.asks_to_wait:
            self._scheduler.failed(diffid, exc)

    # ------------------------------------------------------------------ create
    async def create(self, imageid: int, machineid: int) -> DiffJob:
        """Start a new diff of ``machineid`` against ``imageid``: sent once, under the cap,
        never repeated, and journaled (refusals too). The caller watches the new diff.

        Errors propagate: :class:`~tui.api.errors.BadRequest` carries the server's reason ("Image
        locked by diffid N"), :class:`~tui.api.errors.ActionOutcomeUnknown` means it may exist.
        """
        asked = f"image {imageid} on machine {machineid}"
        await self.wait_for_slot()
        try:
            job = await self._client.create(imageid, machineid)
        except ApiError as exc:
            self._journal_create(None, exc.action_outcome, f"{asked}: {exc}")
            raise
        self._board.heard()
        self._journal_create(job.diffid, ActionOutcome.ACCEPTED, asked)
        self.just_created.add(job.diffid)
        return job

    def _journal_create(self, diffid: int | None, outcome: ActionOutcome, reason: str) -> None:
        self._board.event(
            JournalEvent(
                at=self._clock.now(),
                kind=EventKind.ACTION,
                diffid=diffid,
                action="create",
                outcome=outcome,
                reason=reason,
            )
        )

    def settle_unknown(self, view: JobView, job: DiffJob, *, still_polling: bool) -> None:
        """A status read after a retry of unknown outcome: settle it when it tells."""
        record = next(
            (r for r in reversed(view.retries) if r.outcome is ActionOutcome.UNKNOWN), None
        )
        if not job.is_terminal:
            view.retry_outcome_unknown = False
            if record is not None:
                record.outcome = ActionOutcome.ACCEPTED
                record.message = f"the retry went through (status now {job.display_state})"
                record.reason = f"status now {job.display_state}"
                self._board.journal_action(view, record)
        elif not still_polling:
            view.retry_outcome_unknown = False
            if record is not None:
                record.outcome = ActionOutcome.NOT_DONE
                record.message = (
                    f"the retry did not take effect (status still {job.display_state}); "
                    "retry again if needed"
                )
                record.reason = f"status still {job.display_state}"
                self._board.journal_action(view, record)
