"""A simulator of the Clanforge image-diff API (see API.md), served over HTTP on loopback.

Standard library only, so that ``--demo``, the tests and the benchmarks run it without
anything else. Job state is computed lazily from an injectable clock at request time, so a
test can fast-forward a job by moving its fake clock; nothing ticks in the background.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import hmac
import ipaddress
import json
import math
import random
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "DEMO_DIFFS",
    "ETA_ERROR_LIMIT",
    "FAULT_KINDS",
    "STATE_NAMES",
    "Reply",
    "RequestRecord",
    "Simulator",
    "main_simulate",
]

STATE_NAMES: Final[dict[int, str]] = {
    1: "Created",
    2: "Pending",
    3: "Queued",
    4: "Running",
    5: "Completed",
    6: "Failed",
}

FAULT_KINDS: Final[frozenset[str]] = frozenset(
    [
        "429",
        "500",
        "502",
        "503",
        "400",
        "slow",
        "drop",
        "drop-after",
        "malformed",
        "html",
        "empty",
        "text",
        "huge",
        "wrong-type",
        "hostile",
    ]
)
"""What ``Simulator.inject`` accepts."""

ENDPOINTS: Final[tuple[str, ...]] = ("status", "retry", "create", "reject", "other")

_PREFIX: Final = "/cfp/v1/imagediff/"
_JSON: Final = "application/json"
# A dropped connection has no HTTP status; the request log records it as 0.
DROPPED: Final = 0

REALISTIC_ERRORS: Final[tuple[str, ...]] = (
    "Checksum mismatch on /game/bin/server.pak",
    "Machine 7712 unreachable",
    "Image locked by diffid 4107",
    "Timed out waiting for file list from machine 6604",
    "Disk quota exceeded on image store",
)

HOSTILE_TEXT: Final = "\x1b[2J\x1b[31m[bold red]x[/] [link=https://evil.example]click[/link]\x1b[0m"

_HTML_PAGE: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_HUGE_SIZE: Final = 12 * 1024 * 1024

ETA_ERROR_LIMIT: Final = 0.25
"""How far a run's real finish may miss its announced ``jobeta``, as a fraction of the
announced run time: a real ETA is an estimate, so by default every run misses it by a
seeded random amount within +-25% (early or late)."""

PROGRESS_PACE: Final = (0.5, 1.5)
"""Nor is progress linear: a run goes through 4 to 8 phases (scanning, hashing,
comparing...), each at its own steady pace, from half to one and a half times the run's
average. Progress is reported as of the worker's last heartbeat (about 1% of the run)."""


@dataclass(frozen=True)
class _DemoSpec:
    diffid: int
    label: str
    state: int
    duration: float
    progress: int | None = None
    fail_with: str | None = None
    retry_errors: tuple[str, ...] = ()
    files: int = 40


_DEMO_SPECS: Final[tuple[_DemoSpec, ...]] = (
    _DemoSpec(4101, "eu-west build 1.4.2", 5, 180.0, files=120),
    _DemoSpec(
        4102,
        "us-east hotfix 1.4.1a",
        6,
        150.0,
        fail_with="Checksum mismatch on /game/bin/server.pak",
        retry_errors=("Checksum mismatch on /game/bin/server.pak",),
    ),
    _DemoSpec(4103, "ap-south map pack", 4, 480.0, progress=12, files=300),
    _DemoSpec(4104, "eu-central anticheat update", 4, 200.0, progress=55, files=8),
    _DemoSpec(4105, "us-west build 1.4.2", 3, 240.0),
    _DemoSpec(
        4106,
        "sa-east build 1.4.2",
        6,
        240.0,
        fail_with="Machine 7712 unreachable",
        retry_errors=("Machine 7712 unreachable",),
    ),
    _DemoSpec(4107, "eu-west config tweak", 2, 60.0, files=3),
    _DemoSpec(
        4108,
        "ap-northeast rollback 1.4.0",
        6,
        120.0,
        fail_with="Image locked by diffid 4107",
        retry_errors=("Image locked by diffid 4107",),
    ),
    _DemoSpec(4109, "us-east staging 1.5.0-rc1", 1, 300.0, files=200),
    _DemoSpec(
        4110,
        "oce build 1.4.2",
        6,
        180.0,
        fail_with="Write failed: [red]disk[/red] full \x1b[31m on /dev/sdb1",
    ),
    _DemoSpec(
        4111,
        "eu-west build 1.4.3-beta",
        4,
        360.0,
        progress=4,
        fail_with="Checksum mismatch on /game/maps/harbor.bsp",
    ),
    _DemoSpec(4112, "me-central build 1.4.2", 5, 240.0, files=260),
)

DEMO_DIFFS: Final[list[tuple[int, str]]] = [(spec.diffid, spec.label) for spec in _DEMO_SPECS]
"""The seeded demo set as (diffid, operator-like label), to seed the ``--demo`` watchlist."""


@dataclass(frozen=True)
class RequestRecord:
    """One request the simulator saw: clock time, endpoint, diff (if any) and HTTP status.

    ``status`` is 0 when the connection was dropped without an answer.
    """

    at: float
    endpoint: str
    diffid: int | None
    status: int


@dataclass
class _Fault:
    kind: str
    remaining: int
    endpoint: str | None
    diffid: int | None
    retry_after: float | None
    delay: float


@dataclass(frozen=True)
class _Run:
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
        fraction = _curve(self.knots, (at - self.running_at) / length)
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


def _curve(knots: Sequence[tuple[float, float]], t: float) -> float:
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


def _make_knots(rng: random.Random) -> list[tuple[float, float]]:
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


def _solve_fraction(knots: Sequence[tuple[float, float]], progress: float) -> float:
    """The time fraction at which the curve reaches ``progress`` (bisection: it is monotonic)."""
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if _curve(knots, mid) < progress:
            lo = mid
        else:
            hi = mid
    return hi


@dataclass
class _Diff:
    diffid: int
    duration: float
    eta_error: float | None
    """None: each run draws its own error within +-ETA_ERROR_LIMIT."""
    run: _Run
    runs: int = 1
    retry_errors: list[str] = field(default_factory=list)
    imageid: int = 0
    machineid: int = 0
    rejected: bool = False
    files: int | None = None
    info: dict[str, Any] | None = None


@dataclass
class Reply:
    """One answer of the simulator; ``drop``: the connection is closed without one."""

    status: int
    body: bytes
    content_type: str = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self.open_sockets: set[socket.socket] = set()
        self.resetting: set[socket.socket] = set()
        """Connections to close with a TCP reset instead of an answer."""
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
            resetting = request in self.resetting
            self.resetting.discard(request)
        if resetting:
            # No shutdown(): its FIN would make the reset a polite close.
            with contextlib.suppress(OSError):
                request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                request.close()
            return
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Never print a traceback: in ``--demo`` it would land on the TUI's screen."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return  # a client that went away: routine, not a simulator error
        self.simulator.errors.append(f"{type(exc).__name__}: {exc}")
        if self.simulator.verbose:
            print(f"simulator error: {type(exc).__name__}: {exc}", file=sys.stderr)

    def close_open_sockets(self) -> None:
        """Unblock keep-alive handler threads so stop() leaves nothing behind."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ClanforgeSimulator/1.0"
    # Headers and body go out in two writes; without this, Nagle plus delayed ACKs
    # would add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True
    # An idle keep-alive connection must not hold its thread forever.
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        self.server.simulator._serve(self, "GET")

    def do_POST(self) -> None:
        self.server.simulator._serve(self, "POST")

    def do_PUT(self) -> None:
        self.server.simulator._serve(self, "PUT")

    def do_DELETE(self) -> None:
        self.server.simulator._serve(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the simulator logs requests itself, and only in run_forever mode."""


def _json_body(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def _error(status: int, message: str) -> Reply:
    return Reply(status, _json_body({"error": message}))


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most events within any ``window`` seconds (a half-open sliding window).

    >>> max_in_window([0.0, 0.5, 0.99, 1.0, 1.5], 1.0)
    3
    """
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class Simulator:
    """The four image-diff endpoints of API.md, on a loopback HTTP server in a daemon thread.

    ``speed`` multiplies how fast jobs advance (speed=20: a 60 s job takes 3 s). ``clock``
    gives the time every job is computed from, so tests can fast-forward. With
    ``seed_demo`` the diffs of ``DEMO_DIFFS`` exist from the start, covering every state.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        access_key: str = "demo-access-key",
        secret_key: str = "demo-secret-key",  # noqa: S107 - the public demo key, not a secret
        asid: int = 1234,
        speed: float = 1.0,
        seed: int = 0,
        seed_demo: bool = True,
        clock: Callable[[], float] = time.time,
        allow_remote: bool = False,
        rate_limit: int | None = None,
    ) -> None:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(
                f"refusing to serve the simulator on {host!r}: it is not a loopback address "
                "(use 127.0.0.1, ::1 or localhost, or allow_remote=True to expose it)"
            )
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        self.host = host
        self.port = port
        self.access_key = access_key
        self.secret_key = secret_key
        self.asid = asid
        self.speed = speed
        self.seed = seed
        self.clock = clock
        self.allow_remote = allow_remote
        self.rate_limit = rate_limit
        """Server-wide requests per second (any endpoint); beyond it 429 + Retry-After."""
        self._answered_at: list[float] = []
        self.requests: list[RequestRecord] = []
        # Unexpected exceptions in request handlers (a simulator bug), for tests to check.
        self.errors: list[str] = []
        self.verbose = False
        self._expected_auth = "Basic " + base64.b64encode(
            f"{access_key}:{secret_key}".encode()
        ).decode("ascii")
        self._lock = threading.RLock()
        self._diffs: dict[int, _Diff] = {}
        self._faults: list[_Fault] = []
        self._lasting: dict[int, _Fault] = {}
        """Per-diff faults that answer every matching request until cleared."""
        self._outage: str | None = None
        self._bound_port: int | None = None
        self._rng = random.Random(f"simulator:{seed}")
        self._next_uninstall = 900_000
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if seed_demo:
            self._seed_demo()

    # --- lifecycle of the server -----------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a daemon thread; returns once the port is open."""
        if self._server is not None:
            return
        server_class = _Server6 if ":" in self.host else _Server
        self._server = server_class((self.host.strip("[]"), self.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="clanforge-simulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        server.shutdown()
        server.close_open_sockets()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL to give a client, e.g. ``http://127.0.0.1:41234``."""
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() first")
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port}"

    def run_forever(self) -> None:
        """Serve in the foreground, one log line per request, until KeyboardInterrupt."""
        self.verbose = True
        self.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    # --- setting up diffs ------------------------------------------------------------------

    def add_diff(
        self,
        diffid: int,
        *,
        state: int = 5,
        progress: int | None = None,
        duration: float = 60.0,
        fail_with: str | None = None,
        eta_error: float | None = None,
        started_ago: float = 0.0,
        retry_errors: Iterable[str] = (),
        files: int | None = None,
    ) -> None:
        """Add (or replace) a diff in ``state`` (1..6) as of now.

        Non-terminal diffs are in flight and advance with the clock. ``duration`` is the
        announced run time (simulated seconds, divided by speed); ``fail_with`` is the
        joberror the run ends with (then it ends Failed); ``eta_error`` is the fraction by
        which the real finish misses the announced ``jobeta`` (+0.2: 20% late, 0.0: exactly
        on time); None (the default) gives every run, retries included, its own seeded
        random error within +-``ETA_ERROR_LIMIT``, as real ETAs are.
        ``started_ago`` (clock seconds) moves the start of the current state into the past;
        for Running, ``progress`` instead places the job where the curve reaches it.
        ``retry_errors`` are the errors that the next retries end with, one per retry.
        ``files`` sets roughly how many files ``diff_info`` lists.
        """
        if state not in STATE_NAMES:
            raise ValueError(f"state must be 1..6, not {state!r}")
        if not duration > 0:
            raise ValueError(f"duration must be positive, not {duration!r}")
        if eta_error is not None and not eta_error > -1:
            raise ValueError(f"eta_error must be above -1, not {eta_error!r}")
        if state == 6 and fail_with is None:
            fail_with = self._run_rng(diffid, 0).choice(REALISTIC_ERRORS)
        if state == 5:
            fail_with = None
        with self._lock:
            now = self.clock()
            run = self._placed_run(
                diffid, 1, now, state, progress, duration, eta_error, fail_with, started_ago
            )
            self._diffs[diffid] = _Diff(
                diffid,
                duration,
                eta_error,
                run,
                retry_errors=list(retry_errors),
                imageid=50_000 + diffid % 10_000,
                machineid=7_000 + diffid % 1_000,
                files=files,
            )

    def add_many(
        self,
        count: int,
        *,
        first_id: int = 100000,
        running: int = 0,
        queued: int = 0,
        failed: int = 0,
        duration: float = 120.0,
    ) -> list[int]:
        """Add ``count`` diffs from ``first_id``: ``running`` Running (at random progress),
        then ``queued`` Queued, ``failed`` Failed, the rest Completed. Returns their IDs.

        Each gets a random ``eta_error`` within +-25% from the seeded RNG.
        """
        if running + queued + failed > count:
            raise ValueError("running + queued + failed is more than count")
        rng = random.Random(f"many:{self.seed}:{first_id}:{count}")
        ids = list(range(first_id, first_id + count))
        for index, diffid in enumerate(ids):
            eta_error = rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT)
            if index < running:
                self.add_diff(
                    diffid,
                    state=4,
                    progress=rng.randint(0, 95),
                    duration=duration,
                    eta_error=eta_error,
                )
            elif index < running + queued:
                self.add_diff(diffid, state=3, duration=duration, eta_error=eta_error)
            elif index < running + queued + failed:
                self.add_diff(
                    diffid,
                    state=6,
                    duration=duration,
                    eta_error=eta_error,
                    fail_with=rng.choice(REALISTIC_ERRORS),
                )
            else:
                self.add_diff(diffid, state=5, duration=duration, eta_error=eta_error)
        return ids

    def remove_diff(self, diffid: int) -> None:
        """Forget a diff (status then answers 404)."""
        with self._lock:
            self._diffs.pop(diffid, None)

    def diff_ids(self) -> list[int]:
        """Every known diff ID, sorted."""
        with self._lock:
            return sorted(self._diffs)

    def job(self, diffid: int, diff_info: bool = False) -> dict[str, Any]:
        """The job object status would answer now (no request is recorded)."""
        with self._lock:
            diff = self._diffs[diffid]
            return self._job(diff, self.clock(), diff_info)

    def finished_at(self, diffid: int) -> float | None:
        """Clock time the diff's current run reached Completed/Failed, or None if in flight."""
        with self._lock:
            diff = self._diffs.get(diffid)
            if diff is None or self.clock() < diff.run.end:
                return None
            return diff.run.end

    def _seed_demo(self) -> None:
        rng = random.Random(f"demo:{self.seed}")
        for spec in _DEMO_SPECS:
            self.add_diff(
                spec.diffid,
                state=spec.state,
                progress=spec.progress,
                duration=spec.duration,
                fail_with=spec.fail_with,
                eta_error=rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT),
                started_ago=rng.uniform(60, 7200) if spec.state in (5, 6) else 0.0,
                retry_errors=spec.retry_errors,
                files=spec.files,
            )

    # --- faults and counters ---------------------------------------------------------------

    def inject(
        self,
        kind: str,
        *,
        count: int = 1,
        endpoint: str | None = "status",
        diffid: int | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next ``count`` requests matching ``endpoint`` (None: any) and ``diffid``
        (None: any) fail as ``kind`` (see FAULT_KINDS). Faults are used in the order given."""
        self._check_fault(kind, endpoint)
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count!r}")
        with self._lock:
            self._faults.append(_Fault(kind, count, endpoint, diffid, retry_after, delay))

    @staticmethod
    def _check_fault(kind: str, endpoint: str | None) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {kind!r}; known: {', '.join(sorted(FAULT_KINDS))}"
            )
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise ValueError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")

    def break_diff(
        self,
        diffid: int,
        kind: str,
        *,
        endpoint: str | None = "status",
        retry_after: float | None = None,
    ) -> None:
        """Make every request for ``diffid`` (on ``endpoint``; None: any) fail as ``kind``
        until :meth:`mend_diff` or :meth:`clear_faults`: a diff that always answers 429
        with Retry-After, 503, 500, or has its connection dropped. One-shot faults from
        :meth:`inject` still come first."""
        self._check_fault(kind, endpoint)
        with self._lock:
            self._lasting[diffid] = _Fault(kind, 0, endpoint, diffid, retry_after, 0.0)

    def mend_diff(self, diffid: int) -> None:
        """Undo :meth:`break_diff` for ``diffid``."""
        with self._lock:
            self._lasting.pop(diffid, None)

    def clear_faults(self) -> None:
        """Forget every pending injected fault and every broken diff."""
        with self._lock:
            self._faults.clear()
            self._lasting.clear()

    def start_outage(self, mode: str = "refused") -> None:
        """Make the server unreachable until :meth:`end_outage`.

        ``"refused"``: nothing listens on the port (connections are refused);
        ``"reset"``: connections are accepted and reset before any answer. Connections
        already open are cut either way.
        """
        if mode not in ("refused", "reset"):
            raise ValueError(f"unknown outage mode {mode!r}; known: refused, reset")
        server = self._server
        if server is None:
            raise RuntimeError("the simulator is not running: call start() first")
        self._outage = mode
        if mode == "refused":
            self._bound_port = int(server.server_address[1])
            self.stop()
        else:
            server.close_open_sockets()

    def end_outage(self) -> None:
        """Serve again, on the same address, after :meth:`start_outage`."""
        mode, self._outage = self._outage, None
        if mode == "refused" and self._bound_port is not None:
            self.port = self._bound_port
            self.start()

    @property
    def in_outage(self) -> bool:
        """True between :meth:`start_outage` and :meth:`end_outage`."""
        return self._outage is not None

    def pending_faults(self) -> int:
        """How many injected fault uses are left."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    def count(self, endpoint: str, diffid: int | None = None) -> int:
        """How many requests hit ``endpoint`` (for ``diffid``, if given), whatever the answer."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if r.endpoint == endpoint and (diffid is None or r.diffid == diffid)
            )

    def max_requests_in_window(self, endpoint: str = "status", window: float = 1.0) -> int:
        """The most ``endpoint`` requests seen within any ``window`` seconds of clock time."""
        with self._lock:
            times = [r.at for r in self.requests if r.endpoint == endpoint]
        return max_in_window(times, window)

    def reset_counters(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.requests.clear()

    # --- runs and job objects --------------------------------------------------------------

    def _run_rng(self, diffid: int, run_index: int) -> random.Random:
        # Seeded per diff and run, so a job's curve does not depend on request order.
        return random.Random(f"run:{self.seed}:{diffid}:{run_index}")

    def _placed_run(
        self,
        diffid: int,
        run_index: int,
        now: float,
        state: int,
        progress: int | None,
        duration: float,
        eta_error: float | None,
        error: str | None,
        started_ago: float,
    ) -> _Run:
        """A run that is in ``state`` at ``now``, built backwards or forwards from it."""
        if eta_error is None:
            # Its own stream, so that the run's curve and waits do not depend on it.
            eta_rng = random.Random(f"eta:{self.seed}:{diffid}:{run_index}")
            eta_error = eta_rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT)
        rng = self._run_rng(diffid, run_index)
        waits = [duration * rng.uniform(0.02, 0.05) / self.speed for _ in range(3)]
        announced = duration / self.speed
        actual = announced * (1 + eta_error)
        knots = _make_knots(rng)
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
                fraction = _solve_fraction(knots, progress / 100) if progress is not None else 0.0
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
        return _Run(
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

    def _job(self, diff: _Diff, now: float, diff_info: bool = False) -> dict[str, Any]:
        run = diff.run
        state = run.state_at(now)
        job: dict[str, Any] = {
            "diffid": diff.diffid,
            "jobcreated": int(run.created),
            "jobfailed": 1 if state == 6 else 0,
            "jobprogress": run.progress_at(now),
            "jobstateid": state,
            "jobstatename": STATE_NAMES[state],
            "jobupdated": int(run.updated_at(now)),
        }
        if state == 6 and run.error is not None:
            job["joberror"] = run.error
        if state < 5:
            job["jobeta"] = round(run.announced_end)
        if state >= 4:
            job["jobstart"] = str(int(run.running_at))
        if diff_info:
            job.update(self._diff_info(diff, state))
        return job

    def _diff_info(self, diff: _Diff, state: int) -> dict[str, Any]:
        if diff.info is None:
            diff.info = _make_info(diff, random.Random(f"info:{self.seed}:{diff.diffid}"))
        info = diff.info
        if state != 5:
            # The differences are only known once the analysis has completed.
            return {**info, "added": {}, "modified": {}, "removed": {}}
        return dict(info)

    def _start_run(self, diff: _Diff, now: float) -> None:
        """Retry: a new run from Created, ending with the next scripted error, if any."""
        diff.runs += 1
        error = diff.retry_errors.pop(0) if diff.retry_errors else None
        diff.run = self._placed_run(
            diff.diffid, diff.runs, now, 1, None, diff.duration, diff.eta_error, error, 0.0
        )
        diff.rejected = False
        diff.info = None

    # --- HTTP ------------------------------------------------------------------------------

    def _serve(self, handler: _Handler, method: str) -> None:
        if self._outage == "reset":
            with handler.server.sockets_lock:
                handler.server.resetting.add(handler.connection)
            handler.close_connection = True
            return
        response = self.respond(method, handler.path, handler.headers.get("Authorization", ""))
        if self.verbose:
            shown = response.status if not response.drop else "dropped"
            path = urlsplit(handler.path).path
            print(
                f"{time.strftime('%H:%M:%S')} {method} {path} -> {shown}",
                file=sys.stderr,
                flush=True,
            )
        self._send(handler, response)

    def respond(self, method: str, target: str, authorization: str) -> Reply:
        """Answer one request (``target``: path and query) as the HTTP server would,
        faults included, and log it; a fault's delay is slept here.

        The HTTP server calls this for every request; a test on a fake clock can call it
        directly (e.g. behind an in-process HTTP transport) to skip the sockets.
        """
        now = self.clock()
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        endpoint, token = _route(parts.path)
        diffid = _int_or_none(token) if token is not None else _int_or_none(query.get("diffid"))
        with self._lock:
            limited = self._over_rate_limit(now)
            fault = self._take_fault(endpoint, diffid) if limited is None else None
        kind = fault.kind if fault is not None else None
        response = self._fault_response(fault, diffid) if fault is not None else limited
        if response is None:
            if method != "GET":
                response = _error(405, f"Method {method} not allowed: every call is a GET")
            else:
                with self._lock:
                    response, diffid = self._answer(authorization, endpoint, token, query, now)
                if kind in ("hostile", "wrong-type") and response.status == 200:
                    response = _tamper(response, kind)
            if kind == "drop-after":
                response.drop = True
        with self._lock:
            self.requests.append(
                RequestRecord(now, endpoint, diffid, DROPPED if response.drop else response.status)
            )
        if fault is not None and kind == "slow" and fault.delay > 0:
            # The action is already done; only the answer is late (an unknown outcome).
            time.sleep(fault.delay)
        return response

    @staticmethod
    def _send(handler: _Handler, response: Reply) -> None:
        if response.drop:
            handler.close_connection = True
            return
        try:
            handler.send_response(response.status)
            handler.send_header("Content-Type", response.content_type)
            handler.send_header("Content-Length", str(len(response.body)))
            handler.send_header("Cache-Control", "no-store")
            for name, value in response.headers:
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(response.body)
        except OSError:
            # The client gave up (e.g. a timeout on a slow answer): nothing to tell it.
            handler.close_connection = True

    def _over_rate_limit(self, now: float) -> Reply | None:
        """A 429 when ``rate_limit`` requests were let through in the second before
        ``now``; else None, and this request counts."""
        if self.rate_limit is None:
            return None
        self._answered_at = [at for at in self._answered_at if at > now - 1.0]
        if len(self._answered_at) < self.rate_limit:
            self._answered_at.append(now)
            return None
        wait = max(1, math.ceil(min(self._answered_at, default=now) + 1.0 - now))
        return Reply(
            429, _json_body({"error": "Too many requests"}), headers=[("Retry-After", str(wait))]
        )

    def _take_fault(self, endpoint: str, diffid: int | None) -> _Fault | None:
        for index, fault in enumerate(self._faults):
            if (fault.endpoint is None or fault.endpoint == endpoint) and (
                fault.diffid is None or fault.diffid == diffid
            ):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[index]
                return fault
        lasting = self._lasting.get(diffid) if diffid is not None else None
        if lasting is not None and (lasting.endpoint is None or lasting.endpoint == endpoint):
            return lasting
        return None

    def _fault_response(self, fault: _Fault, diffid: int | None) -> Reply | None:
        """The canned answer of a fault, or None for the faults that answer normally."""
        kind = fault.kind
        headers: list[tuple[str, str]] = []
        if fault.retry_after is not None:
            headers.append(("Retry-After", str(max(0, math.ceil(fault.retry_after)))))
        if kind == "429":
            return Reply(429, _json_body({"error": "Too many requests"}), headers=headers)
        if kind == "503":
            return Reply(
                503, _json_body({"error": "Service temporarily unavailable"}), headers=headers
            )
        if kind == "500":
            return _error(500, "Internal server error")
        if kind == "502":
            return _error(502, "Bad gateway: upstream did not answer")
        if kind == "400":
            return _error(400, f"Invalid request for diff {diffid}: parameters rejected")
        if kind == "drop":
            return Reply(DROPPED, b"", drop=True)
        if kind == "malformed":
            return Reply(200, b'{"diffid": ' + str(diffid).encode() + b', "jobstateid": 4,')
        if kind == "html":
            return Reply(502, _HTML_PAGE, content_type="text/html")
        if kind == "empty":
            return Reply(200, b"")
        if kind == "text":
            return Reply(200, b"OK - maintenance in progress\n", content_type="text/plain")
        if kind == "huge":
            head = _json_body({"diffid": diffid, "jobstateid": 5, "jobstatename": "Completed"})
            padding = b',"padding":"' + b"x" * _HUGE_SIZE + b'"}'
            return Reply(200, head[:-1] + padding)
        return None

    def _answer(
        self,
        authorization: str,
        endpoint: str,
        token: str | None,
        query: dict[str, str],
        now: float,
    ) -> tuple[Reply, int | None]:
        """Route, authenticate and perform one request (under the lock)."""
        diffid = _int_or_none(token) if token is not None else None
        if endpoint == "other":
            return _error(404, "Not found"), None
        if not hmac.compare_digest(authorization.encode(), self._expected_auth.encode()):
            return _error(401, "Invalid credentials"), diffid
        asid = _int_or_none(query.get("accountserviceid"))
        if asid is None:
            return _error(400, "accountserviceid is required and must be an integer"), diffid
        if asid != self.asid:
            return _error(403, f"Access denied to accountserviceid {asid}"), diffid
        if endpoint == "create":
            return self._create(query, now)
        if diffid is None:
            return _error(400, f"Invalid diffid {token!r}: must be an integer"), None
        diff = self._diffs.get(diffid)
        if diff is None:
            return _error(404, f"Diff {diffid} not found"), diffid
        if endpoint == "status":
            info = query.get("diff_info", "0") not in ("", "0")
            return Reply(200, _json_body(self._job(diff, now, info))), diffid
        if endpoint == "retry":
            return self._retry(diff, now), diffid
        return self._reject(diff, query, now), diffid

    def _retry(self, diff: _Diff, now: float) -> Reply:
        if diff.run.state_at(now) < 5:
            return _error(400, f"Diff {diff.diffid} is not in a completed or failed state")
        self._start_run(diff, now)
        return Reply(200, _json_body(self._job(diff, now)))

    def _create(self, query: dict[str, str], now: float) -> tuple[Reply, int | None]:
        imageid = _int_or_none(query.get("imageid"))
        machineid = _int_or_none(query.get("machineid"))
        if imageid is None or machineid is None:
            return _error(400, "imageid and machineid are required and must be integers"), None
        if "diffid" in query:
            diffid = _int_or_none(query["diffid"])
            if diffid is None:
                return _error(400, f"Invalid diffid {query['diffid']!r}: must be an integer"), None
            diff = self._diffs.get(diffid)
            if diff is None:
                return _error(404, f"Diff {diffid} not found"), diffid
            response = self._retry(diff, now)
        else:
            for other in self._diffs.values():
                if other.imageid == imageid and not other.rejected:
                    return _error(400, f"Image locked by diffid {other.diffid}"), None
            diffid = max(self._diffs, default=4100) + 1
            duration = self._rng.uniform(60, 240)
            eta_error = self._rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT)
            run = self._placed_run(diffid, 1, now, 1, None, duration, eta_error, None, 0.0)
            diff = _Diff(diffid, duration, eta_error, run, imageid=imageid, machineid=machineid)
            self._diffs[diffid] = diff
            response = Reply(200, _json_body(self._job(diff, now)))
        if response.status == 200:
            response.body = _json_body({**json.loads(response.body), "success": True})
        return response, diffid

    def _reject(self, diff: _Diff, query: dict[str, str], now: float) -> Reply:
        reinstall = query.get("reinstall", "0")
        if reinstall not in ("0", "1"):
            return _error(400, f"reinstall must be 0 or 1, not {reinstall!r}")
        if diff.run.state_at(now) < 5:
            return _error(400, f"Diff {diff.diffid} is not in a completed or failed state")
        if diff.rejected:
            return _error(400, f"Diff {diff.diffid} has already been rejected")
        diff.rejected = True
        if reinstall == "0":
            return Reply(200, _json_body({**self._job(diff, now), "success": True}))
        self._next_uninstall += 1
        return Reply(
            200,
            _json_body(
                {
                    "success": True,
                    "diffid": diff.diffid,
                    "uninstalljobid": self._next_uninstall,
                    "jobcreated": int(now),
                    "jobfailed": 0,
                    "jobprogress": 0,
                    "jobstateid": 1,
                    "jobstatename": STATE_NAMES[1],
                    "jobupdated": int(now),
                }
            ),
        )


def _route(path: str) -> tuple[str, str | None]:
    """(endpoint, diffid token) for a request path; ("other", None) if it is not an endpoint."""
    if not path.startswith(_PREFIX):
        return "other", None
    rest = path[len(_PREFIX) :].rstrip("/").split("/")
    if rest == ["create"]:
        return "create", None
    if len(rest) == 2 and rest[1] in ("status", "retry", "reject") and rest[0]:
        return rest[1], rest[0]
    return "other", None


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text or not text.lstrip("-").isdigit() or not text.isascii():
        return None
    return int(text)


def _tamper(response: Reply, kind: str) -> Reply:
    job = json.loads(response.body)
    if kind == "wrong-type":
        job["jobprogress"] = "lots"
        job["diffid"] = [1]
    else:
        job["jobstatename"] = f"{job.get('jobstatename', '')}{HOSTILE_TEXT}"
        job["joberror"] = f"[bold red]x[/] {HOSTILE_TEXT} \x1b]0;pwned\x07 disk on fire"
        for key in ("game", "machine", "image"):
            if isinstance(job.get(key), dict):
                job[key]["name"] = f"{job[key].get('name', '')}{HOSTILE_TEXT}"
    return Reply(response.status, _json_body(job), response.content_type, response.headers)


_GAMES: Final = ((1187, "Starfall Arena"), (2044, "Ironclad Tactics"), (3310, "Driftline"))
_DIRS: Final = (
    ("/game/bin", (".pak", ".so", ".dll")),
    ("/game/maps", (".bsp", ".nav")),
    ("/game/config", (".cfg", ".json")),
    ("/game/scripts/lua", (".lua",)),
    ("/game/data/audio", (".bank",)),
    ("/game/data/textures", (".dds",)),
)
_WORDS: Final = [
    "harbor",
    "dust",
    "core",
    "server",
    "lobby",
    "weapons",
    "vehicles",
    "ui",
    "anticheat",
    "matchmaking",
    "loot",
    "spawn",
    "arena",
    "night",
    "ambient",
]


def _make_info(diff: _Diff, rng: random.Random) -> dict[str, Any]:
    gameid, game_name = _GAMES[diff.diffid % len(_GAMES)]
    total = diff.files if diff.files is not None else rng.randint(3, 80)
    base_time = 1_760_000_000 + rng.randint(0, 5_000_000)
    maps: dict[str, dict[str, dict[str, Any]]] = {"added": {}, "modified": {}, "removed": {}}
    while sum(len(m) for m in maps.values()) < total:
        folder, extensions = rng.choice(_DIRS)
        name = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}{rng.randint(0, 99):02d}"
        path = f"{folder}/{name}{rng.choice(extensions)}"
        which = rng.choices(("added", "modified", "removed"), weights=(3, 6, 1))[0]
        if any(path in m for m in maps.values()):
            continue
        maps[which][path] = {
            "size": rng.randint(120, 400_000_000),
            "checksum": f"{rng.getrandbits(128):032x}",
            "modified": base_time + rng.randint(0, 86_400),
        }
    return {
        "game": {"gameid": gameid, "name": game_name},
        "machine": {
            "machineid": diff.machineid,
            "name": f"build-{rng.choice(('eu', 'us', 'ap'))}-{diff.machineid % 100:02d}",
        },
        "image": {
            "imageid": diff.imageid,
            "name": f"{game_name.lower().replace(' ', '-')}-live",
            "imageversionid": diff.imageid * 10 + rng.randint(1, 9),
        },
        **maps,
    }


def main_simulate(
    host: str = "127.0.0.1", port: int = 8642, speed: float = 1.0, allow_remote: bool = False
) -> int:
    """Run the demo simulator in the foreground, print how to point a client at it,
    and serve until Ctrl-C. Returns the exit status."""
    try:
        simulator = Simulator(host, port, speed=speed, allow_remote=allow_remote)
        simulator.start()
    except (ValueError, OSError) as exc:
        print(f"imagediff-tui: error: {exc}", file=sys.stderr)
        return 2
    # Ctrl-C may come at any moment after start, even while the banner prints.
    try:
        url = simulator.url
        print(f"Clanforge API simulator on {url} (speed x{speed:g}); Ctrl-C to stop.")
        print(f"  ASID:       {simulator.asid}")
        print(f"  access key: {simulator.access_key}")
        print(f"  secret key: {simulator.secret_key}  (a demo key, not a real secret)")
        print(f"  diffs:      {', '.join(str(d) for d, _ in DEMO_DIFFS)}")
        print()
        print(
            f"export CLANFORGE_API_URL={url} CLANFORGE_ASID={simulator.asid} "
            f"CLANFORGE_ACCESS_KEY={simulator.access_key} "
            f"CLANFORGE_SECRET_KEY={simulator.secret_key}",
            flush=True,
        )
        simulator.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0
