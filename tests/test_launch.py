"""The real `imagediff-tui` process in a pseudo-terminal, as an SSH user runs it.

Covers what only a whole process shows: `--demo` keeps away from the user's files,
`q` and a hang-up (SIGHUP, the SSH link dropping) both save and exit cleanly, and
a restart paints the last known statuses from the watchlist before any poll.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tui.domain.watch_entry import LastStatus
from tui.store.watchlist.file import WatchlistStore

if TYPE_CHECKING:
    from tui.simulator import Simulator

COLUMNS, LINES = 120, 40


class TerminalRun:
    """The app on the slave side of a pty; the test reads and writes the master."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=dict(env, TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(LINES)),
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()

    def read_until(self, needle: bytes, timeout: float = 20.0) -> None:
        """Read the screen stream until ``needle`` appears (or fail with what came)."""
        deadline = time.monotonic() + timeout
        while needle not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                tail = bytes(self.output[-2000:])
                pytest.fail(f"{needle!r} never appeared; last output: {tail!r}")
            if not self._read(min(remaining, 0.2)) and self.process.poll() is not None:
                pytest.fail(f"exited {self.process.returncode} before {needle!r} appeared")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return False
        self.output += chunk
        return bool(chunk)

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def wait_exit(self, timeout: float = 15.0) -> int:
        """Drain output until the process exits; its exit code."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                self.process.kill()
                pytest.fail("the app did not exit")
            self._read(0.1)
        while self._read(0.05) and select.select([self.master], [], [], 0)[0]:
            pass
        return self.process.returncode

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)


@pytest.fixture
def terminal() -> Iterator[list[TerminalRun]]:
    runs: list[TerminalRun] = []
    yield runs
    for run in runs:
        run.close()


def _files_under(folder: str) -> list[Path]:
    return [path for path in Path(folder).rglob("*") if path.is_file()]


def test_demo_quits_on_q_and_never_touches_the_users_files(
    isolated_dirs: dict[str, str], terminal: list[TerminalRun]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLANFORGE_")}
    env.update(isolated_dirs)
    run = TerminalRun(env, "--demo")
    terminal.append(run)
    run.read_until(b"#4112")
    run.read_until(b"Quit")
    run.send(b"q")
    assert run.wait_exit() == 0
    assert b"Traceback" not in run.output
    for folder in isolated_dirs.values():
        assert _files_under(folder) == [], f"--demo wrote into {folder}"


def test_hangup_saves_and_exits(
    cli_env: dict[str, str], simulator: Simulator, terminal: list[TerminalRun]
) -> None:
    simulator.add_diff(4101, state=4, progress=30, duration=60_000)
    _watch(cli_env, "4101")
    run = TerminalRun(cli_env)
    terminal.append(run)
    run.read_until(b"RUNNING")
    os.killpg(run.process.pid, signal.SIGHUP)
    assert run.wait_exit() == 0
    saved = _watchlist(cli_env)
    assert saved[4101] is not None and saved[4101].state_id == 4


def test_restart_paints_the_saved_status_before_any_poll(
    cli_env: dict[str, str], simulator: Simulator, terminal: list[TerminalRun]
) -> None:
    simulator.add_diff(4101, state=6, fail_with="Checksum mismatch on server.pak")
    simulator.add_diff(4102, state=5, progress=100)
    _watch(cli_env, "4101", "4102")
    first = TerminalRun(cli_env)
    terminal.append(first)
    first.read_until(b"Checksum mismatch")
    first.send(b"q")
    assert first.wait_exit() == 0
    saved = _watchlist(cli_env)
    assert saved[4101] is not None and saved[4101].state_id == 6
    assert saved[4102] is not None and saved[4102].state_id == 5
    # The user's file holds what the user did, no status: the statuses are in the cache.
    (account,) = _users_file(cli_env)["account"]
    assert account["diffs"] == [4101, 4102]
    assert set(account) == {"api_url", "asid", "diffs"}

    # The API is now unreachable: what the second run shows can only come from the file.
    simulator.start_outage("refused")
    second = TerminalRun(cli_env)
    terminal.append(second)
    second.read_until(b"Checksum mismatch")
    second.read_until(b"COMPLETED")
    second.read_until(b"stale")
    second.send(b"q")
    assert second.wait_exit() == 0
    assert b"Traceback" not in second.output


def _watch(env: dict[str, str], *ids: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "watchlist", "add", *ids],
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()


def _watchlist(env: dict[str, str]) -> dict[int, LastStatus | None]:
    """Each watched diff's last status as saved (the status cache beside the file)."""
    path = Path(env["XDG_DATA_HOME"]) / "imagediff-tui" / "watchlist.toml"
    cache = Path(env["XDG_CACHE_HOME"]) / "imagediff-tui" / "watchlist-status.json"
    return {entry.diffid: entry.last for entry in WatchlistStore(path, cache).load().entries}


def _users_file(env: dict[str, str]) -> dict[str, Any]:
    path = Path(env["XDG_DATA_HOME"]) / "imagediff-tui" / "watchlist.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))
