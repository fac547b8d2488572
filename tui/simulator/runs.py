"""One run of a diff: its phases and its progress curve, placed in time.

A run is computed from the clock at request time, never ticked: a test moves its fake
clock and the run is wherever that time puts it.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

STATE_NAMES: Final[dict[int, str]] = {
    1: "Created",
    2: "Pending",
    3: "Queued",
    4: "Running",
    5: "Completed",
    6: "Failed",
}

REALISTIC_ERRORS: Final[tuple[str, ...]] = (
    "Checksum mismatch on /game/bin/server.pak",
    "Machine 7712 unreachable",
    "Image locked by diffid 4107",
    "Timed out waiting for file list from machine 6604",
    "Disk quota exceeded on image store",
)

ETA_ERROR_LIMIT: Final = 0.25
"""How far a run's real finish may miss its announced ``jobeta``, as a fraction of the
announced run time: a real ETA is an estimate, so by default every run misses it by a
seeded random amount within +-25% (early or late)."""

PROGRESS_PACE: Final = (0.5, 1.5)
"""Nor is progress linear: a run goes through 4 to 8 phases (scanning, hashing,
comparing...), each at its own steady pace, from half to one and a half times the run's
average. Progress is reported as of the worker's last heartbeat (about 1% of the run)."""


@dataclass(frozen=True)
class Run:
    """One run of a diff (the first, or one per retry). Times are clock seconds."""

    created: float
    pending_at: float
    queued_at: float
    running_at: float
    announced_end: float
    # When the run would complete; a failing run stops earlier, at ``end``.
    full_end: float
    end: float
    error: str | None
    knots: tuple[tuple[float, float], ...]
    tick: float
    final_progress: int | None = None

    def state_at(self, now: float) -> int:
        if now < self.pending_at:
            return 1
        if now < self.queued_at:
            return 2
        if now < self.running_at:
            return 3
        if now < self.end:
            return 4
        return 6 if self.error is not None else 5

    def progress_at(self, now: float) -> int:
        state = self.state_at(now)
        if state < 4:
            return 0
        if state >= 5 and self.final_progress is not None:
            return self.final_progress
        if state == 5:
            return 100
        length = max(self.full_end - self.running_at, 1e-9)
        # While running, progress is as of the last heartbeat (the same tick as jobupdated).
        at = self.updated_at(now) if state == 4 else self.end
        fraction = curve(self.knots, (at - self.running_at) / length)
        # 100 only once Completed, never while Running or at a failure.
        return min(99, math.floor(fraction * 100))

    def updated_at(self, now: float) -> float:
        state = self.state_at(now)
        if state >= 5:
            return self.end
        if state == 4:
            # Progress reports arrive in ticks, like a real worker's heartbeat.
            return self.running_at + math.floor((now - self.running_at) / self.tick) * self.tick
        return (self.created, self.pending_at, self.queued_at)[state - 1]


def curve(knots: Sequence[tuple[float, float]], t: float) -> float:
    """Progress fraction at time fraction t: piecewise linear through the knots, 0 -> 1."""
    if t <= 0:
        return 0.0
    if t >= 1:
        return 1.0
    times = [k[0] for k in knots]
    i = bisect.bisect_right(times, t)
    (t0, p0), (t1, p1) = knots[i - 1], knots[i]
    u = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
    return p0 + (p1 - p0) * u


def make_knots(rng: random.Random) -> list[tuple[float, float]]:
    """The phases of one run: each lasts a random share of it and goes at its own pace."""
    segments = rng.randint(4, 8)
    durations = [rng.uniform(0.5, 2.0) for _ in range(segments)]
    low, high = PROGRESS_PACE
    gains = [d * rng.uniform(low, high) for d in durations]
    total_t, total_p = sum(durations), sum(gains)
    knots = [(0.0, 0.0)]
    t = p = 0.0
    for d, g in zip(durations, gains, strict=True):
        t += d / total_t
        p += g / total_p
        knots.append((t, p))
    knots[-1] = (1.0, 1.0)
    return knots


def solve_fraction(knots: Sequence[tuple[float, float]], progress: float) -> float:
    """The time fraction at which the curve reaches ``progress`` (bisection: it is monotonic)."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if curve(knots, mid) < progress:
            lo = mid
        else:
            hi = mid
    return hi


def run_rng(seed: int, diffid: int, run_index: int) -> random.Random:
    # Seeded per diff and run, so a job's curve does not depend on request order.
    return random.Random(f"run:{seed}:{diffid}:{run_index}")


def place_run(
    seed: int,
    speed: float,
    diffid: int,
    run_index: int,
    now: float,
    state: int,
    progress: int | None,
    duration: float,
    eta_error: float | None,
    error: str | None,
    started_ago: float,
) -> Run:
    """A run that is in ``state`` at ``now``, built backwards or forwards from it."""
    if eta_error is None:
        # Its own stream, so that the run's curve and waits do not depend on it.
        eta_rng = random.Random(f"eta:{seed}:{diffid}:{run_index}")
        eta_error = eta_rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT)
    rng = run_rng(seed, diffid, run_index)
    waits = [duration * rng.uniform(0.02, 0.05) / speed for _ in range(3)]
    announced = duration / speed
    actual = announced * (1 + eta_error)
    knots = make_knots(rng)
    fail_fraction = rng.uniform(0.35, 0.9) if error is not None else 1.0
    final_progress: int | None = None
    anchor = now - started_ago
    # Phase boundaries are computed outward from the anchor so that the boundary the
    # caller asked for is exact: float drift must not leave a job in the wrong state.
    if state in (1, 2, 3):
        bounds = [0.0, waits[0], waits[0] + waits[1], sum(waits)]
        bounds = [anchor + b - bounds[state - 1] for b in bounds]
        bounds[state - 1] = anchor
    else:
        if state == 4:
            fraction = solve_fraction(knots, progress / 100) if progress is not None else 0.0
            fraction = min(fraction, 0.999)
            if error is not None and fail_fraction <= fraction:
                fail_fraction = fraction + (1 - fraction) * rng.uniform(0.3, 0.9)
            running_at = anchor - fraction * actual
        else:
            running_at = anchor - actual * fail_fraction
            final_progress = progress
        created = running_at - sum(waits)
        bounds = [created, created + waits[0], created + waits[0] + waits[1], running_at]
    running_at = bounds[3]
    end = anchor if state in (5, 6) else running_at + actual * fail_fraction
    return Run(
        created=bounds[0],
        pending_at=bounds[1],
        queued_at=bounds[2],
        running_at=running_at,
        announced_end=running_at + announced,
        full_end=running_at + actual,
        end=end,
        error=error,
        knots=tuple(knots),
        tick=max(1.0, actual / 100),
        final_progress=final_progress,
    )
