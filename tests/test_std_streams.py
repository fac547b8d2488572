"""Odd standard streams (issue 22 §5): a full disk or a closed stream under stdout, a
closed stderr, no terminal on stdin, a FIFO among the theme files. The command line and
the app as real subprocesses (a pty where a terminal is needed) against a simulator in
this process; each ends within seconds and says what happened in words."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.test_cli_jobs import REPO, run_cli
from tests.test_launch import TerminalRun

if TYPE_CHECKING:
    from tui.simulator import Simulator

LIMIT = 60.0
"""Seconds a command gets before the test calls it hung (room for a busy machine)."""

TERMINAL_MODES = (b"\x1b[?1049h", b"\x1b[?1000h", b"\x1b[?25l")
"""What the app would write on taking the screen: the alternate screen, mouse, cursor."""


def run_with(
    env: dict[str, str], redirect: str, *args: str, stdout: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[bytes]:
    """``python -m tui ARGS`` with a shell redirection (``>&-``, ``2>&-``...) applied."""
    script = f'exec "$0" -m tui "$@" {redirect}'
    return subprocess.run(
        ["/bin/sh", "-c", script, sys.executable, *args],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=LIMIT,
        check=False,
    )


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert text.count("\n") == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    return text


# --------------------------------------------------------------------------- stdout


@pytest.mark.parametrize(
    "args",
    [("watch", "1001"), ("watch", "--json", "1001"), ("watch", "3001", "3002")],
    ids=["running", "json", "ended"],
)
def test_watch_to_a_full_disk_exits_1_with_one_line(
    cli_env: dict[str, str], simulator: Simulator, args: tuple[str, ...]
) -> None:
    simulator.add_diff(1001, state=4, progress=5, duration=1e7)
    simulator.add_diff(3001, state=5)
    simulator.add_diff(3002, state=6, fail_with="disk full")
    with open("/dev/full", "wb") as full:
        result = run_with(cli_env, "", *args, stdout=full.fileno())
    assert result.returncode == 1
    assert "No space left on device" in one_line(result.stderr)


@pytest.mark.parametrize("command", [("status", "3001"), ("events",)])
def test_status_and_events_to_a_full_disk_say_so(
    cli_env: dict[str, str], simulator: Simulator, command: tuple[str, ...]
) -> None:
    simulator.add_diff(3001, state=5)
    # Something for `events` to print: a reject, journaled.
    assert run_cli(cli_env, "reject", "3001", "--reinstall", "0").returncode == 0
    with open("/dev/full", "wb") as full:
        result = run_with(cli_env, "", *command, stdout=full.fileno())
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "cannot write to standard output: No space left on device" in line


def test_status_with_stdout_closed_says_so(cli_env: dict[str, str], simulator: Simulator) -> None:
    simulator.add_diff(3001, state=5)
    result = run_with(cli_env, ">&-", "status", "3001")
    assert result.returncode == 1
    assert "standard output is closed" in one_line(result.stderr)


# --------------------------------------------------------------------------- stderr


def test_a_closed_stderr_is_held_by_dev_null_not_by_the_next_file_opened(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    """With stderr closed, the log file opened next took descriptor 2, and the error
    line went to stdout: the command's output. Now /dev/null holds it."""
    result = run_with(cli_env, "2>&-", "status", "424242")
    assert result.returncode == 1
    assert b"error" not in result.stdout, result.stdout
    for log in Path(cli_env["XDG_STATE_HOME"]).rglob("*.log"):
        assert "imagediff-tui: error" not in log.read_text()


# --------------------------------------------------------------------------- the app


def app_with(env: dict[str, str], redirect: str) -> tuple[int, bytes, float]:
    """The app started on a pty with ``redirect``; its exit code, what reached the
    terminal and how long it ran (killed after :data:`LIMIT`)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    started = time.monotonic()
    process = subprocess.Popen(
        ["/bin/sh", "-c", f'exec "$0" -m tui {redirect}', sys.executable],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=dict(env, TERM="xterm-256color"),
        cwd=REPO,
        start_new_session=True,
    )
    os.close(slave)
    output = bytearray()
    try:
        while process.poll() is None and time.monotonic() - started < LIMIT:
            output += _read_some(master)
        elapsed = time.monotonic() - started
        output += _read_some(master)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        os.close(master)
    return process.returncode, bytes(output), elapsed


def _read_some(master: int) -> bytes:
    import select

    if not select.select([master], [], [], 0.1)[0]:
        return b""
    try:
        return os.read(master, 65536)
    except OSError:
        return b""


@pytest.mark.parametrize("redirect", ["</dev/null", "<&-"])
def test_the_app_without_a_terminal_on_stdin_says_it_needs_one(
    cli_env: dict[str, str], redirect: str
) -> None:
    code, output, elapsed = app_with(cli_env, redirect)
    assert code == 2
    assert elapsed < LIMIT
    assert b"needs a terminal" in output
    assert b"Traceback" not in output
    assert not [mode for mode in TERMINAL_MODES if mode in output], output


def test_the_app_with_stderr_closed_ends_at_once_touching_nothing(
    cli_env: dict[str, str],
) -> None:
    """It drew on what became of descriptor 2 (the log file) and ignored q, Ctrl-C,
    SIGTERM and SIGHUP. The app draws on stderr: with none, it cannot run."""
    code, output, elapsed = app_with(cli_env, "2>&-")
    assert code == 2
    assert elapsed < LIMIT
    assert not [mode for mode in TERMINAL_MODES if mode in output], output
    for log in Path(cli_env["XDG_STATE_HOME"]).rglob("*.log"):
        assert "\x1b[" not in log.read_text()


# --------------------------------------------------------------------------- themes


def test_a_fifo_among_the_theme_files_hangs_nothing(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    themes = Path(cli_env["XDG_CONFIG_HOME"]) / "imagediff-tui" / "themes"
    themes.mkdir(parents=True)
    os.mkfifo(themes / "pipe.toml")
    listed = run_cli(cli_env, "themes", "list")
    assert listed.returncode == 0, listed.stderr
    assert b"pipe.toml" in listed.stderr and b"not a regular file" in listed.stderr
    simulator.add_diff(4101, state=5)
    assert run_cli(cli_env, "watchlist", "add", "4101").returncode == 0
    app = TerminalRun(cli_env)
    try:
        app.read_until(b"#4101", timeout=LIMIT)
        app.send(b"q")
        assert app.wait_exit(timeout=LIMIT) == 0
    finally:
        app.close()
