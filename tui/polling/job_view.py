"""What the tracker knows about each watched diff, as the UI reads it.

A :class:`JobView` per diff (its last answer, last poll failure, next poll time, the
actions sent for it and the job a decision started); the records those are made of;
and :class:`StatusClient`, what the tracker and its parts need of the API client (the
:class:`PollClient` and :class:`ActionClient` sides of it).
No I/O here: :class:`~tui.polling.tracker.Tracker` and its parts change these values.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Protocol, TypeAlias, TypeVar

from tui.api.error_words import describe_poll_error, next_try_text, poll_error_parts
from tui.api.errors import ApiError
from tui.domain.actions import ActionOutcome, how_unknown_settles
from tui.domain.jobs import DiffJob, JobKind, JobState, UninstallJob, VersionJob
from tui.domain.text import plain
from tui.domain.watch_entry import LastOutcome, LastStatus, SentAction, WatchEntry
from tui.store.journal import new_ref

_T = TypeVar("_T")


class PollClient(Protocol):
    """What polling needs of :class:`tui.api.client.ClanforgeClient`: reading jobs' states."""

    async def status(self, diffid: int, diff_info: bool = False) -> DiffJob:
        """The diff's current state."""
        ...

    async def version_status(self, imageversionid: int) -> VersionJob:
        """An image-version job's current state."""
        ...


class ActionClient(Protocol):
    """What sending actions needs of :class:`tui.api.client.ClanforgeClient` (each sent once)."""

    async def retry(self, diffid: int) -> DiffJob:
        """Recalculate a terminal diff."""
        ...

    async def accept(
        self,
        diffid: int,
        restart: bool,
        full: bool = False,
        game_build: str | None = None,
        force: bool = False,
    ) -> VersionJob:
        """Create an image version from a Completed diff."""
        ...

    async def reject(self, diffid: int, reinstall: bool) -> UninstallJob | None:
        """Reject a terminal diff."""
        ...

    async def create(self, imageid: int, machineid: int, diffid: int | None = None) -> DiffJob:
        """Start a new diff of ``machineid`` against ``imageid``."""
        ...


@dataclass(frozen=True, slots=True)
class ActionNotes:
    """Where actions are noted before they are sent (the watchlist file: an unknown
    outcome outlives the run; see :class:`SentAction`). Their outcomes are kept by the
    tracker's ``save_outcome``, which clears the note unless the outcome is unknown."""

    sent: Callable[[int, SentAction, bool], Awaitable[tuple[SentAction, ...]]]
    """Note an action as about to go out; done (on disk) once awaited. With the flag
    set, first look for an accept or reject of the diff with an unknown outcome that
    another writer (the command line) noted: when there is one, it is returned and
    nothing is noted (the action must not go out)."""


class StatusClient(PollClient, ActionClient, Protocol):
    """What the tracker needs of :class:`tui.api.client.ClanforgeClient`: polling and actions."""


LATE_GRACE: Final = 5.0
"""A read may come this many seconds after its planned time (or half its cadence, if
longer) before the row says its data is stale: caps and spreading delay reads a little."""

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


def unknown_outcome_line(action: str) -> str:
    """A row's or detail's words for an action whose outcome is unknown, and how it
    settles (the same words wherever an unknown outcome is shown).

    >>> unknown_outcome_line("retry")
    '? retry outcome unknown: checking status'
    >>> unknown_outcome_line("accept")
    '? accept outcome unknown: check the Clanforge dashboard (a status read cannot tell)'
    """
    if action == "retry":
        return "? retry outcome unknown: checking status"
    return f"? {action} outcome unknown: check the Clanforge dashboard (a status read cannot tell)"


def saved_unknown(sent: SentAction) -> ActionRecord:
    """An action an earlier run (or the command line) sent whose outcome is still
    unknown, as this run shows it."""
    return ActionRecord(
        at=sent.at,
        outcome=ActionOutcome.UNKNOWN,
        message=f"{sent.action} outcome unknown (sent by an earlier run or the command line)",
        by="saved",
        reason=how_unknown_settles(sent.action),
        action=sent.action,
        options=sent.options,
    )


@dataclass(frozen=True, slots=True)
class FollowKey:
    """Names a job that an action on a diff started, for the scheduler: never equal to
    a diff ID (the diffs' keys), so both kinds share one scheduler and one cap."""

    kind: JobKind
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
class ActionRecord:
    """One action this app sent (or learned about): a retry (newest last in
    ``JobView.retries``), or the diff's accept or reject (``JobView.decision``)."""

    at: float
    """Wall time the action was sent."""
    outcome: ActionOutcome
    message: str
    """Human words, safe to show as plain text."""
    by: str = "this app"
    reason: str | None = None
    """The words behind the outcome alone (the server's reason when it gave one)."""
    ref: str = field(default_factory=new_ref)
    """Ties this action's journal events together (its sending, its outcome)."""
    action: str = "retry"
    """``"retry"``, ``"accept"`` or ``"reject"``."""
    options: str = ""
    """What was asked with it, in words (``"restart=1, force"``); "" for a retry."""


def outcome_message(action: str, outcome: ActionOutcome, reason: str) -> str:
    """What a panel says of an action's outcome: ``refused: …``, ``not retried: …``,
    ``outcome unknown: …`` (plain text)."""
    if outcome is ActionOutcome.REFUSED:
        return f"{outcome}: {plain(reason)}"
    if outcome is ActionOutcome.UNKNOWN:
        return f"outcome unknown: {plain(reason)}"
    verb = "retried" if action == "retry" else f"{action}ed"
    return f"not {verb}: {plain(reason)}"


def saved_outcome(record: ActionRecord) -> LastOutcome | None:
    """What is kept with the diff of ``record``'s outcome: None for a success (it
    replaces, and so clears, an older refusal)."""
    if record.outcome in (ActionOutcome.SENT, ActionOutcome.ACCEPTED):
        return None
    return LastOutcome(record.action, record.outcome, record.reason or "", record.at)


def restored_record(saved: LastOutcome) -> ActionRecord:
    """The record of an outcome kept from an earlier run, as the panels show it."""
    return ActionRecord(
        at=saved.at,
        outcome=saved.outcome,
        message=outcome_message(saved.action, saved.outcome, saved.reason),
        by="saved",
        reason=saved.reason,
        action=saved.action,
    )


@dataclass
class FollowedJob:
    """A job an accept or reject of a diff started, shown on the diff's panel.

    An image-version job is polled (by the diffs' scheduler) until it ends; an uninstall
    job is shown as the reject's answer described it, since the API has no status call
    for it.
    """

    kind: JobKind
    jobid: int
    job: VersionJob | UninstallJob
    """The last answer about it."""
    poll_failure: PollFailure | None = None
    """The last failed poll, None once one succeeds."""
    next_poll_at: float | None = None
    """Wall time of its next poll; None when none is planned."""

    @property
    def pollable(self) -> bool:
        """True when its status can be read (an image-version job)."""
        return self.kind is JobKind.VERSION

    @property
    def title(self) -> str:
        """``image version 7001`` or ``uninstall job 88``."""
        return f"{self.kind.noun} {self.jobid}"


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
    retry_outcome_unknown: bool = False
    """The last retry may or may not have happened; status polls are settling it."""
    retries: list[ActionRecord] = field(default_factory=list)
    decision: ActionRecord | None = None
    """The accept or reject this app sent for the diff (one per diff, by the API)."""
    decision_in_flight: bool = False
    followed: FollowedJob | None = None
    """The image-version (or uninstall) job the decision started."""
    imageid: int | None = None
    """The diff's image, once an answer with ``diff_info`` named it (this session)."""
    keys_refused: bool = False
    """The server refuses the account's keys (401/403): the state is not known now,
    whatever was last seen (``state`` is None; ``poll_failure`` says why)."""
    version: int = 0
    """Bumped on every change, so the UI redraws only the rows that changed."""

    @property
    def diffid(self) -> int:
        """The diff's ID."""
        return self.entry.diffid

    def late(self, now: float) -> bool:
        """True when this session's data is older than its cadence: the read planned
        after it is overdue by more than :data:`LATE_GRACE` or half the cadence (a
        large list's backlog, a stalled loop). A failed read says so itself."""
        read, due = self.updated_at, self.next_poll_at
        if self.stale or read is None or due is None or self.poll_failure is not None:
            return False
        return now - due > max(LATE_GRACE, (due - read) / 2)

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
        # Spelled out rather than through _live_or_saved: the first frame's sort and
        # counts ask it several times of every diff before it is drawn.
        if self.keys_refused:
            return None
        if self.job is not None:
            return self.job.known_state
        last = self.entry.last
        return last.state if last is not None else None

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
        refused = last is not None and last.outcome is ActionOutcome.REFUSED
        if refused and last is not None and (state is None or state.is_terminal):
            holder = locked_by(last.reason)
            if holder is not None:
                return holder
        if state is JobState.FAILED:
            raw = self._live_or_saved(lambda job: job.error, lambda saved: saved.error)
            return locked_by(raw)
        return None

    @property
    def holds_lock(self) -> bool:
        """True while the diff holds its image's lock (API.md, Locks): Completed, and
        neither accepted nor rejected (nor an accept of it on its way or unknown)."""
        if self.state is not JobState.COMPLETED or self.entry.decided:
            return False
        decision = self.decision
        return decision is None or decision.outcome in (
            ActionOutcome.REFUSED,
            ActionOutcome.NOT_DONE,
        )

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
