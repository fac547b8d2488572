"""The journal: its file format, rotation, two writers, bad lines, and the tracker's events."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.test_tracker import (
    FakeClient,
    Running,
    entry,
    first_answers,
    make_job,
    tracker_for,
    wait_until,
)
from tui.api.errors import ActionOutcomeUnknown, BadRequest
from tui.domain.jobs import JobState
from tui.store.journal import (
    EventKind,
    Journal,
    JournalEvent,
    OutageWatch,
    describe,
    parse_line,
    parse_since,
)
from tui.store.log_file import redact


def state_event(at: float, diffid: int = 1, new: str = "Completed") -> JournalEvent:
    return JournalEvent(at=at, kind=EventKind.STATE, diffid=diffid, asid=42, old="Running", new=new)


# -- file ---------------------------------------------------------------------------


def test_events_round_trip_through_the_file_newest_first(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    events = [
        state_event(1.0),
        JournalEvent(
            at=2.0,
            kind=EventKind.ACTION,
            diffid=1,
            asid=42,
            label="nightly",
            action="retry",
            outcome="refused",
            reason="Image locked\x1b[2J",
            ref="abc",
        ),
        JournalEvent(at=3.0, kind=EventKind.OUTAGE, phase="start"),
    ]
    for event in events:
        journal.append(event)
    assert journal.read() == events[::-1]
    first = json.loads((tmp_path / "journal.jsonl").read_text().splitlines()[0])
    assert first == {
        "at": 1.0,
        "kind": "state",
        "diffid": 1,
        "asid": 42,
        "from": "Running",
        "to": "Completed",
    }
    assert os.stat(tmp_path / "journal.jsonl").st_mode & 0o777 == 0o600


def test_rotation_caps_each_file_keeps_n_and_reading_spans_them(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, max_bytes=400, keep=2)
    for n in range(60):
        journal.append(state_event(float(n), diffid=n))
    assert [p.name for p in journal.files()] == [
        "journal.jsonl",
        "journal.jsonl.1",
        "journal.jsonl.2",
    ]
    assert all(p.stat().st_size <= 400 for p in journal.files())
    kept = [event.diffid for event in journal.read()]
    # Newest first, no gap across the files, the oldest dropped.
    assert kept[0] == 59
    assert kept == list(range(59, 59 - len(kept), -1))
    assert 9 < len(kept) < 60
    assert [event.diffid for event in journal.read(limit=3)] == [59, 58, 57]


def test_a_torn_or_corrupt_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    journal.append(state_event(1.0, diffid=1))
    with path.open("ab") as handle:
        handle.write(b'{"at": 2, "kind": "state", "diff')  # a writer died mid-line
        handle.write(b"\n\xff\xfe not json\n[1, 2]\n")
        handle.write(b'{"at": "later", "kind": "state"}\n{"at": 3, "kind": "party"}\n')
        handle.write(b'{"at": 4, "kind": "state", "diffid": "seven"}\n')
    journal.append(state_event(5.0, diffid=5))
    assert [event.diffid for event in journal.read()] == [5, 1]


@given(st.binary(max_size=200))
def test_any_bytes_parse_to_an_event_or_none(line: bytes) -> None:
    event = parse_line(line)
    assert event is None or isinstance(event, JournalEvent)


_texts = st.text(max_size=40)
_events = st.builds(
    JournalEvent,
    at=st.floats(min_value=0, max_value=4e9, allow_nan=False),
    kind=st.sampled_from(["state", "action", "outage"]),
    diffid=st.none() | st.integers(min_value=1, max_value=2**63 - 1),
    asid=st.none() | st.integers(min_value=0, max_value=2**31),
    label=_texts,
    old=st.none() | _texts,
    new=st.none() | _texts,
    job_time=st.none() | st.integers(min_value=0, max_value=2**40),
    action=st.none() | _texts,
    outcome=st.none() | st.sampled_from(["sent", "accepted", "refused", "not done", "unknown"]),
    reason=st.none() | _texts.filter(lambda t: redact(t) == t),  # redaction is tested apart
    ref=st.none() | _texts,
    phase=st.none() | st.sampled_from(["start", "end"]),
)


@given(st.lists(_events, max_size=5))
def test_any_events_come_back_as_written_one_line_each(events: list[JournalEvent]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        journal = Journal(Path(folder) / "journal.jsonl")
        for event in events:
            journal.append(event)
        assert journal.read() == events[::-1]
        text = (Path(folder) / "journal.jsonl").read_bytes() if events else b""
        assert text.count(b"\n") == len(events)


def _append_many(path: str, writer: int, count: int, start: Any) -> None:
    journal = Journal(Path(path), max_bytes=8 * 1024, keep=50)
    start.wait(30)  # both at once, not one after the other
    for n in range(count):
        journal.append(state_event(float(n), diffid=writer * 100_000 + n))


def test_two_processes_appending_at_once_lose_no_line(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    count = 400
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [
        context.Process(target=_append_many, args=(str(path), writer, count, start))
        for writer in (1, 2)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(60)
        assert process.exitcode == 0
    journal = Journal(path, max_bytes=8 * 1024, keep=50)
    ids = [event.diffid for event in journal.read()]
    # Every line whole, none lost, none twice, across many rotations.
    assert len(journal.files()) > 3
    assert sorted(i for i in ids if i is not None) == sorted(
        writer * 100_000 + n for writer in (1, 2) for n in range(count)
    )
    for writer in (1, 2):
        own = [i for i in ids if i is not None and i // 100_000 == writer]
        assert own == sorted(own, reverse=True)  # each writer's lines in its order


def test_an_unwritable_journal_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    journal = Journal(blocker / "journal.jsonl")
    journal.append(state_event(1.0))
    journal.append(state_event(2.0))
    assert journal.read() == []
    assert sum("cannot write the journal" in r.message for r in caplog.records) == 1


def test_read_filters_by_time_diff_and_account(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(state_event(100.0, diffid=1))
    journal.append(JournalEvent(at=200.0, kind=EventKind.STATE, diffid=1, asid=7, new="Failed"))
    journal.append(state_event(300.0, diffid=2))
    journal.append(JournalEvent(at=400.0, kind=EventKind.OUTAGE, phase="start"))
    assert [e.at for e in journal.read(since=250.0)] == [400.0, 300.0]
    assert [e.at for e in journal.read(diffid=1)] == [200.0, 100.0]
    assert [e.at for e in journal.read(asid=42)] == [400.0, 300.0, 100.0]


def test_a_reason_with_a_secret_is_redacted(tmp_path: Path) -> None:
    from tui.store.log_file import register_secret

    register_secret("s3cr3t-key-0123456789")
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append(
        JournalEvent(
            at=1.0, kind=EventKind.ACTION, action="retry", reason="bad s3cr3t-key-0123456789"
        )
    )
    assert "s3cr3t" not in (tmp_path / "journal.jsonl").read_text()


def test_actions_collapse_to_the_latest_outcome_at_the_time_sent() -> None:
    journal = Journal(None)
    for at, outcome, ref in ((10.0, "sent", "a"), (11.0, "unknown", "a"), (20.0, "sent", "b")):
        journal.append(
            JournalEvent(
                at=at, kind=EventKind.ACTION, diffid=1, action="retry", outcome=outcome, ref=ref
            )
        )
    journal.append(
        JournalEvent(
            at=30.0, kind=EventKind.ACTION, diffid=1, action="retry", outcome="accepted", ref="a"
        )
    )
    assert [(e.at, e.outcome) for e in journal.actions(1)] == [(10.0, "accepted"), (20.0, "sent")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", 10_000.0 - 1800),
        ("2h", 10_000.0 - 7200),
        ("1d", 10_000.0 - 86400),
        (" 45s ", 10_000.0 - 45),
        ("1970-01-01T02:00:00+00:00", 7200.0),
    ],
)
def test_since_accepts_durations_and_iso_times(text: str, expected: float) -> None:
    assert parse_since(text, now=10_000.0) == expected


@pytest.mark.parametrize("text", ["", "2 hours", "-2h", "h", "2w", "yesterday", "2026-13-01"])
def test_since_rejects_anything_else_in_words(text: str) -> None:
    with pytest.raises(ValueError, match="is not a time: use 30m, 2h, 1d"):
        parse_since(text, now=0.0)


def test_outage_events_only_on_transitions_into_and_out_of_offline() -> None:
    watch = OutageWatch(asid=42)
    states = ["live", "backing off", "offline", "offline", "paused", "paused", "live", "offline"]
    events = [
        watch.observe(state, now=100.0 + i * 10, last_answer_at=95.0)
        for i, state in enumerate(states)
    ]
    phases = [(e.phase, e.at) for e in events if e is not None]
    # A pause proves nothing either way: the outage ends on the next live reading.
    assert phases == [("start", 120.0), ("end", 160.0), ("start", 170.0)]
    end = events[6]
    assert end is not None and end.reason == "offline for 1m 05s"
    assert describe(end) == "connection back: offline for 1m 05s"


# -- the tracker's events -----------------------------------------------------------


async def test_the_tracker_journals_a_state_change_but_not_a_first_read_that_agrees() -> None:
    client = FakeClient()
    client.states[1] = [make_job(1, JobState.RUNNING, 40), make_job(1, JobState.COMPLETED, 100)]
    client.states[2] = [make_job(2, JobState.QUEUED)]  # saved as Running: changed meanwhile
    client.states[3] = [make_job(3, JobState.RUNNING)]  # nothing saved: not a change
    events: list[JournalEvent] = []
    tracker = tracker_for(
        client,
        [entry(1, JobState.RUNNING), entry(2, JobState.RUNNING), entry(3)],
        on_event=events.append,
    )
    async with Running(tracker):
        await wait_until(lambda: tracker.views[1].state is JobState.COMPLETED)
        await wait_until(lambda: not tracker.views[2].stale and not tracker.views[3].stale)
    changes = [(e.diffid, e.old, e.new, e.label, e.asid, e.job_time) for e in events]
    assert sorted(changes) == [
        (1, "Running", "Completed", "d1", 42, 1),
        (2, "Running", "Queued", "d2", 42, 1),
    ]
    assert all(e.kind == EventKind.STATE for e in events)


async def test_the_tracker_journals_each_retry_sent_and_its_outcome() -> None:
    client = FakeClient()
    client.retry_answers[8] = BadRequest("Image locked by diffid 4", http_status=400)
    client.retry_answers[9] = ActionOutcomeUnknown("timed out waiting for the answer")
    client.states[9] = [make_job(9, JobState.RUNNING, 3)]
    events: list[JournalEvent] = []
    tracker = tracker_for(
        client,
        [entry(7, JobState.FAILED), entry(8, JobState.FAILED), entry(9, JobState.COMPLETED)],
        on_event=events.append,
    )
    await first_answers(tracker).retry([7, 8, 9])
    async with Running(tracker):
        await wait_until(lambda: not tracker.views[9].retry_outcome_unknown)
    actions = [(e.diffid, e.outcome, e.reason) for e in events if e.kind == EventKind.ACTION]
    assert sorted(actions, key=lambda a: (a[0], a[1] != "sent")) == [
        (7, "sent", None),
        (7, "accepted", "now Created"),
        (8, "sent", None),
        (8, "refused", "Image locked by diffid 4"),
        (9, "sent", None),
        (9, "unknown", "timed out waiting for the answer"),
        (9, "accepted", "status now Running"),
    ]
    refs = {
        e.diffid: {x.ref for x in events if x.diffid == e.diffid and x.kind == EventKind.ACTION}
        for e in events
    }
    assert all(len(r) == 1 for r in refs.values())
