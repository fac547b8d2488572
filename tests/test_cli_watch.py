"""``watch`` at the edges: a reader that goes away, a terminal narrower than the text."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tests.test_cli_jobs import REPO
from tests.test_launch import COLUMNS, TerminalRun
from tui.cli.jobs import fit_cells

if TYPE_CHECKING:
    from tui.simulator import Simulator


def test_watch_ends_at_once_and_quietly_when_its_reader_goes_away(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    # Changes on every poll for about 20 s: the watch has plenty left to say.
    simulator.add_diff(4102, state=4, progress=1, duration=1000.0)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "watch", "4101", "4102", "--json", "--interval", "1"],
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


@given(st.text(), st.integers(-2, 60))
def test_a_fitted_line_never_takes_more_cells_than_the_width(text: str, width: int) -> None:
    fitted = fit_cells(text, width)
    assert cell_len(fitted) <= max(0, width)
    if cell_len(text) <= width:
        assert fitted == text
    else:
        assert fitted.endswith("…") or fitted == ""
        assert text.startswith(fitted.removesuffix("…"))


def test_wide_characters_are_cut_by_cells() -> None:
    assert fit_cells("東京東京東京", 7) == "東京東…"
    assert fit_cells("ok 🚀🚀", 7) == "ok 🚀🚀"
    assert fit_cells("ok 🚀🚀🚀", 7) == "ok 🚀…"


CURSOR_UP = re.compile(r"(\x1b\[\d*F)")


def rows_after_each_redraw(output: str, columns: int) -> list[int]:
    """Where the cursor is before each move up, and at the end, in rows below where
    the block began, as a terminal ``columns`` wide sees it (a wider line wraps)."""
    row, rows = 0, []
    for chunk in CURSOR_UP.split(output):
        if CURSOR_UP.fullmatch(chunk):
            rows.append(row)
            row -= int(chunk[2:-1] or 1)
            continue
        for line in re.sub(r"\x1b\[\d*K", "", chunk).split("\n")[:-1]:
            row += 1 + max(0, cell_len(line) - 1) // columns
    rows.append(row)
    return rows


def test_the_live_block_stays_in_place_with_wide_text_on_a_terminal(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=6, fail_with="ビルド失敗: 東京のマシンに接続できません 🚫" * 4)
    simulator.add_diff(4102, state=4, progress=60, duration=100.0)  # about a second to run
    run = TerminalRun(cli_env, "watch", "4101", "4102", "--interval", "1")
    try:
        code = run.wait_exit(timeout=30)
    finally:
        run.close()
    assert code == 0, run.output
    screen = run.output.decode().replace("\r\n", "\n")
    rows = rows_after_each_redraw(screen, COLUMNS)
    assert len(rows) >= 2, "the block was redrawn at least once"
    # A header, the two diffs and how to stop; the last redraw clears that hint.
    *live, last = rows
    assert all(row == 4 for row in live), rows
    assert last == 3, rows
