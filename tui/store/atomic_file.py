"""Crash-safe file replacement and an inter-process lock for read-modify-write.

A reader never sees a half-written file: the new text goes to a temporary file in
the same folder, is flushed to disk, then renamed over the old one. Writers that
read, change and write back hold :func:`file_lock` so that two instances of the app
never overwrite each other's changes with a stale copy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

DEFAULT_LOCK_TIMEOUT: Final = 10.0
"""Seconds to wait for another process to finish writing before giving up."""


WAIT_NOTICE: Final = 0.25
"""Seconds of waiting for the lock before ``on_wait`` is told (a normal write takes less)."""


class LockTimeout(OSError):
    """Another process held the lock for longer than the timeout."""


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) readable by the owner only, if missing.

    An existing folder keeps its mode: the user may have chosen it.
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the folder entry itself reaches the disk.
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text`` (UTF-8) so that readers see old or new, never a mix.

    The file gets ``mode`` whatever the umask; the parent folder must exist. A symlink
    (a dotfile setup) keeps being one: its target is replaced, in the target's folder.
    """
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    folder = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(folder)


def sweep_temp_files(path: Path) -> int:
    """Delete temp files that writers of ``path`` left when they died mid-write.

    Call it only while holding :func:`file_lock` on ``path``: every writer holds the
    lock while its temp file exists, so under the lock any temp file is a dead
    writer's leftover. Returns how many were removed.
    """
    if path.is_symlink():
        path = Path(os.path.realpath(path))  # where atomic_write_text writes
    removed = 0
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def lock_path(path: Path) -> Path:
    """The sidecar lock file of ``path``: ``<name>.lock`` next to it."""
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def file_lock(
    path: Path,
    *,
    timeout: float = DEFAULT_LOCK_TIMEOUT,
    on_wait: Callable[[Path], None] | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (via ``<name>.lock``) for the ``with`` block.

    The lock is on a sidecar file because ``path`` itself is replaced by renames,
    and a lock on a replaced inode protects nothing. The lock is released when the
    process dies, so a crashed writer never leaves the file locked. Not reentrant:
    taking it twice in one process waits for itself and times out.

    ``on_wait`` is told the lock file's path once, when another process has held the
    lock for ``WAIT_NOTICE`` seconds of this wait. Raises :class:`LockTimeout` when
    another process holds it longer than ``timeout``.
    """
    sidecar = lock_path(path)
    ensure_private_dir(sidecar.parent)
    fd = os.open(sidecar, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        started = time.monotonic()
        deadline = started + timeout
        delay = 0.002
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if on_wait is not None and not told and time.monotonic() - started >= WAIT_NOTICE:
                    told = True
                    on_wait(sidecar)
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{path} is locked by another process (lock file {sidecar}); "
                        f"gave up after {timeout:g} s"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
