"""Tracker: decisions with a fake async client, then against the simulator on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.api.client import ClanforgeClient
from tui.api.error_words import describe_poll_error
from tui.api.errors import (
    ActionOutcomeUnknown,
    ApiError,
    AuthenticationError,
    BadRequest,
    NetworkError,
    RateLimited,
    ServerDisconnected,
    ServerError,
)
from tui.domain.actions import ActionOutcome
from tui.domain.clock import FakeClock, SystemClock
from tui.domain.jobs import DiffJob, JobState
from tui.domain.poll_settings import PollSettings
from tui.domain.watch_entry import LastStatus, WatchEntry
from tui.polling.plan import RETRY
from tui.polling.refusals import RETRY_AFTER_LIMIT
from tui.polling.tracker import SAVE_SECONDS_PER_DIFF, JobView, PollFailure, Tracker

FAST = PollSettings(
    max_requests_per_second=50,
    max_in_flight=4,
    min_interval=0.05,
    waiting_interval=0.1,
    running_max_interval=0.2,
    backoff_max=0.5,
    timeout=1.0,
)


def make_job(diffid: int, state: JobState, progress: int = 0, eta: int | None = None) -> DiffJob:
    return DiffJob(
        diffid=diffid,
        state=state,
        state_name=state.label,
        progress=progress,
        created=1,
        updated=1,
        failed=state is JobState.FAILED,
        eta=eta,
    )


def entry(diffid: int, state: JobState | None = None) -> WatchEntry:
    last = None
    if state is not None:
        last = LastStatus(
            int(state), state.label, 100 if state.is_terminal else 10, None, None, 0.0
        )
    return WatchEntry(diffid=diffid, asid=42, api_url="https://test", label=f"d{diffid}", last=last)


Answer = DiffJob | ApiError | Callable[[], Awaitable[DiffJob]]


class FakeClient:
    """Answers from a per-diff script; the last answer repeats."""

    def __init__(self) -> None:
        self.states: dict[int, list[Answer]] = {}
        self.retry_answers: dict[int, Answer] = {}
        self.status_calls: list[int] = []
        self.retry_calls: list[int] = []
        self.detail_calls: list[int] = []

    async def _answer(self, answer: Answer) -> DiffJob:
        if isinstance(answer, ApiError):
            raise answer
        if isinstance(answer, DiffJob):
            await asyncio.sleep(0)
            return answer
        return await answer()

    async def status(self, diffid: int, diff_info: bool = False) -> DiffJob:
        if diff_info:
            self.detail_calls.append(diffid)
        else:
            self.status_calls.append(diffid)
        script = self.states.get(diffid) or [make_job(diffid, JobState.RUNNING, 50)]
        answer = script.pop(0) if len(script) > 1 else script[0]
        return await self._answer(answer)

    async def retry(self, diffid: int) -> DiffJob:
        self.retry_calls.append(diffid)
        return await self._answer(
            self.retry_answers.get(diffid, make_job(diffid, JobState.CREATED))
        )


async def wait_until(check: Callable[[], bool], limit: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


class Running:
    """A tracker running in a task, closed on exit."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Tracker:
        self.task = asyncio.create_task(self.tracker.run())
        return self.tracker

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.wait_for(self.tracker.close(), 2.0)
        assert self.task is not None
        await asyncio.wait_for(self.task, 2.0)


def tracker_for(client: FakeClient, entries: list[WatchEntry], **kwargs: Any) -> Tracker:
    return Tracker(
        client,
        entries,
        clock=kwargs.pop("clock", SystemClock()),
        settings=kwargs.pop("settings", FAST),
        rng=random.Random(3),
        **kwargs,
    )


def first_answers(tracker: Tracker) -> Tracker:
    """As if a first poll had answered each diff with its saved state."""
    for view in tracker.views.values():
        last = view.entry.last
        if last is not None and last.state is not None:
            view.job = make_job(view.diffid, last.state, last.progress)
            view.stale = False
    return tracker


# --------------------------------------------------------------------------- fake client


async def test_retry_sends_only_for_terminal_diffs_once_each() -> None:
    client = FakeClient()
    entries = [
        entry(1, JobState.COMPLETED),
        entry(2, JobState.RUNNING),
        entry(3, JobState.FAILED),
        entry(4, JobState.QUEUED),
        entry(5),
    ]
    tracker = first_answers(tracker_for(client, entries, clock=FakeClock()))
    records = await tracker.retry([1, 2, 3, 4, 5, 1, 3, 99])
    assert sorted(client.retry_calls) == [1, 3]
    assert set(records) == {1, 3}
    assert all(r.outcome == "accepted" for r in records.values())
    assert tracker.views[1].state is JobState.CREATED
    assert not tracker.views[1].retry_in_flight
    assert [r.outcome for r in tracker.views[3].retries] == ["accepted"]
    # Now Created: not retryable again.
    assert await tracker.retry([1, 3]) == {}
    assert sorted(client.retry_calls) == [1, 3]


async def test_retry_follows_the_plan_a_dialog_shows_and_skips_a_state_only_saved() -> None:
    client = FakeClient()
    tracker = tracker_for(client, [entry(1, JobState.FAILED), entry(2, JobState.FAILED)])
    first_answers(tracker).views[2].stale = True  # no answer yet this session for 2
    plan = tracker.plan(RETRY, [2, 1, 2, 99])
    assert plan.send == (1,)
    assert [(s.diffid, s.reason) for s in plan.skipped] == [
        (2, "state not known yet (wait for the first poll)")
    ]
    assert set(await tracker.retry([1, 2])) == {1}
    assert client.retry_calls == [1]


async def test_a_retry_in_flight_is_not_sent_twice() -> None:
    client = FakeClient()
    gate = asyncio.Event()

    async def slow() -> DiffJob:
        await gate.wait()
        return make_job(1, JobState.PENDING)

    client.retry_answers[1] = slow
    tracker = first_answers(tracker_for(client, [entry(1, JobState.FAILED)], clock=FakeClock()))
    first = asyncio.create_task(tracker.retry([1]))
    await wait_until(lambda: client.retry_calls == [1])
    assert tracker.views[1].retry_in_flight
    assert tracker.views[1].retries[-1].outcome == "sent"
    assert await tracker.retry([1]) == {}
    gate.set()
    assert (await first)[1].outcome == "accepted"
    assert client.retry_calls == [1]


async def test_retry_outcome_unknown_is_not_repeated_and_settled_by_status() -> None:
    client = FakeClient()
    client.retry_answers[7] = ActionOutcomeUnknown("timed out waiting for the answer")
    client.states[7] = [make_job(7, JobState.COMPLETED, 100), make_job(7, JobState.RUNNING, 3)]
    tracker = first_answers(tracker_for(client, [entry(7, JobState.COMPLETED)]))
    records = await tracker.retry([7])
    assert records[7].outcome == "unknown"
    view = tracker.views[7]
    assert view.retry_outcome_unknown
    client.status_calls.clear()
    async with Running(tracker):
        await wait_until(lambda: not view.retry_outcome_unknown)
    assert client.retry_calls == [7]
    assert view.retries[-1].outcome == "accepted"
    assert view.state is JobState.RUNNING


async def test_retry_refused_keeps_the_servers_words_as_plain_text() -> None:
    client = FakeClient()
    client.retry_answers[8] = BadRequest("Image locked by diffid 4\x1b[2J", http_status=400)
    tracker = first_answers(tracker_for(client, [entry(8, JobState.FAILED)], clock=FakeClock()))
    record = (await tracker.retry([8]))[8]
    assert record.outcome is ActionOutcome.REFUSED
    assert record.message.startswith("refused: Image locked by diffid 4")
    assert "\x1b" not in record.message
    assert not tracker.views[8].retry_outcome_unknown


async def test_retry_answered_401_is_not_done_not_unknown() -> None:
    client = FakeClient()
    client.retry_answers[8] = AuthenticationError("bad keys", http_status=401)
    tracker = first_answers(tracker_for(client, [entry(8, JobState.FAILED)], clock=FakeClock()))
    record = (await tracker.retry([8]))[8]
    assert record.outcome is ActionOutcome.NOT_DONE
    assert tracker.poll_state == "backing off"


@pytest.mark.parametrize("retry_after", [None, 4.0])
async def test_a_retry_refused_with_503_backs_the_diff_off_like_a_polls_503(
    retry_after: float | None,
) -> None:
    # 503 means "not now" with or without Retry-After, for a retry as for a status poll:
    # waited out and sent again (the server did nothing), until the bound; then not done.
    clock = FakeClock()
    client = FakeClient()
    client.retry_answers[8] = ServerError("busy", http_status=503, retry_after=retry_after)
    tracker = first_answers(tracker_for(client, [entry(8, JobState.FAILED)], clock=clock))
    before = tracker.views[8].next_poll_at
    started = clock.monotonic()
    record = (await tracker.retry([8]))[8]
    assert record.outcome is ActionOutcome.NOT_DONE
    assert "gave up" in record.message
    assert len(client.retry_calls) > 1
    assert clock.monotonic() - started <= RETRY_AFTER_LIMIT
    after = tracker.views[8].next_poll_at
    assert after is not None and after > clock.now()
    assert after != before


async def test_server_error_shows_on_the_view_then_recovers() -> None:
    client = FakeClient()
    client.states[1] = [
        ServerError("internal server error", http_status=500),
        make_job(1, JobState.RUNNING, 20),
    ]
    changes: list[set[int]] = []
    tracker = tracker_for(client, [entry(1)], on_change=changes.append)
    view = tracker.views[1]
    errors: list[str] = []
    async with Running(tracker):
        await wait_until(lambda: view.poll_error is not None)
        assert view.poll_error is not None
        errors.append(view.poll_error)
        await wait_until(lambda: view.job is not None)
    assert errors[0].startswith("server error 500, retrying in")
    assert view.poll_error is None and view.poll_failure is None
    assert not view.stale and view.state is JobState.RUNNING
    assert any(1 in c for c in changes)


async def test_auth_failure_words_and_global_backoff() -> None:
    client = FakeClient()
    client.states[1] = [AuthenticationError("401 Unauthorized", http_status=401)]
    tracker = tracker_for(client, [entry(1)])
    async with Running(tracker):
        await wait_until(lambda: tracker.views[1].poll_error is not None)
        assert tracker.views[1].poll_error == "401: check the profile's keys"
        assert (
            tracker.poll_state == "keys refused"
        )  # not "backing off": they will not work by waiting
        assert tracker.summary()["erroring"] == 1


async def test_a_raising_client_never_kills_the_loop() -> None:
    client = FakeClient()

    async def broken() -> DiffJob:
        raise ValueError("bug")

    client.states[1] = [broken, make_job(1, JobState.QUEUED)]
    tracker = tracker_for(client, [entry(1)])
    async with Running(tracker):
        await wait_until(lambda: tracker.views[1].poll_error is not None)
        await wait_until(lambda: tracker.views[1].state is JobState.QUEUED)


async def test_finish_is_reported_once_and_terminal_diffs_stop_being_polled() -> None:
    client = FakeClient()
    client.states[1] = [make_job(1, JobState.RUNNING, 90), make_job(1, JobState.COMPLETED, 100)]
    client.states[2] = [make_job(2, JobState.COMPLETED, 100)]
    finished: list[int] = []
    tracker = tracker_for(
        client,
        [entry(1, JobState.RUNNING), entry(2, JobState.RUNNING)],
        on_finished=lambda v: finished.append(v.diffid),
    )
    async with Running(tracker):
        await wait_until(lambda: tracker.views[1].state is JobState.COMPLETED)
        await asyncio.sleep(0.5)
    # Diff 2 finished while the app was away: no toast; diff 1 finished this session.
    assert finished == [1]
    assert client.status_calls.count(2) == 1
    assert tracker.views[1].next_poll_at is None


async def test_save_status_is_debounced_and_flushed_on_close() -> None:
    client = FakeClient()
    progress = iter(range(1, 100))

    async def moving() -> DiffJob:
        return make_job(1, JobState.RUNNING, next(progress))

    client.states[1] = [moving]
    saves: list[dict[int, LastStatus]] = []
    tracker = tracker_for(client, [entry(1)], save_status=saves.append, save_interval=0.4)
    async with Running(tracker):
        await asyncio.sleep(1.0)
        during = len(saves)
    polls = len(client.status_calls)
    assert polls >= 5
    assert 1 <= during <= 3
    assert len(saves) == during + 1  # the flush on close
    assert saves[-1][1].progress == tracker.views[1].progress
    assert tracker.views[1].entry.last == saves[-1][1]


async def test_a_large_watchlist_writes_its_statuses_back_less_often() -> None:
    client = FakeClient()
    saves: list[dict[int, LastStatus]] = []
    count = 400  # at SAVE_SECONDS_PER_DIFF: 2 s between write-backs, not 0.4 s
    assert count * SAVE_SECONDS_PER_DIFF >= 2.0
    entries = [entry(diffid) for diffid in range(1, count + 1)]
    tracker = tracker_for(client, entries, save_status=saves.append, save_interval=0.4)
    async with Running(tracker):
        await wait_until(lambda: len(client.status_calls) >= 10)  # changed statuses
        await asyncio.sleep(1.0)
        during = len(saves)
    assert during == 0
    assert len(saves) == 1  # the flush on close
    assert len(saves[0]) == len({*client.status_calls})


async def test_close_with_requests_in_flight_is_clean() -> None:
    client = FakeClient()
    started = asyncio.Event()

    async def hang() -> DiffJob:
        started.set()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    for diffid in (1, 2, 3):
        client.states[diffid] = [hang]
    tracker = tracker_for(client, [entry(d) for d in (1, 2, 3)])
    task = asyncio.create_task(tracker.run())
    await asyncio.wait_for(started.wait(), 2)
    await asyncio.wait_for(tracker.close(), 1.0)
    await asyncio.wait_for(task, 1.0)
    assert tracker.scheduler.in_flight == 0
    assert all(v.poll_error is None for v in tracker.views.values())


async def test_pause_stops_polls_and_resume_restarts() -> None:
    client = FakeClient()
    tracker = tracker_for(client, [entry(d) for d in range(1, 6)])
    async with Running(tracker):
        await wait_until(lambda: len(client.status_calls) >= 5)
        tracker.pause()
        assert tracker.poll_state == "paused"
        await asyncio.sleep(0.1)  # answers in flight land
        before = len(client.status_calls)
        await asyncio.sleep(0.4)
        assert len(client.status_calls) == before
        tracker.resume()
        await wait_until(lambda: len(client.status_calls) > before)


async def test_refresh_reads_a_terminal_diff_again() -> None:
    client = FakeClient()
    client.states[1] = [make_job(1, JobState.FAILED)]
    tracker = tracker_for(client, [entry(1, JobState.FAILED)])
    async with Running(tracker):
        await wait_until(lambda: client.status_calls == [1])
        await asyncio.sleep(0.2)
        tracker.refresh([1])
        await wait_until(lambda: client.status_calls == [1, 1])


async def test_add_remove_relabel_and_summary() -> None:
    client = FakeClient()
    tracker = tracker_for(client, [entry(1, JobState.COMPLETED)], clock=FakeClock())
    tracker.add([entry(2, JobState.RUNNING), entry(3), entry(1, JobState.FAILED)])
    assert tracker.views[1].state is JobState.COMPLETED
    tracker.relabel(2, "eu build")
    assert tracker.views[2].label == "eu build"
    assert tracker.summary() == {
        "running": 1,
        "waiting": 0,
        "completed": 1,
        "failed": 0,
        "erroring": 0,
        "unknown": 1,
        "todo": 1,  # the Completed diff, neither accepted nor rejected
    }
    tracker.remove([3, 42])
    assert set(tracker.views) == {1, 2}
    assert 3 not in tracker.scheduler


async def test_fetch_details_asks_for_diff_info() -> None:
    client = FakeClient()
    tracker = tracker_for(client, [entry(1)], clock=FakeClock())
    job = await tracker.fetch_details(1)
    assert client.detail_calls == [1]
    assert tracker.views[1].job == job


def test_poll_error_words() -> None:
    from tui.api.errors import ApiTimeout, RateLimited

    assert describe_poll_error(RateLimited("x", retry_after=3), 2.2) == (
        "rate limited, next try in 3s"
    )
    assert describe_poll_error(ServerError("x", http_status=502), 8) == (
        "server error 502, retrying in 8s"
    )
    assert describe_poll_error(ApiTimeout("x"), 4) == "timed out, retrying in 4s"
    # The server was reached: it hung up, which is not "cannot reach the server".
    assert describe_poll_error(ServerDisconnected("x"), 4) == (
        "the server hung up without answering, retrying in 4s"
    )


def test_view_paints_from_saved_status_until_the_first_answer() -> None:
    view = JobView(entry=entry(5, JobState.RUNNING))
    assert view.stale and view.state is JobState.RUNNING and view.progress == 10


# --------------------------------------------------------------------------- simulator

SIM_SETTINGS = PollSettings(
    max_requests_per_second=8,
    max_in_flight=4,
    min_interval=0.2,
    waiting_interval=0.5,
    running_max_interval=1.0,
    backoff_max=2.0,
    timeout=2.0,
)


@contextlib.asynccontextmanager
async def simulated(*diffs: tuple[int, int]) -> AsyncIterator[tuple[Any, Tracker, ClanforgeClient]]:
    """A simulator holding ``(diffid, state)`` diffs, a client and a running tracker."""
    simulator = pytest.importorskip("tui.simulator")
    with simulator.Simulator(speed=1.0, seed_demo=False) as sim:
        for diffid, state in diffs:
            sim.add_diff(diffid, state=state, duration=600.0)
        client = ClanforgeClient(sim.url, sim.asid, sim.access_key, sim.secret_key)
        entries = [
            WatchEntry(diffid=d, asid=sim.asid, api_url=sim.url, last=None) for d, _ in diffs
        ]
        tracker = Tracker(
            client, entries, clock=SystemClock(), settings=SIM_SETTINGS, rng=random.Random(5)
        )
        try:
            async with Running(tracker):
                yield sim, tracker, client
        finally:
            await client.aclose()


async def test_sim_retry_only_terminal_diffs_once_each() -> None:
    async with simulated((1, 5), (2, 4), (3, 6), (4, 3)) as (sim, tracker, _):
        await wait_until(lambda: all(not v.stale for v in tracker.views.values()))
        records = await tracker.retry([1, 2, 3, 4])
        assert set(records) == {1, 3}
        assert all(r.outcome == "accepted" for r in records.values())
        await asyncio.sleep(0.5)
        assert [sim.count("retry", d) for d in (1, 2, 3, 4)] == [1, 0, 1, 0]


async def test_sim_rate_limit_with_retry_after_slows_everything() -> None:
    async with simulated(*[(d, 4) for d in range(1, 9)]) as (sim, tracker, _):
        await wait_until(lambda: all(not v.stale for v in tracker.views.values()))
        # The account is throttled: every request gets 429 for a while (one diff's
        # lone 429 is that diff's own, tested elsewhere). Requests already in flight
        # together prove nothing, so it takes a few answers to tell.
        sim.inject("429", count=50, retry_after=1.5)
        await wait_until(lambda: tracker.poll_state == "backing off", limit=5.0)
        hit = asyncio.get_running_loop().time()
        errors = [v.poll_error or "" for v in tracker.views.values()]
        assert any(e.startswith("rate limited, next try in") for e in errors)
        # Requests already in flight when the 429 came back still land.
        await wait_until(lambda: tracker.scheduler.in_flight == 0)
        before = sim.count("status")
        await asyncio.sleep(1.0)
        assert sim.count("status") == before  # Retry-After honoured by every diff
        await wait_until(lambda: sim.count("status") > before, limit=3.0)
        assert asyncio.get_running_loop().time() - hit >= 1.4
        assert sim.max_requests_in_window("status", 1.0) <= SIM_SETTINGS.max_requests_per_second


async def test_sim_server_error_shows_then_recovers() -> None:
    async with simulated((1, 4)) as (sim, tracker, _):
        view = tracker.views[1]
        await wait_until(lambda: not view.stale)
        sim.inject("500", count=1, diffid=1)
        await wait_until(lambda: view.poll_error is not None)
        assert view.poll_error is not None and view.poll_error.startswith("server error 500")
        await wait_until(lambda: view.poll_error is None)


async def test_sim_pause_stops_requests() -> None:
    async with simulated(*[(d, 4) for d in range(1, 5)]) as (sim, tracker, _):
        await wait_until(lambda: all(not v.stale for v in tracker.views.values()))
        tracker.pause()
        await asyncio.sleep(0.3)
        before = sim.count("status")
        await asyncio.sleep(1.5)
        assert sim.count("status") == before
        tracker.resume()
        await wait_until(lambda: sim.count("status") > before)


async def test_sim_close_with_requests_in_flight_is_clean() -> None:
    simulator = pytest.importorskip("tui.simulator")
    with simulator.Simulator(speed=1.0, seed_demo=False) as sim:
        for diffid in range(1, 9):
            sim.add_diff(diffid, state=4, duration=600.0)
        saves: list[dict[int, LastStatus]] = []
        async with ClanforgeClient(sim.url, sim.asid, sim.access_key, sim.secret_key) as client:
            tracker = Tracker(
                client,
                [WatchEntry(diffid=d, asid=sim.asid, api_url=sim.url) for d in range(1, 9)],
                clock=SystemClock(),
                settings=SIM_SETTINGS,
                save_status=saves.append,
            )
            task = asyncio.create_task(tracker.run())
            await wait_until(lambda: tracker.scheduler.in_flight > 0 or sim.count("status") > 0)
            await asyncio.wait_for(tracker.close(), 2.0)
            await asyncio.wait_for(task, 2.0)
            assert tracker.scheduler.in_flight == 0
            assert all(v.poll_error is None for v in tracker.views.values())


async def test_sim_an_always_429_diff_does_not_starve_a_running_and_a_done_one() -> None:
    """The issue's case over loopback: Completed, Running (finishing in about 2 s) and a
    diff that always answers 429 with Retry-After 3."""
    simulator = pytest.importorskip("tui.simulator")
    with simulator.Simulator(speed=1.0, seed_demo=False) as sim:
        sim.add_diff(7, state=4, duration=3.0, progress=30, eta_error=0.0)
        sim.add_diff(8, state=5)
        sim.add_diff(9, state=4, duration=600.0)
        sim.break_diff(9, "429", retry_after=3)
        async with ClanforgeClient(sim.url, sim.asid, sim.access_key, sim.secret_key) as client:
            # The broken diff first, as in the watchlist of the report.
            entries = [WatchEntry(diffid=d, asid=sim.asid, api_url=sim.url) for d in (9, 8, 7)]
            tracker = Tracker(
                client, entries, clock=SystemClock(), settings=SIM_SETTINGS, rng=random.Random(5)
            )
            async with Running(tracker):
                await wait_until(lambda: tracker.views[7].state is JobState.COMPLETED, 6.0)
                finished = sim.finished_at(7)
                assert finished is not None and time.time() - finished <= 2.0
                assert tracker.views[8].state is JobState.COMPLETED
                failure = tracker.views[9].poll_failure
                assert failure is not None and isinstance(failure.error, RateLimited)
                assert tracker.poll_state == "live", "one diff's 429 is not the account's"
        assert sim.count("status", 9) <= 4


async def test_sim_a_diff_whose_server_hangs_up_says_so_and_the_rest_stay_live() -> None:
    async with simulated((1, 4), (2, 4), (3, 5)) as (sim, tracker, _):
        sim.break_diff(1, "drop")
        view = tracker.views[1]
        await wait_until(lambda: view.poll_error is not None)
        assert view.poll_error is not None
        assert view.poll_error.startswith("the server hung up without answering")
        await wait_until(lambda: all(not v.stale for v in tracker.views.values() if v.diffid > 1))
        assert tracker.poll_state == "live"


@pytest.mark.parametrize("mode", ["refused", "reset"])
async def test_sim_an_outage_reads_offline_then_every_diff_is_current_again(mode: str) -> None:
    async with simulated(*[(d, 4) for d in range(1, 7)]) as (sim, tracker, _):
        await wait_until(lambda: all(not v.stale for v in tracker.views.values()))
        answered = tracker.last_answer_at
        assert answered is not None and tracker.poll_state == "live"
        sim.start_outage(mode)
        await wait_until(lambda: tracker.poll_state == "offline", 5.0)
        assert tracker.last_answer_at is not None and tracker.last_answer_at < time.time()
        failures = [v.poll_failure for v in tracker.views.values() if v.poll_failure]
        assert all(isinstance(failure.error, NetworkError) for failure in failures)
        await asyncio.sleep(0.5)
        assert tracker.poll_state == "offline"
        sim.end_outage()
        back = asyncio.get_running_loop().time()
        await wait_until(lambda: all(v.poll_error is None for v in tracker.views.values()), 6.0)
        assert tracker.poll_state != "offline"
        # Within the probe interval (backoff_max 2 s here) plus the spread, not minutes.
        assert asyncio.get_running_loop().time() - back <= 4.0
        assert sim.max_requests_in_window("status", 1.0) <= SIM_SETTINGS.max_requests_per_second


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([None, *JobState]), st.booleans(), st.booleans()),
        max_size=30,
    )
)
def test_summary_counts_each_diff_once_and_erroring_apart(
    cases: list[tuple[JobState | None, bool, bool]],
) -> None:
    tracker = tracker_for(FakeClient(), [], clock=FakeClock())
    tracker.add(entry(diffid, state) for diffid, (state, _, _) in enumerate(cases, 1))
    for diffid, (state, live, erroring) in enumerate(cases, 1):
        view = tracker.views[diffid]
        if live and state is not None:
            view.job = make_job(diffid, state)
        if erroring:
            view.poll_failure = PollFailure.of(NetworkError("x"), 1.0, None)
    counts = tracker.summary()
    partition = ("running", "waiting", "completed", "failed", "unknown")
    assert sum(counts[key] for key in partition) == len(cases)
    assert counts["erroring"] == sum(1 for _, _, erroring in cases if erroring)
