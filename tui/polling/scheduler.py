"""Which diff to ask about next, and when: every polling decision in one place.

Pure decisions: no I/O, no asyncio. Time comes only from a :class:`~tui.domain.clock.Clock`
(``monotonic()`` for scheduling, ``now()`` to compare with the API's Unix ETA), and
randomness (jitter) from an injectable :class:`random.Random`, so every decision is
testable with a :class:`~tui.domain.clock.FakeClock`.

The policy, in short:

* **Global cap.** At most ``N = max(1, floor(rate))`` requests in any window of
  ``W = max(1, N / rate)`` seconds (a sliding log, plus a small safety margin), so no
  1-second window ever holds more than ``max_requests_per_second`` requests, as the
  server counts them. A request reaches the server some time between being started and
  being answered (a busy event loop or a new connection can hold it back), so a status
  poll counts from its answer, and as "now" while it is in flight. Status polls,
  retries and detail fetches share the cap.
* **In flight.** At most ``max_in_flight`` status polls are outstanding.
* **Priorities.** Among the diffs that are due, the one with the earliest due time
  wins, minus a head start for an explicit refresh, for diffs on screen and for
  diffs inside their finish window; head starts are bounded, so nothing starves.
* **Waiting** diffs (Created/Pending/Queued) are polled every ``waiting_interval``.
* **Running** diffs are polled by their expected finish window
  (:class:`~tui.polling.finish_estimate.FinishEstimator`: the ETA's, narrowed by the pace
  seen): far from it after a share of the lead, inside it about every
  ``2 * min_interval`` and ahead of other diffs, long overdue less often.
* **Terminal** diffs are not polled again after a read that says so, until
  :meth:`PollScheduler.mark_retried` or :meth:`PollScheduler.refresh_now`.
* **Errors** back a diff off exponentially with jitter (ceiling ``backoff_max``).
  A diff that keeps failing while the server answers others has a fault of its own
  (a hang, a dropped connection, an error, its own 429): it backs off alone and says
  nothing of the account or the server. A slow-down answer (429, 503, any Retry-After)
  is the account's when another diff, not known to fail on its own and sent after it,
  gets one too with no good answer in between (requests in flight together prove
  nothing). Then, and on auth failures, everything slows down: nothing is sent until
  the pause ends (Retry-After honoured), the rate is halved for a while, and the due
  times are spread out so that the end of a pause is not a burst.
  After a pause the diff that caused it goes last, so it cannot starve the others.
* **Witnesses.** When a failure may be the server's or the account's, a diff that is
  not failing is asked at once rather than at its next turn: its answer tells.
* **Outages.** "Offline" means no answer from the server at all: any HTTP answer, an
  error too, proves it is there. Network-level failures (refused, reset, timed out,
  hung up) from different diffs, each sent after the server's last answer and none
  from a diff known to fail on its own, mean the server is gone: one probe at a time
  goes out, at most :data:`~tui.polling.slowdown.OUTAGE_PROBE_MAX` apart, in turn
  across the diffs, and the first answer brings every diff that failed that way
  forward again, spread under the rate cap. The slow-downs' bookkeeping is
  :class:`~tui.polling.slowdown.Slowdowns`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from tui.api.errors import ApiError
from tui.domain.clock import Clock
from tui.domain.jobs import Job, JobState
from tui.domain.poll_settings import PollSettings
from tui.polling.finish_estimate import FinishEstimate, FinishEstimator, RunReads
from tui.polling.rate_window import RateWindow, Send
from tui.polling.slowdown import Pause, Slowdowns

CONFIRM_READS_AFTER_RETRY: Final = 3
"""Right after a retry the server may still say Completed; keep reading a little."""

JUST_STARTED_FIRST: Final = 2.0
"""A job this app just started (a retry, an accept's version job, a created diff) is
read this many seconds after it starts, and again as often while it waits to run."""
JUST_STARTED_MAX: Final = 5.0
"""... and then by its ETA, but at most this many seconds apart until it ends: its end
is seen within seconds, not within a waiting or running interval."""

_REFRESH_HEAD_START: Final = 30.0
_VISIBLE_HEAD_START: Final = 5.0
_IN_WINDOW_HEAD_START: Final = 30.0
"""A diff inside its finish window goes before diffs due up to this much earlier: a late
poll there is a late detection, while a late first read or waiting poll costs little."""


K = TypeVar("K", bound=Hashable)
"""What names a polled job: a diff's ID, or anything that never equals one (a version
job's key), so that one scheduler and one cap serve every kind of job."""


@dataclass(slots=True)
class _Entry(Generic[K]):
    key: K
    state: JobState | None
    progress: int
    run: RunReads
    due: float | None
    visible: bool = False
    in_flight: bool = False
    forced: bool = False
    last_sent: float | None = None
    errors: int = 0
    last_error: ApiError | None = None
    """The last failed poll's error, None once one succeeds."""
    failing_since: float | None = None
    """When the first request of the current run of failures was sent."""
    confirm_left: int = 1
    send: Send | None = None
    """The cap's record of the request in flight."""
    just_started: bool = False
    """This app started the job: followed closely until it ends (see JUST_STARTED_MAX)."""


class PollScheduler(Generic[K]):
    """Decides which diff to poll next; the caller does the I/O and reports back.

    The loop that drives it::

        while (key := scheduler.next_ready()) is not None:
            scheduler.started(key)
            ...send; then scheduler.succeeded(key, job) or scheduler.failed(key, ...)
        wait scheduler.seconds_until_next() (or until something changes)
    """

    def __init__(
        self,
        clock: Clock,
        settings: PollSettings,
        rng: random.Random | None = None,
        every: float | None = None,
    ) -> None:
        self._clock = clock
        self._settings = settings
        self._every = every
        """A fixed read interval for every job whatever its state (``watch --interval``);
        None: the adaptive intervals of ``settings``."""
        self._rng = rng if rng is not None else random.Random()
        self._entries: dict[K, _Entry[K]] = {}
        self._window = RateWindow(clock, settings.max_requests_per_second)
        self._estimator = FinishEstimator(clock, settings)
        self._pauses: Slowdowns[K] = Slowdowns(
            settings, self._window, self._rng, self._estimator.window_interval
        )
        self._in_flight = 0
        self._paused = False
        self._first_read_last = False
        """The last request started was a key's first read (see :meth:`next_ready`)."""

    # ------------------------------------------------------------------ config
    @property
    def settings(self) -> PollSettings:
        """The settings this scheduler follows."""
        return self._settings

    @property
    def window_interval(self) -> float:
        """Poll interval inside a running diff's finish window (and error backoff base)."""
        return self._estimator.window_interval

    # ------------------------------------------------------------------ entries
    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[K]:
        """The keys being scheduled."""
        return list(self._entries)

    def add(
        self,
        key: K,
        state: JobState | None = None,
        eta: float | None = None,
        progress: int = 0,
        start: float | None = None,
    ) -> None:
        """Start scheduling ``key``; ``state`` etc. are what is known (e.g. saved).

        A new key is due at once, even when its saved state is terminal: one read
        confirms the saved state. Adding a known key changes nothing.
        """
        if key in self._entries:
            return
        # Positional: the whole watchlist is added before the first frame.
        self._entries[key] = _Entry(
            key, state, progress, RunReads(eta, start), self._clock.monotonic()
        )

    def remove(self, key: K) -> None:
        """Forget ``key``; a request still in flight for it is then ignored."""
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._close_send(entry)
            if entry.in_flight:
                self._in_flight -= 1

    def set_visible(self, keys: Iterable[K]) -> None:
        """The diffs on screen now (they are polled first)."""
        wanted = set(keys)
        for entry in self._entries.values():
            entry.visible = entry.key in wanted

    def refresh_now(self, keys: Iterable[K]) -> None:
        """Poll these diffs as soon as the caps allow, terminal ones included."""
        now = self._clock.monotonic()
        for key in keys:
            entry = self._entries.get(key)
            if entry is None:
                continue
            entry.forced = True
            entry.due = self._not_before_min_interval(entry, now)

    def follow_closely(self, key: K) -> None:
        """This app just started ``key``'s job: read it :data:`JUST_STARTED_FIRST`
        seconds from now, then at most :data:`JUST_STARTED_MAX` apart until it ends."""
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.just_started = True
        now = self._clock.monotonic()
        soon = max(now + JUST_STARTED_FIRST, self._not_before_min_interval(entry, now))
        # Due at once with a state known (the action's answer said it): that answer was
        # the first read. Nothing known yet: read it at once.
        if entry.due is None or entry.due > soon or (entry.due <= now and entry.state is not None):
            entry.due = soon

    def mark_retried(self, key: K, job: Job | None = None) -> None:
        """A retry was accepted (``job`` is its answer) or its outcome is unknown.

        The diff is polled again soon, and a terminal read right after does not stop
        the polling at once (the server may not have switched state yet).
        """
        entry = self._entries.get(key)
        if entry is None:
            return
        now = self._clock.monotonic()
        if job is not None and job.state is not None and not job.state.is_terminal:
            entry.state = job.state
        else:
            entry.state = None
        entry.progress = 0
        entry.run.forget()
        entry.confirm_left = CONFIRM_READS_AFTER_RETRY
        entry.errors = 0
        base = max(now + self._settings.min_interval, self._not_before_min_interval(entry, now))
        entry.due = base
        entry.just_started = True

    # ------------------------------------------------------------------ pause
    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        return self._paused

    def pause(self) -> None:
        """Send nothing until :meth:`resume`."""
        self._paused = True

    def resume(self) -> None:
        """Poll again; what fell due during the pause is spread out, not sent at once."""
        if not self._paused:
            return
        self._paused = False
        now = self._clock.monotonic()
        self._spread_overdue(now)

    @property
    def slowed_down(self) -> bool:
        """True while a global slow-down (429, 503, auth failure) is in force."""
        now = self._clock.monotonic()
        self._pauses.recover_rate(now)
        return self._pauses.slowed_down(now)

    @property
    def outage(self) -> bool:
        """True while the server looks unreachable (see the module's Outages)."""
        return self._pauses.outage

    @property
    def global_wait(self) -> float:
        """Seconds until the current global pause ends (0 when there is none)."""
        return self._pauses.wait(self._clock.monotonic())

    @property
    def in_flight(self) -> int:
        """Status polls started and not yet answered."""
        return self._in_flight

    # ------------------------------------------------------------------ the cap
    def seconds_until_slot(self) -> float:
        """Seconds until the requests-per-second cap allows another request."""
        return self._window.seconds_until_slot()

    def take_slot(self) -> bool:
        """For a request that is not a status poll (retry, details): True and counted
        when the cap allows it now, else False (ask again after :meth:`seconds_until_slot`)."""
        return self._window.take_slot()

    def _close_send(self, entry: _Entry[K]) -> None:
        """The request for ``entry`` was answered (or given up): it counts from now."""
        if entry.send is not None:
            self._window.close(entry.send)
            entry.send = None

    # ------------------------------------------------------------------ choosing
    def _head_start(self, entry: _Entry[K], now_wall: float) -> float:
        bonus = 0.0
        if entry.forced:
            bonus += _REFRESH_HEAD_START
        if entry.visible:
            bonus += _VISIBLE_HEAD_START
        if entry.state is JobState.RUNNING:
            estimate = self._estimator.estimate(entry.run, now_wall)
            if estimate is not None:
                # Inside its finish window a diff goes first; the nearer the window, the
                # sooner (so a backlog, e.g. the first reads, is worked through by urgency).
                lead = estimate.remaining - estimate.uncertainty
                if lead <= self.window_interval:
                    bonus += _IN_WINDOW_HEAD_START
        return bonus

    def _blocked_for(self) -> float | None:
        """Seconds until anything at all may be sent, or None while nothing can be."""
        if self._paused or self._in_flight >= self._settings.max_in_flight:
            return None
        self._pauses.recover_rate(self._clock.monotonic())
        return max(self.global_wait, self.seconds_until_slot())

    def next_ready(self) -> K | None:
        """The diff to poll now, or None when nothing may or needs to be sent now."""
        blocked = self._blocked_for()
        if blocked is None or blocked > 0:
            return None
        now = self._clock.monotonic()
        now_wall = self._clock.now()
        # Best first read (never sent) and best read again, apart: while both wait,
        # they take turns, so a large list's first sweep does not hold up the rows
        # already read (on screen, running) for its whole length, and re-reads cannot
        # starve the sweep either.
        best: list[K | None] = [None, None]
        best_rank = [math.inf, math.inf]
        for entry in self._entries.values():
            if entry.in_flight or entry.due is None or entry.due > now:
                continue
            rank = entry.due - self._head_start(entry, now_wall)
            first = entry.last_sent is None
            if rank < best_rank[first]:
                best[first], best_rank[first] = entry.key, rank
        again, first_read = best
        if again is None or first_read is None:
            return first_read if again is None else again
        return again if self._first_read_last else first_read

    def seconds_until_next(self) -> float | None:
        """How long the caller may sleep before :meth:`next_ready` can say something.

        None means "nothing is scheduled": wait for a change (an answer, an add, a
        resume) instead.
        """
        blocked = self._blocked_for()
        if blocked is None:
            return None
        dues = [e.due for e in self._entries.values() if e.due is not None and not e.in_flight]
        if not dues:
            return None
        return max(blocked, min(dues) - self._clock.monotonic(), 0.0)

    def due_in(self, key: K) -> float | None:
        """Seconds until ``key`` is due (None: not scheduled, e.g. confirmed terminal)."""
        entry = self._entries.get(key)
        if entry is None or entry.due is None:
            return None
        now = self._clock.monotonic()
        due = entry.due
        if self._pauses.until is not None:
            due = max(due, self._pauses.until)
        return max(0.0, due - now)

    def is_scheduled(self, key: K) -> bool:
        """True when ``key`` will be polled again without being asked to."""
        entry = self._entries.get(key)
        return entry is not None and entry.due is not None

    # ------------------------------------------------------------------ reports
    def started(self, key: K) -> None:
        """A status request for ``key`` is being sent now (counts against the caps)."""
        now = self._clock.monotonic()
        send = self._window.start()
        entry = self._entries.get(key)
        if entry is None:
            self._window.close(send)
            return
        self._close_send(entry)
        entry.send = send
        self._first_read_last = entry.last_sent is None
        if not entry.in_flight:
            self._in_flight += 1
        entry.in_flight = True
        entry.forced = False
        entry.last_sent = now
        entry.due = None

    def cancelled(self, key: K) -> None:
        """A request that was started will never be answered (shutdown, removal)."""
        entry = self._entries.get(key)
        if entry is None:
            return
        self._close_send(entry)
        if not entry.in_flight:
            return
        entry.in_flight = False
        self._in_flight -= 1
        entry.due = self._not_before_min_interval(entry, self._clock.monotonic())

    def _finish(self, entry: _Entry[K]) -> None:
        self._close_send(entry)
        if entry.in_flight:
            entry.in_flight = False
            self._in_flight -= 1

    def succeeded(self, key: K, job: Job) -> float | None:
        """The server answered for ``key``; returns seconds until its next poll, or
        None when it will not be polled again (confirmed terminal)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._finish(entry)
        now = self._clock.monotonic()
        now_wall = self._clock.now()
        entry.errors = 0
        entry.last_error = None
        entry.failing_since = None
        if self._pauses.answered(now):
            self._bring_forward_unanswered(now)
        self._pauses.recover_rate(now)
        state = job.state
        if state is None and job.failed:
            state = JobState.FAILED
        entry.state = state
        entry.progress = job.progress
        entry.run.read(job, now, running=state is JobState.RUNNING)
        if job.is_terminal:
            if entry.confirm_left <= 1:
                entry.just_started = False
            entry.confirm_left -= 1
            if entry.confirm_left <= 0:
                entry.confirm_left = 0
                entry.due = None
                return None
            interval = self.window_interval if self._every is None else self._every
        else:
            entry.confirm_left = 1
            interval = self._interval(entry, now_wall)
        entry.due = max(now + interval, self._not_before_min_interval(entry, now))
        return entry.due - now

    def failed(self, key: K, error: ApiError) -> float:
        """A status poll for ``key`` failed; returns seconds until it is tried again.

        Per-diff errors back off exponentially with jitter (ceiling ``backoff_max``).
        Auth failures, slow-down answers that are not one diff's own and outages pause
        everything (see the module's notes).
        """
        entry = self._entries.get(key)
        if entry is not None:
            self._finish(entry)
            if not entry.errors:
                entry.failing_since = entry.last_sent
            entry.errors += 1
            entry.last_error = error
        now = self._clock.monotonic()
        if error.answered and self._pauses.heard(now):
            self._bring_forward_unanswered(now)
        why = self._pauses.classify(
            key,
            error,
            now,
            sent=entry.last_sent if entry is not None else None,
            since=entry.failing_since if entry is not None else None,
            jobs=len(self._entries),
        )
        if why is None:
            if self._pauses.suspect:
                self._call_witness(now)
            return 0.0 if entry is None else self._back_off(entry, now, error)
        if why is Pause.SLOW_DOWN and entry is not None:
            # Its own backoff still holds: the pause must not bring it forward.
            self._back_off(entry, now, error)
        retry_after = error.retry_after if why is Pause.SLOW_DOWN else None
        until = self._pauses.pause(now, why, retry_after)
        # The diff that caused the pause goes after the others.
        self._spread_overdue(until, last=entry)
        due = until if entry is None else entry.due
        assert due is not None
        return max(0.0, due - now)

    def refused_wait(self, refusals: int, error: ApiError) -> float:
        """Seconds a request refused ``refusals`` times in a row with "wait" (429, 503)
        waits before it is sent again: the backoff of a failing poll, no sooner than
        Retry-After, and not before a global pause ends."""
        backoff = self._pauses.backoff(refusals, error)
        return max(backoff, self.global_wait)

    def _back_off(self, entry: _Entry[K], now: float, error: ApiError) -> float:
        """Back ``entry`` alone off (see :meth:`Slowdowns.backoff`)."""
        delay = self._pauses.backoff(entry.errors, error)
        entry.due = max(now + delay, self._not_before_min_interval(entry, now))
        return entry.due - now

    def _bring_forward_unanswered(self, now: float) -> None:
        """The server answers again: what failed for want of it is read again soon, and
        those failures were the outage's, not the jobs' own."""
        for entry in self._entries.values():
            unanswered = entry.last_error is not None and entry.last_error.no_answer
            if unanswered:
                entry.errors = 0
                entry.failing_since = None
                if entry.due is not None and entry.due > now:
                    entry.due = self._not_before_min_interval(entry, now)
        self._spread_overdue(now)

    def _call_witness(self, now: float) -> None:
        """A failure may be the server's or the account's: ask a job whose last request
        did not fail (the one due soonest, a done one last) now rather than at its next
        turn, so that its answer (or its failure) tells one job's fault from theirs."""
        witness: _Entry[K] | None = None
        for entry in self._entries.values():
            if entry.errors or entry.in_flight:
                continue
            if witness is None or (entry.due or math.inf) < (witness.due or math.inf):
                witness = entry
        if witness is None:
            return
        due = self._not_before_min_interval(witness, now)
        if witness.due is None or witness.due > due:
            witness.due = due

    def _spread_overdue(self, start: float, last: _Entry[K] | None = None) -> None:
        """Spread the diffs due before ``start`` over the time the cap needs for them,
        then ``last`` (if given) after them all."""
        waiting = [
            e
            for e in self._entries.values()
            if e.due is not None and not e.in_flight and e is not last
        ]
        due_early = [e for e in waiting if e.due is not None and e.due <= start]
        spacing = 1.0 / self._window.rate
        if due_early:
            now_wall = self._clock.now()
            due_early.sort(key=lambda e: (e.due or 0.0) - self._head_start(e, now_wall))
            for index, entry in enumerate(due_early):
                entry.due = start + index * spacing + self._rng.uniform(0.0, spacing)
        if last is not None and last.key in self._entries:
            after = start + len(due_early) * spacing + self._rng.uniform(0.0, spacing)
            last.due = max(after, last.due if last.due is not None else after)

    def _not_before_min_interval(self, entry: _Entry[K], now: float) -> float:
        if entry.last_sent is None:
            return now
        return max(now, entry.last_sent + self._settings.min_interval)

    # ------------------------------------------------------------------ running
    def estimate(self, key: K) -> FinishEstimate | None:
        """When the running diff ``key`` is expected to finish, if that can be told."""
        entry = self._entries.get(key)
        if entry is None or entry.state is not JobState.RUNNING:
            return None
        return self._estimator.estimate(entry.run, self._clock.now())

    def _interval(self, entry: _Entry[K], now_wall: float) -> float:
        if self._every is not None:
            return self._every
        state = entry.state
        if state is None:
            return self.window_interval
        if state.is_waiting:
            if entry.just_started:
                return min(self._settings.waiting_interval, JUST_STARTED_FIRST)
            return self._settings.waiting_interval
        interval = self._estimator.interval(entry.run, now_wall)
        return min(interval, JUST_STARTED_MAX) if entry.just_started else interval
