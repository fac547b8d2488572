"""Which diffs the list shows, and in what order: the filter and the sort keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from tui.domain.jobs import JobState
from tui.polling.todo import todo_reason

if TYPE_CHECKING:
    from tui.polling.tracker import JobView

SortKey = Literal["state", "id", "eta", "updated"]
SORT_KEYS: Final[tuple[SortKey, ...]] = ("state", "id", "eta", "updated")
SORT_LABELS: Final[dict[SortKey, str]] = {
    "state": "state",
    "id": "ID",
    "eta": "ETA",
    "updated": "last update",
}

_STATE_RANK: Final[dict[JobState | None, int]] = {
    # What needs an operator's eyes first: failures, then work in flight.
    JobState.FAILED: 0,
    JobState.RUNNING: 1,
    JobState.QUEUED: 2,
    JobState.PENDING: 3,
    JobState.CREATED: 4,
    None: 5,
    JobState.COMPLETED: 6,
}


def needs_attention(view: JobView) -> bool:
    """What the quick filter keeps: the diffs that need the operator (the to-do, see
    :func:`tui.polling.todo.todo_reason`)."""
    return todo_reason(view) is not None


def sort_arrow(descending: bool) -> str:
    """The header's mark of the sort direction: ↑ as the key ranks, ↓ reversed."""
    return "↓" if descending else "↑"


def filter_haystack(view: JobView) -> str:
    """What the filter searches: ID, label and state name, lower case, apart (a line
    break between them, which a filter typed on one line never contains)."""
    return f"{view.diffid}\n{view.label.lower()}\n{view.state_name.lower()}"


def sort_value(view: JobView, key: SortKey) -> tuple[float, ...]:
    """Where ``view`` goes in the order of ``key`` (ties are broken by diff ID)."""
    if key == "id":
        return (view.diffid,)
    if key == "state":
        return (_STATE_RANK[view.state], view.diffid)
    if key == "eta":
        eta = view.eta
        return (0, eta, view.diffid) if eta is not None else (1, 0.0, view.diffid)
    # The job's own time (jobupdated), as the time column shows it; not our poll's.
    job = view.job
    updated = job.updated if job is not None and job.updated else None
    return (0, -updated, view.diffid) if updated is not None else (1, 0.0, view.diffid)
