"""When a running diff is expected to finish, and so how soon to read it again.

Pure: time comes from a :class:`~tui.domain.clock.Clock` (``monotonic()`` for our own reads,
``now()`` to compare with the API's Unix ETA and start).

The finish window is the ETA's (assumed off by up to ``ETA_ERROR`` of the job's
length), narrowed by the progress rate seen this session (two reads on our own clock,
so server clock skew does not matter; before that, the average pace since the job
started), with a margin of ``PACE_MARGIN`` because progress is not linear. Where the
two disagree, both are watched; an ETA window already over is ignored. Far from the
window the next read comes after a share of the lead (capped by
``running_max_interval``); inside it about every ``2 * min_interval``; long overdue,
the interval relaxes (10% of the overdue time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from tui.domain.clock import Clock
from tui.domain.jobs import Job
from tui.domain.poll_settings import PollSettings

ETA_ERROR: Final = 0.25
"""How far off an ETA is assumed to be, as a fraction of the job's length."""

PACE_MARGIN: Final = 0.15
"""How far the rest of a run may stray from the pace seen so far, as a share of the time
that pace predicts. Progress is not linear, so a pace estimate is a window, not a point;
but a wider window costs polls that a fleet under the rate cap cannot spare, and a
finish outside the window is still caught by the polls that follow it."""

MIN_GAIN: Final = 3
"""Progress points two reads must be apart for a usable pace (they are integers)."""

PROGRESS_LEAD_SHARE: Final = 0.75
ETA_LEAD_SHARE: Final = 0.5
"""Far from the finish window, the next poll comes after this share of the lead (less
for a window known from the ETA alone: an earlier read brings a pace)."""

KEPT_READS: Final = 8
"""Running reads kept per diff: the first and last of them give the pace."""


@dataclass(frozen=True, slots=True)
class FinishEstimate:
    """When a running diff is expected to finish, seen from now."""

    remaining: float
    """Seconds until the expected finish (negative when overdue)."""
    uncertainty: float
    """Half-width of the window the finish is expected in (seconds)."""
    source: Literal["progress", "eta"]
    """What the window comes from: the pace seen, or the API's ETA alone."""


@dataclass(slots=True)
class RunReads:
    """What the reads of one diff said about its run."""

    eta: float | None = None
    """The API's Unix ETA."""
    start: float | None = None
    """Unix time the job started."""
    samples: list[tuple[float, int]] = field(default_factory=list)
    """(monotonic time, progress) of running reads this session."""

    def read(self, job: Job, now: float, *, running: bool) -> None:
        """Take in an answer read at monotonic time ``now``."""
        if not running:
            self.samples.clear()
        self.eta = float(job.eta) if job.eta is not None else None
        self.start = float(job.start) if job.start is not None else None
        if running:
            self.samples.append((now, job.progress))
            del self.samples[:-KEPT_READS]

    def forget(self) -> None:
        """A new run begins (a retry): what the old one said no longer holds."""
        self.eta = None
        self.samples.clear()


class FinishEstimator:
    """Finish windows of running diffs, and the read interval they call for."""

    def __init__(self, clock: Clock, settings: PollSettings) -> None:
        self._clock = clock
        self._settings = settings

    @property
    def window_interval(self) -> float:
        """Read interval inside a finish window."""
        return 2.0 * self._settings.min_interval

    def estimate(self, run: RunReads, now_wall: float) -> FinishEstimate | None:
        """The finish window of ``run`` seen from ``now_wall``; None when nothing tells."""
        floor = self.window_interval / 2
        by_eta = eta_window(run, now_wall)
        by_pace = pace_window(run, self._clock.monotonic(), now_wall)
        source: Literal["progress", "eta"]
        if by_pace is not None:
            low, high = by_pace
            source = "progress"
            if by_eta is not None and by_eta[1] >= 0:
                if by_eta[0] < high and low < by_eta[1]:
                    # Both hold: the finish is where they overlap.
                    low, high = max(low, by_eta[0]), min(high, by_eta[1])
                else:
                    # They disagree: either may be wrong, so watch both.
                    low, high = min(low, by_eta[0]), max(high, by_eta[1])
            # An ETA window already over says nothing more: the job is late; pace rules.
        elif by_eta is not None:
            (low, high), source = by_eta, "eta"
        else:
            return None
        return FinishEstimate((low + high) / 2, max(floor, (high - low) / 2), source)

    def interval(self, run: RunReads, now_wall: float) -> float:
        """Seconds until a running diff is read again."""
        settings = self._settings
        estimate = self.estimate(run, now_wall)
        window = self.window_interval
        if estimate is None:
            return min(settings.running_max_interval, 5 * window)
        lead = estimate.remaining - estimate.uncertainty
        if lead > 2 * window:
            share = PROGRESS_LEAD_SHARE if estimate.source == "progress" else ETA_LEAD_SHARE
            return min(settings.running_max_interval, max(window, lead * share))
        if lead > settings.min_interval:
            return lead
        overdue = -estimate.remaining - estimate.uncertainty
        if overdue <= 0:
            return min(window, max(settings.min_interval, estimate.uncertainty))
        return min(settings.running_max_interval, max(window, 0.1 * overdue))


def eta_window(run: RunReads, now_wall: float) -> tuple[float, float] | None:
    """(earliest, latest) finish by the ETA, in seconds from now.

    >>> eta_window(RunReads(eta=1100.0, start=1000.0), 1050.0)
    (25.0, 75.0)
    """
    if run.eta is None:
        return None
    remaining = run.eta - now_wall
    if run.start is not None and run.eta > run.start:
        length = run.eta - run.start
    else:
        length = max(remaining, 0.0)
    return remaining - ETA_ERROR * length, remaining + ETA_ERROR * length


def pace_window(run: RunReads, now: float, now_wall: float) -> tuple[float, float] | None:
    """(earliest, latest) finish at the pace seen so far, in seconds from now.

    The pace is the one read this session (first and last reads, on our clock), or
    before there are two such reads, the average since the job started.
    """
    if not run.samples:
        return None
    t1, p1 = run.samples[-1]
    if p1 >= 100:
        return None
    t0, p0 = run.samples[0]
    if p1 - p0 >= MIN_GAIN and t1 > t0:
        rate = (p1 - p0) / (t1 - t0)
    elif run.start is not None and p1 >= MIN_GAIN:
        ran = now_wall - (now - t1) - run.start
        if ran <= 0:
            return None
        rate = p1 / ran
    else:
        return None
    left = (100 - p1 - 0.5) / rate
    spread = PACE_MARGIN * left + 1.0 / rate
    elapsed = now - t1
    return left - spread - elapsed, left + spread - elapsed
