"""The tracker's accept and reject against the simulator on loopback: one request per
diff the plan sends, never repeated; the version job followed to its end by the same
scheduler under the same cap; its end reported and journaled; locks named."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from hypothesis import given
from hypothesis import strategies as st

from tests.test_tracker import Running, wait_until
from tui.api.client import ClanforgeClient
from tui.domain.actions import ActionOutcome
from tui.domain.clock import SystemClock
from tui.domain.jobs import JobKind, JobState
from tui.domain.poll_settings import PollSettings
from tui.domain.watch_entry import WatchEntry
from tui.polling.plan import ACCEPT, REJECT
from tui.polling.tracker import AcceptOptions, FollowedJob, JobView, Tracker, locked_by
from tui.simulator import Simulator
from tui.store.journal import EventKind, JournalEvent

SETTINGS = PollSettings(
    max_requests_per_second=8,
    max_in_flight=4,
    min_interval=0.1,
    waiting_interval=0.3,
    running_max_interval=0.5,
    backoff_max=1.0,
    timeout=2.0,
)


class Seen:
    """What the tracker reported: journal events and followed jobs that ended."""

    def __init__(self) -> None:
        self.events: list[JournalEvent] = []
        self.finished: list[tuple[int, FollowedJob]] = []
        self.saved: list[WatchEntry] = []

    def finish(self, view: JobView, followed: FollowedJob) -> None:
        self.finished.append((view.diffid, followed))


@contextlib.asynccontextmanager
async def tracked(
    sim: Simulator, *diffids: int | WatchEntry
) -> AsyncIterator[tuple[Tracker, Seen]]:
    client = ClanforgeClient(sim.url, sim.asid, sim.access_key, sim.secret_key)
    seen = Seen()
    entries = [
        d if isinstance(d, WatchEntry) else WatchEntry(diffid=d, asid=sim.asid, api_url=sim.url)
        for d in diffids
    ]
    tracker = Tracker(
        client,
        entries,
        clock=SystemClock(),
        settings=SETTINGS,
        rng=random.Random(3),
        on_event=seen.events.append,
        on_followed_finished=seen.finish,
        save_decision=seen.saved.append,
    )
    try:
        async with Running(tracker):
            await wait_until(lambda: all(not v.stale for v in tracker.views.values()))
            yield tracker, seen
    finally:
        await client.aclose()


async def test_accept_sends_once_per_completed_diff_and_follows_the_version_to_its_end(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    simulator.add_diff(2, state=6, fail_with="boom")
    simulator.add_diff(3, state=4, duration=10**6)
    async with tracked(simulator, 1, 2, 3) as (tracker, seen):
        plan = tracker.plan(ACCEPT, [1, 2, 3])
        assert plan.send == (1,)
        assert [s.reason for s in plan.skipped] == [
            "Failed: only Completed diffs can be accepted",
            "Running: only Completed diffs can be accepted",
        ]
        records = await tracker.accept([1, 2, 3], AcceptOptions(restart=True))
        assert list(records) == [1]
        assert records[1].outcome == "accepted"
        assert simulator.count("accept") == 1
        view = tracker.views[1]
        assert view.followed is not None and view.followed.kind is JobKind.VERSION
        vid = view.followed.jobid
        assert simulator.decision(1) == ("accepted", vid)
        await wait_until(lambda: seen.finished, limit=10.0)
        assert seen.finished[0][0] == 1
        assert view.followed.job.known_state is JobState.COMPLETED
        # Polled until it ended, then no more; and never a second accept.
        polls = simulator.count("version-status")
        assert polls >= 1
        await asyncio.sleep(0.5)
        assert simulator.count("version-status") == polls
        assert simulator.count("accept") == 1
        # Accepted already: a second accept is skipped, not sent.
        assert tracker.plan(ACCEPT, [1]).skipped[0].reason == (
            f"already accepted (image version {vid}): a diff is accepted or rejected once"
        )
        assert await tracker.accept([1], AcceptOptions(restart=False)) == {}
        assert simulator.count("accept") == 1
    # The watchlist is told, with the options, and again with the version's end.
    assert [e.accepted.imageversionid for e in seen.saved if e.accepted] == [vid, vid]
    first, last = seen.saved[0].accepted, seen.saved[-1].accepted
    assert first is not None and first.restart and not first.force
    assert last is not None and last.last is not None and last.last.state is JobState.COMPLETED
    actions = [(e.action, e.outcome, e.reason) for e in seen.events if e.kind == EventKind.ACTION]
    assert actions[0] == ("accept", "sent", "restart=1")
    assert actions[1][:2] == ("accept", "accepted")
    states = [(e.old, e.new) for e in seen.events if e.kind == EventKind.STATE and e.diffid == 1]
    assert states and states[-1][1] == f"image version {vid}: Completed"


async def test_a_version_job_that_fails_is_reported_with_its_error(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5, version_error="disk full on 7712")
    async with tracked(simulator, 1) as (tracker, seen):
        await tracker.accept([1], AcceptOptions(restart=False, force=True))
        await wait_until(lambda: seen.finished, limit=10.0)
        followed = seen.finished[0][1]
        assert followed.job.known_state is JobState.FAILED
        assert followed.job.error == "disk full on 7712"


async def test_a_refused_accept_says_the_servers_words_and_is_not_repeated(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5, allocations=True)
    async with tracked(simulator, 1) as (tracker, _):
        records = await tracker.accept([1], AcceptOptions(restart=True))
        assert records[1].outcome is ActionOutcome.REFUSED
        assert records[1].message == "refused: image has active allocations; use force=1"
        await asyncio.sleep(0.3)
        assert simulator.count("accept") == 1
        # Refused: nothing happened, so the operator may send it again (with force).
        records = await tracker.accept([1], AcceptOptions(restart=True, force=True))
        assert records[1].outcome == "accepted"
        assert simulator.count("accept") == 2


async def test_reject_with_reinstall_shows_the_uninstall_job_and_unlocks(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=6, fail_with="x", imageid=9)
    simulator.add_diff(2, state=5, imageid=8)
    async with tracked(simulator, 1, 2) as (tracker, _):
        assert tracker.plan(REJECT, [1, 2]).send == (1, 2)
        records = await tracker.reject([1], reinstall=True)
        assert records[1].outcome == "accepted"
        followed = tracker.views[1].followed
        assert followed is not None and followed.kind is JobKind.UNINSTALL
        records = await tracker.reject([2], reinstall=False)
        assert records[2].message == "rejected: the image is unlocked"
        assert tracker.views[2].followed is None
        assert simulator.count("reject") == 2
        assert simulator.decision(1) == ("rejected", None)
        reason = tracker.plan(REJECT, [1]).skipped[0].reason
        assert reason == "already rejected: a diff is accepted or rejected once"
        assert simulator.count("version-status") == 0


async def test_an_accept_whose_answer_is_lost_is_unknown_and_never_sent_again(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    async with tracked(simulator, 1) as (tracker, _):
        simulator.inject("drop-after", count=1, endpoint="accept")
        records = await tracker.accept([1], AcceptOptions(restart=False))
        assert records[1].outcome == "unknown"
        await asyncio.sleep(0.3)
        assert simulator.count("accept") == 1
        skip = tracker.plan(ACCEPT, [1]).skipped[0].reason
        assert skip.startswith("accept outcome unknown: sending it again may make a second image")
        assert await tracker.accept([1], AcceptOptions(restart=False)) == {}
        assert simulator.count("accept") == 1


async def test_a_locked_diff_names_the_diff_that_holds_its_image(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5, imageid=7)
    simulator.add_diff(2, state=6, fail_with="Image locked by diffid 1", imageid=7)
    async with tracked(simulator, 1, 2) as (tracker, _):
        assert tracker.views[2].locked_by == 1
        assert tracker.views[1].locked_by is None


@given(st.integers(min_value=1, max_value=2**63 - 1), st.sampled_from(["", "#", "  "]))
def test_locked_by_reads_the_diff_id_from_the_message(diffid: int, mark: str) -> None:
    assert locked_by(f"400: Image locked by diffid {mark}{diffid}") == diffid


@given(st.text(max_size=40))
def test_locked_by_never_reads_text_without_the_phrase(text: str) -> None:
    if "locked by diffid" not in text.lower():
        assert locked_by(text) is None


async def test_a_saved_acceptance_paints_at_once_and_its_version_is_followed_again(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    async with tracked(simulator, 1) as (tracker, seen):
        await tracker.accept([1], AcceptOptions(restart=False, game_build="b7"))
        saved = seen.saved[0]
    # The next session: the version job was still running when the app quit.
    assert saved.accepted is not None
    async with tracked(simulator, saved) as (tracker, seen):
        view = tracker.views[1]
        assert view.decision is not None and view.decision.options == "restart=0, game build 'b7'"
        assert view.followed is not None and view.followed.jobid == saved.accepted.imageversionid
        await wait_until(lambda: seen.finished, limit=10.0)
        assert ACCEPT.name not in [e.action for e in seen.events]
        assert tracker.plan(ACCEPT, [1]).send == ()
    assert simulator.count("accept") == 1


async def test_a_saved_rejection_is_shown_and_nothing_is_polled_for_it(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=6, fail_with="x")
    async with tracked(simulator, 1) as (tracker, seen):
        await tracker.reject([1], reinstall=True)
        saved = seen.saved[0]
    simulator.reset_counters()
    async with tracked(simulator, saved) as (tracker, _):
        view = tracker.views[1]
        assert view.decision is not None and view.decision.options == "reinstall=1"
        assert view.followed is not None and view.followed.kind is JobKind.UNINSTALL
        await asyncio.sleep(0.3)
        assert simulator.count("version-status") == 0


async def test_an_action_answered_429_is_waited_out_and_sent_as_the_cli_does(
    simulator: Simulator,
) -> None:
    """Issue 22: the app marked a reject answered 429 'not done' and never sent it, while
    the command line waits out the 429 and sends it (a 429 means the server did nothing:
    API.md). One rule for both: wait out Retry-After and send, within one bound."""
    for diffid in (4101, 4102, 4103):
        simulator.add_diff(diffid, state=5)
    async with tracked(simulator, 4101, 4102, 4103) as (tracker, seen):
        simulator.inject("429", endpoint="reject", diffid=4101, retry_after=1)
        simulator.inject("503", endpoint="retry", diffid=4102, retry_after=1)
        simulator.inject("429", endpoint="accept", diffid=4103, retry_after=1)
        rejected = await tracker.reject([4101], reinstall=False)
        retried = await tracker.retry([4102])
        accepted = await tracker.accept([4103], AcceptOptions(restart=False))
    assert rejected[4101].outcome is ActionOutcome.ACCEPTED
    assert retried[4102].outcome is ActionOutcome.ACCEPTED
    assert accepted[4103].outcome is ActionOutcome.ACCEPTED
    assert simulator.decision(4101) == ("rejected", None)
    assert [simulator.count(e) for e in ("reject", "retry", "accept")] == [2, 2, 2]
    actions = [(e.diffid, e.outcome) for e in seen.events if e.kind is EventKind.ACTION]
    for diffid in (4101, 4102, 4103):
        assert [o for d, o in actions if d == diffid] == ["sent", "accepted"]
