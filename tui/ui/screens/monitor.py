"""The monitor screen: the list of watched diffs, its keys, filter box and header.

The app (:mod:`tui.ui.app`) owns what outlives a screen: settings, theme, the tracker
and the journal, the watchlist file thread, signals and quitting. This screen draws
what the tracker knows and turns the list's keys into tracker and watchlist calls.
Textual's binding chain hides its keys while a dialog is on top.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult, SystemCommand
from textual.binding import BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Input

from tui.api.error_words import poll_error_parts
from tui.domain.jobs import JobState
from tui.domain.text import plain
from tui.domain.wording import count_noun
from tui.polling.job_order import SORT_LABELS, sort_arrow
from tui.polling.todo import todo_reason
from tui.polling.tracker import FollowedJob, JobView
from tui.store.journal import JournalEvent, OutageWatch
from tui.ui.screens.actions import (
    ACTIONS,
    FOOTER_ORDER,
    WRITE_ACTIONS,
    bindings,
    palette_commands,
)
from tui.ui.screens.lifecycle import Lifecycle, followed_notice
from tui.ui.screens.monitor_parts import MonitorParts
from tui.ui.screens.watchlist_edits import WatchlistEdits
from tui.ui.startup.footer import ReadyFooter
from tui.ui.widgets.column_header import ColumnHeader
from tui.ui.widgets.filter_box import FilterBox
from tui.ui.widgets.job_list import JobList
from tui.ui.widgets.notices import Notices
from tui.ui.widgets.status_header import StatusHeader

log = logging.getLogger("tui.ui.app")

WATCHLIST_CHECK_EVERY = 3.0
"""Seconds between looks at the watchlist file (a stat; read only when it changed)."""


class MonitorScreen(Screen[None]):
    """The list of watched diffs with its header, filter box, notices and footer.

    Example:
        >>> # In the app: def get_default_screen(self): return MonitorScreen(parts)
    """

    DEFAULT_CSS = """
    MonitorScreen #filter { dock: bottom; display: none; border: tall $accent; }
    MonitorScreen #filter.-active { display: block; }
    MonitorScreen #empty { padding: 2 4; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = bindings(app_wide=False)

    def __init__(self, parts: MonitorParts) -> None:
        super().__init__()
        self._journal = parts.journal
        self.tracker = parts.tracker
        self.options = options = parts.options
        self.clock = parts.clock
        self._outages = OutageWatch(options.asid)
        self._pending_changes: set[int] = set()
        self._flush_scheduled = False
        self._last_visible: list[int] = []
        self._header = StatusHeader(
            profile=options.profile, asid=options.asid, api_host=options.api_host
        )
        self._job_list = JobList(self.tracker.views, clock=self.clock, id="jobs")
        self._job_list.compact = options.compact
        self.edits = WatchlistEdits(self, parts, self._job_list, self._header)
        self.lifecycle = Lifecycle(
            self, self.tracker, self._job_list, watch=self.edits.watch, show=self.show_diff
        )

    def compose(self) -> ComposeResult:
        yield self._header
        yield ColumnHeader(id="columns")
        yield self._job_list
        # Before the filter box: docked on the same edge, the later one is drawn on top.
        yield Notices(id="notices")
        yield FilterBox(id="filter")
        yield ReadyFooter(order=FOOTER_ORDER)

    @property
    def job_list(self) -> JobList:
        """The list of panels."""
        return self._job_list

    @property
    def header(self) -> StatusHeader:
        """The two-line header."""
        return self._header

    def on_mount(self) -> None:
        self.job_list.empty_hint = (
            f"Nothing watched yet: press {self.key_for('add')} to add diff IDs "
            "(ctrl+p lists every action)."
        )
        self.job_list.lock_key = self.key_for("go_to_lock")
        header = self.header
        header.read_only = self.options.read_only
        header.set_counts(self.tracker.summary())
        header.clock_text = time.strftime("%H:%M", time.localtime(self.clock.now()))
        self.job_list.focus()
        self.watch(self.query_one(FilterBox), "value", self._filter_changed, init=False)
        self.set_interval(1.0, self._tick, name="tick")
        # The command line and other instances write the file too: show what they did.
        self.set_interval(WATCHLIST_CHECK_EVERY, self.edits.check_file, name="watchlist-check")

    def key_for(self, action: str) -> str:
        """The key that runs ``action`` here now (after the keymap), for hints."""
        for active in self.active_bindings.values():
            if active.binding.action == action:
                return self.app.get_key_display(active.binding)
        for row in ACTIONS:
            if row.action == action and row.key is not None:
                return self.app.get_key_display(row.binding())
        return action

    # -- tracker changes --------------------------------------------------------

    def tracker_changed(self, diffids: set[int]) -> None:
        """The tracker has news of ``diffids``: redraw them soon (bursts coalesce)."""
        self._pending_changes |= diffids
        if not self._flush_scheduled and self.is_running:
            self._flush_scheduled = True
            # Coalesce bursts of answers into one redraw.
            self.set_timer(0.05, self._flush_changes)

    def _flush_changes(self) -> None:
        self._flush_scheduled = False
        changed, self._pending_changes = self._pending_changes, set()
        if not self._widgets_alive():
            return
        try:
            self.job_list.rows_changed(changed)
            self.header.set_counts(self.tracker.summary())
            self.show_poll_state()
        except Exception:
            log.exception("redraw after a status change failed")

    def tracker_finished(self, view: JobView) -> None:
        """A diff finished during this session: a notice, and the bell if asked."""
        label = f" ({plain(view.label)})" if view.label else ""
        if view.state is JobState.FAILED:
            error = f": {plain(view.error)}" if view.error else ""
            notice = f"✗ #{view.diffid}{label} failed{error}"
            self.query_one(Notices).add(notice, severity="error", timeout=8)
        else:
            self.query_one(Notices).add(f"✓ #{view.diffid}{label} completed", timeout=6)
        if self.options.bell:
            self.app.bell()

    def followed_finished(self, view: JobView, followed: FollowedJob) -> None:
        """A job an accept or reject started has ended: a notice, and the bell if asked."""
        notice, severity = followed_notice(view, followed)
        self.query_one(Notices).add(notice, severity=severity, timeout=8)
        if self.options.bell:
            self.app.bell()

    def show_poll_state(self) -> None:
        """The header's live / paused / offline words, as the tracker has them now."""
        tracker = self.tracker
        refused = tracker.keys_refused
        self.header.show_poll_state(
            tracker.poll_state,
            tracker.last_answer_at,
            self.clock.now(),
            refused.http_status if refused is not None else None,
        )

    def _widgets_alive(self) -> bool:
        """False while the app shuts down (a timer may still fire after the list is gone)."""
        try:
            self.query_one("#jobs", JobList)
        except NoMatches:
            return False
        return True

    def _tick(self) -> None:
        if not self._widgets_alive():
            return
        try:
            job_list = self.job_list
            job_list.tick()
            visible = job_list.visible_ids()
            if visible != self._last_visible:
                self._last_visible = visible
                self.tracker.set_visible(visible)
            header = self.header
            self.show_poll_state()
            self._note_outage()
            header.clock_text = time.strftime("%H:%M", time.localtime(self.clock.now()))
        except Exception:
            # A timer that raises would take the app down; log it and carry on.
            log.exception("tick failed")

    def _note_outage(self) -> None:
        refused = self.tracker.keys_refused
        why = None if refused is None else poll_error_parts(refused, self.options.asid)[0]
        event = self._outages.observe(
            self.tracker.poll_state,
            now=self.clock.now(),
            last_answer_at=self.tracker.last_answer_at,
            keys_reason=why,
        )
        if event is not None:
            self._journal.append(event)

    # -- list events ----------------------------------------------------------

    def on_job_list_selection_changed(self, event: JobList.SelectionChanged) -> None:
        self.header.selected = event.count

    def on_job_list_columns_changed(self, event: JobList.ColumnsChanged) -> None:
        self.query_one(ColumnHeader).columns = event.columns

    def on_job_list_arranged(self, event: JobList.Arranged) -> None:
        self.header.shown = (event.shown, event.total)

    def on_job_list_activated(self, event: JobList.Activated) -> None:
        self._open_details(event.diffid)

    # -- actions --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Hidden (False), not merely disabled (None): no footer key, no help row. Under
        # a dialog Textual's binding chain already stops these keys; hiding them keeps
        # the dimmed footer behind it to the keys that work (the app's).
        return self.is_active and self.allows(action)

    def allows(self, action: str) -> bool:
        """Whether ``action`` is offered: read-only mode hides the writing ones, and
        offers instead the notice that says why their keys do nothing."""
        if action == "read_only":
            return self.options.read_only
        return not (self.options.read_only and action in WRITE_ACTIONS)

    def action_read_only(self, what: str) -> None:
        self.notify(f"read-only: {what} is disabled", severity="warning")

    def action_accept(self) -> None:
        self.lifecycle.accept()

    def action_reject(self) -> None:
        self.lifecycle.reject()

    def action_go_to_lock(self) -> None:
        self.lifecycle.go_to_lock()

    def action_new_diff(self) -> None:
        self.lifecycle.new_diff()

    def action_retry(self) -> None:
        self.lifecycle.retry()

    def action_add(self) -> None:
        self.edits.add(self.lifecycle.new_diff if self.allows("new_diff") else None)

    def action_remove(self) -> None:
        self.edits.remove(self.job_list.targets(), self.job_list.hidden_selection())

    def action_undo(self) -> None:
        self.edits.undo_remove()

    def action_edit_label(self) -> None:
        self.edits.edit_label(self.job_list.highlighted)

    def _open_details(self, diffid: int) -> None:
        view = self.tracker.views.get(diffid)
        if view is not None:
            retry = self.lifecycle.retry if self.allows("retry") else None
            accept = self.lifecycle.accept if self.allows("accept") else None
            reject = self.lifecycle.reject if self.allows("reject") else None
            # Imported when first shown: the first paint does not wait for it.
            from tui.ui.screens.detail import DetailScreen

            self.app.push_screen(
                DetailScreen(
                    view,
                    fetch=self.tracker.fetch_details,
                    now=self.clock.now,
                    history=lambda: self._journal.actions(diffid, self.options.asid),
                    retry=retry,
                    accept=accept,
                    reject=reject,
                )
            )

    def action_details(self) -> None:
        diffid = self.job_list.highlighted
        if diffid is not None:
            self._open_details(diffid)

    def action_events(self) -> None:
        def load(limit: int) -> list[JournalEvent]:
            return self._journal.read(asid=self.options.asid, limit=limit)

        # Imported when first shown: the first paint does not wait for it.
        from tui.ui.screens.events import EventsScreen

        todo = {
            diffid: reason
            for diffid, view in self.tracker.views.items()
            if (reason := todo_reason(view)) is not None
        }
        self.app.push_screen(EventsScreen(load, todo), self.show_diff)

    def show_diff(self, diffid: int | None) -> None:
        """Put the list's cursor on ``diffid`` (clearing a filter that hides it)."""
        if diffid is None:
            return
        if diffid not in self.tracker.views:
            self.notify(f"#{diffid} is not on the watchlist any more.", severity="warning")
            return
        if diffid not in self.job_list.order:
            self._clear_filter()
        self.job_list.rebuild(keep=diffid)
        self.job_list.focus()

    def _clear_filter(self) -> None:
        self.query_one(FilterBox).close()
        self.job_list.set_filter("")
        self.header.filter_text = ""

    def action_filter(self) -> None:
        self.query_one(FilterBox).open()

    def _filter_changed(self, text: str) -> None:
        # Watched, not an Input.Changed handler: the message reaches the screen after
        # the box's repaint is queued, so the box would be drawn alone, and the list
        # and header in Textual's next frame slot.
        self.job_list.set_filter(text)
        header = self.header
        header.filter_text = text
        header.shown = self.job_list.rows.shown_of()  # before the list's Arranged, too

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one(FilterBox).close()
        self.job_list.focus()

    def on_key(self, event: events.Key) -> None:
        box = self.query_one(FilterBox)
        # Escape clears the filter from its box, and from the list while one is set.
        if event.key == "escape" and (box.has_focus or (box.is_open and self.job_list.has_focus)):
            box.close()
            self.job_list.focus()

    def action_sort(self) -> None:
        self.job_list.cycle_sort()
        self._show_sort()

    def action_sort_reverse(self) -> None:
        self.job_list.reverse_sort()
        self._show_sort()

    def _show_sort(self) -> None:
        """The sort key and its direction, in the header and over its column."""
        rows = self.job_list.rows
        arrow = sort_arrow(rows.descending)
        self.header.sort_label = SORT_LABELS[rows.sort_key]
        self.header.sort_arrow = arrow
        columns = self.query_one(ColumnHeader)
        columns.sort_key = rows.sort_key
        columns.sort_arrow = arrow

    def action_attention(self) -> None:
        on = not self.job_list.rows.attention_only
        self.job_list.set_attention(on)
        self.header.attention = on

    def action_refresh(self) -> None:
        ids = self.job_list.targets()
        if self.tracker.paused:
            self.notify(
                f"Polling is paused: press {self.key_for('pause')} to resume",
                severity="warning",
                markup=False,
            )
            return
        self.tracker.refresh(ids)
        if ids:
            self.notify(f"Refreshing {count_noun(len(ids), 'diff')}")

    def action_select_all(self) -> None:
        self.job_list.select_all()

    def action_select_none(self) -> None:
        self.job_list.select_none()

    def action_copy_id(self) -> None:
        diffid = self.job_list.highlighted
        if diffid is None:
            return
        # Textual copies with OSC 52, which reaches the local clipboard over SSH.
        self.app.copy_to_clipboard(str(diffid))
        self.notify(f"Copied {diffid}")

    def action_compact(self) -> None:
        compact = self.job_list.compact = not self.job_list.compact
        save = self.options.save_compact
        if save is None:
            return
        # Remembered like the theme: the view an operator with many diffs lives in.
        try:
            save(compact)
        except Exception as exc:
            self.notify(
                f"Compact mode applied, but not saved: {plain(str(exc))}",
                severity="warning",
                markup=False,
            )

    # -- command palette ------------------------------------------------------

    def commands(self) -> Iterable[SystemCommand]:
        """The palette's commands for the list (the palette skips check_action)."""
        rows = [row for row in ACTIONS if not row.app_wide and self.allows(row.action)]
        yield from palette_commands(self, rows)
