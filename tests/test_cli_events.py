"""The ``events`` command as a real subprocess, on a journal in an isolated data folder."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.test_cli_jobs import run_cli
from tui.store.journal import EventKind, Journal, JournalEvent
from tui.store.paths import app_paths


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    done = run_cli(env, *argv)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


@pytest.fixture
def env(isolated_dirs: dict[str, str]) -> dict[str, str]:
    now = time.time()
    journal = Journal(app_paths().journal_file)
    journal.append(
        JournalEvent(
            at=now - 3 * 3600,
            kind=EventKind.STATE,
            diffid=4101,
            asid=5,
            old="Running",
            new="Failed",
            job_time=int(now - 3 * 3600 - 5),
        )
    )
    journal.append(
        JournalEvent(
            at=now - 600,
            kind=EventKind.ACTION,
            diffid=4101,
            asid=5,
            label="night\x1b[2Jly",
            action="retry",
            outcome="refused",
            reason="[b]Image locked[/b]",
            ref="r1",
        )
    )
    journal.append(JournalEvent(at=now - 60, kind=EventKind.OUTAGE, asid=5, phase="start"))
    journal.append(
        JournalEvent(
            at=now - 30, kind=EventKind.STATE, diffid=4102, asid=5, old="Queued", new="Running"
        )
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLANFORGE_")}
    return {**base, **isolated_dirs, "PYTHONUTF8": "1"}


def test_events_prints_every_event_oldest_first_as_plain_text(env: dict[str, str]) -> None:
    done = run(env, "events")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    assert "#4101" in lines[0] and "Failed (was Running, job updated" in lines[0]
    assert "night\\x1b[2Jly" in lines[1] and "\x1b" not in done.stdout
    assert "retry refused: [b]Image locked[/b]" in lines[1]
    assert "connection lost" in lines[2]
    assert "#4102" in lines[3] and "Running (was Queued" in lines[3]


def test_events_since_and_diff_narrow_and_json_is_one_event_per_line(
    env: dict[str, str],
) -> None:
    recent = run(env, "events", "--since", "2h", "--json")
    assert recent.returncode == 0, recent.stderr
    events = [json.loads(line) for line in recent.stdout.splitlines()]
    assert [(e["kind"], e.get("diffid")) for e in events] == [
        ("action", 4101),
        ("outage", None),
        ("state", 4102),
    ]
    assert events[0]["outcome"] == "refused" and events[0]["reason"] == "[b]Image locked[/b]"
    one = run(env, "events", "--diff", "4101", "--json")
    assert [json.loads(line)["kind"] for line in one.stdout.splitlines()] == ["state", "action"]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 45))
    assert len(run(env, "events", "--since", iso).stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--since", "2 hours"], "--since: '2 hours' is not a time: use 30m, 2h, 1d"),
        (["--since", "yesterday"], "is not a time"),
        (["--diff", "abc"], "--diff: 'abc' is not a diff ID: use digits only"),
    ],
)
def test_bad_option_values_exit_2_with_one_line(
    env: dict[str, str], argv: list[str], words: str
) -> None:
    done = run(env, "events", *argv)
    assert done.returncode == 2
    assert words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and done.stdout == ""


def test_events_without_a_journal_prints_nothing(isolated_dirs: dict[str, str]) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLANFORGE_")}
    done = run({**base, **isolated_dirs}, "events")
    assert (done.returncode, done.stdout) == (0, "")
