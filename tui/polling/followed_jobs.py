"""The jobs an accept or reject of a diff started, shown on the diff's panel."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from typing import Any, Final

from tui.api.errors import ApiError
from tui.domain.actions import ActionOutcome
from tui.domain.jobs import JobKind, JobState, UninstallJob, VersionJob
from tui.domain.watch_entry import LastStatus, WatchEntry
from tui.polling.job_view import (
    AcceptOptions,
    ActionRecord,
    FollowedJob,
    FollowKey,
    JobView,
    PollFailure,
    PollKey,
)
from tui.polling.view_board import ViewBoard
from tui.store.journal import EventKind

logger = logging.getLogger(__name__)

PAST: Final = {"accept": "accepted", "reject": "rejected"}
"""A decision's name in the past tense."""


def _saved_record(action: str, at: float, options: str) -> ActionRecord:
    past = PAST[action]
    return ActionRecord(
        at=at, outcome=ActionOutcome.ACCEPTED, message=past, by="saved", reason=past, action=action,
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


class FollowedJobs:
    """Follows the jobs that decisions on diffs started, and keeps the decisions.

    It decides what a diff's panel shows of its decision (sent this session or saved in
    the watchlist) and of the job it started: an image-version job is polled by the
    tracker's scheduler until it ends (its key a :class:`~tui.polling.job_view.FollowKey`), an
    uninstall job is shown as the reject's answer described it (the API cannot read it).
    """

    def __init__(
        self,
        board: ViewBoard,
        cancel_poll: Callable[[PollKey], None],
        save_decision: Callable[[WatchEntry], None] | None,
        on_finished: Callable[[JobView, FollowedJob], None] | None,
    ) -> None:
        self._board = board
        self._scheduler = board.scheduler
        self._cancel_poll = cancel_poll
        self._save_decision = save_decision
        self._on_finished = on_finished
        self._diff_of: dict[FollowKey, int] = {}
        """The diff each followed job was started from."""

    def keys_of(self, diffids: Iterable[int]) -> list[FollowKey]:
        """The keys of the jobs followed for these diffs."""
        wanted = set(diffids)
        return [key for key, diffid in self._diff_of.items() if diffid in wanted]

    def follow(self, view: JobView, followed: FollowedJob, *, just_started: bool = False) -> None:
        """Show ``followed`` on ``view``'s panel; poll it until it ends when it can be
        (closely when this app ``just_started`` it)."""
        view.followed = followed
        if followed.kind is not JobKind.VERSION or followed.job.is_terminal:
            return
        key = FollowKey(JobKind.VERSION, followed.jobid)
        self._diff_of[key] = view.diffid
        job = followed.job
        self._scheduler.add(
            key,
            job.state,
            float(job.eta) if job.eta is not None else None,
            job.progress,
            float(job.start) if job.start is not None else None,
        )
        if just_started:
            self._scheduler.follow_closely(key)
        self._board.refresh_next_poll([view.diffid])
        self._board.wake.set()

    def restore_decision(self, view: JobView) -> None:
        """Show a decision saved in the watchlist; follow its version job if not ended."""
        accepted, rejected = view.entry.accepted, view.entry.rejected
        if accepted is not None:
            options = AcceptOptions(
                accepted.restart, accepted.full, accepted.game_build, accepted.force
            )
            view.decision = _saved_record("accept", accepted.at, options.words())
            job = _saved_version(accepted.imageversionid, accepted.last)
            self.follow(view, FollowedJob(JobKind.VERSION, accepted.imageversionid, job))
        elif rejected is not None:
            words = f"reinstall={int(rejected.reinstall)}"
            view.decision = _saved_record("reject", rejected.at, words)
            if rejected.uninstalljobid is not None and rejected.last is not None:
                uninstall = _saved_uninstall(rejected.uninstalljobid, rejected.last)
                view.followed = FollowedJob(JobKind.UNINSTALL, rejected.uninstalljobid, uninstall)

    def record_decision(self, view: JobView, entry: WatchEntry) -> None:
        """Keep ``entry``'s decision on the view and hand it to the watchlist."""
        view.entry = entry
        if self._save_decision is None:
            return
        try:
            self._save_decision(entry)
        except Exception:
            logger.exception("saving a decision failed")

    def forget(self, diffid: int) -> None:
        """Stop following the jobs of ``diffid`` (no longer watched)."""
        for key in self.keys_of([diffid]):
            self._unfollow(key)

    def _unfollow(self, key: FollowKey) -> None:
        self._diff_of.pop(key, None)
        self._scheduler.remove(key)
        self._cancel_poll(key)

    def _view_following(self, key: FollowKey) -> tuple[JobView, FollowedJob] | None:
        view = self._board.views.get(self._diff_of.get(key, 0))
        followed = view.followed if view is not None else None
        if view is None or followed is None or followed.jobid != key.jobid:
            return None
        return view, followed

    def failed(self, key: FollowKey, exc: ApiError, delay: float) -> None:
        """A poll of ``key`` failed; it is tried again in ``delay`` seconds."""
        found = self._view_following(key)
        if found is None:
            return
        view, followed = found
        followed.poll_failure = PollFailure.of(exc, delay, view.entry.asid)
        followed.next_poll_at = self._board.clock.now() + delay
        self._board.changed(view)

    def answered(self, key: FollowKey, job: VersionJob) -> None:
        """A poll of ``key`` answered ``job``."""
        board = self._board
        board.heard()
        was_offline = self._scheduler.outage
        delay = self._scheduler.succeeded(key, job)
        if was_offline:
            board.refresh_next_poll(board.views)
        found = self._view_following(key)
        if found is None:
            self._unfollow(key)
            return
        view, followed = found
        before = followed.job
        followed.job = job
        followed.poll_failure = None
        followed.next_poll_at = None if delay is None else board.clock.now() + delay
        if before.display_state != job.display_state:
            board.journal(
                view,
                kind=EventKind.STATE,
                old=f"{followed.title}: {before.display_state}",
                new=f"{followed.title}: {job.display_state}",
                job_time=job.updated,
            )
        if delay is None:
            self._unfollow(key)
        accepted = view.entry.accepted
        if job.is_terminal and accepted is not None and accepted.imageversionid == key.jobid:
            last = LastStatus.from_job(job, board.clock.now())
            entry = dataclasses.replace(
                view.entry, accepted=dataclasses.replace(accepted, last=last)
            )
            self.record_decision(view, entry)
        board.changed(view)
        if not before.is_terminal and job.is_terminal and self._on_finished is not None:
            try:
                self._on_finished(view, followed)
            except Exception:
                logger.exception("on_followed_finished callback failed")
