"""The simulator: an account's diffs, injectable faults and a rate limit behind an HTTP server."""

from __future__ import annotations

import base64
import hmac
import math
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Unpack
from urllib.parse import parse_qs, urlsplit

from tui.simulator.account import Account, DiffOptions
from tui.simulator.demo import demo_diffs
from tui.simulator.faults import Fault, Faults, check_fault, fault_response, tamper
from tui.simulator.replies import DROPPED, Reply, error_reply
from tui.simulator.requests import RateLimit, RequestRecord, int_or_none, max_in_window, route
from tui.simulator.server import SimulatorServer, is_loopback, make_server


class Simulator:
    """The image-diff and image-version endpoints of API.md, on a loopback HTTP server in a
    daemon thread.

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
        if not allow_remote and not is_loopback(host):
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
        self._rate_window = RateLimit()
        self.requests: list[RequestRecord] = []
        # Unexpected exceptions in request handlers (a simulator bug), for tests to check.
        self.errors: list[str] = []
        self.verbose = False
        self._expected_auth = _basic_auth(access_key, secret_key)
        self._lock = threading.RLock()
        self._account = Account(seed=seed, speed=speed)
        self._faults = Faults()
        self._outage: str | None = None
        self._bound_port: int | None = None
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None
        if seed_demo:
            for diffid, options in demo_diffs(seed):
                self.add_diff(diffid, **options)

    # --- lifecycle of the server -----------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a daemon thread; returns once the port is open."""
        if self._server is not None:
            return
        self._server = make_server(self.host, self.port, self)
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

    # --- setting up diffs ------------------------------------------------------------------

    def add_diff(self, diffid: int, **options: Unpack[DiffOptions]) -> None:
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
        ``files`` sets roughly how many files ``diff_info`` lists (0: the diff found no
        changes, so an accept needs full=1). ``imageid`` and ``machineid`` default to
        numbers derived from the diff's ID (each diff its own image); diffs of one image
        lock each other (API.md, Locks). ``allocations``: servers of the image are
        allocated, so an accept is refused without force=1. ``version_error``: the image
        version created from this diff fails with it (None: it completes).
        """
        with self._lock:
            self._account.add(diffid, self.clock(), **options)

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
        with self._lock:
            return self._account.add_many(
                self.clock(),
                count,
                first_id=first_id,
                running=running,
                queued=queued,
                failed=failed,
                duration=duration,
            )

    def remove_diff(self, diffid: int) -> None:
        """Forget a diff (status then answers 404)."""
        with self._lock:
            self._account.diffs.pop(diffid, None)

    def diff_ids(self) -> list[int]:
        """Every known diff ID, sorted."""
        with self._lock:
            return sorted(self._account.diffs)

    def job(self, diffid: int, diff_info: bool = False) -> dict[str, Any]:
        """The job object status would answer now (no request is recorded)."""
        with self._lock:
            diff = self._account.diffs[diffid]
            return self._account.job(diff, self.clock(), diff_info)

    def version_job(self, imageversionid: int) -> dict[str, Any]:
        """The job object image version status would answer now (no request is recorded)."""
        with self._lock:
            version = self._account.versions[imageversionid]
            return self._account.version_job(version, self.clock())

    def decision(self, diffid: int) -> tuple[str, int | None] | None:
        """``("accepted", version ID)``, ``("rejected", None)`` or None (undecided)."""
        with self._lock:
            diff = self._account.diffs[diffid]
            if diff.accepted is not None:
                return "accepted", diff.accepted
            return ("rejected", None) if diff.rejected else None

    def finished_at(self, diffid: int) -> float | None:
        """Clock time the diff's current run reached Completed/Failed, or None if in flight."""
        with self._lock:
            diff = self._account.diffs.get(diffid)
            if diff is None or self.clock() < diff.run.end:
                return None
            return diff.run.end

    # --- faults and counters ---------------------------------------------------------------

    def set_keys(self, access_key: str, secret_key: str) -> None:
        """The account's keys are now these (rotated on the Auth Keys page): requests
        with the old ones get 401 from now on."""
        with self._lock:
            self._expected_auth = _basic_auth(access_key, secret_key)

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
        check_fault(kind, endpoint)
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count!r}")
        with self._lock:
            self._faults.queued.append(Fault(kind, count, endpoint, diffid, retry_after, delay))

    def break_diff(
        self,
        diffid: int,
        kind: str,
        *,
        endpoint: str | None = "status",
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make every request for ``diffid`` (on ``endpoint``; None: any) fail as ``kind``
        until :meth:`mend_diff` or :meth:`clear_faults`: a diff that always answers 429
        with Retry-After, 503, 500, has its connection dropped, or (``"slow"``) answers
        only after ``delay`` seconds. One-shot faults from :meth:`inject` still come
        first."""
        check_fault(kind, endpoint)
        with self._lock:
            self._faults.lasting[diffid] = Fault(kind, 0, endpoint, diffid, retry_after, delay)

    def mend_diff(self, diffid: int) -> None:
        """Undo :meth:`break_diff` for ``diffid``."""
        with self._lock:
            self._faults.lasting.pop(diffid, None)

    def clear_faults(self) -> None:
        """Forget every pending injected fault and every broken diff."""
        with self._lock:
            self._faults.queued.clear()
            self._faults.lasting.clear()

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

    @property
    def outage_mode(self) -> str | None:
        """``"refused"`` or ``"reset"`` during an outage, else None."""
        return self._outage

    def pending_faults(self) -> int:
        """How many injected fault uses are left."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults.queued)

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

    # --- answering -------------------------------------------------------------------------

    def respond(self, method: str, target: str, authorization: str) -> Reply:
        """Answer one request (``target``: path and query) as the HTTP server would,
        faults included, and log it; a slow fault's delay is the reply's ``delay``.

        The HTTP server calls this for every request; a test on a fake clock can call it
        directly (e.g. behind an in-process HTTP transport) to skip the sockets.
        """
        now = self.clock()
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        endpoint, token = route(parts.path)
        diffid = int_or_none(token) if token is not None else int_or_none(query.get("diffid"))
        with self._lock:
            limited = self._rate_window.refusal(now, per_second=self.rate_limit)
            fault = self._faults.take(endpoint, diffid) if limited is None else None
        kind = fault.kind if fault is not None else None
        response = fault_response(fault, diffid) if fault is not None else limited
        if response is None:
            if method != "GET":
                response = error_reply(405, f"Method {method} not allowed: every call is a GET")
            else:
                with self._lock:
                    response, diffid = self._answer(authorization, endpoint, token, query, now)
                if kind in ("hostile", "wrong-type", "live-shape") and response.status == 200:
                    response = tamper(response, kind)
            if kind == "drop-after":
                response.drop = True
        with self._lock:
            self.requests.append(
                RequestRecord(now, endpoint, diffid, DROPPED if response.drop else response.status)
            )
        if fault is not None and kind == "slow":
            # The action is already done; only the answer is late (an unknown outcome).
            # The HTTP server holds it back; an in-process caller decides what it means.
            response.delay = fault.delay
        return response

    def _answer(
        self,
        authorization: str,
        endpoint: str,
        token: str | None,
        query: dict[str, str],
        now: float,
    ) -> tuple[Reply, int | None]:
        """Route and authenticate one request, then let the account perform it (under the lock)."""
        diffid = int_or_none(token) if token is not None else None
        if endpoint == "other":
            return error_reply(404, "Not found"), None
        if not hmac.compare_digest(authorization.encode(), self._expected_auth.encode()):
            return error_reply(401, "Invalid credentials"), diffid
        asid = int_or_none(query.get("accountserviceid"))
        if asid is None:
            return error_reply(400, "accountserviceid is required and must be an integer"), diffid
        if asid != self.asid:
            return error_reply(403, f"Access denied to accountserviceid {asid}"), diffid
        return self._account.perform(endpoint, token, query, now)


def _basic_auth(access_key: str, secret_key: str) -> str:
    """The Authorization header that the keys make."""
    return "Basic " + base64.b64encode(f"{access_key}:{secret_key}".encode()).decode("ascii")
