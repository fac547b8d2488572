"""The app: start-up, settings, theme, the tracker's and journal's lifetime, quitting.

The main screen (:class:`tui.screens.monitor.MonitorScreen`) draws what
:class:`tui.tracker.Tracker` knows and turns the list's keys into tracker and
watchlist calls. Nothing here calls the network itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar, Final, TypeVar

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.dom import DOMNode
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.app_options import AppOptions, WatchlistPort
from tui.clock import Clock
from tui.journal import Journal
from tui.models import LastStatus, WatchEntry
from tui.safetext import plain
from tui.screens.actions import ACTIONS, bindings, read_only_keymap
from tui.screens.help import HelpScreen
from tui.screens.monitor import MonitorScreen
from tui.screens.theme_picker import ThemePicker
from tui.session import FileThread
from tui.terminal_driver import HangupAwareDriver
from tui.themes import DEFAULT_THEME, ThemeCatalog, default_app_variables, load_catalog
from tui.tracker import JobView, StatusClient, Tracker
from tui.widgets.job_list import JobList

__all__ = ["AppOptions", "ImageDiffApp", "WatchlistPort"]

log = logging.getLogger("tui.app")

_T = TypeVar("_T")

STOP_POLLING_WAIT: Final = 1.0
"""Seconds on the way out for the poller to cancel its requests in flight."""
SAVE_ON_EXIT_WAIT: Final = 1.5
"""Seconds on the way out for the watchlist writes still queued (another process's lock)."""
CLOSE_CLIENT_WAIT: Final = 0.3
"""Seconds on the way out for the HTTP client to close its connections."""


_HELP_SKIPS = frozenset({"page_left", "page_right", "command_palette", "read_only"})
"""Bindings that help leaves out: sideways paging, the palette's (own row), read-only notices."""


class ImageDiffApp(App[None]):
    """Watch and retry Clanforge image diffs.

    Example:
        >>> # ImageDiffApp(client, entries, watchlist=session, clock=SystemClock(),
        >>> #              options=AppOptions(profile="prod", asid=1234, host="api...")).run()
    """

    TITLE = "imagediff-tui"
    BINDINGS: ClassVar[list[BindingType]] = bindings(app_wide=True)

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
        self.clock = clock
        self._client = client
        self.options = options
        self.watchlist = watchlist
        if themes is None:
            themes = load_catalog(None)
        self.theme_catalog = themes
        self._start_polling = start_polling
        self._monitor: MonitorScreen | None = None
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

    def get_default_screen(self) -> MonitorScreen:
        self._monitor = MonitorScreen(self)
        return self._monitor

    @property
    def monitor(self) -> MonitorScreen:
        """The main screen: the list of diffs (under any dialog)."""
        assert self._monitor is not None, "the app has not started"
        return self._monitor

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

    def on_mount(self) -> None:
        if self.options.keymap:
            self._apply_keymap(self.options.keymap)
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

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        known = {row.id for row in ACTIONS if row.key is not None} | set(_binding_ids(JobList))
        unknown = sorted(set(keymap) - known)
        if unknown:
            self.notify(
                f"[keymap] has unknown binding ids: {', '.join(unknown)}. "
                f"Known: {', '.join(sorted(known))}",
                severity="warning",
                timeout=15,
                markup=False,
            )
        self.set_keymap(read_only_keymap({k: v for k, v in keymap.items() if k in known}))

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

    @property
    def quitting(self) -> bool:
        """True once `q` (or a signal) started the way out."""
        return self._quitting

    async def in_file_thread(self, work: Callable[[], _T]) -> _T:
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
            await asyncio.wait_for(self.in_file_thread(lambda: None), SAVE_ON_EXIT_WAIT)
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
        if self._monitor is not None:
            self._monitor.tracker_changed(diffids)

    def _tracker_finished(self, view: JobView) -> None:
        if self._monitor is not None:
            self._monitor.tracker_finished(view)

    # -- app-wide actions (under dialogs too) -------------------------------------

    def action_pause(self) -> None:
        if self.tracker.paused:
            self.tracker.resume()
            self.notify("Polling resumed")
        else:
            self.tracker.pause()
            key = self.monitor.key_for("pause")
            self.notify(f"Polling paused: press {key} to resume", markup=False)
        self.monitor.show_poll_state()

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
        ids = [row.id for row in ACTIONS if row.key is not None] + _binding_ids(JobList)
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
            if active.node is self.screen and binding.id not in order and not _textuals(binding):
                rank.setdefault(row, -1)
            rank.setdefault(row, order.get(binding.id or "", len(order)))
        rows = [(" ".join(keys[row]), row[1]) for row in sorted(keys, key=rank.__getitem__)]
        rows.append(("ctrl+p", "Command palette: every action by name"))
        self.push_screen(HelpScreen(rows))

    def action_help_quit(self) -> None:
        # Textual's own hint names only ctrl+q; this app's quit key is shorter.
        keys = [
            self.get_key_display(active.binding)
            for active in self.monitor.active_bindings.values()
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
        for row in ACTIONS:
            if row.title is not None and row.app_wide:
                callback: Callable[[], object] = getattr(self, f"action_{row.action}")
                yield SystemCommand(row.title, row.help, callback)
        # The list's commands only on the list: behind another screen they would act unseen.
        if isinstance(screen, MonitorScreen):
            yield from screen.commands()


def _binding_ids(node: type[DOMNode]) -> list[str]:
    """The binding ids of a widget class (the keymap's names for its keys), in order."""
    return [b.id for b in node.BINDINGS if isinstance(b, Binding) and b.id]


_TEXTUAL_SCREEN_ACTIONS: Final = frozenset(
    binding.action for binding in Screen.BINDINGS if isinstance(binding, Binding)
)


def _textuals(binding: Binding) -> bool:
    """One of the keys every Textual screen has (focus, copy), not a screen's own."""
    return binding.action in _TEXTUAL_SCREEN_ACTIONS
