"""``watch`` at the edges: a reader that goes away, a terminal narrower than the text."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.test_cli_jobs import REPO

if TYPE_CHECKING:
    from tui.simulator import Simulator


def test_watch_ends_at_once_and_quietly_when_its_reader_goes_away(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    # Changes on every poll for about 20 s: the watch has plenty left to say.
    simulator.add_diff(4102, state=4, progress=1, duration=1000.0)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "watch", "4101", "4102", "--json", "--interval", "0.2"],
        env=cli_env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline()  # as `| head -1` does: one line, then close
        process.stdout.close()
        closed = time.monotonic()
        try:
            code = process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail("watch kept running after its reader went away")
        assert time.monotonic() - closed < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr is not None
    assert process.stderr.read() == b""
    assert code == 1
    logs = list(Path(cli_env["XDG_STATE_HOME"]).rglob("*.log"))
    assert logs, "the command logs to a file"
    for log in logs:
        text = log.read_text()
        assert "Traceback" not in text and "BrokenPipe" not in text
