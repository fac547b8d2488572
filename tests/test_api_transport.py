"""Where the client sends the keys: never through a proxy in clear, never to a resolver's
idea of ``*.localhost``; and no HTTP machinery before the first request."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.test_cli_jobs import run_cli
from tui.api import client as api_module
from tui.api.client import ClanforgeClient
from tui.api.errors import ApiTimeout, InsecureURL, NotFound
from tui.api.urls import check_api_url

if TYPE_CHECKING:
    from tui.simulator import Simulator

DIFF = 4101
PROXY_VARIABLES = (
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "all_proxy",
)


class SilentProxy:
    """A loopback 'proxy' that never answers; it only notes that someone connected."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.setblocking(False)
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def was_used(self) -> bool:
        # The kernel completes a connection before accept(), so one made is waiting here.
        try:
            connection, _ = self.server.accept()
        except BlockingIOError:
            return False
        connection.close()
        return True


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentProxy]:
    silent = SilentProxy()
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, silent.url)
    with silent.server:
        yield silent


def make_client(url: str, simulator: Simulator, **kwargs: Any) -> ClanforgeClient:
    return ClanforgeClient(
        url, simulator.asid, simulator.access_key, simulator.secret_key, read_timeout=1.0, **kwargs
    )


async def test_plain_http_to_loopback_never_goes_through_a_proxy(
    simulator: Simulator, proxy: SilentProxy
) -> None:
    simulator.add_diff(DIFF, state=5)
    async with make_client(simulator.url, simulator) as client:
        assert (await client.status(DIFF)).diffid == DIFF
    assert not proxy.was_used()


async def test_https_still_goes_through_the_proxy_it_tunnels(proxy: SilentProxy) -> None:
    async with ClanforgeClient(
        "https://api.example.test", 1, "AK", "SK", connect_timeout=0.2, read_timeout=0.2
    ) as client:
        with pytest.raises(ApiTimeout):
            await client.status(DIFF)
    assert proxy.was_used()


def test_the_cli_keeps_plain_http_off_the_proxy(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(DIFF, state=5)
    silent = SilentProxy()
    env = {k: v for k, v in cli_env.items() if k.lower() != "no_proxy"}
    env.update(dict.fromkeys(PROXY_VARIABLES, silent.url))
    with silent.server:
        result = run_cli(env, "status", str(DIFF))
        assert result.returncode == 0, result.stderr
        assert not silent.was_used()
    assert simulator.count("status", DIFF) == 1


async def test_localhost_names_go_to_127_0_0_1_without_a_resolver(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []
    real_getaddrinfo = socket.getaddrinfo

    def recording_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    simulator.add_diff(DIFF, state=5)
    port = simulator.url.rsplit(":", 1)[1]
    for name in ("evil.localhost", "localhost"):
        async with make_client(f"http://{name}:{port}", simulator) as client:
            assert (await client.status(DIFF)).diffid == DIFF
    assert not [host for host in asked if "localhost" in str(host)]


async def test_a_pinned_name_is_still_the_host_header() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "no such diff"})

    transport = httpx.MockTransport(answer)
    async with ClanforgeClient(
        "http://api.localhost:8642", 1, "AK", "SK", transport=transport
    ) as c:
        with pytest.raises(NotFound):
            await c.status(DIFF)
    assert seen[0].url.host == "127.0.0.1" and seen[0].url.port == 8642
    assert seen[0].headers["host"] == "api.localhost:8642"


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example\\@127.0.0.1/",
        "http://evil.example\\.localhost/",
        "http://127.0.0.1 .evil.example/",
        "http://127.0.0.1\t/",
        "http://ëvil.localhost/",
        "http://127.0.0.1:99999/",
        "",
    ],
)
def test_urls_two_parsers_could_read_differently_are_refused(url: str) -> None:
    with pytest.raises(InsecureURL):
        check_api_url(url)


def test_https_and_ip_literals_are_not_pinned() -> None:
    assert not check_api_url("https://x.localhost").pinned
    assert not check_api_url("http://127.0.0.2:1").pinned
    assert not check_api_url("http://[::1]:1").pinned
    assert check_api_url("http://LocalHost:1").pinned


def test_no_http_machinery_before_the_first_request() -> None:
    code = (
        "import sys, tui.api.client\n"
        "c = tui.api.client.ClanforgeClient('https://api.example.test', 1, 'AK', 'SK')\n"
        "print('httpx' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.split() == ["False"]


async def test_a_closed_client_sends_nothing() -> None:
    client = ClanforgeClient("https://api.example.test", 1, "AK", "SK")
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await client.status(DIFF)


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[httpx.AsyncClient]:
    """Every httpx client the API clients build, in order (each off the event loop)."""
    clients: list[httpx.AsyncClient] = []
    real = api_module._http_client

    def recording(*args: Any) -> httpx.AsyncClient:
        assert threading.current_thread() is not threading.main_thread()
        clients.append(real(*args))
        return clients[-1]

    monkeypatch.setattr(api_module, "_http_client", recording)
    return clients


async def test_concurrent_first_requests_share_one_http_client(
    simulator: Simulator, built: list[httpx.AsyncClient]
) -> None:
    ids = range(DIFF, DIFF + 5)
    for diffid in ids:
        simulator.add_diff(diffid, state=5)
    client = make_client(simulator.url, simulator)
    jobs = await asyncio.gather(*(client.status(diffid) for diffid in ids))
    assert [job.diffid for job in jobs] == list(ids)
    assert len(built) == 1
    await client.aclose()
    assert built[0].is_closed
    with pytest.raises(RuntimeError, match="closed"):
        await client.status(DIFF)


async def test_closing_while_the_first_request_is_cancelled_closes_its_client(
    simulator: Simulator, built: list[httpx.AsyncClient]
) -> None:
    simulator.add_diff(DIFF, state=5)
    client = make_client(simulator.url, simulator)
    first = asyncio.ensure_future(client.status(DIFF))
    await asyncio.sleep(0)
    first.cancel()
    await client.aclose()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert len(built) == 1 and built[0].is_closed
