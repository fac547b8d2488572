"""The HTTP face of the simulator: a threading server on loopback that hands each
request to :meth:`Simulator.respond` and can cut connections for outages."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from tui.simulator.replies import Reply


class Backend(Protocol):
    """What the server hands requests to: :class:`tui.simulator.core.Simulator`.

    A Protocol so that the server, which the simulator starts, need not import it.
    """

    errors: list[str]
    """Errors the server hit while handling a request (never printed as tracebacks)."""
    verbose: bool
    """Log each request on stderr (in the foreground)."""

    @property
    def outage_mode(self) -> str | None:
        """``"reset"`` while every connection is to be reset, else another mode or None."""
        ...

    def respond(self, method: str, target: str, authorization: str) -> Reply:
        """The reply to one request."""
        ...


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class SimulatorServer(ThreadingHTTPServer):
    """One thread per connection; knows its open sockets so an outage can cut them."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulator: Backend) -> None:
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


class SimulatorServer6(SimulatorServer):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ClanforgeSimulator/1.0"
    # Headers and body go out in two writes; without this, Nagle plus delayed ACKs
    # would hold every keep-alive request for a delayed-ACK timeout.
    disable_nagle_algorithm = True
    # An idle keep-alive connection must not hold its thread forever.
    timeout = 60
    server: SimulatorServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the simulator logs requests itself, and only when verbose (in the foreground)."""

    def _serve(self, method: str) -> None:
        simulator = self.server.simulator
        if simulator.outage_mode == "reset":
            with self.server.sockets_lock:
                self.server.resetting.add(self.connection)
            self.close_connection = True
            return
        response = simulator.respond(method, self.path, self.headers.get("Authorization", ""))
        if simulator.verbose:
            shown = response.status if not response.drop else "dropped"
            path = urlsplit(self.path).path
            print(
                f"{time.strftime('%H:%M:%S')} {method} {path} -> {shown}",
                file=sys.stderr,
                flush=True,
            )
        _send(self, response)


def make_server(host: str, port: int, simulator: Backend) -> SimulatorServer:
    """A server bound to ``host:port`` (IPv6 when the host is), not yet serving."""
    server_class = SimulatorServer6 if ":" in host else SimulatorServer
    return server_class((host.strip("[]"), port), simulator)


def _send(handler: _Handler, response: Reply) -> None:
    if response.delay > 0:
        time.sleep(response.delay)
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
