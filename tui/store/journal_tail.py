"""Following the journal as it is written, like ``tail -F``, across its rotation.

Writers (this app, another instance, the command line) append whole lines to
``journal.jsonl`` and, when it is full, rename it to ``journal.jsonl.1`` and start a
new one (:mod:`tui.store.journal`). A :class:`JournalTail` keeps the file it reads
open, so a rename does not lose the lines written to it before the rotation: it reads
the old file to its end, then goes on with the new one from its start.

Example:
    >>> import tempfile
    >>> from tui.store.journal import Journal, JournalEvent
    >>> folder = Path(tempfile.mkdtemp())
    >>> journal = Journal(folder / "journal.jsonl", max_bytes=120)
    >>> journal.append(JournalEvent(at=0.0, kind="state", diffid=1, new="Queued"))
    >>> tail = JournalTail(journal)
    >>> for n in range(2, 7):  # two lines a file: it rotates twice
    ...     journal.append(JournalEvent(at=float(n), kind="state", diffid=n, new="Running"))
    >>> [event.diffid for event in tail.read_new()]
    [2, 3, 4, 5, 6]
    >>> tail.close()
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO

from tui.store.journal import Journal, JournalEvent, parse_line


class JournalTail:
    """The events written to a journal since the last :meth:`read_new`, in file order.

    ``from_start``: begin with every event already kept (the rotated files, oldest
    first, then the current one); otherwise only events written from now on.
    """

    def __init__(self, journal: Journal, *, from_start: bool = False) -> None:
        if journal.path is None:
            raise ValueError("an in-memory journal cannot be followed")
        self._path = journal.path
        self._journal = journal
        self._backlog: list[Path] = self._rotated_after(None) if from_start else []
        self._file: BinaryIO | None = None
        self._inode: int | None = None
        self._partial = b""
        if not from_start:
            self._open(at_end=True)

    def read_new(self) -> list[JournalEvent]:
        """What was written since the last call (a torn or corrupt line is skipped)."""
        events: list[JournalEvent] = []
        while self._backlog:
            with contextlib.suppress(FileNotFoundError):
                events += _parse(self._backlog.pop(0).read_bytes())
        if self._file is None:
            self._open(at_end=False)
        while self._file is not None:
            events += self._lines(self._file.read())
            if self._same_file():
                break
            # Rotated: the old file was read to its end; then the files rotated after it
            # (when it rotated more than once since the last call), then the new one.
            for path in self._rotated_after(self._inode):
                with contextlib.suppress(FileNotFoundError):
                    events += _parse(path.read_bytes())
            self._close()
            self._open(at_end=False)
        return events

    def close(self) -> None:
        """Let go of the file."""
        self._close()

    def _open(self, *, at_end: bool) -> None:
        try:
            handle = self._path.open("rb")
        except FileNotFoundError:
            return
        if at_end:
            handle.seek(0, os.SEEK_END)
        self._file = handle
        self._inode = os.fstat(handle.fileno()).st_ino
        self._partial = b""

    def _rotated_after(self, inode: int | None) -> list[Path]:
        """The rotated files written after the file ``inode`` (every one for None, or
        when it was dropped), oldest first."""
        newer: list[Path] = []
        for path in self._journal.files()[1:]:
            with contextlib.suppress(FileNotFoundError):
                if inode is not None and path.stat().st_ino == inode:
                    break
                newer.append(path)
        return list(reversed(newer))

    def _same_file(self) -> bool:
        try:
            return self._path.stat().st_ino == self._inode
        except FileNotFoundError:
            return False

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file = None
        self._inode = None
        self._partial = b""

    def _lines(self, data: bytes) -> list[JournalEvent]:
        # A line is written whole with one write(), but a read may still catch the
        # start of one: keep the unfinished end for the next call.
        data = self._partial + data
        complete, _, self._partial = data.rpartition(b"\n")
        return _parse(complete)


def _parse(data: bytes) -> list[JournalEvent]:
    parsed = (parse_line(line) for line in data.splitlines() if line.strip())
    return [event for event in parsed if event is not None]
