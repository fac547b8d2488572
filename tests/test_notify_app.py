"""``[notify]`` end to end: the app on a pty writes OSC 9 and runs the hook; a slow hook
delays nothing on screen; ``watch`` runs the hook for a CI pipeline."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.app_support import make_app, wait_until
from tests.monitor.steps import header_text
from tests.test_cli_jobs import REPO
from tests.test_launch import TerminalRun, _watch
from tests.test_notify import hook_command, received
from tui.store.config import NotifySettings
from tui.ui.screens.monitor import MonitorScreen

if TYPE_CHECKING:
    from tui.simulator import Simulator

RUN = 150.0
"""Simulated seconds a diff runs before it ends (3 s at the simulator's speed)."""


def write_config(env: dict[str, str], table: str) -> None:
    folder = Path(env["XDG_CONFIG_HOME"]) / "imagediff-tui"
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / "config.toml").write_text(table)
    (folder / "config.toml").chmod(0o600)


def notify_table(command: str, *, desktop: bool) -> str:
    on = '["failed", "completed"]'
    return (
        f"[notify]\ndesktop = {str(desktop).lower()}\ncommand = {json.dumps(command)}\non = {on}\n"
    )


def one_fails_one_completes(simulator: Simulator) -> None:
    simulator.add_diff(4101, state=4, progress=10, duration=RUN, fail_with="checksum mismatch")
    simulator.add_diff(4102, state=4, progress=10, duration=RUN)


def test_the_app_writes_osc_9_and_the_hook_gets_both_events_as_journal_json(
    cli_env: dict[str, str], simulator: Simulator, tmp_path: Path
) -> None:
    command, out = hook_command(tmp_path)
    write_config(cli_env, notify_table(command, desktop=True))
    one_fails_one_completes(simulator)
    _watch(cli_env, "4101", "4102")
    run = TerminalRun(cli_env)
    try:
        run.read_until("\x1b]9;✗ #4101 failed: checksum mismatch\x07".encode(), timeout=60)
        run.read_until("\x1b]9;✓ #4102 completed\x07".encode(), timeout=60)
        events = received(out, 2, timeout=30)
        run.send(b"q")
        assert run.wait_exit() == 0
    finally:
        run.close()
    by_diff = {event["diffid"]: event for event in events}
    assert by_diff[4101]["kind"] == "state" and by_diff[4101]["to"] == "Failed"
    assert by_diff[4101]["reason"] == "checksum mismatch"
    assert by_diff[4102]["to"] == "Completed"
    journal = Path(cli_env["XDG_DATA_HOME"]) / "imagediff-tui" / "journal.jsonl"
    stored = [json.loads(line) for line in journal.read_text().splitlines()]
    assert all(event in stored for event in events), "the hook got the journal's objects"
    sent = out.read_text()
    assert simulator.secret_key not in sent and simulator.access_key not in sent


async def test_a_hook_that_sleeps_30_s_delays_nothing_on_screen(
    simulator: Simulator, tmp_path: Path
) -> None:
    command, out = hook_command(tmp_path, sleep=30)
    simulator.add_diff(4101, state=4, progress=10, duration=RUN, fail_with="checksum mismatch")
    simulator.add_diff(4102, state=4, progress=10, duration=2 * RUN)
    settings = NotifySettings(command=command, on=("failed", "completed"))
    app = make_app(simulator, [4101, 4102], notify=settings)
    journaled: dict[str, float] = {}
    # Before the notifier's own listener: when each event reached the journal.
    app.journal.listeners.insert(
        0, lambda event: journaled.setdefault(event.new or "", time.monotonic())
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: "✗ 1 failed" in header_text(app), limit=30)
        assert time.monotonic() - journaled["Failed"] < 2, "the header waited for the hook"
        # The failure's hook sleeps on: a key is answered at once...
        await pilot.press("question_mark")
        pressed = time.monotonic()
        await wait_until(pilot, lambda: not isinstance(app.screen, MonitorScreen), limit=5)
        assert time.monotonic() - pressed < 2
        await pilot.press("escape")
        # ...and the completion that comes later reaches the header as soon as it is known.
        await wait_until(pilot, lambda: "✓ 1 completed" in header_text(app), limit=30)
        assert time.monotonic() - journaled["Completed"] < 2
        quit_at = time.monotonic()
        await app.action_quit()
    assert time.monotonic() - quit_at < 3
    assert not out.exists(), "the sleeping hook was stopped at exit, not waited for"


def test_watch_runs_the_hook_before_it_ends(
    cli_env: dict[str, str], simulator: Simulator, tmp_path: Path
) -> None:
    command, out = hook_command(tmp_path)
    write_config(cli_env, notify_table(command, desktop=True))
    one_fails_one_completes(simulator)
    result = subprocess.run(
        [sys.executable, "-m", "tui", "watch", "4101", "4102", "--json", "--interval", "1"],
        env=cli_env,
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert b"\x1b]9" not in result.stdout + result.stderr, "watch sends no desktop sequence"
    events = received(out, 2, timeout=1)
    assert sorted((event["diffid"], event["to"]) for event in events) == [
        (4101, "Failed"),
        (4102, "Completed"),
    ]
    assert simulator.secret_key not in out.read_text()
