"""The command line's rate cap and its waiting out of 429, against a rate-limited
simulator (real subprocesses over loopback)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from tests.test_cli_jobs import assert_clean, json_lines, run_cli
from tui.simulator import max_in_window

if TYPE_CHECKING:
    from tui.simulator import Simulator

DIFFS = range(5001, 5041)


def set_cli_rate(env: dict[str, str], rate: float) -> None:
    folder = Path(env["XDG_CONFIG_HOME"]) / "imagediff-tui"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(f"[poll]\nmax_requests_per_second = {rate}\n")


def test_status_stays_under_a_server_limit_equal_to_the_cap(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    for diffid in DIFFS:
        simulator.add_diff(diffid, state=5)
    # The 40 IDs at 4 rps, ten times faster: the same shape, in two seconds.
    set_cli_rate(cli_env, 20)
    simulator.rate_limit = 20
    result = run_cli(cli_env, "status", *map(str, DIFFS), "--json")
    assert result.returncode == 0, result.stderr
    assert [line["diffid"] for line in json_lines(result.stdout)] == list(DIFFS)
    assert [r.status for r in simulator.requests] == [200] * len(DIFFS)
    assert max_in_window([r.at for r in simulator.requests], 1.0) <= 20
    assert_clean(result)


def test_retry_waits_out_429_and_applies_each_diff_once(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    diffs = DIFFS[:30]
    for diffid in diffs:
        simulator.add_diff(diffid, state=6)
    # A server stricter than the CLI's cap: 429s come, are waited out and re-sent.
    set_cli_rate(cli_env, 20)
    simulator.rate_limit = 10
    result = run_cli(cli_env, "retry", *map(str, diffs), "--json")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert [line["diffid"] for line in lines] == list(diffs)
    assert all("error" not in line for line in lines)
    applied = Counter(r.diffid for r in simulator.requests if r.status == 200)
    assert applied == dict.fromkeys(diffs, 1)
    assert Counter(r.status for r in simulator.requests)[429] >= 1, "the 429 path was taken"
    assert_clean(result)


def test_a_retry_after_beyond_the_bound_gives_up_at_once_with_a_clear_error(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(5001, state=5)
    simulator.add_diff(5002, state=5)
    simulator.inject("429", endpoint="retry", diffid=5001, retry_after=3600)
    started = time.monotonic()
    result = run_cli(cli_env, "retry", "5001", "5002")
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "diff 5001" in stderr and "60 s" in stderr
    assert simulator.count("retry", 5001) == 1
    assert [r.status for r in simulator.requests if r.diffid == 5002] == [200]
    assert_clean(result)


def test_a_503_is_waited_out_for_status_and_retry_but_a_lost_answer_is_not_resent(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(5001, state=5)
    simulator.add_diff(5002, state=6)
    simulator.inject("503", endpoint="retry", diffid=5001)  # no Retry-After: a short wait
    simulator.inject("drop-after", endpoint="retry", diffid=5002)
    simulator.inject("429", endpoint="status", diffid=5001, retry_after=1)
    result = run_cli(cli_env, "retry", "5001", "5002", "--json")
    assert result.returncode == 1
    lines = json_lines(result.stdout)
    assert "error" not in lines[0]
    assert lines[1]["error"]["kind"] == "outcome-unknown"
    assert [r.status for r in simulator.requests if r.diffid == 5001] == [503, 200]
    assert simulator.count("retry", 5002) == 1

    result = run_cli(cli_env, "status", "5001")
    assert result.returncode == 0, result.stderr
    assert [r.status for r in simulator.requests if r.endpoint == "status"] == [429, 200]
    assert_clean(result)
