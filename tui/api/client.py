"""An asyncio client for the Clanforge image-diff endpoints, with typed errors.

Every call is a GET with Basic auth and ``accountserviceid``. Responses are read as
a stream and abandoned past a size cap; every failure becomes one :class:`ApiError`
subclass whose ``message`` is a sentence safe to show (no secret, no raw escapes).

Retry, create, accept (image version create) and reject change state on the server:
they are sent once and never repeated here. When such a request may have reached the
server but no answer came back, :class:`ActionOutcomeUnknown` says so, and how it
settles (a status call for a retry; not for an accept or reject: see
:func:`tui.domain.actions.how_unknown_settles`).

Plain http is allowed only because it stays on this machine (an SSH tunnel): only
to a loopback address, with ``localhost`` names sent to 127.0.0.1 rather than
resolved, and never through a proxy from the environment (https keeps them).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

from tui.api.errors import (
    MAX_MESSAGE_LENGTH,
    ActionOutcomeUnknown,
    ApiError,
    ApiTimeout,
    AuthenticationError,
    BadRequest,
    Forbidden,
    InsecureURL,
    InvalidResponseError,
    NetworkError,
    NotFound,
    RateLimited,
    ServerDisconnected,
    ServerError,
)
from tui.api.urls import DEFAULT_PORTS, PINNED_LOOPBACK, ApiUrl, check_api_url
from tui.domain.actions import how_unknown_settles
from tui.domain.ids import MAX_DIFF_ID
from tui.domain.jobs import (
    DiffJob,
    InvalidResponse,
    UninstallJob,
    VersionJob,
    parse_job,
    parse_uninstall_job,
    parse_version_job,
)
from tui.domain.text import plain

logger = logging.getLogger("tui.api")

if TYPE_CHECKING:
    # Imported on the first request: the app's first paint does not wait for it.
    import httpx


def _http_client(
    target: ApiUrl,
    access_key: str,
    secret_key: str,
    connect_timeout: float,
    read_timeout: float,
    transport: httpx.AsyncBaseTransport | None,
) -> httpx.AsyncClient:
    import httpx

    url = httpx.URL(target.text)
    if (url.scheme, url.host, url.port or DEFAULT_PORTS[url.scheme]) != (
        target.scheme,
        target.host,
        target.port,
    ):
        raise InsecureURL(f"the API URL {plain(target.text)!r} is ambiguous; write it plainly")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "User-Agent": "imagediff-tui",
    }
    if target.pinned:
        headers["Host"] = url.netloc.decode("ascii")
        url = url.copy_with(host=PINNED_LOOPBACK)
    return httpx.AsyncClient(
        base_url=url,
        auth=httpx.BasicAuth(access_key, secret_key),
        timeout=httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=read_timeout
        ),
        headers=headers,
        # A redirect is reported, not followed: it may lead off to plain http.
        follow_redirects=False,
        # Proxy variables would send plain http, keys included, off this machine;
        # https through a proxy is a tunnel, so it keeps them (and SSL_CERT_FILE).
        trust_env=target.scheme == "https",
        transport=transport,
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP-date).

    >>> parse_retry_after("7", 0.0), parse_retry_after("soon", 0.0)
    (7.0, None)
    """
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        # NaN and infinities are not a wait anyone can honour.
        return max(0.0, seconds) if seconds == seconds and seconds < 1e9 else None
    import email.utils  # slow to import at start-up; only an HTTP-date needs it

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


def _server_message(data: object) -> str | None:
    """The ``error`` / ``message`` text of a JSON body, made safe and short."""
    if not isinstance(data, dict):
        return None
    for key in ("error", "message", "errors"):
        value = data.get(key)
        if isinstance(value, dict):
            value = value.get("message")
        if isinstance(value, list) and value and isinstance(value[0], str):
            value = value[0]
        if isinstance(value, str) and value.strip():
            return plain(value.strip(), limit=MAX_MESSAGE_LENGTH)
    return None


def _is_html(content_type: str, body: bytes) -> bool:
    return "html" in content_type or body.lstrip()[:1] == b"<"


class ClanforgeClient:
    """One account's view of the image-diff API.

    ``transport`` lets tests swap the network out. The keys are kept only inside
    the auth header; no repr, error or log line shows them.
    """

    def __init__(
        self,
        api_url: str,
        asid: int,
        access_key: str,
        secret_key: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        max_body_bytes: int = 4 * 1024 * 1024,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        target = check_api_url(api_url)
        if isinstance(asid, bool) or not isinstance(asid, int) or asid <= 0:
            raise InsecureURL("the account service ID must be a positive integer")
        self.api_url = target.text
        self.asid = asid
        self.max_body_bytes = max_body_bytes

        def new_http_client() -> httpx.AsyncClient:
            return _http_client(
                target, access_key, secret_key, connect_timeout, read_timeout, transport
            )

        # Built on the first request (TLS context and all), not before the first paint.
        self._new_http_client: Callable[[], httpx.AsyncClient] | None = new_http_client
        self._creating: asyncio.Future[httpx.AsyncClient] | None = None

    def __repr__(self) -> str:
        return f"ClanforgeClient(api_url={self.api_url!r}, asid={self.asid})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; no request can be sent after this."""
        self._new_http_client = None
        creating, self._creating = self._creating, None
        if creating is not None:
            try:
                client = await creating
            except Exception:  # its requests have reported it already
                return
            await client.aclose()

    async def _http(self) -> httpx.AsyncClient:
        if self._creating is None:
            if self._new_http_client is None:
                raise RuntimeError("the API client is closed")
            # In a thread: importing httpx and a TLS context take tens of milliseconds,
            # and the first request comes while the app paints its first screen.
            self._creating = asyncio.ensure_future(asyncio.to_thread(self._new_http_client))
        # Shielded: a cancelled first request must not cancel the others' client.
        return await asyncio.shield(self._creating)

    async def status(self, diffid: int, diff_info: bool = False) -> DiffJob:
        """The diff's current state; with ``diff_info`` also game, machine, image and files."""
        params: dict[str, str | int] = {"diff_info": 1} if diff_info else {}
        job = await self._call(f"/cfp/v1/imagediff/{_check_id(diffid)}/status", params)
        if job.diffid != diffid:
            raise InvalidResponseError(
                f"asked for diff {diffid} but the server answered about diff {job.diffid}",
                field_name="diffid",
            )
        return job

    async def retry(self, diffid: int) -> DiffJob:
        """Recalculate a Completed or Failed diff. Sent once; never repeated here."""
        return await self._call(f"/cfp/v1/imagediff/{_check_id(diffid)}/retry", {})

    async def create(self, imageid: int, machineid: int, diffid: int | None = None) -> DiffJob:
        """Start a diff of ``machineid`` against ``imageid`` (or retry ``diffid``). Sent once."""
        params: dict[str, str | int] = {
            "imageid": _check_id(imageid, "image ID"),
            "machineid": _check_id(machineid, "machine ID"),
        }
        if diffid is not None:
            params["diffid"] = _check_id(diffid)
        return await self._call("/cfp/v1/imagediff/create", params)

    async def accept(
        self,
        diffid: int,
        restart: bool,
        full: bool = False,
        game_build: str | None = None,
        force: bool = False,
    ) -> VersionJob:
        """Create an image version from a Completed diff: the version job. Sent once.

        ``restart`` has no default: restarting every server of the image, or not, is
        the operator's choice (API.md).
        """
        if not isinstance(restart, bool):
            raise ValueError(f"restart must be True or False, got {restart!r}")
        params: dict[str, str | int] = {"diffid": _check_id(diffid), "restart": int(restart)}
        if full:
            params["full"] = 1
        if game_build is not None:
            params["game_build"] = check_game_build(game_build)
        if force:
            params["force"] = 1
        status, data, _ = await self._get_json(
            "/cfp/v1/imageversion/create", params, key="imageversionid"
        )
        return _parsed(status, data, parse_version_job)

    async def version_status(self, imageversionid: int) -> VersionJob:
        """An image-version job's current state (read-only, safe to repeat)."""
        vid = _check_id(imageversionid, "image version ID")
        status, data, _ = await self._get_json(
            f"/cfp/v1/imageversion/{vid}/status", {}, key="imageversionid"
        )
        job = _parsed(status, data, parse_version_job)
        if job.imageversionid != vid:
            raise InvalidResponseError(
                f"asked for image version {vid} but the server answered about "
                f"image version {job.imageversionid}",
                field_name="imageversionid",
            )
        return job

    async def reject(self, diffid: int, reinstall: bool) -> UninstallJob | None:
        """Reject a Completed or Failed diff. Sent once; never repeated here.

        With ``reinstall`` the machine is put back to the last good image: the answer
        is that uninstall job. Without, the server answers only ``success`` (None here).
        """
        if not isinstance(reinstall, bool):
            raise ValueError(f"reinstall must be True or False, got {reinstall!r}")
        status, data, _ = await self._get_json(
            f"/cfp/v1/imagediff/{_check_id(diffid)}/reject",
            {"reinstall": int(reinstall)},
            key="uninstalljobid",
        )
        if not reinstall and not (isinstance(data, dict) and "uninstalljobid" in data):
            return None
        job = _parsed(status, data, parse_uninstall_job)
        return job if job.diffid is not None else replace(job, diffid=diffid)

    async def _call(self, path: str, params: dict[str, str | int]) -> DiffJob:
        """A diff job from ``path`` (whether it changes state is said by the path: _fetch)."""
        status, data, body = await self._get_json(path, params, key="diffid")
        job = _parsed(status, data, parse_job)
        return replace(job, raw_text=body.decode("utf-8", errors="replace"))

    async def _get_json(
        self, path: str, params: dict[str, str | int], *, key: str
    ) -> tuple[int, object, bytes]:
        """One GET: the HTTP status, the JSON answer and its body; every failure an ApiError.

        An answer that says it failed (``success: false``, or an error message without
        the ``key`` a job answer has) is the server refusing: :class:`BadRequest`.
        """
        query: dict[str, str | int] = {"accountserviceid": self.asid, **params}
        started = time.monotonic()
        try:
            status, reason, content_type, headers, body = await self._fetch(path, query)
        except ApiError as exc:
            logger.info(
                "GET %s failed after %.0f ms: %s",
                path,
                (time.monotonic() - started) * 1000,
                exc.kind,
            )
            raise
        elapsed_ms = (time.monotonic() - started) * 1000
        level = logging.DEBUG if 200 <= status < 300 else logging.INFO
        logger.log(level, "GET %s -> %d in %.0f ms", path, status, elapsed_ms)
        if not 200 <= status < 300:
            raise self._http_error(status, reason, content_type, headers, body)
        return status, self._read_json(status, content_type, body, key), body

    async def _fetch(
        self, path: str, query: dict[str, str | int]
    ) -> tuple[int, str, str, httpx.Headers, bytes]:
        """Send one GET and read the body up to the cap; network failures become ApiErrors."""
        client = await self._http()
        import httpx  # imported by now, in the thread that built the client

        sent = False
        try:
            async with client.stream("GET", path, params=query) as response:
                sent = True
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_body_bytes:
                    raise self._too_big(response.status_code)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise self._too_big(response.status_code)
                    chunks.append(chunk)
                return (
                    response.status_code,
                    response.reason_phrase,
                    response.headers.get("content-type", "").lower(),
                    response.headers,
                    b"".join(chunks),
                )
        except ApiError:
            raise
        except (httpx.ConnectTimeout, httpx.PoolTimeout):
            raise ApiTimeout("timed out connecting to the API server") from None
        except httpx.ConnectError as exc:
            raise NetworkError(f"cannot connect to the API server ({_reason(exc)})") from None
        except httpx.TimeoutException:
            if self._may_have_changed_state(path):
                raise self._unknown("timed out waiting for the answer", path) from None
            raise ApiTimeout(
                "the API server did not answer in time"
                + (" (the answer stopped half-way)" if sent else "")
            ) from None
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if self._may_have_changed_state(path):
                raise self._unknown("the connection dropped before the answer", path) from None
            if isinstance(exc, httpx.RemoteProtocolError) and not sent:
                raise ServerDisconnected(
                    "the server disconnected without sending a response"
                ) from None
            raise NetworkError(f"the connection failed ({_reason(exc)})") from None

    @staticmethod
    def _may_have_changed_state(path: str) -> bool:
        return not path.endswith("/status")

    @staticmethod
    def _unknown(what: str, path: str) -> ActionOutcomeUnknown:
        return ActionOutcomeUnknown(
            f"{what}; the request may have reached the server, so its outcome is unknown "
            f"(it was not repeated; {how_unknown_settles(_action_of(path))})"
        )

    def _too_big(self, status: int) -> InvalidResponseError:
        return InvalidResponseError(
            f"the response is larger than {self.max_body_bytes} bytes; not read",
            http_status=status,
        )

    def _http_error(
        self, status: int, reason: str, content_type: str, headers: httpx.Headers, body: bytes
    ) -> ApiError:
        server_text: str | None = None
        if body and not _is_html(content_type, body):
            try:
                server_text = _server_message(json.loads(body))
            except (ValueError, RecursionError):
                server_text = None
        status_text = f"{status} {plain(reason, limit=60)}".strip()
        if _is_html(content_type, body) and body:
            summary = f"{status_text} (HTML error page from a proxy)"
        else:
            summary = status_text
        retry_after = parse_retry_after(headers.get("retry-after"), time.time())
        if status == 400:
            return BadRequest(server_text or summary, http_status=status)
        if status == 401:
            return AuthenticationError(
                "401: check the profile's access and secret keys", http_status=status
            )
        if status == 403:
            return Forbidden(
                f"403: these keys have no access to account service ID {self.asid} (ASID)"
                + (f": {server_text}" if server_text else ""),
                http_status=status,
            )
        if status == 404:
            return NotFound(server_text or f"{status_text}: no such diff", http_status=status)
        if status == 429:
            wait = f"; retry after {retry_after:.0f}s" if retry_after is not None else ""
            return RateLimited(
                f"429: the server asks to slow down{wait}",
                http_status=status,
                retry_after=retry_after,
            )
        if status >= 500:
            return ServerError(
                f"{summary}: {server_text}" if server_text else summary,
                http_status=status,
                retry_after=retry_after if status == 503 else None,
            )
        if 300 <= status < 400:
            return InvalidResponseError(
                f"{status_text}: the server redirected; check the API URL", http_status=status
            )
        return BadRequest(server_text or summary, http_status=status)

    def _read_json(self, status: int, content_type: str, body: bytes, key: str) -> object:
        if not body.strip():
            raise InvalidResponseError("the server sent an empty response", http_status=status)
        if _is_html(content_type, body):
            raise InvalidResponseError(
                f"{status}: expected JSON, got an HTML page (a proxy or login page?)",
                http_status=status,
            )
        if content_type and "json" not in content_type:
            kind = plain(content_type.split(";", 1)[0].strip(), limit=60)
            raise InvalidResponseError(f"expected JSON, got {kind}", http_status=status)
        try:
            data: object = json.loads(body)
        except (ValueError, RecursionError):
            raise InvalidResponseError(
                "the response is not valid JSON", http_status=status
            ) from None
        if isinstance(data, dict):
            message = _server_message(data)
            if data.get("success") is False or (message is not None and key not in data):
                raise BadRequest(message or "the server reported failure", http_status=status)
        return data


_Job = TypeVar("_Job")


def _parsed(status: int, data: object, parse: Callable[[object], _Job]) -> _Job:
    """``parse(data)``, its complaint made an :class:`InvalidResponseError`."""
    try:
        return parse(data)
    except InvalidResponse as exc:
        raise InvalidResponseError(
            f"unreadable job in the response: {plain(str(exc), limit=MAX_MESSAGE_LENGTH)}",
            http_status=status,
            field_name=exc.field_name,
        ) from None


def check_game_build(text: str) -> str:
    """A game build string as sent: one non-empty line of printable text.

    >>> check_game_build(" 1.4.2 ")
    '1.4.2'
    """
    value = text.strip()
    if not value or not value.isprintable() or len(value) > 200:
        raise ValueError("the game build must be one line of printable text, at most 200 long")
    return value


def _action_of(path: str) -> str:
    """The action a state-changing request's path sends."""
    if path.endswith("/imageversion/create"):
        return "accept"
    return path.rsplit("/", 1)[-1]


def _check_id(value: int, what: str = "diff ID") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIFF_ID:
        raise ValueError(f"{what} must be a positive integer below 2**63, got {value!r}")
    return value


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    # Low-level messages can be long and repeat the URL; the first clause is enough.
    return plain(text.split("\n", 1)[0], limit=120) if text else type(exc).__name__
