"""What a diff needs of the operator (its to-do reason), decided in one place.

The `f` filter, the header's "⚑ 5 need you", the row's one-word reason and the events
view all ask :func:`todo_reason`, so they never disagree about what needs attention.

Example:
    >>> # todo_reason(view) -> "decide" for a Completed diff nobody accepted or rejected
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from tui.api.errors import NotFound
from tui.domain.actions import ActionOutcome
from tui.domain.jobs import JobKind, JobState

if TYPE_CHECKING:
    from tui.polling.job_view import JobView

TodoReason = Literal[
    "keys", "not found", "unknown", "refused", "version failed", "failed", "decide"
]

TODO_REASONS: Final[dict[TodoReason, str]] = {
    "keys": "the server refused the account's keys (401/403): fix the profile",
    "not found": "the server does not know the diff (404)",
    "unknown": "an action's outcome is not known yet: check before sending it again",
    "refused": "the server refused the last accept, reject or retry (its reason is on the row)",
    "version failed": "the image version its accept started ended Failed",
    "failed": "the diff ended Failed and is neither retried nor rejected",
    "decide": "the diff Completed and is neither accepted nor rejected (it locks its image)",
}
"""Each reason a diff needs the operator, most urgent first (README's table)."""


def todo_reason(view: JobView) -> TodoReason | None:
    """Why ``view``'s diff needs the operator now, most urgent reason first; None when
    nothing is to be done (it is in flight, or settled: rejected, or accepted with its
    image version not Failed).

    A poll fault that the app retries by itself (a 5xx, a timeout, no connection) is
    not a to-do: the row and the header say it, and waiting is all there is to do.
    """
    failure = view.poll_failure
    if failure is not None:
        if failure.error.account_wide:
            return "keys"
        if isinstance(failure.error, NotFound):
            return "not found"
    decision = view.decision
    settled = decision.outcome if decision is not None and not view.decision_in_flight else None
    if view.retry_outcome_unknown or settled is ActionOutcome.UNKNOWN:
        return "unknown"
    if view.entry.decided:
        return "version failed" if _version_failed(view) else None
    if settled is ActionOutcome.REFUSED:
        return "refused"
    state = view.state
    if state is None or not state.is_terminal:
        return None
    last_retry = view.retries[-1] if view.retries else None
    if last_retry is not None and last_retry.outcome is ActionOutcome.REFUSED:
        # Refused and the diff is still where it was: the reason is the server's.
        return "refused"
    return "failed" if state is JobState.FAILED else "decide"


def _version_failed(view: JobView) -> bool:
    followed = view.followed
    if followed is None or followed.kind is not JobKind.VERSION:
        return False
    job = followed.job
    return job.failed or job.known_state is JobState.FAILED
