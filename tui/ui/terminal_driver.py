"""Textual's terminal driver, told what to do when the terminal goes away.

When an SSH link drops (or tmux kills the session) the terminal is hung up: reads
from it return end-of-file or fail, writes fail with EIO. Textual's own driver
does not expect either: its input thread spins on the empty reads and its output
thread dies on the first failed write, after which the app's next writes block
for good on a full queue. Here both are reported to the app as a hang-up (it
saves and exits), and once the terminal is gone nothing more is written to it.
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
from codecs import getincrementaldecoder
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, cast

from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

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


class OutputSent:
    """Which output has reached the terminal: callbacks wait for what was queued before them.

    The event loop queues each frame for Textual's writer thread and goes on. Work
    started right after a frame holds the GIL that each of the writer's partial writes
    to the terminal waits for (up to a switch interval, 5 ms, each): the first frame
    reached the terminal 15-25 ms after it was drawn. Work that can wait for the frame
    to be out asks :meth:`after`. Counts are kept under a lock (two threads).

    Example:
        >>> sent = OutputSent(); sent.queued(); sent.after(lambda: print("out"))
        False
        >>> sent.written(); sent.flushed()[0]()
        out
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued = 0
        self._written = 0
        self._flushed = 0
        self._waiting: list[tuple[int, Callable[[], None]]] = []

    def queued(self) -> None:
        """One more piece of output handed to the writer thread (the event loop)."""
        with self._lock:
            self._queued += 1

    def written(self) -> None:
        """The writer thread wrote (or dropped) one more piece."""
        with self._lock:
            self._written += 1

    def flushed(self) -> list[Callable[[], None]]:
        """The writer thread flushed what it wrote; the callbacks now due, in order."""
        with self._lock:
            self._flushed = self._written
            due = [callback for upto, callback in self._waiting if upto <= self._flushed]
            self._waiting = [(upto, cb) for upto, cb in self._waiting if upto > self._flushed]
        return due

    def after(self, callback: Callable[[], None]) -> bool:
        """True when everything queued so far is out (the caller runs ``callback`` now);
        else ``callback`` is returned by the :meth:`flushed` that sends it out."""
        with self._lock:
            if self._flushed >= self._queued:
                return True
            self._waiting.append((self._queued, callback))
            return False


class _GuardedOutput:
    """The terminal's output file; a failed write reports a hang-up and drops the rest."""

    def __init__(
        self,
        file: IO[str],
        gone: threading.Event,
        report: HungUp,
        sent: OutputSent,
        on_sent: Callable[[list[Callable[[], None]]], None],
    ) -> None:
        self._file = file
        self._gone = gone
        self._report = report
        self._sent = sent
        self._on_sent = on_sent

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
        try:
            self._guard(lambda: self._file.write(text))
        finally:
            self._sent.written()

    def flush(self) -> None:
        try:
            self._guard(self._file.flush)
        finally:
            due = self._sent.flushed()
            if due:
                self._on_sent(due)

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return True


class HangupAwareDriver(LinuxDriver):
    """:class:`LinuxDriver` that turns a dead terminal into one call of ``app.terminal_hung_up``.

    The app must have a ``terminal_hung_up(reason: str)`` method; it is called on the
    event loop's thread.
    """

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.terminal_gone = threading.Event()
        self.sent = OutputSent()
        """What output has reached the terminal (see :meth:`after_output`)."""
        output = self._file
        if output is not None:
            # The writer thread only calls write, flush and fileno on it.
            self._file = cast(
                Any,
                _GuardedOutput(
                    output, self.terminal_gone, self._hung_up, self.sent, self._output_sent
                ),
            )

    def after_output(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` on the event loop once the output written so far has been
        sent to the terminal (now, if it has). Never, once the terminal is gone."""
        if self.sent.after(callback):
            callback()

    def _output_sent(self, due: list[Callable[[], None]]) -> None:
        # On the writer thread. RuntimeError: the loop is closed, the app has ended.
        for callback in due:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(callback)

    def hang_up(self, reason: str) -> None:
        """The terminal is gone (from any thread): write nothing more, tell the app once."""
        self._hung_up(reason)

    def _hung_up(self, reason: str) -> None:
        if self.terminal_gone.is_set():
            return
        self.terminal_gone.set()
        log.info("the terminal is gone: %s", reason)
        handler: HungUp = getattr(self._app, "terminal_hung_up")  # noqa: B009
        # RuntimeError: the loop is closed, the app has already ended.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(handler, reason)

    def write(self, data: str) -> None:
        # Once the terminal is gone the writer thread may be stuck in a write the kernel
        # never finishes; queueing more would block the event loop on a full queue.
        if not self.terminal_gone.is_set():
            self.sent.queued()
            super().write(data)

    def close(self) -> None:
        if not self.terminal_gone.is_set():
            super().close()
        # Else the output thread (a daemon) may never drain: joining it would hang.

    def run_input_thread(self) -> None:
        """Textual's input loop, except that end-of-file or a read error is a hang-up."""
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
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
        driver = app._driver
        if isinstance(driver, HangupAwareDriver):
            driver.hang_up("SIGHUP")
        else:
            terminal_hung_up("SIGHUP")

    handle_signals(loop, {"SIGHUP": on_sighup, "SIGTERM": lambda: request_exit("SIGTERM")})
