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
from tests.monitor.steps import header_text, toasts
from tests.test_cli_jobs import REPO
from tests.test_launch import TerminalRun, _watch
from tests.test_notify import hook_command, received
from tui.store.config import NotifySettings
from tui.ui.screens.monitor import MonitorScreen

if TYPE_CHECKING:
    from tui.simulator import Simulator

RUN = 100.0
"""Simulated seconds a diff runs before it ends, once the app has seen it run (2 s at the
simulator's speed)."""

LONG = 10.0**6
"""A run that lasts the whole test: until the app has seen it run (a diff first seen
ended is no change, and no event)."""


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


def both_running(simulator: Simulator, *diffids: int) -> None:
    for diffid in diffids:
        simulator.add_diff(diffid, state=4, progress=10, duration=LONG)


def one_fails_one_completes(simulator: Simulator, *, later: float = 1.0) -> None:
    """Once seen running, 4101 fails and 4102 completes ``later`` runs after it."""
    simulator.add_diff(4101, state=4, progress=80, duration=RUN, fail_with="checksum mismatch")
    simulator.add_diff(4102, state=4, progress=80, duration=later * RUN)


def test_the_app_writes_osc_9_and_the_hook_gets_both_events_as_journal_json(
    cli_env: dict[str, str], simulator: Simulator, tmp_path: Path
) -> None:
    command, out = hook_command(tmp_path)
    write_config(cli_env, notify_table(command, desktop=True))
    both_running(simulator, 4101, 4102)
    _watch(cli_env, "4101", "4102")
    run = TerminalRun(cli_env)
    try:
        run.read_until("▶ 2 running".encode(), timeout=60)
        one_fails_one_completes(simulator)
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
    both_running(simulator, 4101, 4102)
    settings = NotifySettings(command=command, on=("failed", "completed"))
    app = make_app(simulator, [4101, 4102], notify=settings)
    journaled: dict[str, float] = {}
    # Before the notifier's own listener: when each event reached the journal.
    app.journal.listeners.insert(
        0, lambda event: journaled.setdefault(event.new or "", time.monotonic())
    )
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: "▶ 2 running" in header_text(app), limit=30)
        one_fails_one_completes(simulator, later=2.0)
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


async def test_a_failing_hook_is_said_once_in_a_notice(
    simulator: Simulator, tmp_path: Path
) -> None:
    command, out = hook_command(tmp_path, status=3)
    both_running(simulator, 4101, 4102)
    app = make_app(simulator, [4101, 4102], notify=NotifySettings(command=command))
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_until(pilot, lambda: "▶ 2 running" in header_text(app), limit=30)
        for diffid in (4101, 4102):
            simulator.add_diff(diffid, state=4, progress=80, duration=RUN, fail_with="disk full")
        await wait_until(pilot, lambda: "✗ 2 failed" in header_text(app), limit=30)
        received(out, 2)
        said = "the [notify] command exited with status 3"
        await wait_until(pilot, lambda: said in " ".join(toasts(app)), limit=5)
        assert sum(said in toast for toast in toasts(app)) == 1
        await app.action_quit()


def test_watch_runs_the_hook_before_it_ends(
    cli_env: dict[str, str], simulator: Simulator, tmp_path: Path
) -> None:
    command, out = hook_command(tmp_path)
    write_config(cli_env, notify_table(command, desktop=True))
    both_running(simulator, 4101, 4102)
    process = subprocess.Popen(
        [sys.executable, "-m", "tui", "watch", "4101", "4102", "--json", "--interval", "1"],
        env=cli_env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        seen = {json.loads(process.stdout.readline())["diffid"] for _ in range(2)}
        assert seen == {4101, 4102}
        one_fails_one_completes(simulator)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr.decode()
    assert b"\x1b]9" not in stdout + stderr, "watch sends no desktop sequence"
    events = received(out, 2, timeout=1)
    assert sorted((event["diffid"], event["to"]) for event in events) == [
        (4101, "Failed"),
        (4102, "Completed"),
    ]
    assert simulator.secret_key not in out.read_text()
