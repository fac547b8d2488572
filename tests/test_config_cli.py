"""The config file's refusals as the real CLI shows them: one line, exit 3, file untouched.

Each test starts one or two interpreters against a simulator in this process.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.test_cli_jobs import assert_clean, run_cli

if TYPE_CHECKING:
    from tui.simulator import Simulator


def config_file(env: dict[str, str], text: str, mode: int = 0o600) -> Path:
    path = Path(env["XDG_CONFIG_HOME"]) / "imagediff-tui" / "config.toml"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def assert_one_line_config_error(result: subprocess.CompletedProcess[bytes], *parts: str) -> None:
    assert_clean(result)
    stderr = result.stderr.decode()
    assert result.returncode == 3, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    for part in parts:
        assert part in stderr


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ("max_requests_per_second = 1e-300", "max_requests_per_second: 1e-300 is out of range"),
        ("timeout = nan", "timeout: nan is out of range (expected 1 to 300 seconds)"),
    ],
)
def test_poll_setting_out_of_range_exits_3_and_leaves_the_file(
    cli_env: dict[str, str], simulator: Simulator, setting: str, shown: str
) -> None:
    simulator.add_diff(1, state=5)
    path = config_file(cli_env, f"[poll]\n{setting}\n")
    before = path.read_bytes()
    assert_one_line_config_error(run_cli(cli_env, "status", "1"), str(path), shown)
    added = run_cli(
        cli_env, "profile", "add", "x", "--asid", "3", "--access-key", "AK", "--secret-env", "X"
    )
    assert_one_line_config_error(added, shown)
    assert path.read_bytes() == before
    assert simulator.count("status", 1) == 0


def profile_with_a_marker_command(marker: Path) -> str:
    """A profile whose secret_command leaves ``marker`` behind if it is ever run."""
    command = shlex.join([sys.executable, "-c", f"open({str(marker)!r}, 'w'); print('s')"])
    return f"[profiles.p]\nasid = 1\naccess_key = 'AK'\nsecret_command = {json.dumps(command)}\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_a_config_file_another_user_owns_is_refused_and_its_command_never_runs(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    env = {k: v for k, v in cli_env.items() if k != "CLANFORGE_SECRET_KEY"}
    path = config_file(env, profile_with_a_marker_command(marker), 0o644)
    os.chown(path, 65534, -1)
    result = run_cli(env, "status", "1")
    assert_one_line_config_error(result, f"{path} defines profiles but belongs to another user")
    assert not marker.exists()


def test_a_config_file_in_a_folder_others_can_write_is_refused(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    env = {k: v for k, v in cli_env.items() if k != "CLANFORGE_SECRET_KEY"}
    path = config_file(env, profile_with_a_marker_command(marker))
    path.parent.chmod(0o777)
    result = run_cli(env, "status", "1")
    assert_one_line_config_error(result, f"run: chmod go-w {path.parent}")
    assert not marker.exists()
