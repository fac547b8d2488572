"""A program in a pseudo-terminal, as an SSH user runs it, watched through :class:`Screen`.

A reader thread timestamps every chunk of output the moment it is read, feeds the
screen model and checks the registered conditions each time the displayed content
may have changed, so "when did the screen first show X" is measured where the bytes
arrive, not when the benchmark gets round to looking.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.vt import Screen

Condition = Callable[[Screen], bool]

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class TerminalError(RuntimeError):
    """The program did not show what was expected in time, or died."""


@dataclass
class _Waiter:
    condition: Condition
    done: threading.Event = field(default_factory=threading.Event)
    at: float = 0.0
    """Monotonic time of the output that made the condition true."""
    wall: float = 0.0
    """The same moment as Unix time."""


class PtyProcess:
    """``argv`` on the slave side of a ``columns`` x ``lines`` pty; this end reads it."""

    def __init__(
        self,
        argv: Sequence[str],
        env: dict[str, str],
        *,
        columns: int = 120,
        lines: int = 40,
        cwd: Path | None = None,
        on_display: Callable[[PtyProcess, float, float], None] | None = None,
    ) -> None:
        self.argv = list(argv)
        self.env = dict(env, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        self.columns = columns
        self.lines = lines
        self.cwd = cwd
        self.screen = Screen(columns, lines)
        self.screen.on_display = self._displayed
        self.screen.on_reply = self._reply
        self.extra_on_display = on_display
        self.bytes_read = 0
        self.last_output = 0.0
        """Monotonic time of the last chunk read."""
        self.started_at = 0.0
        self.process: subprocess.Popen[bytes] | None = None
        self._master = -1
        self._lock = threading.Lock()
        self._waiters: list[_Waiter] = []
        self._chunk_at = 0.0
        self._chunk_wall = 0.0
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._eof = threading.Event()

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> float:
        """Start the program; returns the monotonic time just before it was spawned."""
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.lines, self.columns, 0, 0))
        self._master = master
        self._reader = threading.Thread(target=self._read_loop, name="pty-reader", daemon=True)
        self._reader.start()
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        return self.started_at

    @property
    def pid(self) -> int:
        """The program's process ID."""
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        """True while the program runs."""
        return self.process is not None and self.process.poll() is None

    def send(self, keys: bytes) -> float:
        """Type ``keys``; returns the monotonic time they were written."""
        at = time.monotonic()
        os.write(self._master, keys)
        return at

    def quit(self, keys: bytes = b"q", timeout: float = 15.0) -> int:
        """Type ``keys`` and wait for the program to exit (killed after ``timeout``)."""
        if self.alive():
            with contextlib.suppress(OSError):
                self.send(keys)
        return self.wait(timeout)

    def wait(self, timeout: float) -> int:
        """Wait for the exit; kill the whole session after ``timeout``. The exit code."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.process.wait(5)

    def kill(self) -> None:
        """Kill the program's session (the program and anything it started)."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def close(self) -> None:
        """Kill the program if it still runs and release the pty."""
        self.kill()
        if self.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=2)
        if self._master >= 0:
            with contextlib.suppress(OSError):
                os.close(self._master)
            self._master = -1

    def __enter__(self) -> PtyProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- measuring ----------------------------------------------------------

    def watch(self, condition: Condition) -> _Waiter:
        """Start watching for ``condition`` on every later display (not the current one)."""
        waiter = _Waiter(condition)
        with self._lock:
            self._waiters.append(waiter)
        return waiter

    def wait_for(self, waiter: _Waiter, timeout: float, what: str) -> float:
        """Block until ``waiter``'s condition held on screen; the monotonic time it did."""
        if not waiter.done.wait(timeout):
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                snapshot = self.screen.text()
            state = "running" if self.alive() else f"exited {self.process and self.process.poll()}"
            raise TerminalError(f"{what}: not on screen after {timeout:g}s ({state})\n{snapshot}")
        return waiter.at

    def wait_until(self, condition: Condition, timeout: float, what: str) -> float:
        """:meth:`watch` + :meth:`wait_for`, also true at once if the screen already shows it."""
        waiter = self.watch(condition)
        with self._lock:
            if condition(self.screen) and not waiter.done.is_set():
                waiter.at, waiter.wall = time.monotonic(), time.time()
                waiter.done.set()
                self._waiters.remove(waiter)
        return self.wait_for(waiter, timeout, what)

    def wait_quiet(self, quiet: float, timeout: float = 10.0) -> None:
        """Wait until no output came for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            idle = time.monotonic() - self.last_output
            if idle >= quiet:
                return
            time.sleep(min(quiet - idle, 0.01) + 0.001)
        raise TerminalError(f"output never went quiet for {quiet}s")

    def snapshot(self) -> list[str]:
        """The rows on screen now."""
        with self._lock:
            return self.screen.display()

    def cpu_seconds(self) -> float:
        """CPU time (user + system, every thread) the program has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # Fields 14 and 15 of stat(5); the split above starts at field 3.
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def memory_kib(self) -> tuple[int, int]:
        """(current RSS, peak RSS) in KiB, from /proc."""
        values: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        return values.get("VmRSS", 0), values.get("VmHWM", 0)

    # -- the reader thread --------------------------------------------------

    def _reply(self, text: str) -> None:
        with contextlib.suppress(OSError):
            os.write(self._master, text.encode())

    def _displayed(self) -> None:
        # Called by the screen (reader thread, lock held) when the display may have changed.
        if self._waiters:
            for waiter in list(self._waiters):
                if waiter.condition(self.screen):
                    waiter.at, waiter.wall = self._chunk_at, self._chunk_wall
                    waiter.done.set()
                    self._waiters.remove(waiter)
        if self.extra_on_display is not None:
            self.extra_on_display(self, self._chunk_at, self._chunk_wall)

    def _read_loop(self) -> None:
        master = self._master
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
            except (OSError, ValueError):
                break
            if not ready:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                # EIO once the program and every holder of the slave side are gone.
                self._eof.set()
                if self.process is not None and self.process.poll() is not None:
                    break
                time.sleep(0.01)
                continue
            now = time.monotonic()
            with self._lock:
                self._chunk_at = now
                self._chunk_wall = time.time()
                self.bytes_read += len(chunk)
                self.last_output = now
                self.screen.feed_bytes(chunk)
