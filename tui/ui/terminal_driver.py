"""Textual's terminal driver, told what to do when the terminal goes away.

When an SSH link drops (or tmux kills the session) the terminal is hung up: reads
from it return end-of-file or fail, writes fail with EIO. Textual's own driver
does not expect either: its input thread spins on the empty reads and its output
thread dies on the first failed write, after which the app's next writes block
for good on a full queue. Here both are reported to the app as a hang-up (it
saves and exits), and once the terminal is gone nothing more is written to it.

A driver subclass is Textual's extension point, but two of the names it needs are
Textual's private ones (reached through ``tui.ui.textual_internals``): the output file
the writer thread writes to (the only place a failed write can be caught), and the
``XTermParser`` the input loop feeds (the loop is :meth:`LinuxDriver.run_input_thread`
with end-of-file and read errors handled).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import selectors
import signal
import threading
import weakref
from codecs import getincrementaldecoder
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from textual.drivers.linux_driver import LinuxDriver

from tui.ui.textual_internals import XTermParser, driver_output, replace_driver_output

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)

_GONE = frozenset({errno.EIO, errno.EPIPE, errno.ENXIO, errno.EBADF, errno.ENODEV})
"""Write errors that mean the terminal is gone."""

HungUp = Callable[[str], None]
"""Told (from any thread) why the terminal is gone; called once."""


def _why(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


class _GuardedOutput:
    """The terminal's output file; a failed write reports a hang-up and drops the rest."""

    def __init__(self, file: IO[str], gone: threading.Event, report: HungUp) -> None:
        self._output = file
        self._gone = gone
        self._report = report

    def _guard(self, operation: Callable[[], object]) -> None:
        if self._gone.is_set():
            return
        try:
            operation()
        except ValueError as exc:  # the file was closed under us
            self._report(f"writing to the terminal failed ({_why(exc)})")
        except OSError as exc:
            if exc.errno in _GONE:
                self._report(f"writing to the terminal failed ({_why(exc)})")
            else:
                # Not a hang-up (say EAGAIN on a terminal another program made
                # non-blocking): this piece of output is lost, the thread lives on.
                log.warning("a write to the terminal failed: %s", _why(exc))

    def write(self, text: str) -> None:
        self._guard(lambda: self._output.write(text))

    def flush(self) -> None:
        self._guard(self._output.flush)

    def fileno(self) -> int:
        return self._output.fileno()

    def isatty(self) -> bool:
        return True


_DRIVERS: weakref.WeakKeyDictionary[App[Any], HangupAwareDriver] = weakref.WeakKeyDictionary()
"""Each running app's driver, for the signal handlers (Textual keeps it to itself)."""


class HangupAwareDriver(LinuxDriver):
    """:class:`LinuxDriver` that turns a dead terminal into one call of ``app.terminal_hung_up``.

    The app must have a ``terminal_hung_up(reason: str)`` method; it is called on the
    event loop's thread.
    """

    def __init__(self, app: App[Any], *, debug: bool = False, **kwargs: Any) -> None:
        super().__init__(app, debug=debug, **kwargs)
        self.host = app
        self.debug = debug
        self.loop = asyncio.get_running_loop()
        """The app's event loop (the driver is made on it)."""
        _DRIVERS[app] = self
        self.terminal_gone = threading.Event()
        output = driver_output(self)
        if output is not None:
            # The writer thread only calls write, flush and fileno on it.
            replace_driver_output(self, _GuardedOutput(output, self.terminal_gone, self._hung_up))

    def hang_up(self, reason: str) -> None:
        """The terminal is gone (from any thread): write nothing more, tell the app once."""
        self._hung_up(reason)

    def _hung_up(self, reason: str) -> None:
        if self.terminal_gone.is_set():
            return
        self.terminal_gone.set()
        log.info("the terminal is gone: %s", reason)
        handler: HungUp = getattr(self.host, "terminal_hung_up")  # noqa: B009
        # RuntimeError: the loop is closed, the app has already ended.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(handler, reason)

    def write(self, data: str) -> None:
        # Once the terminal is gone the writer thread may be stuck in a write the kernel
        # never finishes; queueing more would block the event loop on a full queue.
        if not self.terminal_gone.is_set():
            super().write(data)

    def close(self) -> None:
        if not self.terminal_gone.is_set():
            super().close()
        # Else the output thread (a daemon) may never drain: joining it would hang.

    def run_input_thread(self) -> None:
        """Textual's input loop, except that end-of-file or a read error is a hang-up."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self.debug)
        decode = getincrementaldecoder("utf-8")().decode
        try:
            while not self.exit_event.is_set():
                ready = selector.select(0.1)
                if ready:
                    try:
                        data = os.read(self.fileno, 4096)
                    except OSError as exc:
                        if exc.errno in (errno.EINTR, errno.EAGAIN):
                            continue
                        self._hung_up(f"reading the terminal failed ({_why(exc)})")
                        return
                    if not data:
                        self._hung_up("the terminal closed its input")
                        return
                    for event in parser.feed(decode(data)):
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()


def handle_signals(
    loop: asyncio.AbstractEventLoop, handlers: dict[str, Callable[[], None]]
) -> None:
    """Run ``handlers[name]`` on ``loop`` when signal ``name`` arrives, where the
    platform has that signal and the loop can take it (e.g. not on Windows)."""
    for name, handler in handlers.items():
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            loop.add_signal_handler(signum, handler)
        except (NotImplementedError, RuntimeError, ValueError):
            log.debug("no handler for %s here", name)


def exit_on_signals(
    app: App[Any],
    loop: asyncio.AbstractEventLoop,
    *,
    request_exit: Callable[[str], None],
    terminal_hung_up: Callable[[str], None],
) -> None:
    """SIGHUP is a hang-up (the terminal is gone: nothing more is written to it) and
    SIGTERM asks ``app`` to save and exit, as `q` does (``request_exit``).

    ``terminal_hung_up`` saves and exits showing nothing more, for a driver that cannot
    be told the terminal is gone.
    """

    def on_sighup() -> None:
        driver = _DRIVERS.get(app)
        if driver is not None:
            driver.hang_up("SIGHUP")
        else:
            terminal_hung_up("SIGHUP")

    handle_signals(loop, {"SIGHUP": on_sighup, "SIGTERM": lambda: request_exit("SIGTERM")})
