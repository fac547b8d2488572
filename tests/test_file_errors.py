"""Files that cannot be used: one clear line (what, where, what to do), never "internal error".

The real command line in a subprocess, with the data or log folder made unusable
the way it happens on a real machine: a file where a folder should be (which stops
root too), a folder without write permission, a watchlist from a newer version, a
folder where the watchlist file should be.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_cli_jobs import run_cli
from tests.test_launch import TerminalRun

APP = "imagediff-tui"


def _cli(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = run_cli(env, *args)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def _one_clear_line(stderr: str, *parts: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr
    for part in parts:
        assert part in lines[0], f"{part!r} not in {lines[0]!r}"


@pytest.fixture
def env(isolated_dirs: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLANFORGE_")}
    return dict(clean, **isolated_dirs, CLANFORGE_ASID="1234")


def _data_folder(env: dict[str, str]) -> Path:
    return Path(env["XDG_DATA_HOME"]) / APP


@pytest.mark.parametrize("command", [["add", "4101"], ["remove", "4101"]])
def test_a_file_where_the_data_folder_should_be(env: dict[str, str], command: list[str]) -> None:
    folder = _data_folder(env)
    folder.write_text("not a folder\n", encoding="utf-8")
    code, _out, err = _cli(env, "watchlist", *command)
    assert code == 1
    _one_clear_line(err, "cannot use the watchlist", str(folder), "XDG_DATA_HOME")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder")
def test_a_data_folder_without_write_permission(env: dict[str, str]) -> None:
    folder = _data_folder(env)
    folder.mkdir(mode=0o500)
    try:
        code, _out, err = _cli(env, "watchlist", "add", "4101")
    finally:
        folder.chmod(0o700)
    assert code == 1
    _one_clear_line(err, "cannot use the watchlist", "Permission denied", str(folder))


@pytest.mark.parametrize("command", [["add", "4101"], ["remove", "4101"]])
def test_a_watchlist_from_a_newer_version_is_left_alone(
    env: dict[str, str], command: list[str]
) -> None:
    path = _data_folder(env) / "watchlist.toml"
    path.parent.mkdir()
    path.write_text("schema = 9\n", encoding="utf-8")
    code, _out, err = _cli(env, "watchlist", *command)
    assert code == 1
    _one_clear_line(err, str(path), "newer imagediff-tui", "upgrade")
    assert path.read_text(encoding="utf-8") == "schema = 9\n"


@pytest.mark.parametrize("command", [["add", "4101"], ["remove", "4101"]])
def test_a_folder_where_the_watchlist_file_should_be(
    env: dict[str, str], command: list[str]
) -> None:
    path = _data_folder(env) / "watchlist.toml"
    path.mkdir(parents=True)
    code, _out, err = _cli(env, "watchlist", *command)
    assert code == 1
    _one_clear_line(err, str(path), "is a folder", "move it away")


def _block_log_folder(env: dict[str, str]) -> Path:
    state = Path(env["XDG_STATE_HOME"]) / APP
    state.write_text("not a folder\n", encoding="utf-8")
    return state


def test_a_command_runs_without_a_log_file_and_says_so(env: dict[str, str]) -> None:
    _block_log_folder(env)
    code, out, err = _cli(env, "watchlist", "add", "4101")
    assert code == 0
    assert "added 1 diff" in out
    _one_clear_line(err, "warning: not logging to a file", "XDG_STATE_HOME")


def test_the_app_runs_without_a_log_file_and_says_so(env: dict[str, str]) -> None:
    _block_log_folder(env)
    env = dict(env, CLANFORGE_API_URL="http://127.0.0.1:9", CLANFORGE_ACCESS_KEY="a")
    env["CLANFORGE_SECRET_KEY"] = "s"
    run = TerminalRun(env)
    try:
        run.read_until(b"not logging to a file")
        run.read_until(b"Quit")
        run.send(b"q")
        assert run.wait_exit() == 0
        assert b"internal error" not in run.output and b"Traceback" not in run.output
    finally:
        run.close()
