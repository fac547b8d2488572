"""The API client against the real simulator over loopback HTTP."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

import pytest

from tui.api.client import ClanforgeClient, parse_retry_after
from tui.api.errors import (
    ActionOutcomeUnknown,
    ApiError,
    ApiTimeout,
    AuthenticationError,
    BadRequest,
    Forbidden,
    InsecureURL,
    InvalidResponseError,
    NotFound,
    RateLimited,
    ServerDisconnected,
    ServerError,
)
from tui.api.urls import is_loopback
from tui.domain.jobs import JobState

if TYPE_CHECKING:
    from tui.simulator import Simulator

DIFF = 4101


@pytest.fixture
async def client(
    simulator: Simulator, connect: Callable[..., ClanforgeClient]
) -> AsyncIterator[ClanforgeClient]:
    simulator.add_diff(DIFF, state=5)
    async with connect(connect_timeout=2.0, read_timeout=0.5, max_body_bytes=256 * 1024) as api:
        yield api


async def test_status_reads_the_job_and_keeps_the_body(client: ClanforgeClient) -> None:
    job = await client.status(DIFF)
    assert job.diffid == DIFF
    assert job.state is JobState.COMPLETED
    assert str(DIFF) in job.raw_text
    assert job.info is None


async def test_status_with_diff_info(client: ClanforgeClient) -> None:
    job = await client.status(DIFF, diff_info=True)
    assert job.info is not None


async def test_every_call_sends_auth_asid_and_form_content_type(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    await client.status(DIFF)
    await client.retry(DIFF)
    assert simulator.count("status", DIFF) == 1
    assert simulator.count("retry", DIFF) == 1


async def test_unknown_diff_is_not_found(client: ClanforgeClient) -> None:
    with pytest.raises(NotFound) as caught:
        await client.status(999_999)
    assert caught.value.http_status == 404
    assert caught.value.kind == "not-found"


async def test_wrong_secret_is_an_auth_error(simulator: Simulator) -> None:
    async with ClanforgeClient(simulator.url, simulator.asid, simulator.access_key, "nope") as c:
        with pytest.raises(AuthenticationError) as caught:
            await c.status(DIFF)
    assert caught.value.http_status == 401
    assert caught.value.message == "401: check the profile's access and secret keys"


async def test_other_account_is_forbidden_and_names_the_asid(simulator: Simulator) -> None:
    simulator.add_diff(DIFF, state=5)
    other = simulator.asid + 1
    async with ClanforgeClient(
        simulator.url, other, simulator.access_key, simulator.secret_key
    ) as c:
        with pytest.raises(Forbidden) as caught:
            await c.status(DIFF)
    assert caught.value.http_status == 403
    assert str(other) in caught.value.message


@pytest.mark.parametrize(
    ("kind", "error_class", "http_status"),
    [
        ("400", BadRequest, 400),
        ("500", ServerError, 500),
        ("502", ServerError, 502),
        ("malformed", InvalidResponseError, None),
        ("empty", InvalidResponseError, None),
        ("text", InvalidResponseError, None),
        ("huge", InvalidResponseError, None),
        ("wrong-type", InvalidResponseError, None),
        ("drop", ServerDisconnected, None),
        ("drop-after", ServerDisconnected, None),
        ("slow", ApiTimeout, None),
    ],
)
async def test_injected_faults_become_typed_errors(
    client: ClanforgeClient,
    simulator: Simulator,
    kind: str,
    error_class: type[ApiError],
    http_status: int | None,
) -> None:
    simulator.inject(kind, endpoint="status", diffid=DIFF, delay=2.0 if kind == "slow" else 0.0)
    with pytest.raises(error_class) as caught:
        await client.status(DIFF)
    error = caught.value
    if http_status is not None:
        assert error.http_status == http_status
    assert error.message
    assert "<" not in error.message, "HTML is summarised, never dumped"
    assert "\x1b" not in error.message
    # The fault was one-shot: the next status call works.
    assert (await client.status(DIFF)).diffid == DIFF


async def test_server_message_is_shown_for_a_refused_request(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    simulator.inject("400", endpoint="status", diffid=DIFF)
    with pytest.raises(BadRequest) as caught:
        await client.status(DIFF)
    assert caught.value.kind == "refused"
    assert not caught.value.message.startswith("400 Bad Request"), "server's own message wanted"


async def test_wrong_type_names_the_field(client: ClanforgeClient, simulator: Simulator) -> None:
    simulator.inject("wrong-type", endpoint="status", diffid=DIFF)
    with pytest.raises(InvalidResponseError) as caught:
        await client.status(DIFF)
    assert caught.value.field_name
    assert caught.value.field_name in caught.value.message


async def test_html_error_page_is_summarised(client: ClanforgeClient, simulator: Simulator) -> None:
    simulator.inject("html", endpoint="status", diffid=DIFF)
    with pytest.raises((ServerError, InvalidResponseError)) as caught:
        await client.status(DIFF)
    assert "HTML" in caught.value.message
    assert "<" not in caught.value.message


async def test_429_carries_retry_after(client: ClanforgeClient, simulator: Simulator) -> None:
    simulator.inject("429", endpoint="status", diffid=DIFF, retry_after=7)
    with pytest.raises(RateLimited) as caught:
        await client.status(DIFF)
    assert caught.value.http_status == 429
    assert caught.value.retry_after == pytest.approx(7, abs=1)


async def test_503_carries_retry_after(client: ClanforgeClient, simulator: Simulator) -> None:
    simulator.inject("503", endpoint="status", diffid=DIFF, retry_after=3)
    with pytest.raises(ServerError) as caught:
        await client.status(DIFF)
    assert caught.value.http_status == 503
    assert caught.value.retry_after == pytest.approx(3, abs=1)


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0  # 2023-11-14 22:13:20 GMT
    assert parse_retry_after("12", now) == 12.0
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now) == pytest.approx(30.0)
    assert parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now) == 0.0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk, now) is None


# --- retry is never repeated ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "error_class"),
    [
        ("500", ServerError),
        ("503", ServerError),
        ("429", RateLimited),
        ("drop-after", ActionOutcomeUnknown),
        ("slow", ActionOutcomeUnknown),
    ],
)
async def test_retry_is_sent_exactly_once_whatever_happens(
    client: ClanforgeClient, simulator: Simulator, kind: str, error_class: type[ApiError]
) -> None:
    simulator.inject(kind, endpoint="retry", diffid=DIFF, delay=2.0 if kind == "slow" else 0.0)
    with pytest.raises(error_class) as caught:
        await client.retry(DIFF)
    assert simulator.count("retry", DIFF) == 1
    if isinstance(caught.value, ActionOutcomeUnknown):
        assert caught.value.kind == "outcome-unknown"
        assert "unknown" in caught.value.message
        assert "status" in caught.value.message


async def test_successful_retry_returns_the_job(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    job = await client.retry(DIFF)
    assert job.diffid == DIFF
    assert job.raw_text
    assert simulator.count("retry", DIFF) == 1


# --- transport security -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["http://example.com", "http://10.0.0.1:8642", "http://api.multiplay.co.uk/"]
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(InsecureURL) as caught:
        ClanforgeClient(url, 1, "ACCESS", "SECRET")
    assert caught.value.kind == "config"
    assert "https" in caught.value.message


@pytest.mark.parametrize("url", ["ftp://example.com", "not a url", "https://user:pw@example.com"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(InsecureURL):
        ClanforgeClient(url, 1, "ACCESS", "SECRET")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.3.4.5", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
        ("128.0.0.1", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


async def test_loopback_http_and_https_urls_are_accepted() -> None:
    for url in ("http://127.0.0.2:1", "http://[::1]:1", "http://localhost:1", "https://x.test"):
        await ClanforgeClient(url, 1, "ACCESS", "SECRET").aclose()


# --- secrets ------------------------------------------------------------------------------


async def test_no_secret_in_reprs_errors_or_logs(
    simulator: Simulator,
    connect: Callable[..., ClanforgeClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    simulator.add_diff(DIFF, state=5)
    secrets = [
        simulator.secret_key,
        simulator.access_key,
        base64.b64encode(f"{simulator.access_key}:{simulator.secret_key}".encode()).decode(),
    ]
    seen: list[str] = []
    async with connect(read_timeout=0.5) as api:
        seen += [repr(api), str(api), repr(vars(api))]
        for kind in ("500", "html", "drop", "malformed", "slow"):
            simulator.inject(
                kind, endpoint="status", diffid=DIFF, delay=2.0 if kind == "slow" else 0.0
            )
            with pytest.raises(ApiError) as caught:
                await api.status(DIFF)
            seen += [repr(caught.value), str(caught.value), caught.value.message]
        seen.append(repr(await api.status(DIFF)))
    async with ClanforgeClient(
        simulator.url, simulator.asid, simulator.access_key, simulator.secret_key + "x"
    ) as wrong:
        with pytest.raises(AuthenticationError) as caught_auth:
            await wrong.status(DIFF)
        seen += [repr(caught_auth.value), str(caught_auth.value), repr(wrong)]
    seen.append(caplog.text)
    assert any("status" in record.getMessage() for record in caplog.records)
    for text in seen:
        for secret in secrets:
            assert secret not in text
