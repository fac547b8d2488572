"""The app: start-up, settings, theme, the tracker's and journal's lifetime, quitting.

The main screen (:class:`tui.screens.monitor.MonitorScreen`) draws what
:class:`tui.tracker.Tracker` knows and turns the list's keys into tracker and
watchlist calls. Nothing here calls the network itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar, Final

from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.filter import Monochrome, NoColor
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.app_options import AppOptions, WatchlistPort
from tui.clock import Clock
from tui.journal import Journal
from tui.models import WatchEntry
from tui.safetext import plain
from tui.screens.actions import ACTIONS, binding_ids, bindings, checked_keymap
from tui.screens.monitor import MonitorScreen
from tui.terminal_driver import HangupAwareDriver, handle_signals
from tui.themes import DEFAULT_THEME, ThemeCatalog, default_app_variables, load_catalog
from tui.tracker import FollowedJob, JobView, StatusClient, Tracker
from tui.watchlist_writes import WatchlistWrites

__all__ = ["AppOptions", "ImageDiffApp", "WatchlistPort"]

log = logging.getLogger("tui.app")


STOP_POLLING_WAIT: Final = 1.0
"""Seconds on the way out for the poller to cancel its requests in flight."""
SAVE_ON_EXIT_WAIT: Final = 1.5
"""Seconds on the way out for the watchlist writes still queued (another process's lock)."""
CLOSE_CLIENT_WAIT: Final = 0.3
"""Seconds on the way out for the HTTP client to close its connections."""


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
            save_status=lambda statuses: self.writes.save_status(statuses),
            on_event=self.journal.append,
            on_followed_finished=self._followed_finished,
            save_decision=lambda entry: self.writes.save_decision(entry),
        )
        self._quitting = False
        self._exit_reason: str | None = None
        self._terminal_gone = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.writes = WatchlistWrites(watchlist)
        """All watchlist file work, in order, off the event loop."""
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
            # After the first frame: the first request imports httpx in a thread, which
            # would hold the GIL while the screen is drawn.
            self.call_after_refresh(self._start_tracker)

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        keymap, warning = checked_keymap(keymap)
        if warning:
            self.notify(warning, severity="warning", timeout=15, markup=False)
        self.set_keymap(keymap)

    # -- leaving: q, a hang-up, SIGTERM ------------------------------------------

    def on_load(self) -> None:
        # The earliest moment with a running loop: from here on a signal saves and exits.
        self._loop = asyncio.get_running_loop()
        handle_signals(self._loop, {"SIGHUP": self._on_sighup, "SIGTERM": self._on_sigterm})

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

    def _lock_wait(self, lock: Path) -> None:
        notice = self.writes.waiting_for(lock)
        if not self._quitting:
            self.notify(notice, severity="warning", timeout=8, markup=False)

    def _file_notice(self, notice: str) -> None:
        if not self._quitting:
            self.notify(plain(notice), severity="error", timeout=30, markup=False)

    # -- tracker plumbing -----------------------------------------------------

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

    def _followed_finished(self, view: JobView, followed: FollowedJob) -> None:
        if self._monitor is not None:
            self._monitor.followed_finished(view, followed)

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
        # Imported when first shown: the first paint does not wait for it.
        from tui.screens.theme_picker import ThemePicker, theme_saver

        picked = theme_saver(self, original, self.options.save_theme)
        self.push_screen(ThemePicker(names, original), picked)

    def action_change_theme(self) -> None:
        # Textual's own palette command "Theme" lands here: the picker that saves.
        self.action_pick_theme()

    def action_help(self) -> None:
        # The monitor's actions in table order, then the list's keys, then Textual's own.
        from tui.screens.help import HelpScreen, help_rows

        rows = help_rows(self.screen, binding_ids(), self.get_key_display)
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
        unsaved = await _wind_down(self.tracker, self.writes, self._client)
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


async def _wind_down(tracker: Tracker, writes: WatchlistWrites, client: object) -> str | None:
    """Stop polling, save what is queued, close the client, each within its bound; what
    could not be saved, in words (None: all saved)."""
    try:
        # Its last act queues the final status save on the file thread.
        await asyncio.wait_for(tracker.close(), STOP_POLLING_WAIT)
    except Exception:
        log.exception("closing the poller failed")
    unsaved = await writes.drain(SAVE_ON_EXIT_WAIT)
    closer = getattr(client, "aclose", None)
    if closer is not None:
        try:
            await asyncio.wait_for(closer(), CLOSE_CLIENT_WAIT)
        except Exception:
            log.exception("closing the HTTP client failed")
    return unsaved
