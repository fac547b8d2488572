"""``status`` and ``watch`` output for people: labels, columns, a header, timestamps, a hint.

Real subprocesses against a simulator in this process; a pty where a terminal is needed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from rich.cells import cell_len

from tests.test_cli_jobs import REPO, assert_clean, json_lines, run_cli
from tests.test_cli_watch import CURSOR_UP
from tests.test_launch import TerminalRun
from tui.cli.joblines import LABEL_MAX_CELLS, WATCH_HINT

if TYPE_CHECKING:
    from tui.simulator import Simulator

EU = "eu build"
WIDE = "東京ビルド 長いラベル 東京ビルド"  # 32 cells: cut to LABEL_MAX_CELLS
HOSTILE = "ops\x1b[2J"
STATES = ("Completed", "Failed", "Running")


def label_diffs(env: dict[str, str], simulator: Simulator) -> None:
    """4101 and 4102 watched with labels, 4104 watched without one, 4103 not watched."""
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=6, fail_with="disk full")
    simulator.add_diff(4103, state=5)
    simulator.add_diff(4104, state=5)
    lines = [{"diffid": 4101, "label": EU}, {"diffid": 4102, "label": WIDE}, {"diffid": 4104}]
    imported = subprocess.run(
        [sys.executable, "-m", "tui", "watchlist", "import", "-"],
        input="".join(json.dumps(line) + "\n" for line in lines).encode(),
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr


def cell_column(line: str, word: str) -> int:
    """The terminal column (in cells) where ``word`` starts on ``line``."""
    return cell_len(line[: line.index(word)])


def state_of(line: str) -> str:
    return next(state for state in STATES if f"  {state}" in line)


def test_status_shows_watchlist_labels_in_aligned_columns_and_json_stays_the_apis(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    label_diffs(cli_env, simulator)
    result = run_cli(cli_env, "status", "4101", "4102", "4103", "4104")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == ["4101", "4102", "4103", "4104"], "no header"
    assert lines[0].startswith(f"4101  {EU}  ")
    cut = lines[1].split("  ")[1]
    assert cut.endswith("…") and WIDE.startswith(cut[:-1])
    assert cell_len(cut) <= LABEL_MAX_CELLS
    assert lines[2].split()[1] == "Completed", "a diff off the watchlist has no label"
    columns = {cell_column(line, state_of(line)) for line in lines}
    assert len(columns) == 1, lines
    assert "disk full" in lines[1]
    assert_clean(result)

    # With no IDs, the watchlist's labels are shown too; remote-looking text stays plain.
    assert run_cli(cli_env, "watchlist", "add", "4103", "--label", HOSTILE).returncode == 0
    result = run_cli(cli_env, "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert [line.split()[0] for line in lines] == ["4101", "4102", "4104", "4103"]
    assert lines[3].startswith("4103  ops\\x1b[2J")
    assert len({cell_column(line, state_of(line)) for line in lines}) == 1, lines
    assert_clean(result)

    # --json keeps the API's fields: a script joins labels from `watchlist list --json`.
    result = run_cli(cli_env, "status", "4101", "--json")
    assert result.returncode == 0, result.stderr
    assert "label" not in json_lines(result.stdout)[0]


def test_status_on_a_terminal_prints_a_header_over_its_columns(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    label_diffs(cli_env, simulator)
    run = TerminalRun(cli_env, "status", "4101", "4102", "4103")
    try:
        code = run.wait_exit(timeout=30)
    finally:
        run.close()
    assert code == 0, run.output
    header, *lines = run.output.decode().replace("\r\n", "\n").splitlines()
    assert header.split() == ["ID", "LABEL", "STATE", "PROGRESS", "ETA"]
    assert [line.split()[0] for line in lines] == ["4101", "4102", "4103"]
    for line in lines:
        assert cell_column(line, state_of(line)) == cell_column(header, "STATE")
        assert cell_column(line, "%") + 1 == cell_column(header, "PROGRESS") + len("PROGRESS")
    assert cell_column(lines[0], EU) == cell_column(header, "LABEL")


STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)  (\d+)  ")


def test_piped_watch_lines_start_with_a_local_timestamp(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    label_diffs(cli_env, simulator)
    simulator.add_diff(4105, state=4, progress=60, duration=400.0)  # a few seconds to run
    # A zone far from UTC, in POSIX form (no tz database needed): local time is shown.
    zone = timezone(timedelta(hours=5, minutes=30))
    env = dict(cli_env, TZ="IST-5:30")
    started = datetime.now(zone).replace(microsecond=0, tzinfo=None)
    result = run_cli(env, "watch", "4101", "4103", "4105", "--interval", "1")
    ended = datetime.now(zone).replace(tzinfo=None)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) >= 4, "4105 changes at least once"
    for line in lines:
        match = STAMP.match(line)
        assert match, line
        assert started <= datetime.fromisoformat(match[1]) <= ended, (line, started, ended)
    assert any(f"  4101  {EU}  Completed" in line for line in lines), lines
    assert len({cell_column(line, state_of(line)) for line in lines}) == 1, lines
    assert_clean(result)


def test_watch_on_a_terminal_says_how_to_stop_it_until_it_stops(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    label_diffs(cli_env, simulator)
    simulator.add_diff(4105, state=4, progress=60, duration=400.0)  # a few seconds to run
    env = {key: value for key, value in cli_env.items() if key != "NO_COLOR"}
    run = TerminalRun(env, "watch", "4101", "4105", "--interval", "1")
    try:
        run.read_until(WATCH_HINT.encode())
        code = run.wait_exit(timeout=30)
    finally:
        run.close()
    assert code == 0, run.output
    screen = run.output.decode().replace("\r\n", "\n")
    assert f"\x1b[2m{WATCH_HINT}\x1b[0m\n" in screen, "dim, on the block's last line"
    frames = CURSOR_UP.split(screen)[::2]
    assert all(WATCH_HINT in frame for frame in frames[:-1])
    last = frames[-1]
    assert WATCH_HINT not in last, "a watch that has ended no longer says how to stop it"
    assert last.endswith("\x1b[J"), "the hint's row is cleared"
    assert "ID" in last and "LABEL" in last and f"4101  {EU}  Completed" in last


def test_status_of_named_diffs_works_without_labels_when_the_watchlist_is_unusable(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    # A folder where the file should be: it can be neither read nor moved aside.
    (Path(cli_env["XDG_DATA_HOME"]) / "imagediff-tui" / "watchlist.toml").mkdir(parents=True)
    result = run_cli(cli_env, "status", "4101")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("4101  Completed  100%")
    warning, *rest = result.stderr.decode().splitlines()
    assert warning.startswith("imagediff-tui: warning: labels not shown: ")
    assert "watchlist.toml is a folder" in warning
    assert not rest
