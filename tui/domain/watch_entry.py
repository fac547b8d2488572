"""A watched diff: its label, its last known status and the decision taken on it.

What the user said and did (label, decision, actions sent) lives in the watchlist file;
what the app learned (``last`` statuses, ``outcome``) in the status cache beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.domain.actions import ActionOutcome
from tui.domain.jobs import STATE_BY_ID, Job, JobState


@dataclass(frozen=True, slots=True)
class LastStatus:
    """The last known status of a watched diff, saved so the app can paint at once."""

    state_id: int | None
    state_name: str
    progress: int
    eta: int | None
    error: str | None
    seen_at: float
    start: int | None = None

    @classmethod
    def from_job(cls, job: Job, seen_at: float) -> LastStatus:
        """What the watchlist keeps of a job."""
        return cls(
            state_id=int(job.state) if job.state is not None else None,
            state_name=job.state_name,
            progress=job.progress,
            eta=job.eta,
            error=job.error,
            seen_at=seen_at,
            start=job.start,
        )

    @property
    def state(self) -> JobState | None:
        """The state, when the id is a known one."""
        # A lookup rather than JobState(id): asked several times of every diff while
        # the first frame is sorted and counted.
        return STATE_BY_ID.get(self.state_id)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A diff was accepted: the image version it became, and the options it was sent with."""

    imageversionid: int
    restart: bool
    full: bool = False
    force: bool = False
    game_build: str | None = None
    at: float = 0.0
    """When it was accepted (Unix time)."""
    last: LastStatus | None = None
    """The version job's last status, so its line paints at once."""


@dataclass(frozen=True, slots=True)
class Rejected:
    """A diff was rejected; with ``reinstall``, the uninstall job that started."""

    reinstall: bool
    uninstalljobid: int | None = None
    at: float = 0.0
    last: LastStatus | None = None
    """The uninstall job as the reject answered it (API.md has no status call for it)."""


@dataclass(frozen=True, slots=True)
class SentAction:
    """An action sent on a diff whose outcome is not known yet (an answer may have been
    lost): kept with what the user did, so that it is never sent again by accident."""

    action: str
    """``retry``, ``accept``, ``reject`` or ``create``."""
    at: float
    """When it was sent (Unix time)."""
    options: str = ""
    """What it was sent with, in words (``restart=1 full=0``)."""


@dataclass(frozen=True, slots=True)
class LastOutcome:
    """What became of the last action on a diff, when it did not simply succeed."""

    action: str
    outcome: ActionOutcome
    """Refused (the server said no: ``reason``), unknown or not done."""
    reason: str = ""
    at: float = 0.0


@dataclass(frozen=True, slots=True)
class WatchEntry:
    """One diff on an account's watchlist, and what became of it (accepted or rejected).

    The account is the API URL (as :func:`tui.store.config.account_url` writes it) and the
    ASID: every profile, or the ``CLANFORGE_*`` variables, reaching it see its diffs.

    An image version is watched as part of the diff it was created from: ``accepted``
    links the two, one version per diff (a diff can be accepted once).
    """

    diffid: int
    asid: int
    api_url: str
    label: str = ""
    added_at: float = 0.0
    last: LastStatus | None = None
    accepted: Accepted | None = None
    rejected: Rejected | None = None
    sent: tuple[SentAction, ...] = ()
    """Actions sent whose outcome is not known yet, one per action at most."""
    outcome: LastOutcome | None = None
    """The last action's outcome when it was not a plain success (from the status cache)."""

    @property
    def key(self) -> tuple[str, int, int]:
        """Entries are unique per account (API URL and ASID) and diff."""
        return (self.api_url, self.asid, self.diffid)

    @property
    def decided(self) -> bool:
        """Accepted or rejected: the diff no longer locks its image, and is not offered
        either action again."""
        return self.accepted is not None or self.rejected is not None
