"""The ``events`` command as a real subprocess, on a journal in an isolated data folder."""

from __future__ import annotations

import json
import os
import queue
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.test_cli_jobs import REPO, run_cli
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


# --- --follow -------------------------------------------------------------------------


class Follower:
    """``events --follow ...`` running, its lines gathered by a thread as they come."""

    def __init__(self, env: dict[str, str], *argv: str, shell_tail: str = "") -> None:
        command = shlex.join([sys.executable, "-m", "tui", "events", "--follow", *argv])
        self.process = subprocess.Popen(
            ["/bin/sh", "-c", command + shell_tail],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def next(self, poke: Callable[[], None], timeout: float = 30.0) -> dict[str, Any]:
        """The next line, calling ``poke`` every half second until it comes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return dict(json.loads(self.lines.get(timeout=0.5)))
            except queue.Empty:
                poke()
        pytest.fail("no line came")

    def end(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def state(diffid: int, new: str) -> JournalEvent:
    return JournalEvent(at=time.time(), kind=EventKind.STATE, diffid=diffid, asid=5, new=new)


def test_follow_json_into_head_prints_the_next_event_and_ends(env: dict[str, str]) -> None:
    journal = Journal(app_paths().journal_file)
    follower = Follower(env, "--json", shell_tail=" | head -1")
    try:
        line = follower.next(lambda: journal.append(state(4103, "Running")))
        assert (line["diffid"], line["to"]) == (4103, "Running"), "not an old event"
        assert follower.process.wait(timeout=20) == 0, "the pipeline ended with head"
    finally:
        follower.end()
    assert follower.lines.empty()


def test_follow_goes_on_across_the_rotation_with_since_and_diff(env: dict[str, str]) -> None:
    # Another writer whose journal rotates every few lines.
    journal = Journal(app_paths().journal_file, max_bytes=400)
    follower = Follower(env, "--json", "--since", "1h", "--diff", "4101")
    try:
        history = follower.next(lambda: None)
        assert history["kind"] == "action", "the hour's event of 4101 comes first"
        assert follower.next(lambda: journal.append(state(4101, "probe")))["to"] == "probe"
        while not follower.lines.empty():
            follower.lines.get()  # more probes
        for n in range(12):
            journal.append(state(4102, f"other {n}"))
            journal.append(state(4101, f"step {n}"))
        assert len(journal.files()) > 2, "the journal rotated"
        seen = [follower.next(lambda: None)["to"] for _ in range(12)]
        assert seen == [f"step {n}" for n in range(12)]
    finally:
        follower.end()
