"""The app: start-up, settings, the tracker's and journal's lifetime, switching account, quitting.

The main screen (:class:`tui.ui.screens.monitor.MonitorScreen`) draws what
:class:`tui.polling.tracker.Tracker` knows and turns the list's keys into tracker and
watchlist calls. Nothing here calls the network itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from rich.text import Text
from textual.app import SystemCommand
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui.domain.clock import Clock
from tui.domain.text import plain
from tui.domain.watch_entry import WatchEntry
from tui.polling.tracker import FollowedJob, JobView, StatusClient, Tracker
from tui.store.journal import Journal
from tui.ui.app_options import AppOptions, WatchlistPort
from tui.ui.screens.actions import ACTIONS, binding_ids, bindings, checked_keymap, palette_commands
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.monitor_parts import MonitorParts
from tui.ui.terminal_driver import HangupAwareDriver, exit_on_signals
from tui.ui.themed_app import ThemedApp
from tui.ui.themes import ThemeCatalog
from tui.ui.watchlist_writes import WatchlistWrites

if TYPE_CHECKING:
    from tui.ui.profile_switch import OpenedAccount

__all__ = ["AppOptions", "ImageDiffApp", "WatchlistPort"]

log = logging.getLogger("tui.ui.app")


STOP_POLLING_WAIT: Final = 1.0
"""Seconds on the way out for the poller to cancel its requests in flight."""
SAVE_ON_EXIT_WAIT: Final = 1.5
"""Seconds on the way out for the watchlist writes still queued (another process's lock)."""
CLOSE_CLIENT_WAIT: Final = 0.3
"""Seconds on the way out for the HTTP client to close its connections."""
NO_OTHER_PROFILE: Final = "No other profile."
FIRST_FRAME_WAIT: Final = 0.25
"""Seconds the work that waits for the first frame to be on the terminal waits at most."""
START_SWITCH_INTERVAL: Final = 0.001
"""Seconds a thread holds the interpreter lock before it is offered to another, until
the first frame is on the terminal (Python's default is 0.005): Textual's writer
thread waits for the lock at each partial write of a frame while the event loop
works, and the first frame reached the terminal 9 to 15 ms after it was drawn (4 to
6 ms at this interval)."""


class ImageDiffApp(ThemedApp):
    """Watch and retry Clanforge image diffs.

    Example:
        >>> # ImageDiffApp(client, entries, watchlist=session, clock=SystemClock(),
        >>> #              options=AppOptions(profile="prod", asid=1234, api_host="api...")).run()
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
        super().__init__(
            themes=themes,
            theme=options.theme,
            save_theme=options.save_theme,
            driver_class=HangupAwareDriver if os.name == "posix" else None,
        )
        self.journal = journal if journal is not None else Journal(None)
        """What happened (the `l` view, the action history); in memory when None is given."""
        self.clock = clock
        self._client = client
        self.options = options
        self.watchlist = watchlist
        self._start_polling = start_polling
        self._monitor: MonitorScreen | None = None
        self._switched_monitor = False
        self.tracker = self._new_tracker(client, entries)
        self._quitting = False
        self._exit_reason: str | None = None
        self._terminal_gone = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._painted: list[Callable[[], None]] | None = []
        """Waiting for the first frame to be on the terminal; None once it is."""
        self._switch_interval: float | None = None
        """The interpreter's switch interval before start-up shortened it."""
        self.writes = WatchlistWrites(watchlist)
        """All watchlist file work, in order, off the event loop."""

    # -- layout ---------------------------------------------------------------

    def get_default_screen(self) -> MonitorScreen:
        self._monitor = MonitorScreen(self._monitor_parts())
        return self._monitor

    def _monitor_parts(self) -> MonitorParts:
        """The current account's pieces, as a monitor screen shows them."""
        return MonitorParts(
            tracker=self.tracker,
            journal=self.journal,
            clock=self.clock,
            options=self.options,
            watchlist=self.watchlist,
            writes=self.writes,
            quitting=lambda: self.quitting,
        )

    @property
    def monitor(self) -> MonitorScreen:
        """The main screen: the list of diffs (under any dialog)."""
        assert self._monitor is not None, "the app has not started"
        return self._monitor

    def on_mount(self) -> None:
        self.call_after_refresh(self._first_frame_drawn)
        if self.options.keymap:
            self._apply_keymap(self.options.keymap)
        for notice in self.options.notices:
            self.notify(plain(notice), severity="warning", timeout=15, markup=False)
        self._listen_to_watchlist()
        if self._exit_reason is not None:
            self.call_later(self.action_quit)  # asked to leave during start-up
            return
        if self._start_polling:
            # After the first frame: the first request imports httpx in a thread, which
            # would hold the GIL while the screen is drawn and sent.
            self.after_first_paint(self._start_tracker)

    def after_first_paint(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the first frame is on the terminal (now, if it is).

        Work that can wait for it asks here: run as soon as the frame is drawn, it held
        the GIL that Textual's writer thread needs to send the frame (see
        :class:`tui.ui.terminal_driver.OutputSent`).
        """
        if self._painted is None:
            callback()
        else:
            self._painted.append(callback)

    def _first_frame_drawn(self) -> None:
        driver = self._driver
        if isinstance(driver, HangupAwareDriver):
            driver.after_output(self._first_frame_out)
            # A terminal that takes no output (a stalled link, ctrl+s) must not keep
            # the polling from starting.
            self.set_timer(FIRST_FRAME_WAIT, self._first_frame_out)
        else:
            self._first_frame_out()

    def _first_frame_out(self) -> None:
        if self._painted is None:
            return
        waiting, self._painted = self._painted, None
        self._end_start_up()
        # The command line starts the app with the cyclic collector off (tui.cli.main).
        _collect_after_start()
        for callback in waiting:
            callback()

    def _listen_to_watchlist(self) -> None:
        # Both are called on the file thread.
        def lock_wait(lock: Path) -> None:
            self._from_thread(self._file_notice, self.writes.waiting_for(lock), "warning", 8)

        def notice(text: str) -> None:
            self._from_thread(self._file_notice, plain(text), "error", 30)

        self.watchlist.listen(on_lock_wait=lock_wait, on_notice=notice)

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        keymap, warning = checked_keymap(keymap)
        if warning:
            self.notify(warning, severity="warning", timeout=15, markup=False)
        self.set_keymap(keymap)

    # -- leaving: q, a hang-up, SIGTERM ------------------------------------------

    def on_load(self) -> None:
        # The earliest moment with a running loop: from here on a signal saves and exits.
        self._loop = asyncio.get_running_loop()
        exit_on_signals(
            self,
            self._loop,
            request_exit=self.request_exit,
            terminal_hung_up=self.terminal_hung_up,
        )
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, START_SWITCH_INTERVAL))

    def on_unmount(self) -> None:
        # However the app ends (an exit before its first frame is out, an error), the
        # process keeps Python's own turns at the interpreter lock.
        self._end_start_up()

    def _end_start_up(self) -> None:
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    def request_exit(self, reason: str) -> None:
        """Save and exit, as `q` does; ``reason`` is logged. Safe to call more than once."""
        if self._exit_reason is not None or self._quitting:
            return
        self._exit_reason = reason
        log.info("%s; saving and exiting", reason)
        self.call_later(self.action_quit)

    def terminal_hung_up(self, reason: str) -> None:
        """The terminal is gone (see :mod:`tui.ui.terminal_driver`): nothing more is shown."""
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

    def _file_notice(self, notice: str, severity: SeverityLevel, timeout: float) -> None:
        if not self._quitting:
            self.notify(notice, severity=severity, timeout=timeout, markup=False)

    # -- tracker plumbing -----------------------------------------------------

    def _new_tracker(self, client: StatusClient, entries: Iterable[WatchEntry]) -> Tracker:
        return Tracker(
            client,
            entries,
            clock=self.clock,
            settings=self.options.poll,
            on_change=self._tracker_changed,
            on_finished=self._tracker_finished,
            save_status=lambda statuses: self.writes.save_status(statuses),
            on_event=self.journal.append,
            on_followed_finished=self._followed_finished,
            save_decision=lambda entry: self.writes.save_decision(entry),
        )

    def _start_tracker(self) -> None:
        self.run_worker(self.tracker.run(), name="poller", group="poller", exit_on_error=False)

    def _tracker_changed(self, diffids: set[int]) -> None:
        if self._monitor is not None:
            self._monitor.tracker_changed(diffids)

    def _tracker_finished(self, view: JobView) -> None:
        if self._monitor is not None:
            self._monitor.tracker_finished(view)

    def _followed_finished(self, view: JobView, followed: FollowedJob) -> None:
        if self._monitor is not None:
            self._monitor.followed_finished(view, followed)

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

    def action_switch_profile(self) -> None:
        """Show the profile picker, or say why there is nothing to switch to."""
        # Imported when first shown: the first paint does not wait for it.
        from tui.ui.screens.profile_picker import ProfilePicker

        profiles = self.options.profiles
        choices = profiles.choices() if profiles is not None else []
        if all(choice.name == self.options.profile for choice in choices):
            only_one = profiles.only_one if profiles is not None else NO_OTHER_PROFILE
            self.notify(only_one, severity="warning", markup=False)
            return

        def picked(name: str | None) -> None:
            if name is not None and name != self.options.profile:
                self.run_worker(self._switch_to(name), group="switch-profile", exclusive=True)

        self.push_screen(ProfilePicker(choices, self.options.profile), picked)

    async def _switch_to(self, name: str) -> None:
        """Open ``name``'s account; only then stop the old one and show the new.

        A profile that cannot be opened (a missing key, a failing secret command) or
        whose keys the server refuses is reported in words, and the current account
        keeps running.
        """
        from tui.ui.profile_switch import refused_keys

        profiles = self.options.profiles
        assert profiles is not None
        now = plain(self.options.profile)
        try:
            opened = await asyncio.to_thread(profiles.open, name)
        except Exception as exc:
            self.notify(
                f"Cannot switch to profile {plain(name)}: {plain(str(exc))}. Still on {now}.",
                severity="error",
                timeout=15,
                markup=False,
            )
            return
        refused = await refused_keys(opened)
        if refused is not None or self.quitting:
            await opened.client.aclose()
            if refused is not None:
                self.notify(
                    f"Profile {plain(name)}: the server refused its keys ({plain(refused)}). "
                    f"Still on {now}.",
                    severity="error",
                    timeout=15,
                    markup=False,
                )
            return
        await self.adopt_account(opened)
        account = f"{plain(opened.api_url)}, ASID {opened.asid}"
        self.notify(f"Profile {plain(opened.profile)}: {account}", markup=False)

    async def adopt_account(self, opened: OpenedAccount) -> None:
        """Stop the current account's polling, then watch ``opened``'s under a new list."""
        unsaved = await _wind_down(self.tracker, self.writes, self._client)
        if unsaved is not None:
            self.notify(unsaved, severity="error", timeout=30, markup=False)
        self._client = opened.client
        self.options = dataclasses.replace(
            self.options,
            profile=opened.profile,
            asid=opened.asid,
            api_host=opened.api_host,
            api_url=opened.api_url,
            notices=[],
        )
        self.watchlist = opened.watchlist
        self.writes.use(opened.watchlist)
        self._listen_to_watchlist()
        self.tracker = self._new_tracker(opened.client, opened.entries)
        # Dialogs opened meanwhile belong to the old account's list.
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        old, self._monitor = self.screen, MonitorScreen(self._monitor_parts())
        if not self._switched_monitor:
            # Textual gives the first screen no result callback, and switch_screen pops one.
            old._push_result_callback(old, None)
            self._switched_monitor = True
        await self.switch_screen(self._monitor)
        self._start_tracker()

    def action_help(self) -> None:
        # The monitor's actions in table order, then the list's keys, then Textual's own.
        from tui.ui.screens.help import HelpScreen, help_rows

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
        yield from palette_commands(self, [row for row in ACTIONS if row.app_wide])
        # The list's commands only on the list: behind another screen they would act unseen.
        if isinstance(screen, MonitorScreen):
            yield from screen.commands()


def _collect_after_start() -> None:
    """After the first frame: what start-up built (modules, the watchlist's entries and
    views) lives as long as the app, so it is frozen out of the collector's passes (a
    full one over 10,000 diffs took up to 71 ms, long enough to delay a keystroke's
    frame), then the collector runs again. Only when the command line had turned it off:
    an app embedded with the collector on is left as it is."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


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
