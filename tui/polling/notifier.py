"""``[notify]``: tell a person of the events they asked for, without ever waiting for it.

:meth:`Notifier.event` is given every journal event (the app's journal listeners,
``watch``'s tracker). An event whose name is in ``on`` (see
:mod:`tui.store.notify_events`) is handed to ``desktop`` (the app writes it to the
terminal) and queued for the ``command`` hook. The hook runs on one worker thread, one
event at a time, with the event's JSON (the journal's object: no key, reasons
redacted) on its standard input, no variable holding a key in its environment, its
output discarded, stopped (with everything it
started) after :data:`HOOK_TIMEOUT`. The caller's loop only ever queues.

A hook slower than the events: up to :data:`HOOK_QUEUE` events wait; beyond that
each new one is dropped for the hook (never for the journal) and counted. A failure,
a timeout or a drop is said once (``report`` and the log) until the hook works again.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable
from typing import Final

from tui.domain.text import plain
from tui.store.config import NotifySettings
from tui.store.journal import JournalEvent, stored
from tui.store.log_file import redact
from tui.store.notify_events import notify_line, notify_name

logger = logging.getLogger(__name__)

HOOK_TIMEOUT: Final = 10.0
"""Seconds a ``command`` hook may take for one event before it is stopped."""

HOOK_QUEUE: Final = 50
"""Events that may wait for a busy hook; more are dropped (and counted)."""

_STOP: Final = object()
"""Queued by :meth:`Notifier.close`: the worker ends after the events before it."""


class Notifier:
    """Sends the events of ``settings.on`` to ``desktop`` and the ``command`` hook.

    ``desktop`` gets the line (``✗ #4101 eu-west failed: checksum mismatch``, plain
    text), on the caller's thread; None: no desktop notification. ``report`` gets
    a hook problem in words, on the worker thread.

    Example:
        >>> notifier = Notifier(NotifySettings(desktop=True), desktop=print)
        >>> from tui.store.journal import EventKind
        >>> notifier.event(JournalEvent(at=0, kind=EventKind.OUTAGE, phase="start"))
        ✗ connection lost
    """

    def __init__(
        self,
        settings: NotifySettings,
        *,
        desktop: Callable[[str], None] | None = None,
        report: Callable[[str], None] | None = None,
        timeout: float = HOOK_TIMEOUT,
    ) -> None:
        self._on = frozenset(settings.on)
        self._desktop = desktop if settings.desktop else None
        self._argv = shlex.split(settings.command) if settings.command else None
        self._report = report
        self._timeout = timeout
        self._queue: queue.Queue[object] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._abandoned = False
        self._running: subprocess.Popen[bytes] | None = None
        """The hook's process while it runs (:meth:`close` stops it)."""
        self._failing = False
        self._failing_lock = threading.Lock()
        self.dropped = 0
        """Events dropped for the hook because :data:`HOOK_QUEUE` were waiting."""

    @property
    def active(self) -> bool:
        """True when some event would reach someone."""
        return bool(self._on) and (self._desktop is not None or self._argv is not None)

    def event(self, event: JournalEvent) -> None:
        """Notify of ``event`` if its name is in ``on``; never waits for the hook."""
        name = notify_name(event)
        if name is None or name not in self._on or self._closed:
            return
        event = stored(event)
        if self._desktop is not None:
            self._desktop(plain(notify_line(event), limit=300))
        if self._argv is not None:
            self._enqueue(event)

    def _enqueue(self, event: JournalEvent) -> None:
        if self._queue.qsize() >= HOOK_QUEUE:
            self.dropped += 1
            self._problem(
                f"the [notify] command is slower than the events: {HOOK_QUEUE} are "
                "waiting, newer ones are not sent to it (the journal has them all)"
            )
            logger.warning("notify command: event dropped (%d in all)", self.dropped)
            return
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="notify hook", daemon=True)
            self._worker.start()
        self._queue.put(json.dumps(event.to_json(), separators=(",", ":")))

    def close(self, timeout: float | None) -> int:
        """Take no more events; wait up to ``timeout`` seconds (None: until done) for the
        hook to run those queued, then stop the one running. Returns how many events
        were not sent (those queued, and the one stopped)."""
        self._closed = True
        if self._worker is None:
            return 0
        self._queue.put(_STOP)
        self._worker.join(timeout)
        if not self._worker.is_alive():
            return 0
        self._abandoned = True
        left = self._queue.qsize()  # the stop, standing in for the one running
        running = self._running
        if running is not None:
            _kill_group(running)
        logger.warning("notify command: %d events not sent before exit", left)
        return left

    # -- the worker thread ------------------------------------------------------

    def _work(self) -> None:
        while (item := self._queue.get()) is not _STOP and not self._abandoned:
            assert isinstance(item, str)
            try:
                problem = self._run(item.encode())
            except Exception as exc:  # the worker must outlive any one event
                logger.exception("notify command failed")
                problem = f"cannot run it: {exc}"
            if problem is None:
                with self._failing_lock:
                    if self._failing:
                        logger.info("notify command works again")
                    self._failing = False
            else:
                self._problem(f"the [notify] command {problem}")

    def _run(self, data: bytes) -> str | None:
        """Run the hook once with ``data`` on its stdin; what went wrong, or None."""
        assert self._argv is not None
        with tempfile.TemporaryFile() as errors:
            try:
                # Its own session: a timeout stops everything it started. Its output
                # must not reach the screen (the app) or the data stream (watch).
                process = subprocess.Popen(
                    self._argv,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                    start_new_session=True,
                    env=_hook_environment(),
                )
            except OSError as exc:
                return f"cannot run {self._argv[0]}: {exc.strerror or exc}"
            self._running = process
            try:
                process.communicate(data, timeout=self._timeout)
            except subprocess.TimeoutExpired:
                _kill_group(process)
                return f"did not finish within {self._timeout:g} s and was stopped"
            finally:
                self._running = None
            if self._abandoned:
                return None
            if process.returncode != 0:
                errors.seek(0)
                said = errors.read(2000).decode(errors="replace").strip()
                detail = f": {plain(said, limit=200)}" if said else ""
                return f"exited with status {process.returncode}{detail}"
        return None

    def _problem(self, text: str) -> None:
        """Say ``text`` once per streak of problems, in the log and through ``report``."""
        with self._failing_lock:
            if self._failing:
                return
            self._failing = True
        logger.warning("%s", text)
        if self._report is not None:
            try:
                self._report(text)
            except Exception:
                logger.exception("reporting a notify problem failed")


def _hook_environment() -> dict[str, str]:
    """This process's environment without the variables that hold a key (such as
    ``CLANFORGE_SECRET_KEY`` or a profile's ``secret_env``): the hook is told of events,
    never given the keys."""
    return {name: value for name, value in os.environ.items() if redact(value) == value}


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Stop the hook and whatever it started (it leads its own session)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:
        process.kill()
    process.wait()
