"""What a failed API call means: one exception class per kind of trouble, carrying
the facts callers act on (account-wide? permanent? retry after?).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

from tui.domain.actions import ActionOutcome

if TYPE_CHECKING:
    # Imported on the first request: the app's first paint does not wait for it.
    pass


MAX_MESSAGE_LENGTH: Final = 300
"""Server messages longer than this are cut: an error line is not a log file."""


class ApiError(Exception):
    """A failed API call. ``message`` is a human sentence with no secret in it.

    What a failure means is said by the class, as facts the callers act on (never by
    comparing ``kind``, which is only the name the CLI's ``--json`` output gives it):

    * ``account_wide``: no diff of this account can be read (the keys): everything waits.
    * ``stops_command``: no other request with these settings can succeed either; the
      command line stops at once with its configuration exit code.
    * ``permanent``: this diff's requests will not succeed soon; polling slows down.
    * ``no_answer``: no HTTP answer at all; the server, or the way to it, may be gone.
    * :attr:`asks_to_wait`: the server did nothing with the request and asked to wait.
    """

    kind: str = "error"
    account_wide: ClassVar[bool] = False
    stops_command: ClassVar[bool] = False
    permanent: ClassVar[bool] = False
    no_answer: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after
        """The server's wish to wait, in seconds (a Retry-After header), if it gave one."""

    @property
    def asks_to_wait(self) -> bool:
        """The server refused to act now and asked to wait: it did nothing with the
        request, and a slow-down answer may concern the whole account."""
        return self.retry_after is not None

    @property
    def may_have_acted(self) -> bool:
        """For a state-changing call: the server may have done it despite this error
        (no answer after sending, or a server fault once it had the request)."""
        return False

    @property
    def answered(self) -> bool:
        """The server sent an HTTP answer (any status): whatever it said, it is there."""
        return self.http_status is not None

    @property
    def action_outcome(self) -> ActionOutcome:
        """What became of a state-changing call that ended with this error."""
        return ActionOutcome.UNKNOWN if self.may_have_acted else ActionOutcome.NOT_DONE

    def to_json(self) -> dict[str, Any]:
        """The error as the CLI's ``--json`` output shows it."""
        return {"kind": self.kind, "http_status": self.http_status, "message": self.message}


class BadRequest(ApiError):
    """The server refused the request (400 and other 4xx, or ``success: false``)."""

    kind = "refused"
    permanent = True

    @property
    def action_outcome(self) -> ActionOutcome:
        """The server answered no: it did nothing, and said why."""
        return ActionOutcome.REFUSED


class AuthenticationError(ApiError):
    """401: the access/secret key pair was not accepted."""

    kind = "auth"
    account_wide = True
    stops_command = True


class Forbidden(ApiError):
    """403: the keys have no access to the account service ID."""

    kind = "forbidden"
    account_wide = True
    stops_command = True


class NotFound(ApiError):
    """404: no such diff (or not visible to this account)."""

    kind = "not-found"
    permanent = True


class RateLimited(ApiError):
    """429: slow down; ``retry_after`` is the server's wish in seconds, if it gave one."""

    kind = "rate-limited"

    def __init__(
        self, message: str, *, http_status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, http_status=http_status, retry_after=retry_after)

    @property
    def asks_to_wait(self) -> bool:
        """Always: a 429 is a request to slow down, with or without Retry-After."""
        return True


class ServerError(ApiError):
    """5xx. A 503 may carry ``retry_after``."""

    kind = "server"

    @property
    def asks_to_wait(self) -> bool:
        """A 503 (unavailable) or any 5xx with Retry-After; other 5xx may have acted."""
        return self.http_status == 503 or self.retry_after is not None

    @property
    def may_have_acted(self) -> bool:
        """A fault after the server took the request, unless it asked to wait."""
        return not self.asks_to_wait


class NetworkError(ApiError):
    """No usable answer: connection refused or reset, DNS failure, TLS failure."""

    kind = "network"
    no_answer = True


class ServerDisconnected(NetworkError):
    """The server took the request and closed the connection without answering.

    The server was reachable (unlike a refused connection): a crash, a restart or a
    proxy cutting the request short.
    """

    kind = "disconnected"


class ApiTimeout(NetworkError):
    """The connect or read timeout expired."""

    kind = "timeout"


class InvalidResponseError(ApiError):
    """An answer that is not a readable job object; ``field_name`` names the bad field."""

    kind = "invalid-response"

    @property
    def may_have_acted(self) -> bool:
        """An unreadable answer (not a redirect): the server had the request."""
        return self.http_status is None or self.http_status < 300 or self.http_status >= 400

    def __init__(
        self, message: str, *, http_status: int | None = None, field_name: str | None = None
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.field_name = field_name


class ActionOutcomeUnknown(ApiError):
    """A state-changing request (retry, create, accept, reject) may have reached the
    server, but no answer came back.

    It is never re-sent. A status read settles a retry; an accept or a reject it cannot
    (see :func:`tui.domain.actions.how_unknown_settles`).
    """

    kind = "outcome-unknown"

    @property
    def may_have_acted(self) -> bool:
        """Always: that is what an unknown outcome is."""
        return True


class InsecureURL(ApiError):
    """The API URL would send the keys in clear text (or is not a usable URL)."""

    kind = "config"
    stops_command = True
