"""Driving a PollScheduler on a FakeClock against the simulator, in-process: no sleeps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tui.api.client import ClanforgeClient
from tui.api.errors import ApiError
from tui.domain.clock import FakeClock
from tui.domain.jobs import DiffJob
from tui.polling.scheduler import PollScheduler
from tui.simulator import Simulator

READ_TIMEOUT = 10.0
"""The client's read timeout (its default): a slower answer is a timeout."""


@dataclass
class Wire:
    """What the in-process transport saw of the last answer: how long the server held
    it back (at most the read timeout, after which the client gives up)."""

    held: float = 0.0


def in_process_client(
    sim: Simulator, down: Callable[[], bool] = lambda: False, wire: Wire | None = None
) -> ClanforgeClient:
    """The real client, answered by ``sim`` in-process (faults included), on its clock;
    while ``down()`` every connection is refused. A slow answer (the simulator's
    ``slow`` fault) is noted on ``wire``; one slower than the read timeout times out."""

    def handle(request: httpx.Request) -> httpx.Response:
        if down():
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        reply = sim.respond(
            request.method, request.url.raw_path.decode(), request.headers["authorization"]
        )
        if wire is not None:
            wire.held = min(reply.delay, READ_TIMEOUT)
        if reply.delay >= READ_TIMEOUT:
            raise httpx.ReadTimeout("timed out", request=request)
        if reply.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        headers = [("content-type", reply.content_type), *reply.headers]
        return httpx.Response(reply.status, headers=headers, content=reply.body)

    return ClanforgeClient(
        "http://127.0.0.1:1",
        sim.asid,
        sim.access_key,
        sim.secret_key,
        read_timeout=READ_TIMEOUT,
        transport=httpx.MockTransport(handle),
    )


@dataclass
class Followed:
    """What :func:`follow` saw: request times and good answers per diff, and when the
    scheduler called the server gone (``offline``) or slowed everything (``slowed``)."""

    sent: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    answered: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    finished: dict[int, float] = field(default_factory=dict)
    spans: list[tuple[float, float]] = field(default_factory=list)
    offline: list[float] = field(default_factory=list)
    slowed: list[float] = field(default_factory=list)


_Outcome = DiffJob | ApiError


@dataclass
class _Pending:
    at: float
    key: int
    sent_at: float
    outcome: _Outcome | None = None
    """Known once the server saw the request; delivered at ``at``."""


async def _ask(client: ClanforgeClient, key: int) -> _Outcome:
    try:
        return await client.status(key)
    except ApiError as exc:
        return exc


async def follow(
    sched: PollScheduler,
    clock: FakeClock,
    client: ClanforgeClient,
    seconds: float,
    seen: Followed | None = None,
    latency: float = 0.02,
    wire: Wire | None = None,
) -> Followed:
    """Drive ``sched`` for ``seconds`` of fake time as the tracker does, each answer
    ``latency`` after its request (plus what the server held it back: see ``wire``)."""
    seen = seen if seen is not None else Followed()
    end = clock.monotonic() + seconds
    pending: list[_Pending] = []
    while clock.monotonic() < end:
        while (key := sched.next_ready()) is not None:
            sched.started(key)
            seen.sent[key].append(clock.monotonic())
            pending.append(_Pending(clock.monotonic() + latency, key, clock.monotonic()))
        wake = sched.seconds_until_next()
        times = [p.at for p in pending] + [clock.monotonic() + min(wake or 5.0, 5.0), end]
        clock.advance(max(min(times) - clock.monotonic(), 1e-4))
        for item in [p for p in pending if p.at <= clock.monotonic()]:
            pending.remove(item)
            if item.outcome is None:
                if wire is not None:
                    wire.held = 0.0
                item.outcome = await _ask(client, item.key)
                if wire is not None and wire.held > 0:
                    item.at = clock.monotonic() + wire.held
                    pending.append(item)
                    continue
            seen.spans.append((item.sent_at, clock.monotonic()))
            _deliver(sched, clock, seen, item.key, item.outcome)
        if sched.outage:
            seen.offline.append(clock.monotonic())
        if sched.slowed_down:
            seen.slowed.append(clock.monotonic())
    return seen


def _deliver(
    sched: PollScheduler, clock: FakeClock, seen: Followed, key: int, outcome: _Outcome
) -> None:
    if isinstance(outcome, ApiError):
        sched.failed(key, outcome)
        return
    sched.succeeded(key, outcome)
    seen.answered[key].append(clock.monotonic())
    if outcome.is_terminal:
        seen.finished.setdefault(key, clock.now())


def most_spans_in_a_window(spans: list[tuple[float, float]], window: float) -> int:
    """The most (start, end) spans that meet one half-open window of ``window`` seconds."""
    best = 0
    for _, edge in spans:
        # The busiest window may be taken to start at some span's end.
        best = max(best, sum(1 for s, e in spans if s < edge + window and e >= edge))
    return best
