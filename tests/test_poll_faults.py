"""One diff's fault is not an outage, and not the account's: the scheduler on a FakeClock
against the simulator with lasting per-diff faults (slow answers, dropped connections,
429, 503, 500) next to healthy running diffs."""

from __future__ import annotations

import itertools
import random

from tests.poll_support import Followed, Wire, follow, in_process_client, most_spans_in_a_window
from tui.domain.clock import FakeClock
from tui.domain.poll_settings import PollSettings
from tui.polling.scheduler import PollScheduler
from tui.polling.slowdown import RATE_RECOVERY_SECONDS
from tui.simulator import Simulator

SLOW = 30.0
"""The slow diff answers after this many seconds: longer than the read timeout."""


def running(sim: Simulator, ids: list[int]) -> list[int]:
    for diffid in ids:
        sim.add_diff(diffid, state=4, progress=10, duration=3600.0)
    return ids


def scheduler(clock: FakeClock, ids: list[int]) -> PollScheduler[int]:
    sched: PollScheduler[int] = PollScheduler(clock, PollSettings(), random.Random(3))
    for diffid in ids:
        sched.add(diffid)
    return sched


def longest_gap(times: list[float], start: float, end: float) -> float:
    """The longest stretch between ``start`` and ``end`` with none of ``times`` in it."""
    marks = [start, *(t for t in times if start <= t <= end), end]
    return max(b - a for a, b in itertools.pairwise(marks))


async def follow_fleet(
    healthy: list[int], faults: dict[int, str], seconds: float, *, faulty_first: bool = False
) -> tuple[Followed, PollScheduler[int]]:
    """Running diffs, ``healthy`` and each of ``faults`` with its lasting fault (``slow``
    answers after :data:`SLOW` seconds), followed for ``seconds`` from fake time 0."""
    clock = FakeClock()
    sim = Simulator(seed=2, seed_demo=False, clock=clock.now)
    order = [*faults, *healthy] if faulty_first else [*healthy, *faults]
    running(sim, order)
    for diffid, kind in faults.items():
        sim.break_diff(diffid, kind, delay=SLOW if kind == "slow" else 0.0)
    sched = scheduler(clock, order)
    wire = Wire()
    async with in_process_client(sim, wire=wire) as client:
        return await follow(sched, clock, client, seconds, wire=wire), sched


ONE_OF_EACH = {5005: "slow", 5010: "drop", 5018: "503", 5019: "500", 5002: "429"}


async def test_a_slow_diff_and_a_dropping_one_are_not_an_outage() -> None:
    """Issue 22's first case: 3101-3105 running, 5005 answering after 30 s, 5010
    dropping the connection: the server answers every healthy request, so it is not
    offline, and the healthy diffs are read on their cadence."""
    healthy = list(range(3101, 3106))
    seen, sched = await follow_fleet(healthy, {5005: "slow", 5010: "drop"}, 150.0)
    assert seen.offline == [], "the server answered all along"
    assert not seen.slowed
    for diffid in healthy:
        gap = longest_gap(seen.answered[diffid], 0.0, 150.0)
        assert gap <= sched.settings.running_max_interval + 2.0, diffid
    for diffid in (5005, 5010):
        gaps = [b - a for a, b in itertools.pairwise(seen.sent[diffid])]
        assert gaps[-1] > gaps[0], "a faulty diff backs off on its own"


async def test_one_of_each_fault_next_to_ten_running_diffs_keeps_their_cadence() -> None:
    """Issue 22's second case: 3101-3110 running plus 5005 (slow), 5010 (drop), 5018
    (503), 5019 (500), 5002 (429): never offline (answers keep coming), no account-wide
    slow-down after the first reads, and the running diffs read every 30 s or so."""
    healthy = list(range(3101, 3111))
    seen, _ = await follow_fleet(healthy, ONE_OF_EACH, 200.0)
    assert seen.offline == []
    assert [t for t in seen.slowed if t > 10.0] == []
    for diffid in healthy:
        assert longest_gap(seen.answered[diffid], 0.0, 200.0) <= 32.0, diffid
    for diffid in ONE_OF_EACH:
        assert len(seen.sent[diffid]) <= 10, "a faulty diff backs off on its own"
    assert most_spans_in_a_window(seen.spans, 1.0) <= 4


async def test_the_faulty_diffs_first_still_leave_the_healthy_ones_their_cadence() -> None:
    """The same fleet with the faulty diffs first in the list (read first)."""
    healthy = list(range(3101, 3111))
    seen, _ = await follow_fleet(healthy, ONE_OF_EACH, 200.0, faulty_first=True)
    assert seen.offline == []
    # Two diffs read first answer 503 and 429 with no good answer in between: that may
    # be the account's, so everything waits a little, once, and then never again.
    assert [t for t in seen.slowed if t > RATE_RECOVERY_SECONDS + 5.0] == []
    for diffid in healthy:
        # After that pause, at half the rate, with the slow diff's request holding a slot.
        assert seen.answered[diffid][0] <= 15.0
        assert longest_gap(seen.answered[diffid], 0.0, 200.0) <= 32.0, diffid


async def test_answers_with_errors_end_an_outage_and_a_real_outage_is_still_seen() -> None:
    """Any HTTP answer, even a 503, proves the server is there; and when every request
    fails at the network level, healthy diffs included, it is an outage."""
    clock = FakeClock()
    sim = Simulator(seed=2, seed_demo=False, clock=clock.now)
    healthy = running(sim, list(range(1, 9)))
    down = False
    async with in_process_client(sim, lambda: down) as client:
        sched = scheduler(clock, healthy)
        seen = await follow(sched, clock, client, 40.0)
        down = True
        seen = await follow(sched, clock, client, 70.0, seen)
        assert sched.outage, "every request failed: the server is gone"
        down = False
        # The server is back but answers 503 for every diff: it is there.
        for diffid in healthy:
            sim.break_diff(diffid, "503")
        await follow(sched, clock, client, 15.0, seen)
        assert not sched.outage
