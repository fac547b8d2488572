"""What an action on some diffs will do, decided once: what is sent, what is skipped, why.

The app's confirmation dialog shows a :class:`Plan`, the tracker sends it (deciding
again with the same rule, since a diff may change while the dialog is open), and the
command line's ``retry --all`` prints and follows one. An action is a name and a rule
of which states it applies to: retry, accept (image version create) and reject; the
last two apply once per diff (a diff is accepted or rejected once).

Example:
    >>> from tui.domain.jobs import JobState
    >>> plan = make_plan(RETRY, [Candidate(1, JobState.FAILED), Candidate(2, JobState.RUNNING)])
    >>> plan.send, plan.skipped[0].reason
    ((1,), 'Running: only Completed or Failed diffs can be retried')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from tui.api.errors import ApiError
from tui.domain.jobs import DiffJob, JobState
from tui.domain.text import plain
from tui.domain.watch_entry import WatchEntry


@dataclass(frozen=True, slots=True)
class Action:
    """Something a user can do to a diff, and which diffs it applies to."""

    name: str
    """As the journal and messages name it: ``"retry"``."""
    applies: Callable[[JobState], bool]
    rule: str
    """The rule in words, for a diff it does not apply to."""
    once: bool = False
    """Only for diffs neither accepted nor rejected yet."""


RETRY: Final = Action(
    "retry", lambda state: state.can_retry, "only Completed or Failed diffs can be retried"
)
ACCEPT: Final = Action(
    "accept",
    lambda state: state is JobState.COMPLETED,
    "only Completed diffs can be accepted",
    once=True,
)
REJECT: Final = Action(
    "reject",
    lambda state: state.is_terminal,
    "only Completed or Failed diffs can be rejected",
    once=True,
)


def decision_words(entry: WatchEntry | None) -> str:
    """What became of a watched diff, in words ("" while it is undecided or unwatched)."""
    if entry is None:
        return ""
    if entry.accepted is not None:
        return f"accepted (image version {entry.accepted.imageversionid})"
    if entry.rejected is not None:
        return "rejected"
    return ""


def unknown_skip_reason(earlier: str, action: str) -> str:
    """Why a plan skips ``action`` on a diff whose ``earlier`` accept or reject was sent
    with an unknown outcome.

    >>> unknown_skip_reason("reject", "accept").split(" (")[0]
    'reject outcome unknown: the diff may be rejected already'
    """
    if earlier != action:
        may = f"the diff may be {'accepted' if earlier == 'accept' else 'rejected'} already"
    else:
        harm = "a second image version" if action == "accept" else f"a second {action}"
        may = f"sending it again may make {harm}"
    return (
        f"{earlier} outcome unknown: {may} (check the Clanforge dashboard: a status read "
        "cannot tell)"
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """What is known of one diff when an action is planned."""

    diffid: int
    state: JobState | None
    """None: not known (no answer, or one in a state this app does not know)."""
    state_name: str = ""
    """The state as shown (the server's name for a state this app does not know)."""
    job: DiffJob | None = None
    """The answer that tells the state, when there is one."""
    error: ApiError | None = None
    """The status read failed: the state is unknown."""
    saved_only: bool = False
    """The state is the one saved last session: no answer yet this session."""
    busy: bool = False
    """The same action is already being sent for this diff."""
    decided: str = ""
    """What became of it, when it was accepted or rejected (see :func:`decision_words`)."""
    unknown: str = ""
    """The accept or reject sent with an unknown outcome ("" when none): it may have
    happened, so it is not sent again unless the user chose to."""

    @classmethod
    def of_read(cls, diffid: int, read: DiffJob | ApiError, decided: str = "") -> Candidate:
        """A diff as a fresh status read (or its failure) shows it."""
        if isinstance(read, ApiError):
            return cls(diffid, None, error=read, decided=decided)
        return cls(diffid, read.known_state, read.display_state, job=read, decided=decided)


@dataclass(frozen=True, slots=True)
class Skip:
    """A diff an action leaves out, and why."""

    diffid: int
    reason: str
    job: DiffJob | None = None
    """The status that decided it, when one was read."""
    error: ApiError | None = None
    """The status read failed: the state is unknown."""
    unknown: bool = False
    """Skipped because the same decision was sent with an unknown outcome: the user may
    choose to send it again anyway."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What an action will send and what it skips: decided once, shown, then followed."""

    action: Action
    send: tuple[int, ...]
    skipped: tuple[Skip, ...] = ()
    read: Mapping[int, DiffJob] = field(default_factory=dict)
    """The status of the diffs to send, when one was read."""


def make_plan(action: Action, candidates: Iterable[Candidate]) -> Plan:
    """Each diff (once, first mention first) to send or to skip, by ``action``'s rule."""
    send: dict[int, DiffJob | None] = {}
    skipped: dict[int, Skip] = {}
    for candidate in candidates:
        diffid = candidate.diffid
        if diffid in send or diffid in skipped:
            continue
        reason = skip_reason(action, candidate)
        if reason is None:
            send[diffid] = candidate.job
        else:
            unknown = bool(candidate.unknown) and not candidate.busy and not candidate.decided
            skipped[diffid] = Skip(diffid, reason, candidate.job, candidate.error, unknown)
    read = {diffid: job for diffid, job in send.items() if job is not None}
    return Plan(action, tuple(send), tuple(skipped.values()), read)


def skip_reason(action: Action, candidate: Candidate) -> str | None:
    """Why ``action`` leaves ``candidate`` out; None when it applies."""
    if candidate.busy:
        return f"a {action.name} is already being sent"
    if action.once and candidate.decided:
        return f"already {candidate.decided}: a diff is accepted or rejected once"
    if action.once and candidate.unknown:
        return unknown_skip_reason(candidate.unknown, action.name)
    if candidate.decided:
        # Retrying it would re-run the analysis of a diff that is already settled.
        return f"already {candidate.decided}: nothing to re-run"
    if candidate.error is not None:
        return f"status unknown: {candidate.error.message}"
    state = candidate.state
    if state is None and candidate.job is not None:
        # An answer in a state this app does not know: not one the action applies to.
        return f"{plain(candidate.state_name, limit=40)}: {action.rule}"
    if state is None or candidate.saved_only:
        return "state not known yet (wait for the first poll)"
    if not action.applies(state):
        return f"{plain(candidate.state_name or state.label, limit=40)}: {action.rule}"
    return None
