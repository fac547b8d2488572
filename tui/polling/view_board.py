"""The watched diffs' views, shared by the tracker and its parts, and who hears of changes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from tui.domain.actions import ActionOutcome
from tui.domain.clock import Clock
from tui.domain.jobs import StateGroup
from tui.domain.watch_entry import LastOutcome
from tui.polling.job_view import ActionRecord, JobView, PollKey, saved_outcome
from tui.polling.scheduler import PollScheduler
from tui.polling.todo import todo_reason
from tui.store.journal import EventKind, JournalEvent

logger = logging.getLogger(__name__)


def count_states(views: Iterable[JobView]) -> dict[str, int]:
    """Views per :class:`~tui.domain.jobs.StateGroup`, plus ``erroring``: those whose last poll
    failed (any state), and ``todo``: those that need the operator (any state, see
    :func:`~tui.polling.todo.todo_reason`). Counted afresh: :meth:`ViewBoard.counts`
    keeps the same up to date."""
    counts: dict[str, int] = dict.fromkeys((*StateGroup, "erroring", "todo"), 0)
    for view in views:
        counts[StateGroup.of(view.state)] += 1
        counts["erroring"] += view.poll_error is not None
        counts["todo"] += todo_reason(view) is not None
    return counts


class ViewBoard:
    """Every watched diff's :class:`~tui.polling.job_view.JobView`, and the news of their changes.

    The tracker, its action sender and its followed jobs share one board: a changed view
    goes through :meth:`changed` (so the UI redraws that row), what happened to a diff
    through :meth:`journal`, and :attr:`wake` wakes the polling loop. It decides only
    when a view's next poll time changed; a callback that raises is logged, never fatal.
    """

    def __init__(
        self,
        clock: Clock,
        scheduler: PollScheduler[PollKey],
        on_change: Callable[[set[int]], None] | None,
        on_event: Callable[[JournalEvent], None] | None,
        on_outcome: Callable[[int, str, LastOutcome | None], None] | None = None,
    ) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self._on_change = on_change
        self._on_event = on_event
        self._on_outcome = on_outcome
        self.views: dict[int, JobView] = {}
        """Every watched diff's view, by diff ID."""
        self.wake = asyncio.Event()
        """Set when the polling loop has something new to look at."""
        self.last_answer_at: float | None = None
        """Wall time of the server's last answer, errors included (None: none yet)."""
        self._counts = count_states(())
        self._counted: dict[int, tuple[str, bool, bool]] = {}
        """Per diff, its group, whether it was erroring and whether it was a to-do, as
        ``_counts`` holds it."""
        self._recount: set[int] = set()
        """Diffs notified since ``_counts`` was last brought up to date."""

    def counts(self) -> dict[str, int]:
        """What :func:`count_states` says of the views, recounting only the diffs
        notified since the last call (a header update stays cheap on a long list)."""
        if len(self._counted) + len(self._recount) < len(self.views):
            # A view came in without a notice: count everything once more.
            self._recount.update(self.views)
        # Names bound once: the first call counts every diff before the first frame.
        counts, counted, views = self._counts, self._counted, self.views
        for diffid in self._recount:
            was = counted.pop(diffid, None)
            if was is not None:
                counts[was[0]] -= 1
                counts["erroring"] -= was[1]
                counts["todo"] -= was[2]
            view = views.get(diffid)
            if view is not None:
                group, erroring = StateGroup.of(view.state), view.poll_failure is not None
                todo = todo_reason(view) is not None
                counted[diffid] = (group, erroring, todo)
                counts[group] += 1
                counts["erroring"] += erroring
                counts["todo"] += todo
        self._recount.clear()
        return dict(counts)

    def heard(self) -> None:
        """The server just answered a request (an HTTP error is an answer too)."""
        self.last_answer_at = self.clock.now()

    def refresh_next_poll(self, diffids: Iterable[int]) -> None:
        """Copy the scheduler's due times into these diffs' views (redrawing those changed)."""
        now = self.clock.now()
        changed: set[int] = set()
        for diffid in diffids:
            view = self.views.get(diffid)
            if view is None:
                continue
            due = self.scheduler.due_in(diffid)
            next_at = None if due is None else now + due
            if next_at != view.next_poll_at:
                view.next_poll_at = next_at
                view.version += 1
                changed.add(diffid)
        if changed:
            self.notify(changed)

    def changed(self, view: JobView) -> None:
        """``view`` changed: bump its version and tell the UI."""
        view.version += 1
        self.notify({view.diffid})

    def notify(self, diffids: set[int]) -> None:
        """Tell ``on_change`` that these diffs changed (or were added or removed)."""
        self._recount |= diffids
        if self._on_change is None:
            return
        try:
            self._on_change(diffids)
        except Exception:
            logger.exception("on_change callback failed")

    def journal_action(self, view: JobView, record: ActionRecord, *, keep: bool = True) -> None:
        """Journal an action's sending or outcome, as ``record`` says it now; an outcome
        is also kept with the diff (see :func:`~tui.polling.job_view.saved_outcome`)
        unless not ``keep`` (an action not sent because another's outcome is unknown:
        keeping its outcome would clear that one's note)."""
        if keep and record.outcome is not ActionOutcome.SENT and self._on_outcome is not None:
            try:
                self._on_outcome(view.diffid, record.action, saved_outcome(record))
            except Exception:
                logger.exception("on_outcome callback failed")
        # Each outcome replaces the sending in the lifecycle: keep what was asked in it.
        reason = record.reason
        if record.options:
            reason = f"{record.options}; {reason}" if reason else record.options
        self.journal(
            view,
            kind=EventKind.ACTION,
            action=record.action,
            outcome=record.outcome,
            reason=reason,
            ref=record.ref,
        )

    def journal(self, view: JobView, **fields: Any) -> None:
        """Tell ``on_event`` what happened to ``view``'s diff."""
        if self._on_event is None:
            return
        self.event(
            JournalEvent(
                at=self.clock.now(),
                diffid=view.diffid,
                asid=view.entry.asid,
                label=view.label,
                **fields,
            )
        )

    def event(self, event: JournalEvent) -> None:
        """Hand ``event`` to ``on_event`` (an exception is logged)."""
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:
            logger.exception("on_event callback failed")
