"""Actions noted in the watchlist before they go out, and their outcomes after: the
tracker against the simulator on loopback, with the notes recorded in memory."""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator

from tests.test_tracker import Running, wait_until
from tests.test_tracker_lifecycle import SETTINGS
from tui.api.client import ClanforgeClient
from tui.domain.actions import ActionOutcome
from tui.domain.clock import SystemClock
from tui.domain.watch_entry import LastOutcome, SentAction, WatchEntry
from tui.polling.job_view import ActionNotes
from tui.polling.plan import ACCEPT
from tui.polling.tracker import AcceptOptions, Tracker
from tui.simulator import Simulator


class Notes:
    """The notes the tracker made, and what the server had seen at each."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.sent: list[tuple[int, str, int]] = []
        """(diff, action, requests of that action the server had seen when noted)."""
        self.outcomes: list[tuple[int, str, LastOutcome | None]] = []
        self.fail: Exception | None = None
        self.elsewhere: dict[int, SentAction] = {}
        """Accepts or rejects with an unknown outcome that another writer noted."""

    async def note_sent(self, diffid: int, sent: SentAction, check: bool) -> tuple[SentAction, ...]:
        if self.fail is not None:
            raise self.fail
        if check and diffid in self.elsewhere:
            return (self.elsewhere[diffid],)
        self.sent.append((diffid, sent.action, self.sim.count(sent.action, diffid)))
        return ()

    def note_outcome(self, diffid: int, action: str, outcome: LastOutcome | None) -> None:
        self.outcomes.append((diffid, action, outcome))


@contextlib.asynccontextmanager
async def tracked(sim: Simulator, *entries: WatchEntry) -> AsyncIterator[tuple[Tracker, Notes]]:
    client = ClanforgeClient(sim.url, sim.asid, sim.access_key, sim.secret_key, read_timeout=2.0)
    notes = Notes(sim)
    tracker = Tracker(
        client,
        entries,
        clock=SystemClock(),
        settings=SETTINGS,
        rng=random.Random(5),
        notes=ActionNotes(notes.note_sent),
        save_outcome=notes.note_outcome,
    )
    try:
        async with Running(tracker):
            await wait_until(lambda: all(not v.stale for v in tracker.views.values()))
            yield tracker, notes
    finally:
        await client.aclose()


def _entry(sim: Simulator, diffid: int, *sent: SentAction) -> WatchEntry:
    return WatchEntry(diffid=diffid, asid=sim.asid, api_url=sim.url, sent=sent)


async def test_each_action_is_noted_before_it_goes_out_and_its_outcome_after(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=6, fail_with="boom")
    simulator.add_diff(2, state=5)
    simulator.add_diff(3, state=5)
    async with tracked(simulator, *(_entry(simulator, d) for d in (1, 2, 3))) as (tracker, notes):
        await tracker.retry([1])
        await tracker.accept([2], AcceptOptions(restart=True))
        simulator.inject("drop-after", count=1, endpoint="reject")
        await tracker.reject([3], reinstall=False)
    assert notes.sent == [(1, "retry", 0), (2, "accept", 0), (3, "reject", 0)]
    assert notes.outcomes[:2] == [(1, "retry", None), (2, "accept", None)]
    diffid, action, outcome = notes.outcomes[2]
    assert (diffid, action) == (3, "reject")
    assert outcome is not None and outcome.outcome is ActionOutcome.UNKNOWN


async def test_an_action_that_cannot_be_noted_is_not_sent(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    async with tracked(simulator, _entry(simulator, 1)) as (tracker, notes):
        notes.fail = OSError("No space left on device")
        records = await tracker.accept([1], AcceptOptions(restart=False))
    assert simulator.count("accept") == 0
    assert records[1].outcome is ActionOutcome.NOT_DONE
    assert "could not note it" in records[1].message


async def test_an_accept_sent_by_an_earlier_run_with_an_unknown_outcome_is_skipped(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    sent = SentAction("accept", 1.0, "restart=1")
    async with tracked(simulator, _entry(simulator, 1, sent)) as (tracker, _):
        plan = tracker.plan(ACCEPT, [1])
        assert plan.send == ()
        assert plan.skipped[0].unknown
        assert "a second image version" in plan.skipped[0].reason
        assert await tracker.accept([1], AcceptOptions(restart=True)) == {}
        assert tracker.plan(ACCEPT, [1], again=True).send == (1,)
    assert simulator.count("accept") == 0


async def test_a_retry_sent_by_an_earlier_run_is_settled_by_a_status_read_and_cleared(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=4, duration=10**6)
    sent = SentAction("retry", 1.0)
    async with tracked(simulator, _entry(simulator, 1, sent)) as (tracker, notes):
        await wait_until(lambda: not tracker.views[1].retry_outcome_unknown)
        assert tracker.views[1].retries[-1].outcome is ActionOutcome.ACCEPTED
    assert (1, "retry", None) in notes.outcomes


async def test_an_accept_another_writer_left_unknown_is_not_sent(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    async with tracked(simulator, _entry(simulator, 1)) as (tracker, notes):
        notes.elsewhere[1] = SentAction("accept", 1.0, "restart=1")
        records = await tracker.accept([1], AcceptOptions(restart=True))
        assert records[1].outcome is ActionOutcome.NOT_DONE
        assert tracker.views[1].decision is not None
        assert tracker.views[1].decision.outcome is ActionOutcome.UNKNOWN
        # Its "not done" is not kept: that would clear the other writer's mark.
        assert notes.outcomes == []
        # Chosen "send again anyway": the file is not asked, it goes out.
        await tracker.accept([1], AcceptOptions(restart=True), again=True)
    assert simulator.count("accept") == 1
