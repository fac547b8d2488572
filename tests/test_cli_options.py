"""Options that bound the command line's waits: ``watch --interval`` and ``--timeout``.

Real subprocesses against a simulator in this process; gaps are measured at the server.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from tests.test_cli_jobs import REPO, assert_clean, json_lines, run_cli

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


class Lines:
    """A command's stdout read line by line as it comes, with when each came."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", *args],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def next(self) -> tuple[float, dict[str, object]]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, "the command ended before printing this line"
        return time.monotonic() - self.started, json.loads(line)

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def timeout_line(result: subprocess.CompletedProcess[bytes], seconds: int) -> str:
    """The one line a command cut short by ``--timeout seconds`` ends with (exit 1)."""
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert f"--timeout {seconds} s" in line
    assert_clean(result)
    return line


def test_status_prints_healthy_diffs_while_one_keeps_answering_429(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    for diffid in (5001, 5002, 5003):
        simulator.add_diff(diffid, state=5)
    simulator.break_diff(5001, "429", retry_after=2)
    run = Lines(cli_env, "status", "5001", "5002", "5003", "--json")
    try:
        firsts = [run.next(), run.next()]
    finally:
        run.end()
    assert [line["diffid"] for _, line in firsts] == [5002, 5003]
    # The broken diff gives up only after a minute; the others did not wait for it.
    assert max(at for at, _ in firsts) < 20


def test_status_timeout_ends_with_one_line_naming_what_was_not_answered(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    for diffid in (5001, 5002):
        simulator.add_diff(diffid, state=5)
    simulator.break_diff(5001, "429", retry_after=2)
    started = time.monotonic()
    result = run_cli(cli_env, "status", "5001", "5002", "--json", "--timeout", "4")
    assert time.monotonic() - started < 25
    line = timeout_line(result, 4)
    assert "diff 5001" in line and "429" in line and "5002" not in line
    lines = json_lines(result.stdout)
    assert lines[0]["diffid"] == 5002 and "error" not in lines[0]
    assert lines[1] == {
        "diffid": 5001,
        "error": {"kind": "timeout", "http_status": 429, "message": lines[1]["error"]["message"]},
    }


def test_watch_timeout_bounds_the_whole_watch(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(5001, state=4, progress=1, duration=100_000.0)
    simulator.add_diff(5002, state=5)
    started = time.monotonic()
    result = run_cli(cli_env, "watch", "5001", "5002", "--timeout", "3", "--interval", "1")
    assert 3 <= time.monotonic() - started < 25
    line = timeout_line(result, 3)
    assert "diff 5001" in line and "Running" in line and "5002" not in line
    # Each line: the date, the time, then the diff.
    assert {line.split()[2] for line in result.stdout.decode().splitlines()} == {"5001", "5002"}


def test_an_action_cut_short_by_the_timeout_is_unknown_and_the_rest_not_sent(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    for diffid in (5001, 5002):
        simulator.add_diff(diffid, state=5)
    simulator.inject("slow", endpoint="accept", diffid=5001, delay=8)
    result = run_cli(cli_env, "accept", "5001", "5002", "--restart", "0", "--timeout", "2")
    line = timeout_line(result, 2)
    assert "diff 5001: sent, no answer" in line and "diff 5002: not sent" in line
    assert simulator.count("accept", 5002) == 0
    journal = run_cli(cli_env, "events", "--json")
    outcomes = [(e["diffid"], e["outcome"]) for e in json_lines(journal.stdout)]
    assert (5001, "unknown") in outcomes


def test_create_and_retry_take_a_timeout(cli_env: dict[str, str], simulator: Simulator) -> None:
    simulator.add_diff(5001, state=6)
    simulator.break_diff(5001, "429", endpoint="retry", retry_after=2)
    line = timeout_line(run_cli(cli_env, "retry", "5001", "--timeout", "3"), 3)
    assert "diff 5001" in line and "429" in line
    simulator.inject("slow", endpoint="create", delay=8)
    created = run_cli(cli_env, "create", "--image", "9", "--machine", "9", "--timeout", "2")
    assert "a diff may have been created" in timeout_line(created, 2)
