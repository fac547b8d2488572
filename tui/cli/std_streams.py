"""The standard streams as a command finds them: closed ones held, output failures named.

A program started with a standard stream closed (``2>&-``) has a free descriptor 0, 1
or 2, and the next file it opens takes it: the log file became "stderr", and every
message (and the app's screen) went into it. :func:`hold_closed_streams` puts
``/dev/null`` there before anything else can. A write error on stdout other than a
reader going away (EPIPE) is :class:`OutputError`: the command stops and says so.
"""

from __future__ import annotations

import errno
import io
import os
import sys
from typing import Final, TextIO

_STREAMS: Final = (
    (0, "stdin", os.O_RDONLY),
    # Read-only: a write still fails as on the closed stream (EBADF), so a command
    # whose output goes nowhere says so instead of dropping it quietly.
    (1, "stdout", os.O_RDONLY),
    # Messages on a closed stderr are dropped, as the user asked.
    (2, "stderr", os.O_WRONLY),
)


def hold_closed_streams() -> frozenset[int]:
    """Open ``/dev/null`` on each closed standard descriptor, and give Python a stream
    for it; returns the descriptors that were closed. Call first thing."""
    closed: set[int] = set()
    for fd, name, flags in _STREAMS:
        try:
            os.fstat(fd)
        except OSError:
            pass
        else:
            continue
        closed.add(fd)
        held = os.open(os.devnull, flags)
        if held != fd:  # not the lowest free one: cannot happen in this order, but
            os.dup2(held, fd)
            os.close(held)
        if getattr(sys, name) is None:
            stream = _text_stream(fd)
            setattr(sys, name, stream)
            setattr(sys, f"__{name}__", stream)
    return frozenset(closed)


def _text_stream(fd: int) -> TextIO:
    # The process's standard stream, open for its life.
    if fd == 0:
        return open(fd, encoding="utf-8", closefd=False)
    return open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=False)


class OutputError(Exception):
    """Writing to stdout failed for a reason other than the reader going away."""

    def __init__(self, error: OSError) -> None:
        self.error = error
        if error.errno == errno.EBADF:
            words = "standard output is closed"
        else:
            words = f"cannot write to standard output: {error.strerror or error}"
        super().__init__(words)


class CheckedOutput(io.TextIOBase):
    """``stream`` whose write errors are :class:`OutputError` (EPIPE stays a
    :class:`BrokenPipeError`: the reader went away, which is no error to report)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(exc) from exc

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(exc) from exc

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self.stream.errors
