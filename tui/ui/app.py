"""The app: start-up, settings, the tracker's and journal's lifetime, switching account, quitting.

The main screen (:class:`tui.ui.screens.monitor.MonitorScreen`) draws what
:class:`tui.polling.tracker.Tracker` knows and turns the list's keys into tracker and
watchlist calls. Nothing here calls the network itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
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
from tui.polling.job_view import ActionNotes
from tui.polling.notifier import Notifier
from tui.polling.tracker import FollowedJob, JobView, StatusClient, Tracker
from tui.store.journal import Journal
from tui.store.watchlist.port import WatchlistPort
from tui.store.watchlist.writes import WatchlistWrites
from tui.ui.app_options import AppOptions
from tui.ui.desktop_notice import desktop_sequence
from tui.ui.screens.actions import ACTIONS, binding_ids, bindings, checked_keymap, palette_commands
from tui.ui.screens.monitor import MonitorScreen
from tui.ui.screens.monitor_parts import MonitorParts
from tui.ui.startup import FirstFrame
from tui.ui.terminal_driver import HangupAwareDriver, exit_on_signals
from tui.ui.textual_internals import give_result_callback, write_to_terminal
from tui.ui.themed_app import ThemedApp
from tui.ui.themes import ThemeCatalog

if TYPE_CHECKING:
    from tui.ui.profile_switch import OpenedAccount

__all__ = ["AppOptions", "ImageDiffApp", "WatchlistPort"]

log = logging.getLogger("tui.ui.app")


STOP_POLLING_WAIT: Final = 1.0
"""Seconds on the way out for the poller to cancel its requests in flight."""
SAVE_ON_EXIT_WAIT: Final = 1.5
"""Seconds on the way out for the watchlist writes still queued (another process's lock)."""
NOTIFY_EXIT_WAIT: Final = 0.5
"""Seconds on the way out for the ``[notify]`` hook to run the events still queued."""
CLOSE_CLIENT_WAIT: Final = 0.3
"""Seconds on the way out for the HTTP client to close its connections."""
NO_OTHER_PROFILE: Final = "No other profile."


class ImageDiffApp(ThemedApp):
    """Watch and retry Clanforge image diffs.

    Example:
        >>> # ImageDiffApp(client, entries, watchlist=watchlist, clock=SystemClock(),
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
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self.first_frame = FirstFrame()
        """What waits for the first frame (see :mod:`tui.ui.startup`)."""
        self.writes = WatchlistWrites(watchlist)
        """All watchlist file work, in order, off the event loop."""
        self.notifier = Notifier(
            options.notify,
            desktop=self._desktop_notice,
            report=lambda text: self._from_thread(self._file_notice, plain(text), "warning", 15),
        )
        """``[notify]``: every journal event passes it (the tracker's, the outages)."""
        self.journal.listeners.append(self.notifier.event)

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
        self.first_frame.watch(self)
        if self.options.keymap:
            self._apply_keymap(self.options.keymap)
        for notice in self.options.notices:
            self.notify(plain(notice), severity="warning", timeout=15, markup=False)
        self._listen_to_watchlist()
        if self._exit_reason is not None:
            self.call_later(self.action_quit)  # asked to leave during start-up
            return
        if self._start_polling:
            self.first_frame.after(self._start_tracker)

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
        self._event_loop = asyncio.get_running_loop()
        exit_on_signals(
            self,
            self._event_loop,
            request_exit=self.request_exit,
            terminal_hung_up=self.terminal_hung_up,
        )

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
        if self._event_loop is not None and not self._event_loop.is_closed():
            self._event_loop.call_soon_threadsafe(callback, *args)

    def _desktop_notice(self, text: str) -> None:
        """A desktop notification through the terminal (see :mod:`tui.ui.desktop_notice`)."""
        if not self._terminal_gone:
            write_to_terminal(self, desktop_sequence(text, os.environ))

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
            notes=ActionNotes(
                lambda diffid, sent, check: self.writes.note_sent(diffid, sent, check)
            ),
            save_outcome=lambda diffid, action, outcome: self.writes.save_outcome(
                diffid, action, outcome
            ),
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
        # Hooks still queued get a moment; the thread ends with the process anyway.
        await asyncio.to_thread(self.notifier.close, NOTIFY_EXIT_WAIT)
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
            give_result_callback(old)
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
        # Hooks still queued get a moment; the thread ends with the process anyway.
        await asyncio.to_thread(self.notifier.close, NOTIFY_EXIT_WAIT)
        show = unsaved is not None and not self._terminal_gone
        self.exit(message=Text(unsaved) if show and unsaved else None)

    # -- command palette ------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from palette_commands(self, [row for row in ACTIONS if row.app_wide])
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
