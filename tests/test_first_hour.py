"""What a new user meets in the first hour, as whole processes: the first-run error,
and ``--demo --theme`` with a theme the user is writing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_launch import TerminalRun, _files_under, terminal  # noqa: F401  (fixture)

THEME = """\
name = "mine"
dark = true

[colors]
primary = "#C0FFEE"
"""


def _env_without_account(isolated_dirs: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLANFORGE_")}
    env.update(isolated_dirs)
    return env


def test_first_run_error_offers_the_demo_and_profile_add(isolated_dirs: dict[str, str]) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tui"],
        env=_env_without_account(isolated_dirs),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 3
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "imagediff-tui --demo" in lines[0]
    assert "imagediff-tui profile add" in lines[0]
    assert "Traceback" not in run.stderr


def test_demo_previews_a_user_theme_and_leaves_its_folder_alone(
    isolated_dirs: dict[str, str],
    terminal: list[TerminalRun],  # noqa: F811
) -> None:
    themes = Path(isolated_dirs["XDG_CONFIG_HOME"]) / "imagediff-tui" / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text(THEME, encoding="utf-8")
    before = {path: path.stat().st_mtime_ns for path in themes.iterdir()}
    env = dict(_env_without_account(isolated_dirs), COLORTERM="truecolor")
    run = TerminalRun(env, "--demo", "--theme", "mine")
    terminal.append(run)
    run.read_until(b"#4112")
    # "mine" paints the screen: its primary colour, in the 24-bit colour the pty offers.
    run.read_until(b"2;192;255;238m")
    run.send(b"q")
    assert run.wait_exit() == 0
    assert {path: path.stat().st_mtime_ns for path in themes.iterdir()} == before
    for name in ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        assert _files_under(isolated_dirs[name]) == [], f"--demo wrote into {name}"
