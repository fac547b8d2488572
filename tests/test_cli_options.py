"""Options that bound the command line's waits: ``watch --interval`` and ``--timeout``.

Real subprocesses against a simulator in this process; gaps are measured at the server.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from tests.test_cli_jobs import REPO, assert_clean, run_cli

if TYPE_CHECKING:
    from tui.simulator import Simulator


def _gaps(simulator: Simulator, diffid: int) -> list[float]:
    times = [r.at for r in simulator.requests if r.endpoint == "status" and r.diffid == diffid]
    return [b - a for a, b in itertools.pairwise(times)]


def test_watch_interval_is_the_read_interval_of_every_diff_down_to_one_second(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    # Running far from its end, and waiting: the adaptive default reads them every
    # several seconds; --interval 1 reads each every second.
    simulator.add_diff(7001, state=4, progress=1, duration=100_000.0)
    simulator.add_diff(7002, state=2, duration=100_000.0)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "watch", "7001", "7002", "--json", "--interval", "1"],
        env=cli_env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 40
        while min(len(_gaps(simulator, d)) for d in (7001, 7002)) < 5:
            assert process.poll() is None, "watch ended early"
            assert time.monotonic() < deadline, "fewer reads than one a second"
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=30)
    for diffid in (7001, 7002):
        assert 0.9 <= statistics.median(_gaps(simulator, diffid)) <= 1.5, diffid

    too_short = run_cli(cli_env, "watch", "7001", "--interval", "0.5")
    assert too_short.returncode == 2
    assert "1 and 3600" in too_short.stderr.decode()
    assert "adaptive" in run_cli(cli_env, "watch", "--help").stdout.decode()
    assert_clean(too_short)
