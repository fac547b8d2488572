"""The panel line about a diff's accept or reject and the job it started, and its lock.

A panel's third line says what is most worth knowing about the diff. Once the diff is
accepted or rejected, that is the decision and the job it started (the image version:
its ID, state, progress, ETA, error); a diff that failed because another diff locks its
image names that diff and the key that goes to it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from tui.domain.actions import ActionOutcome
from tui.domain.jobs import JobState
from tui.domain.text import plain
from tui.domain.wording import ago_text, eta_text
from tui.polling.followed_jobs import PAST
from tui.polling.job_view import unknown_outcome_line

if TYPE_CHECKING:
    from tui.polling.tracker import ActionRecord, FollowedJob, JobView

Tone = Literal["busy", "done", "error", "unknown", "dim"]
"""How the line reads: the renderer picks its style from this."""


def decision_line(view: JobView, now: float) -> tuple[str, Tone] | None:
    """The line about ``view``'s accept or reject (plain text) and its tone; None when
    the diff has none this session."""
    decision = view.decision
    if decision is None:
        return None
    verb = decision.action
    if view.decision_in_flight:
        return f"⇪ {verb} sending… ({decision.options})", "busy"
    if decision.outcome is ActionOutcome.UNKNOWN:
        return unknown_outcome_line(verb), "unknown"
    if decision.outcome is not ActionOutcome.ACCEPTED:
        # Refused by the server, or never reached it: the diff is as it was.
        return f"✗ {plain(decision.message)}", "error"
    followed = view.followed
    if followed is None:
        return f"⊘ {_past(decision)} ({decision.options})", "done"
    return _job_line(decision, followed, now)


def lock_line(view: JobView, lock_key: str) -> str | None:
    """``✗ Image locked by diffid 4113 · o: go to #4113``, when a lock is the problem."""
    holder = view.locked_by
    if holder is None:
        return None
    return f"✗ Image locked by diffid {holder} · {lock_key}: go to #{holder}"


def _past(decision: ActionRecord) -> str:
    return PAST[decision.action]


def _job_line(decision: ActionRecord, followed: FollowedJob, now: float) -> tuple[str, Tone]:
    job = followed.job
    head = f"{followed.title} {plain(job.display_state, limit=40)}"
    state = job.known_state
    if state is JobState.COMPLETED:
        when = ago_text(job.updated, now) if job.updated else ""
        return f"✓ {_past(decision)}: {head}" + (f" · finished {when}" if when else ""), "done"
    if job.failed or state is JobState.FAILED:
        error = plain(job.error) if job.error else "no reason given"
        return f"✗ {_past(decision)}: {head}: {error}", "error"
    parts = [f"⇪ {_past(decision)}: {head} {job.progress}%"]
    eta = eta_text(job.eta, now) if state is JobState.RUNNING else ""
    if eta:
        parts.append(eta)
    if not followed.pollable:
        parts.append("as the reject answered (the API has no status call for it)")
    if followed.poll_failure is not None:
        parts.append("⚠ " + plain(followed.poll_failure.words))
        return " · ".join(parts), "unknown"
    return " · ".join(parts), "busy"


def retry_line(view: JobView) -> str | None:
    """The last retry's outcome while it still stands: refused or not done (the diff is
    where the retry left it), or unknown (until a status read settles it); else None."""
    if view.retry_outcome_unknown:
        return unknown_outcome_line("retry")
    last = view.retries[-1] if view.retries else None
    state = view.state
    if (
        last is not None
        and last.outcome in (ActionOutcome.REFUSED, ActionOutcome.NOT_DONE)
        and (state is None or state.is_terminal)
    ):
        prefix = "↻ retry " if last.outcome is ActionOutcome.REFUSED else "↻ "
        return prefix + plain(last.message)
    return None


def lock_held_line(view: JobView) -> str | None:
    """``holds the lock on image 50101 (accepting or rejecting it frees it)``, while the
    diff holds its image's lock; the image named when the app knows it."""
    if not view.holds_lock:
        return None
    image = f"the lock on image {view.imageid}" if view.imageid is not None else "its image's lock"
    return f"holds {image} (accepting or rejecting it frees it)"
