"""A large list's first sweep interleaves: what is on screen, and what runs, is read
again on its cadence while the rest is read for the first time (issue 22 §4). The
scheduler on a FakeClock against the simulator, in-process."""

from __future__ import annotations

import itertools
import random

from tests.poll_support import follow, in_process_client, most_spans_in_a_window
from tui.domain.clock import FakeClock
from tui.domain.poll_settings import PollSettings
from tui.polling.scheduler import PollScheduler
from tui.simulator import Simulator

FLEET = 2000
RUNNING = 20
ON_SCREEN = 35


def longest_gap(times: list[float], start: float, end: float) -> float:
    marks = [start, *(t for t in times if start <= t <= end), end]
    return max(b - a for a, b in itertools.pairwise(marks))


async def test_the_first_sweep_of_a_large_list_keeps_the_rows_on_screen_fresh() -> None:
    """Issue 22: 2,000 diffs under the 4 requests/s cap, the running ones at the top:
    they were read at start and next after 447 s. Now the rows on screen and the running
    diffs are read on their cadence while the sweep goes on, and the sweep still ends."""
    clock = FakeClock()
    sim = Simulator(seed=6, seed_demo=False, clock=clock.now)
    # Long runs: far from their ETA, the running diffs are read every 30 s.
    ids = sim.add_many(FLEET, first_id=100_000, running=RUNNING, duration=7200.0)
    sched: PollScheduler[int] = PollScheduler(clock, PollSettings(), random.Random(6))
    for diffid in ids:
        sched.add(diffid)
    on_screen = ids[:ON_SCREEN]
    sched.set_visible(on_screen)
    begin = clock.monotonic()
    async with in_process_client(sim) as client:
        seen = await follow(sched, clock, client, 300.0)
        end = clock.monotonic()
        interval = sched.settings.running_max_interval
        for diffid in ids[:RUNNING]:
            # Late by at most the time the running diffs' re-reads, due together,
            # take at half the cap (the sweep has the other half).
            gap = longest_gap(seen.answered[diffid], begin, end)
            assert gap <= interval + RUNNING / 2, (diffid, gap)
        # The sweep goes on meanwhile: most of the cap is still its own.
        first_reads = sum(1 for d in ids[ON_SCREEN:] if seen.answered[d])
        assert first_reads >= 0.8 * 300.0 * sched.settings.max_requests_per_second - 300
        seen = await follow(sched, clock, client, 500.0, seen)
    assert all(seen.answered[d] for d in ids), "every diff read within the sweep's time"
    assert most_spans_in_a_window(seen.spans, 1.0) <= 4
