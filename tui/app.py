"""The live monitor: one panel per watched diff, polled in the background.

The app draws what :class:`tui.tracker.Tracker` knows and turns keys into tracker
and watchlist calls. It never calls the network itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Final, Protocol, TypeVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from tui.clock import Clock
from tui.formatting import count_noun
from tui.job_order import SORT_LABELS
from tui.journal import Journal, JournalEvent, OutageWatch
from tui.models import JobState, LastStatus, WatchEntry
from tui.plan import RETRY
from tui.poll_settings import PollSettings
from tui.safetext import plain
from tui.screens.add_diffs import AddDiffsScreen, AddRequest
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.edit_label import EditLabelScreen
from tui.screens.events import EventsScreen
from tui.screens.help import HelpScreen
from tui.screens.plan_text import plan_text
from tui.screens.theme_picker import ThemePicker
from tui.session import FileThread
from tui.terminal_driver import HangupAwareDriver
from tui.themes import DEFAULT_THEME, ThemeCatalog, default_app_variables, load_catalog
from tui.tracker import JobView, StatusClient, Tracker
from tui.widgets.job_list import JobList
from tui.widgets.notices import Notices
from tui.widgets.status_header import StatusHeader

log = logging.getLogger("tui.app")

_T = TypeVar("_T")

STOP_POLLING_WAIT: Final = 1.0
"""Seconds on the way out for the poller to cancel its requests in flight."""
SAVE_ON_EXIT_WAIT: Final = 1.5
"""Seconds on the way out for the watchlist writes still queued (another process's lock)."""
CLOSE_CLIENT_WAIT: Final = 0.3
"""Seconds on the way out for the HTTP client to close its connections."""


_LIST_ACTIONS = frozenset(
    {
        "retry",
        "add",
        "remove",
        "edit_label",
        "filter",
        "sort",
        "refresh",
        "select_all",
        "select_none",
        "copy_id",
        "compact",
        "events",
        "read_only",
    }
)
"""Actions on the main list, hidden while another screen is on top."""


_HELP_SKIPS = frozenset({"page_left", "page_right", "command_palette", "read_only"})
"""Bindings that help leaves out: sideways paging, the palette's (own row), read-only notices."""


class WatchlistPort(Protocol):
    """What the app needs from the watchlist: add, remove, relabel, save status.

    :class:`tui.session.WatchSession` implements it on the watchlist file; tests
    may pass an in-memory one.
    """

    def add(self, ids: Iterable[int], label: str) -> tuple[list[WatchEntry], list[int]]:
        """Add IDs; return the new entries and the IDs that were already watched."""
        ...

    def remove(self, ids: Iterable[int]) -> None:
        """Stop watching these diffs."""
        ...

    def relabel(self, diffid: int, label: str) -> None:
        """Set a diff's label."""
        ...

    def save_status(self, statuses: dict[int, LastStatus]) -> None:
        """Remember the last known status of these diffs."""
        ...

    def listen(
        self, *, on_lock_wait: Callable[[Path], None], on_notice: Callable[[str], None]
    ) -> None:
        """Be told (from the file thread) of waits for another process's lock, and of
        notices such as a corrupt file moved aside."""
        ...


@dataclass
class AppOptions:
    """How this run of the app is set up."""

    profile: str
    asid: int
    host: str
    read_only: bool = False
    bell: bool = False
    compact: bool = False
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    save_theme: Callable[[str], None] | None = None
    """Persist a theme picked with `t` (None: do not persist, e.g. demo or --theme)."""
    poll: PollSettings = field(default_factory=PollSettings)


class ImageDiffApp(App[None]):
    """Watch and retry Clanforge image diffs.

    Example:
        >>> # ImageDiffApp(client, entries, watchlist=session, clock=SystemClock(),
        >>> #              options=AppOptions(profile="prod", asid=1234, host="api...")).run()
    """

    TITLE = "imagediff-tui"
    CSS = """
    Screen { layers: base overlay; }
    #filter { dock: bottom; display: none; border: tall $accent; }
    #filter.-active { display: block; }
    #empty { padding: 2 4; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R", "retry", "Retry", id="retry"),
        Binding("n", "add", "Add", id="add"),
        Binding("d", "remove", "Remove", id="remove"),
        Binding("e", "edit_label", "Label", id="edit-label", show=False),
        Binding("slash", "filter", "Filter", id="filter"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("p", "pause", "Pause", id="pause"),
        Binding("r", "refresh", "Refresh", id="refresh", show=False),
        Binding("a", "select_all", "Select all", id="select-all", show=False),
        Binding("A", "select_none", "Select none", id="select-none", show=False),
        Binding("c", "copy_id", "Copy ID", id="copy-id", show=False),
        Binding("m", "compact", "Compact", id="compact", show=False),
        Binding("t", "pick_theme", "Theme", id="theme", show=False),
        Binding("l", "events", "Events: what happened", id="events", show=False),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
        # Read-only hides retry and remove; these say why their keys do nothing.
        Binding("R", "read_only('retry')", show=False, id="retry-read-only"),
        Binding("d", "read_only('remove')", show=False, id="remove-read-only"),
    ]

    def __init__(
        self,
        client: StatusClient,
        entries: Iterable[WatchEntry],
        *,
        watchlist: WatchlistPort,
        clock: Clock,
        options: AppOptions,
        themes: ThemeCatalog | None = None,
        start_polling: bool = True,
        journal: Journal | None = None,
    ) -> None:
        # The terminal's hang-up (end of input, failed output) becomes a save and exit.
        super().__init__(driver_class=HangupAwareDriver if os.name == "posix" else None)
        self.journal = journal if journal is not None else Journal(None)
        """What happened (the `l` view, the retry history); in memory when None is given."""
        self._outages = OutageWatch(options.asid)
        self.clock = clock
        self._client = client
        self.options = options
        self.watchlist = watchlist
        if themes is None:
            themes = load_catalog(None)
        self.theme_catalog = themes
        self._start_polling = start_polling
        self._pending_changes: set[int] = set()
        self._flush_scheduled = False
        self.tracker = Tracker(
            client,
            entries,
            clock=clock,
            settings=options.poll,
            on_change=self._tracker_changed,
            on_finished=self._tracker_finished,
            save_status=self._save_status,
            on_event=self.journal.append,
        )
        self._last_visible: list[int] = []
        self._quitting = False
        self._exit_reason: str | None = None
        self._terminal_gone = False
        self._loop: asyncio.AbstractEventLoop | None = None
        # All watchlist file work, in order, off the event loop: a big file or another
        # process holding the lock must never stall keys or redraws.
        self._files = FileThread()
        self._lock_waited: Path | None = None
        for source in themes.themes.values():
            self.register_theme(source.theme)
        self.theme = options.theme or DEFAULT_THEME

    # -- layout ---------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusHeader(
            profile=self.options.profile, asid=self.options.asid, host=self.options.host
        )
        job_list = JobList(self.tracker.views, clock=self.clock, id="jobs")
        job_list.compact = self.options.compact
        yield job_list
        # Before the filter box: docked on the same edge, the later one is drawn on top.
        yield Notices(id="notices")
        yield Input(placeholder="filter by ID, label or state · esc clears", id="filter")
        yield Footer()

    def watch_theme(self, theme_name: str) -> None:
        # Textual picks its NO_COLOR filter once, for the theme at start-up; an
        # ANSI theme needs NoColor (Monochrome would grey its colours to black on black).
        if not self.no_color:
            return
        self._filters = [f for f in self._filters if not isinstance(f, NoColor | Monochrome)]
        self._filters.append(NoColor() if self.native_ansi_color else Monochrome())

    def get_theme_variable_defaults(self) -> dict[str, str]:
        # Textual's own themes lack the job-state colours; derive them.
        return default_app_variables(self.current_theme)

    @property
    def job_list(self) -> JobList:
        """The list of panels."""
        return self.query_one("#jobs", JobList)

    @property
    def header(self) -> StatusHeader:
        """The two-line header."""
        return self.query_one(StatusHeader)

    def on_mount(self) -> None:
        if self.options.keymap:
            self._apply_keymap(self.options.keymap)
        self.job_list.empty_hint = (
            f"Nothing watched yet: press {self._key_for('add')} to add diff IDs "
            "(ctrl+p lists every action)."
        )
        header = self.header
        header.read_only = self.options.read_only
        header.set_counts(self.tracker.summary())
        header.clock_text = time.strftime("%H:%M", time.localtime(self.clock.now()))
        self.job_list.focus()
        for notice in self.options.notices:
            self.notify(plain(notice), severity="warning", timeout=15, markup=False)
        self.watchlist.listen(
            on_lock_wait=lambda lock: self._from_thread(self._lock_wait, lock),
            on_notice=lambda notice: self._from_thread(self._file_notice, notice),
        )
        if self._exit_reason is not None:
            self.call_later(self.action_quit)  # asked to leave during start-up
            return
        if self._start_polling:
            self._start_tracker()
        self.set_interval(1.0, self._tick, name="tick")

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        known = {
            binding.id
            for bindings in (self.BINDINGS, JobList.BINDINGS)
            for binding in bindings
            if isinstance(binding, Binding) and binding.id
        }
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.notify(
                f"[keymap] has unknown binding ids: {', '.join(unknown)}. "
                f"Known: {', '.join(sorted(known))}",
                severity="warning",
                timeout=15,
                markup=False,
            )
        keymap = {key: value for key, value in keymap.items() if key in known}
        for moved in {"retry", "remove"} & set(keymap):
            keymap.setdefault(f"{moved}-read-only", keymap[moved])
        self.set_keymap(keymap)

    def _key_for(self, action: str) -> str:
        """The key that runs ``action`` on the list now (after the keymap), for hints."""
        for active in self.screen_stack[0].active_bindings.values():
            if active.binding.action == action:
                return self.get_key_display(active.binding)
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.action == action:
                return self.get_key_display(binding)
        return action

    # -- leaving: q, a hang-up, SIGTERM ------------------------------------------

    def on_load(self) -> None:
        # The earliest moment with a running loop: from here on a signal saves and exits.
        self._loop = asyncio.get_running_loop()
        handlers = {signal.SIGHUP: self._on_sighup, signal.SIGTERM: self._on_sigterm}
        for signum, handler in handlers.items():
            try:
                self._loop.add_signal_handler(signum, handler)
            except (NotImplementedError, RuntimeError, ValueError):
                log.debug("no handler for %s here", signum)

    def _on_sighup(self) -> None:
        # A hang-up means the terminal is gone: writing to it could block for good.
        driver = self._driver
        if isinstance(driver, HangupAwareDriver):
            driver.hang_up("SIGHUP")
        else:
            self.terminal_hung_up("SIGHUP")

    def _on_sigterm(self) -> None:
        self.request_exit("SIGTERM")

    def request_exit(self, reason: str) -> None:
        """Save and exit, as `q` does; ``reason`` is logged. Safe to call more than once."""
        if self._exit_reason is not None or self._quitting:
            return
        self._exit_reason = reason
        log.info("%s; saving and exiting", reason)
        self.call_later(self.action_quit)

    def terminal_hung_up(self, reason: str) -> None:
        """The terminal is gone (see :mod:`tui.terminal_driver`): nothing more is shown."""
        self._terminal_gone = True
        self.request_exit(f"the terminal hung up: {reason}")

    def _from_thread(self, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` on the event loop, from another thread, without waiting."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(callback, *args)

    # -- the watchlist file -----------------------------------------------------

    async def _in_file_thread(self, work: Callable[[], _T]) -> _T:
        """``work()`` done on the file thread, after the file work already queued."""
        return await asyncio.wrap_future(self._files.submit(work))

    def _lock_wait(self, lock: Path) -> None:
        self._lock_waited = lock
        if not self._quitting:
            self.notify(
                f"Waiting for the watchlist lock: another process holds {lock}. "
                "Keys keep working; the change is saved once it lets go.",
                severity="warning",
                timeout=8,
                markup=False,
            )

    def _file_notice(self, notice: str) -> None:
        if not self._quitting:
            self.notify(plain(notice), severity="error", timeout=30, markup=False)

    async def _save_on_exit(self) -> str | None:
        """Wait (bounded) for the file work queued; what could not be saved, in words."""
        try:
            await asyncio.wait_for(self._in_file_thread(lambda: None), SAVE_ON_EXIT_WAIT)
        except TimeoutError:
            where = (
                f": another process holds the lock {self._lock_waited}"
                if self._lock_waited is not None
                else ""
            )
            message = (
                f"The watchlist could not be saved before exit{where}. Not written: the "
                "statuses seen in this run, and any change still waiting to be saved."
            )
            log.error("%s", message)
            return message
        return None

    # -- tracker plumbing -----------------------------------------------------

    def _save_status(self, statuses: dict[int, LastStatus]) -> None:
        self._files.submit(lambda: self._write_status(statuses))

    def _write_status(self, statuses: dict[int, LastStatus]) -> None:
        try:
            self.watchlist.save_status(statuses)
        except Exception:
            log.exception("saving the last statuses to the watchlist failed")

    def _start_tracker(self) -> None:
        self.run_worker(self.tracker.run(), name="poller", group="poller", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.name == "poller" and event.state == WorkerState.ERROR and not self._quitting:
            log.error("polling stopped on an error: %r; restarting", worker.error)
            self.notify(
                f"Polling hit an internal error ({type(worker.error).__name__}); restarting.",
                severity="error",
                markup=False,
            )
            self.set_timer(2.0, self._start_tracker)

    def _tracker_changed(self, diffids: set[int]) -> None:
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
            self._show_poll_state()
        except Exception:
            log.exception("redraw after a status change failed")

    def _tracker_finished(self, view: JobView) -> None:
        label = f" ({plain(view.label)})" if view.label else ""
        if view.state is JobState.FAILED:
            error = f": {plain(view.error)}" if view.error else ""
            notice = f"✗ #{view.diffid}{label} failed{error}"
            self.query_one(Notices).add(notice, severity="error", timeout=8)
        else:
            self.query_one(Notices).add(f"✓ #{view.diffid}{label} completed", timeout=6)
        if self.options.bell:
            self.bell()

    def _show_poll_state(self) -> None:
        tracker = self.tracker
        self.header.show_poll_state(tracker.poll_state, tracker.last_answer_at, self.clock.now())

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
            self._show_poll_state()
            self._note_outage()
            header.clock_text = time.strftime("%H:%M", time.localtime(self.clock.now()))
        except Exception:
            # A timer that raises would take the app down; log it and carry on.
            log.exception("tick failed")

    def _note_outage(self) -> None:
        event = self._outages.observe(
            self.tracker.poll_state,
            now=self.clock.now(),
            last_answer_at=self.tracker.last_answer_at,
        )
        if event is not None:
            self.journal.append(event)

    # -- list events ----------------------------------------------------------

    def on_job_list_selection_changed(self, event: JobList.SelectionChanged) -> None:
        self.header.selected = event.count

    def on_job_list_activated(self, event: JobList.Activated) -> None:
        self._open_details(event.diffid)

    # -- actions --------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("retry", "remove", "read_only") and (
            self.options.read_only != (action == "read_only")
        ):
            # Hidden (False), not merely disabled (None): no footer key, no help row.
            return False
        # Other screens (details, dialogs) have their own keys; the list's would act unseen.
        return action not in _LIST_ACTIONS or self.screen is self.screen_stack[0]

    def action_read_only(self, what: str) -> None:
        self.notify(f"read-only: {what} is disabled", severity="warning")

    def _targets(self) -> list[int]:
        return self.job_list.targets()

    def action_retry(self) -> None:
        self.confirm_retry(self._targets())

    def confirm_retry(self, ids: list[int]) -> None:
        """Show what a retry of ``ids`` would send and skip; send it if confirmed."""
        if not ids:
            self.notify("Nothing to retry: the list is empty.", severity="warning")
            return
        plan = self.tracker.plan(RETRY, ids)
        send = list(plan.send)
        text = plan_text(plan, self.tracker.views)
        title = f"Retry {count_noun(len(send), 'diff')}?"
        if not send:
            title = "Nothing can be retried"

        def confirmed(ok: bool | None) -> None:
            if ok and send:
                self._send_retries(send)

        self.push_screen(
            ConfirmScreen(title, text, confirm="Retry", can_confirm=bool(send)), confirmed
        )

    @work(group="retry")
    async def _send_retries(self, ids: list[int]) -> None:
        try:
            results = await self.tracker.retry(ids)
        except Exception as exc:
            log.exception("retry failed")
            self.notify(f"Retry failed: {plain(str(exc))}", severity="error", markup=False)
            return
        outcomes: dict[str, int] = {}
        for record in results.values():
            outcomes[record.outcome] = outcomes.get(record.outcome, 0) + 1
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        severity = "information"
        if outcomes.get("unknown") or outcomes.get("failed") or outcomes.get("rejected"):
            severity = "warning"
        # The tracker checks again: a diff that changed while the dialog was open is not sent.
        unsent = [diffid for diffid in ids if diffid not in results]
        if unsent:
            listed = ", ".join(f"#{diffid}" for diffid in unsent[:10])
            summary = (summary + "; " if summary else "") + (
                f"not sent (no longer Completed or Failed): {listed}"
            )
            severity = "warning"
        self.notify(f"Retry: {summary}", severity=severity, markup=False)  # type: ignore[arg-type]
        self.job_list.rows_changed(results.keys())

    def _not_saved(self, thing: str, exc: Exception) -> None:
        # The list on screen is unchanged, so nothing is lost; say why and carry on.
        log.exception("saving the %s failed", thing)
        self.notify(
            f"Could not save the {thing}: {plain(str(exc))}",
            severity="error",
            markup=False,
        )

    def action_add(self) -> None:
        def added(request: AddRequest | None) -> None:
            if request is not None:
                self.run_worker(self._add(request), group="watchlist")

        self.push_screen(AddDiffsScreen(), added)

    async def _add(self, request: AddRequest) -> None:
        try:
            entries, already = await self._in_file_thread(
                lambda: self.watchlist.add(request.ids, request.label)
            )
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return
        if self._quitting:
            return
        # Another instance may have put an ID in the file after this one started:
        # "already watched", but not on this screen. Show it (its label is in the file).
        elsewhere = [diffid for diffid in already if diffid not in self.tracker.views]
        shown = [
            WatchEntry(diffid=diffid, asid=self.options.asid, profile=self.options.profile)
            for diffid in elsewhere
        ]
        self.tracker.add([*entries, *shown])
        keep = next((i for i in request.ids if i in self.tracker.views), None)
        self.job_list.rebuild(keep=keep)
        self.header.set_counts(self.tracker.summary())
        note = f"Added {count_noun(len(entries), 'diff')}"
        if elsewhere:
            note += (
                f"; now shown, added by another instance: "
                f"{', '.join(f'#{i}' for i in elsewhere[:10])}"
            )
        watched = [diffid for diffid in already if diffid not in elsewhere]
        if watched:
            note += f"; already watched: {', '.join(f'#{i}' for i in watched[:10])}"
        self.notify(note, markup=False)

    def action_remove(self) -> None:
        ids = self._targets()
        if not ids:
            return
        body = Text()
        for diffid in ids[:50]:
            view = self.tracker.views[diffid]
            body.append(f"  #{diffid} {plain(view.label)}  {view.state_name}\n")
        if len(ids) > 50:
            body.append(f"  … and {len(ids) - 50} more\n")
        body.append("\nThe diffs themselves are not touched on the server.", style="italic")

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.run_worker(self._remove(ids), group="watchlist")

        title = f"Stop watching {count_noun(len(ids), 'diff')}?"
        self.push_screen(ConfirmScreen(title, body, confirm="Remove"), confirmed)

    async def _remove(self, ids: list[int]) -> None:
        try:
            await self._in_file_thread(lambda: self.watchlist.remove(ids))
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return
        if self._quitting:
            return
        self.tracker.remove(ids)
        self.job_list.selected -= set(ids)
        self.job_list.rebuild()
        self.header.selected = len(self.job_list.selected)
        self.header.set_counts(self.tracker.summary())
        self.notify(f"Removed {len(ids)} from the watchlist", markup=False)

    def action_edit_label(self) -> None:
        diffid = self.job_list.highlighted
        if diffid is None:
            return
        view = self.tracker.views[diffid]

        def edited(label: str | None) -> None:
            if label is not None:
                self.run_worker(self._relabel(diffid, label), group="watchlist")

        self.push_screen(EditLabelScreen(diffid, view.label), edited)

    async def _relabel(self, diffid: int, label: str) -> None:
        try:
            await self._in_file_thread(lambda: self.watchlist.relabel(diffid, label))
        except Exception as exc:
            self._not_saved("label", exc)
            return
        if not self._quitting:
            self.tracker.relabel(diffid, label)
            self.job_list.rows_changed([diffid])

    def _open_details(self, diffid: int) -> None:
        view = self.tracker.views.get(diffid)
        if view is not None:
            retry = None if self.options.read_only else self.confirm_retry
            self.push_screen(
                DetailScreen(
                    view,
                    fetch=self.tracker.fetch_details,
                    now=self.clock.now,
                    history=lambda: self.journal.actions(diffid, self.options.asid),
                    retry=retry,
                )
            )

    def action_details(self) -> None:
        diffid = self.job_list.highlighted
        if diffid is not None:
            self._open_details(diffid)

    def action_events(self) -> None:
        def load(limit: int) -> list[JournalEvent]:
            return self.journal.read(asid=self.options.asid, limit=limit)

        self.push_screen(EventsScreen(load), self._show_diff)

    def _show_diff(self, diffid: int | None) -> None:
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
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("-active")
        self.job_list.set_filter("")
        self.header.filter_text = ""

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-active")
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.job_list.set_filter(event.value)
        self.header.filter_text = event.value

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.remove_class("-active")
        self.job_list.focus()

    def on_key(self, event: events.Key) -> None:
        if event.key != "escape" or self.screen is not self.screen_stack[0]:
            return
        box = self.query_one("#filter", Input)
        # Escape clears the filter from its box, and from the list while one is set.
        if box.has_focus or (box.has_class("-active") and self.job_list.has_focus):
            box.value = ""
            box.remove_class("-active")
            self.job_list.focus()

    def action_sort(self) -> None:
        key = self.job_list.cycle_sort()
        self.header.sort_label = SORT_LABELS[key]

    def action_pause(self) -> None:
        if self.tracker.paused:
            self.tracker.resume()
            self.notify("Polling resumed")
        else:
            self.tracker.pause()
            self.notify(f"Polling paused: press {self._key_for('pause')} to resume", markup=False)
        self._show_poll_state()

    def action_refresh(self) -> None:
        ids = self._targets()
        if self.tracker.paused:
            self.notify(
                f"Polling is paused: press {self._key_for('pause')} to resume",
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
        self.copy_to_clipboard(str(diffid))
        self.notify(f"Copied {diffid}")

    def action_compact(self) -> None:
        self.job_list.compact = not self.job_list.compact

    def action_pick_theme(self) -> None:
        # Only our catalog: a theme saved from here must be one the next start accepts.
        names = self.theme_catalog.names()
        original = self.theme

        def picked(name: str | None) -> None:
            if name is None or name == original:
                return
            if self.options.save_theme is not None:
                try:
                    self.options.save_theme(name)
                except Exception as exc:
                    self.notify(
                        f"Theme applied, but not saved: {plain(str(exc))}",
                        severity="warning",
                        markup=False,
                    )
                    return
            self.notify(f"Theme: {name}")

        self.push_screen(ThemePicker(names, original), picked)

    def action_change_theme(self) -> None:
        # Textual's own palette command "Theme" lands here: the picker that saves.
        self.action_pick_theme()

    def action_help(self) -> None:
        # The app's actions first, then the list's keys, then Textual's own (scrolling,
        # focus); on another screen, that screen's keys first. Aliases share a row.
        ids = [
            binding.id
            for binding in (*self.BINDINGS, *JobList.BINDINGS)
            if isinstance(binding, Binding) and binding.id
        ]
        order = {binding_id: index for index, binding_id in enumerate(ids)}
        keys: dict[tuple[str, str], list[str]] = {}
        rank: dict[tuple[str, str], int] = {}
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if binding.action.startswith("scroll_") or binding.action in _HELP_SKIPS:
                continue  # the list's cursor keys scroll it; the palette has its own row
            description = binding.description or binding.action.replace("_", " ")
            row = (binding.action, description)
            keys.setdefault(row, []).append(self.get_key_display(binding))
            if active.node is self.screen and self.screen is not self.screen_stack[0]:
                rank.setdefault(row, -1)
            rank.setdefault(row, order.get(binding.id or "", len(order)))
        rows = [(" ".join(keys[row]), row[1]) for row in sorted(keys, key=rank.__getitem__)]
        rows.append(("ctrl+p", "Command palette: every action by name"))
        self.push_screen(HelpScreen(rows))

    def action_help_quit(self) -> None:
        # Textual's own hint names only ctrl+q; this app's quit key is shorter.
        keys = [
            self.get_key_display(active.binding)
            for active in self.screen_stack[0].active_bindings.values()
            if active.binding.id == "quit"
        ]
        self.notify(f"Press {' or '.join([*keys, 'ctrl+q'])} to quit the app", markup=False)

    async def action_quit(self) -> None:
        # Every wait is bounded: a hang-up must end the process within seconds.
        if self._quitting:
            return
        self._quitting = True
        try:
            # Its last act queues the final status save on the file thread.
            await asyncio.wait_for(self.tracker.close(), STOP_POLLING_WAIT)
        except Exception:
            log.exception("closing the poller failed")
        unsaved = await self._save_on_exit()
        closer = getattr(self._client, "aclose", None)
        if closer is not None:
            try:
                await asyncio.wait_for(closer(), CLOSE_CLIENT_WAIT)
            except Exception:
                log.exception("closing the HTTP client failed")
        show = unsaved is not None and not self._terminal_gone
        self.exit(message=Text(unsaved) if show and unsaved else None)

    # -- command palette ------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        commands: list[tuple[str, str, str]] = [
            ("Retry selected diffs", "Retry the selected (or focused) diffs", "retry"),
            ("Add diffs", "Add diff IDs to the watchlist", "add"),
            ("Remove diffs", "Stop watching the selected diffs", "remove"),
            ("Edit label", "Change the focused diff's label", "edit_label"),
            ("Show details", "Open the focused diff's detail screen", "details"),
            ("Filter", "Filter by ID, label or state", "filter"),
            ("Cycle sort", "Sort by state, ID, ETA or last update", "sort"),
            ("Pause / resume polling", "Stop or restart all status requests", "pause"),
            ("Refresh now", "Poll the selected (or focused) diffs now", "refresh"),
            ("Select all", "Select every diff the filter shows", "select_all"),
            ("Select none", "Clear the selection", "select_none"),
            ("Copy diff ID", "Copy the focused diff's ID (OSC 52)", "copy_id"),
            ("Toggle compact mode", "One line per diff", "compact"),
            ("Pick theme", "Choose a theme with a live preview", "pick_theme"),
            ("Events", "What happened: state changes, retries, outages", "events"),
            # Not "Keys": Textual's own "Keys" (its help panel) is listed too.
            ("Key bindings", "Show every key binding of the monitor", "help"),
        ]
        # The palette skips check_action: apply its rules here. ``screen`` is the one
        # the palette was opened on; the list's actions would act unseen behind another.
        on_list = screen is self.screen_stack[0]
        for title, help_text, action in commands:
            if self.options.read_only and action in ("retry", "remove"):
                continue
            if not on_list and (action in _LIST_ACTIONS or action == "details"):
                continue
            callback: Callable[[], object] = getattr(self, f"action_{action}")
            yield SystemCommand(title, help_text, callback)
