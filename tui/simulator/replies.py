"""What the simulator answers: a status, a body and headers, or a dropped connection."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Final

_JSON: Final = "application/json"
# A dropped connection has no HTTP status; the request log records it as 0.
DROPPED: Final = 0


@dataclass
class Reply:
    """One answer of the simulator; ``drop``: the connection is closed without one;
    ``delay``: seconds the answer is held back (the server has acted already)."""

    status: int
    body: bytes
    content_type: str = _JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False
    delay: float = 0.0


def json_body(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def error_reply(status: int, message: str) -> Reply:
    return Reply(status, json_body({"error": message}))
