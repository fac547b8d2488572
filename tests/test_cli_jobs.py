"""status / retry / watch as real subprocesses against a simulator in this process.

Kept few: each test starts one or two interpreters.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tui import __version__, cli
from tui.cli import jobs as cli_jobs

if TYPE_CHECKING:
    from tui.simulator import Simulator

REPO = Path(__file__).resolve().parent.parent
JOB_KEYS = {
    "diffid",
    "jobcreated",
    "joberror",
    "jobeta",
    "jobfailed",
    "jobprogress",
    "jobstart",
    "jobstateid",
    "jobstatename",
    "jobupdated",
}
ERROR_KEYS = {"kind", "http_status", "message"}


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )


def json_lines(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.decode().splitlines() if line.strip()]


def assert_clean(result: subprocess.CompletedProcess[bytes]) -> None:
    """No traceback, no raw escape byte, whatever happened."""
    assert b"Traceback" not in result.stderr
    assert b"\x1b" not in result.stdout + result.stderr


def check_line_schema(line: dict[str, Any]) -> None:
    assert isinstance(line["diffid"], int)
    if "error" in line:
        assert set(line) == {"diffid", "error"}
        assert set(line["error"]) == ERROR_KEYS
        assert isinstance(line["error"]["kind"], str)
        assert line["error"]["http_status"] is None or isinstance(line["error"]["http_status"], int)
        assert isinstance(line["error"]["message"], str)
    else:
        assert set(line) >= JOB_KEYS
        assert isinstance(line["jobprogress"], int)
        assert line["jobstateid"] in range(1, 7)


def test_version(isolated_dirs: dict[str, str]) -> None:
    result = run_cli(dict(isolated_dirs, PATH=""), "--version")
    assert result.returncode == 0
    assert __version__ in result.stdout.decode()


@pytest.mark.parametrize("command", ["status", "retry"])
def test_bad_ids_are_all_named_and_nothing_is_sent(
    cli_env: dict[str, str], simulator: Simulator, command: str
) -> None:
    tokens = ["abc", "-5", "0", "1e3", "9223372036854775808"]
    result = run_cli(cli_env, command, "4101", *tokens)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    for token in tokens:
        assert repr(token) in stderr
    assert len([line for line in stderr.splitlines() if "is not a diff ID" in line]) == len(tokens)
    assert len(simulator.requests) == 0
    assert_clean(result)


def test_status_json_lines_and_exit_1_on_a_failed_call(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=6)
    result = run_cli(cli_env, "status", "4101", "4102", "999999", "--json")
    assert result.returncode == 1
    lines = json_lines(result.stdout)
    assert [line["diffid"] for line in lines] == [4101, 4102, 999999]
    for line in lines:
        check_line_schema(line)
    assert lines[0]["jobstateid"] == 5
    assert lines[1]["jobfailed"] == 1
    assert lines[2]["error"]["kind"] == "not-found"
    assert lines[2]["error"]["http_status"] == 404
    assert_clean(result)


def test_status_human_output_is_plain_even_for_hostile_text(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=6)
    simulator.add_diff(4102, state=5)
    simulator.inject("hostile", endpoint="status", diffid=4101)
    result = run_cli(cli_env, "status", "4101", "4102", "--info")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().splitlines()
    assert out[0].startswith("4101  ")
    assert any(line.startswith("4102  Completed  100%") for line in out)
    assert any("files:" in line for line in out)
    assert_clean(result)


def test_faults_exit_1_with_one_line_and_no_traceback(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=5)
    simulator.inject("malformed", endpoint="status", diffid=4101)
    simulator.inject("html", endpoint="status", diffid=4102)
    result = run_cli(cli_env, "status", "4101", "4102")
    assert result.returncode == 1
    errors = result.stderr.decode().splitlines()
    assert len(errors) == 2
    assert all(line.startswith("imagediff-tui: error: diff 410") for line in errors)
    assert "<" not in result.stderr.decode()
    assert_clean(result)


def test_config_and_usage_errors(cli_env: dict[str, str], simulator: Simulator) -> None:
    simulator.add_diff(4101, state=5)
    wrong_key = dict(cli_env, CLANFORGE_SECRET_KEY="wrong")
    result = run_cli(wrong_key, "status", "4101")
    assert result.returncode == 3
    assert b"401" in result.stderr
    assert_clean(result)

    missing = {k: v for k, v in cli_env.items() if k != "CLANFORGE_SECRET_KEY"}
    result = run_cli(missing, "status", "4101", "--api-url", "http://127.0.0.1:9")
    assert result.returncode == 3
    assert b"CLANFORGE_SECRET_KEY" in result.stderr

    result = run_cli(cli_env, "status", "4101", "--asid", "nope")
    assert result.returncode == 2
    assert b"--asid" in result.stderr

    result = run_cli(cli_env, "status", "4101", "--api-url", "http://example.com")
    assert result.returncode == 3
    assert b"https" in result.stderr
    assert_clean(result)


def test_retry_sends_each_id_once_and_reports_unknown_outcomes(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=6)
    simulator.inject("drop-after", endpoint="retry", diffid=4102)
    result = run_cli(cli_env, "retry", "4101", "4102", "4101", "--json")
    assert result.returncode == 1
    lines = json_lines(result.stdout)
    for line in lines:
        check_line_schema(line)
    assert [line["diffid"] for line in lines] == [4101, 4102]
    assert "error" not in lines[0]
    assert lines[1]["error"]["kind"] == "outcome-unknown"
    assert simulator.count("retry", 4101) == 1
    assert simulator.count("retry", 4102) == 1
    assert simulator.count("status") == 0
    assert_clean(result)


def test_watch_until_terminal_with_exit_status(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=6)
    # speed 50: about one second left to run.
    simulator.add_diff(4103, state=4, progress=50, duration=100.0)
    result = run_cli(cli_env, "watch", "4101", "4102", "4103", "--json", "--interval", "1")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    for line in lines:
        check_line_schema(line)
    assert {line["diffid"] for line in lines} == {4101, 4102, 4103}
    assert [line["jobstateid"] for line in lines if line["diffid"] == 4103][-1] == 5
    assert simulator.count("status", 4101) == 1, "a terminal diff is not polled again"

    result = run_cli(cli_env, "watch", "4101", "4102", "--exit-status", "--interval", "1")
    assert result.returncode == 1
    assert len(result.stdout.decode().splitlines()) == 2
    assert_clean(result)


# --- in-process: the main() safety net ------------------------------------------------------


def test_unexpected_exception_is_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(args: object) -> int:
        raise RuntimeError("kaput")

    monkeypatch.setattr(cli_jobs, "run_status", boom)
    assert cli.main(["status", "1"]) == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaput" in err
    assert "--debug" in err
    assert "Traceback" not in err

    assert cli.main(["status", "1", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_keyboard_interrupt_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_jobs, "run_status", interrupted)
    assert cli.main(["status", "1"]) == 130
    assert capsys.readouterr().err == ""
