"""``[notify]``: the config table, which events are sent, the hook runner, the sequence."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from tui.polling.notifier import HOOK_QUEUE, Notifier
from tui.store.config import (
    ConfigError,
    NotifySettings,
    config_to_toml,
    load_config,
    parse_config,
)
from tui.store.journal import EventKind, JournalEvent
from tui.store.log_file import register_secret
from tui.store.notify_events import DEFAULT_ON, notify_line, notify_name
from tui.ui.desktop_notice import desktop_sequence

CONFIG = Path("/config.toml")

HOOK = """\
import sys, time
data = sys.stdin.read()
time.sleep(float(sys.argv[2]))
with open(sys.argv[1], "a") as out:
    out.write(data + "\\n")
sys.exit(int(sys.argv[3]))
"""


def hook_command(tmp_path: Path, *, sleep: float = 0.0, status: int = 0) -> tuple[str, Path]:
    """A hook command that appends its stdin (one line per event) to the file returned."""
    script = tmp_path / "hook.py"
    script.write_text(HOOK)
    out = tmp_path / "hook-received.jsonl"
    argv = [sys.executable, str(script), str(out), str(sleep), str(status)]
    return shlex.join(argv), out


def received(out: Path, count: int, timeout: float = 20.0) -> list[dict[str, object]]:
    """The events the hook wrote, once there are ``count`` of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists():
            lines = out.read_text().splitlines()
            if len(lines) >= count:
                return [json.loads(line) for line in lines]
        time.sleep(0.05)
    pytest.fail(f"the hook received fewer than {count} events")


def failed(diffid: int = 4101, reason: str | None = "checksum mismatch") -> JournalEvent:
    return JournalEvent(
        at=1.0,
        kind=EventKind.STATE,
        diffid=diffid,
        asid=7,
        label="eu-west",
        old="Running",
        new="Failed",
        reason=reason,
    )


# -- the config table ----------------------------------------------------------------


def test_notify_is_read_with_defaults_and_written_back() -> None:
    assert parse_config("", CONFIG).notify == NotifySettings(False, None, DEFAULT_ON)
    assert "completed" not in DEFAULT_ON
    text = '[notify]\ndesktop = true\ncommand = "page --to ops"\non = ["failed", "completed"]\n'
    config = parse_config(text, CONFIG)
    assert config.notify == NotifySettings(True, "page --to ops", ("failed", "completed"))
    assert parse_config(config_to_toml(config), CONFIG).notify == config.notify


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ("sound = true", "[notify].sound: unknown key"),
        ('desktop = "yes"', "[notify] desktop: expected true or false"),
        ("command = 3", "[notify] command: expected a string"),
        ('command = "  "', "[notify] command: expected a non-empty command"),
        ('command = "page \'ops"', "[notify] command: cannot split the command"),
        ('on = "failed"', "[notify] on: expected an array"),
        ('on = ["failed", "exploded"]', "[notify] on: unknown event 'exploded'"),
        ("on = [1]", "[notify] on: unknown event 1"),
    ],
)
def test_a_bad_notify_table_is_an_error_naming_the_key(table: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(f"[notify]\n{table}\n", CONFIG)
    assert says in str(caught.value)


def test_a_notify_command_in_a_file_others_can_write_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[notify]\ncommand = "page --to ops"\n')
    path.chmod(0o664)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        f"{path} defines a [notify] command and is writable by other users; run: chmod 600 {path}"
    )
    path.chmod(0o644)
    assert load_config(path).notify.command == "page --to ops"


# -- which events --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "name", "line"),
    [
        (failed(), "failed", "✗ #4101 eu-west failed: checksum mismatch"),
        (
            JournalEvent(at=1, kind=EventKind.STATE, diffid=9, old="Running", new="Completed"),
            "completed",
            "✓ #9 completed",
        ),
        (JournalEvent(at=1, kind=EventKind.STATE, diffid=9, old="Queued", new="Running"), None, ""),
        (
            JournalEvent(
                at=1,
                kind=EventKind.STATE,
                diffid=9,
                old="image version 7001: Running",
                new="image version 7001: Failed",
            ),
            "version-failed",
            "✗ #9 image version 7001 failed",
        ),
        (
            JournalEvent(
                at=1,
                kind=EventKind.STATE,
                diffid=9,
                old="image version 7001: Running",
                new="image version 7001: Completed",
            ),
            None,
            "",
        ),
        (
            JournalEvent(
                at=1,
                kind=EventKind.ACTION,
                diffid=9,
                action="retry",
                outcome="refused",
                reason="diff is running",
            ),
            "refused",
            "✗ #9 retry refused: diff is running",
        ),
        (
            JournalEvent(at=1, kind=EventKind.ACTION, diffid=9, action="accept", outcome="unknown"),
            "unknown",
            "? #9 accept unknown",
        ),
        (
            JournalEvent(at=1, kind=EventKind.ACTION, diffid=9, action="retry", outcome="sent"),
            None,
            "",
        ),
        (JournalEvent(at=1, kind=EventKind.OUTAGE, phase="start"), "outage", "✗ connection lost"),
        (JournalEvent(at=1, kind=EventKind.OUTAGE, phase="end"), None, ""),
        (
            JournalEvent(at=1, kind=EventKind.KEYS, phase="start", reason="401: check the keys"),
            "keys",
            "✗ keys refused: 401: check the keys",
        ),
        (JournalEvent(at=1, kind=EventKind.KEYS, phase="end"), None, ""),
    ],
)
def test_each_journal_event_maps_to_its_on_name(
    event: JournalEvent, name: str | None, line: str
) -> None:
    assert notify_name(event) == name
    if name is not None:
        assert notify_line(event) == line


# -- the hook --------------------------------------------------------------------------


def test_the_hook_gets_each_event_as_the_journal_json_without_any_secret(
    tmp_path: Path,
) -> None:
    register_secret("s3cr3t-key-value")
    command, out = hook_command(tmp_path)
    notifier = Notifier(NotifySettings(command=command, on=("failed", "completed")))
    notifier.event(failed(reason="auth s3cr3t-key-value refused"))
    notifier.event(
        JournalEvent(at=2, kind=EventKind.STATE, diffid=5, old="Running", new="Completed")
    )
    notifier.event(JournalEvent(at=3, kind=EventKind.STATE, diffid=6, old="Queued", new="Running"))
    assert notifier.close(20.0) == 0
    events = received(out, 2)
    assert [e["diffid"] for e in events] == [4101, 5]
    assert events[0]["to"] == "Failed" and events[0]["kind"] == "state"
    assert "s3cr3t" not in out.read_text()


def test_the_hook_is_not_given_the_keys_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_secret("env-s3cr3t-value")
    monkeypatch.setenv("CLANFORGE_SECRET_KEY", "env-s3cr3t-value")
    monkeypatch.setenv("MY_PROFILE_SECRET", "env-s3cr3t-value")
    monkeypatch.setenv("HOOK_SEES_THIS", "yes")
    out = tmp_path / "environ.txt"
    dump = "import os, sys; open(sys.argv[1], 'w').write(repr(dict(os.environ)))"
    notifier = Notifier(NotifySettings(command=shlex.join([sys.executable, "-c", dump, str(out)])))
    notifier.event(failed())
    notifier.close(20.0)
    seen = out.read_text()
    assert "HOOK_SEES_THIS" in seen
    assert "env-s3cr3t" not in seen and "CLANFORGE_SECRET_KEY" not in seen


def test_a_slow_hook_never_holds_up_the_caller_and_a_full_queue_drops_and_says_so(
    tmp_path: Path,
) -> None:
    command, _ = hook_command(tmp_path, sleep=30)
    reports: list[str] = []
    notifier = Notifier(NotifySettings(command=command), report=reports.append, timeout=60)
    started = time.monotonic()
    for diffid in range(HOOK_QUEUE + 5):
        notifier.event(failed(diffid + 1))
    assert time.monotonic() - started < 2.0
    assert notifier.dropped >= 4
    assert len(reports) == 1 and "slower than the events" in reports[0]
    assert notifier.close(0.1) > 0


def test_a_failing_or_hanging_hook_is_reported_once_until_it_works_again(
    tmp_path: Path,
) -> None:
    command, out = hook_command(tmp_path, status=3)
    reports: list[str] = []
    notifier = Notifier(NotifySettings(command=command), report=reports.append)
    notifier.event(failed(1))
    notifier.event(failed(2))
    notifier.close(20.0)
    assert len(received(out, 2)) == 2
    assert reports == ["the [notify] command exited with status 3"]

    command, _ = hook_command(tmp_path, sleep=30)
    reports.clear()
    notifier = Notifier(NotifySettings(command=command), report=reports.append, timeout=0.5)
    started = time.monotonic()
    notifier.event(failed(1))
    notifier.event(failed(2))
    notifier.close(20.0)
    assert time.monotonic() - started < 10
    assert reports == ["the [notify] command did not finish within 0.5 s and was stopped"]


def test_a_missing_hook_program_is_reported(tmp_path: Path) -> None:
    reports: list[str] = []
    notifier = Notifier(
        NotifySettings(command=str(tmp_path / "no-such-hook")), report=reports.append
    )
    notifier.event(failed())
    notifier.close(10.0)
    assert len(reports) == 1 and "cannot run" in reports[0]


def test_events_not_in_on_reach_nobody(tmp_path: Path) -> None:
    command, out = hook_command(tmp_path)
    shown: list[str] = []
    notifier = Notifier(NotifySettings(desktop=True, command=command, on=()), desktop=shown.append)
    notifier.event(failed())
    notifier.close(5.0)
    assert shown == [] and not out.exists()


# -- the terminal sequence ---------------------------------------------------------------


def test_the_desktop_sequence_is_osc_9_with_nothing_inside_that_ends_it() -> None:
    text = "✗ #1 failed: bad\x1b]9;evil\x07\x9c\x1b\\"
    sequence = desktop_sequence(text, {})
    assert sequence.startswith("\x1b]9;✗ #1 failed: bad") and sequence.endswith("\x07")
    inner = sequence[len("\x1b]9;") : -1]
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in inner)
    assert desktop_sequence("4;2", {}) == "\x1b]9; 4;2\x07"


def test_vte_gets_osc_777_too_and_tmux_wraps_each_for_passthrough() -> None:
    both = desktop_sequence("✓ #1 completed", {"VTE_VERSION": "7600"})
    assert both == "\x1b]9;✓ #1 completed\x07\x1b]777;notify;imagediff-tui;✓ #1 completed\x07"
    wrapped = desktop_sequence("✓ #1", {"TMUX": "/tmp/tmux-1000/default,1,0"})
    assert wrapped == "\x1bPtmux;\x1b\x1b]9;✓ #1\x07\x1b\\"
