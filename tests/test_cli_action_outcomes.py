"""Every action the command line sends is journaled, and one interrupted in flight says
and journals its outcome as unknown (issue 22 §6). Real subprocesses against the
simulator in this process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.test_cli_jobs import REPO, run_cli
from tests.test_cli_lifecycle import actions

if TYPE_CHECKING:
    from tui.simulator import Simulator

LIMIT = 60.0
"""Seconds a command gets to end after a signal (room for a busy machine)."""


@pytest.mark.parametrize(
    ("fault", "outcome", "code"),
    [(None, "accepted", 0), ("drop-after", "unknown", 1), ("400", "refused", 1)],
)
def test_cli_retry_is_journaled_like_accept_and_reject(
    cli_env: dict[str, str], simulator: Simulator, fault: str | None, outcome: str, code: int
) -> None:
    """``retry 5016`` (applied, answer lost) left the journal empty."""
    simulator.add_diff(5016, state=6)
    if fault is not None:
        simulator.inject(fault, endpoint="retry", diffid=5016)
    result = run_cli(cli_env, "retry", "5016")
    assert result.returncode == code, result.stderr
    assert simulator.count("retry", 5016) == 1
    assert actions() == [(5016, "retry", "sent"), (5016, "retry", outcome)]
    events = run_cli(cli_env, "events").stdout.decode()
    assert "retry" in events and "5016" in events


def _wait_for(check: object, limit: float = LIMIT) -> None:
    deadline = time.monotonic() + limit
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail("the request never reached the simulator")
        time.sleep(0.02)


@pytest.mark.parametrize(
    ("args", "endpoint", "how", "code"),
    [
        (("retry", "5016"), "retry", signal.SIGINT, 130),
        (("reject", "5016", "--reinstall", "0"), "reject", signal.SIGTERM, 143),
        (("accept", "5016", "--restart", "0"), "accept", signal.SIGTERM, 143),
    ],
    ids=["retry-ctrl-c", "reject-sigterm", "accept-sigterm"],
)
def test_an_action_interrupted_in_flight_says_and_journals_its_outcome_as_unknown(
    cli_env: dict[str, str],
    simulator: Simulator,
    args: tuple[str, ...],
    endpoint: str,
    how: signal.Signals,
    code: int,
) -> None:
    """Ctrl-C during a retry the server applied exited 130 with no word; SIGTERM during
    a reject exited 143 and the journal stayed at 'reject sent'."""
    simulator.add_diff(5016, state=5)
    # Applied at once, answered after 30 s: the interrupt lands while it is in flight.
    simulator.inject("slow", endpoint=endpoint, diffid=5016, delay=30.0)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        env=cli_env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: simulator.count(endpoint, 5016) == 1)
        process.send_signal(how)
        _, stderr = process.communicate(timeout=LIMIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == code
    said = stderr.decode()
    # A status read settles a retry, not an accept or a reject.
    how_to_check = "status 5016" if endpoint == "retry" else "Clanforge dashboard"
    assert "unknown" in said and how_to_check in said, said
    assert "Traceback" not in said
    assert actions()[-2:] == [(5016, endpoint, "sent"), (5016, endpoint, "unknown")]
    assert simulator.count(endpoint, 5016) == 1
