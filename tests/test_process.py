"""The whole process in a pseudo-terminal: it ends cleanly however it is asked to.

An SSH link that drops closes the terminal under the app (and sends SIGHUP); a
service manager sends SIGTERM. Each, at any moment, must save the watchlist and
end the process within seconds, leaving the terminal as it found it when the
terminal is still there. The watchlist holds a diff that always answers 429, so
a hang-up often lands during a backoff wait or with a request in flight.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.test_launch import TerminalRun, _watch, _watchlist
from tui.domain.watch_entry import LastStatus

if TYPE_CHECKING:
    from tui.simulator import Simulator

EXIT_BOUND = 3.0
"""Seconds from a hang-up or SIGTERM to the end of the process."""

RESTORES = {
    b"\x1b[?1049": "the alternate screen",
    b"\x1b[?25": "the cursor",
    b"\x1b[?1000": "mouse reporting",
    b"\x1b[?2004": "bracketed paste",
}
"""Terminal modes the app sets (``...h``) and must reset (``...l``, ``?25h`` for the cursor)."""


@pytest.fixture
def running(cli_env: dict[str, str], simulator: Simulator) -> Iterator[TerminalRun]:
    """The app on a pty, painted, watching a healthy diff and one that always answers 429."""
    simulator.add_diff(4101, state=4, progress=30, duration=60_000)
    simulator.add_diff(4102, state=4, progress=30, duration=60_000)
    simulator.inject("429", count=10**6, diffid=4102, retry_after=3)
    _watch(cli_env, "4101", "4102")
    run = TerminalRun(cli_env)
    try:
        yield run
    finally:
        run.close()


def _watchlist_ids(env: dict[str, str]) -> dict[int, LastStatus | None]:
    """Each watched diff's last status as saved (in the status cache)."""
    return _watchlist(env)


def _hang_up(run: TerminalRun, how: str) -> None:
    if how == "close":
        # The SSH server (or tmux) closes the terminal: reads see EOF, writes EIO.
        os.close(run.master)
        run.master = os.open(os.devnull, os.O_RDONLY)  # for run.close()
    else:
        os.killpg(run.process.pid, signal.SIGHUP)


def _seconds_to_exit(run: TerminalRun, *, drain: bool) -> float:
    started = time.monotonic()
    if drain:
        run.wait_exit(timeout=EXIT_BOUND + 5)
    else:
        run.process.wait(timeout=EXIT_BOUND + 5)
    return time.monotonic() - started


@pytest.mark.parametrize("how", ["close", "SIGHUP"])
@pytest.mark.parametrize("after", [0.0, 0.3, 1.0, 3.0])
def test_a_hang_up_at_any_moment_saves_and_ends_the_process(
    running: TerminalRun, cli_env: dict[str, str], how: str, after: float
) -> None:
    running.read_until(b"#4102")
    time.sleep(after)
    _hang_up(running, how)
    # Not read any more: a hung-up terminal takes no output, and the app must not wait on it.
    elapsed = _seconds_to_exit(running, drain=False)
    assert elapsed < EXIT_BOUND, f"still running {elapsed:.1f} s after the hang-up"
    assert running.process.returncode == 0
    saved = _watchlist_ids(cli_env)
    assert set(saved) == {4101, 4102}
    if after >= 1.0:
        last = saved[4101]
        assert last is not None and last.state_id == 4


def test_a_hang_up_during_start_up_ends_the_process(
    running: TerminalRun, cli_env: dict[str, str]
) -> None:
    time.sleep(0.2)  # the interpreter and Textual are still loading
    _hang_up(running, "close")
    os.killpg(running.process.pid, signal.SIGHUP)
    assert _seconds_to_exit(running, drain=False) < EXIT_BOUND
    assert set(_watchlist_ids(cli_env)) == {4101, 4102}


def test_a_hang_up_with_a_dialog_open_ends_the_process(
    running: TerminalRun, cli_env: dict[str, str]
) -> None:
    running.read_until(b"#4102")
    running.send(b"n")
    running.read_until(b"Add diffs")
    _hang_up(running, "close")
    assert _seconds_to_exit(running, drain=False) < EXIT_BOUND
    assert set(_watchlist_ids(cli_env)) == {4101, 4102}


def test_sigterm_restores_the_terminal_and_saves(
    running: TerminalRun, cli_env: dict[str, str]
) -> None:
    running.read_until(b"#4102")
    running.read_until(b"RUNNING")
    os.kill(running.process.pid, signal.SIGTERM)
    assert _seconds_to_exit(running, drain=True) < EXIT_BOUND
    assert running.process.returncode == 0
    output = bytes(running.output)
    for prefix, what in RESTORES.items():
        on = output.rfind(prefix + (b"l" if prefix == b"\x1b[?25" else b"h"))
        off = output.rfind(prefix + (b"h" if prefix == b"\x1b[?25" else b"l"))
        assert off > on >= 0, f"{what} was not restored after SIGTERM"
    last = _watchlist_ids(cli_env)[4101]
    assert last is not None and last.state_id == 4


def test_a_hang_up_with_a_request_in_flight_does_not_wait_for_its_answer(
    running: TerminalRun, cli_env: dict[str, str], simulator: Simulator
) -> None:
    running.read_until(b"#4102")
    running.read_until(b"RUNNING")
    simulator.clear_faults()  # the 429s would be counted below
    simulator.inject("slow", count=100, diffid=4101, delay=10.0)
    running.send(b"r")  # poll the focused diff now: its answer takes 10 s
    deadline = time.monotonic() + 5
    while simulator.pending_faults() == 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert simulator.pending_faults() < 100, "no slow request was sent"
    _hang_up(running, "close")
    assert _seconds_to_exit(running, drain=False) < EXIT_BOUND
    assert set(_watchlist_ids(cli_env)) == {4101, 4102}
