"""API base URLs and their checks: keys never travel in clear text off this machine.

Example:
    >>> is_loopback("127.0.0.1"), is_loopback("[::1]"), is_loopback("example.com")
    (True, True, False)
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from tui.api.errors import InsecureURL
from tui.domain.text import plain

if TYPE_CHECKING:
    # Imported on the first request: the app's first paint does not wait for it.
    pass


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``*.localhost``, 127.0.0.0/8 and ::1 (brackets allowed).

    The names count only because the client never resolves them (see :class:`ApiUrl`).
    """
    name = host.strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


_URL_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]!$&'()*+,;=%")
"""What an API URL may contain: ASCII without spaces, backslashes or ``@``, so that the
parser here and httpx's cannot disagree about the host the keys are sent to."""

DEFAULT_PORTS: Final = {"http": 80, "https": 443}

PINNED_LOOPBACK: Final = "127.0.0.1"
"""Where plain http to ``localhost`` or ``*.localhost`` goes, without asking a resolver."""


@dataclass(frozen=True, slots=True)
class ApiUrl:
    """An API base URL that :func:`check_api_url` accepted."""

    text: str
    scheme: str
    host: str
    """Lower case; an IPv6 address without brackets."""
    port: int

    @property
    def pinned(self) -> bool:
        """True for plain http to a loopback name, which is sent to :data:`PINNED_LOOPBACK`.

        A resolver may send ``foo.localhost`` anywhere, and plain http is only allowed
        because it stays on this machine.
        """
        return self.scheme == "http" and not _is_ip_address(self.host)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def api_url_problem(api_url: str) -> str | None:
    """What is wrong with the form of ``api_url`` as an API base URL, in words (None:
    nothing): ``http://`` or ``https://`` in any case, and neither a query nor a
    fragment (the request paths are appended to it: with ``?x=1`` every diff would
    read "not found"). Who may be sent the keys is :func:`check_api_url`'s question."""
    text = api_url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in DEFAULT_PORTS:
        return "is not an http:// or https:// URL"
    if "?" in text or "#" in text:
        return "must not have a query (?...) or a fragment (#...)"
    return None


def normal_api_url(api_url: str) -> str:
    """``api_url`` as it is kept: trimmed, the scheme in lower case, no trailing ``/``
    (check :func:`api_url_problem` first)."""
    text = api_url.strip()
    scheme, sep, rest = text.partition("://")
    return (scheme.lower() + sep + rest).rstrip("/")


def check_api_url(api_url: str) -> ApiUrl:
    """The URL, or :class:`InsecureURL` when keys would travel in clear text (or the
    URL is not one: see :func:`api_url_problem`)."""
    text = api_url.strip()
    problem = api_url_problem(text)
    if problem is not None:
        raise InsecureURL(f"the API URL {plain(text)!r} {problem}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InsecureURL(f"the API URL {plain(api_url)!r} is not a valid URL") from None
    if "@" in parts.netloc:
        raise InsecureURL("the API URL must not contain credentials; use the profile's keys")
    if not text or not set(text) <= _URL_CHARACTERS or not parts.hostname:
        raise InsecureURL(f"the API URL {plain(api_url)!r} is not a valid URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise InsecureURL(
            f"refusing plain http:// to {plain(parts.hostname)}: the access keys would be sent "
            "unencrypted; use https:// (plain http is only allowed to localhost)"
        )
    return ApiUrl(
        text=text,
        scheme=parts.scheme,
        host=parts.hostname,
        port=port if port is not None else DEFAULT_PORTS[parts.scheme],
    )
