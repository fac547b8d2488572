"""Faults a test injects: which requests they hit and the answer each kind gives."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Final

from tui.simulator.replies import DROPPED, Reply, error_reply, json_body
from tui.simulator.requests import ENDPOINTS

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
        "live-shape",
    ]
)
"""What ``Simulator.inject`` accepts."""

HOSTILE_TEXT: Final = "\x1b[2J\x1b[31m[bold red]x[/] [link=https://evil.example]click[/link]\x1b[0m"

_HTML_PAGE: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_HUGE_SIZE: Final = 12 * 1024 * 1024


@dataclass
class Fault:
    kind: str
    remaining: int
    endpoint: str | None
    diffid: int | None
    retry_after: float | None
    delay: float


def check_fault(kind: str, endpoint: str | None) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(FAULT_KINDS))}")
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; known: {', '.join(ENDPOINTS)}")


class Faults:
    """One-shot faults, used in the order given, and lasting per-diff faults (under the
    simulator's lock)."""

    def __init__(self) -> None:
        self.queued: list[Fault] = []
        self.lasting: dict[int, Fault] = {}
        """Per-diff faults that answer every matching request until cleared."""

    def take(self, endpoint: str, diffid: int | None) -> Fault | None:
        for index, fault in enumerate(self.queued):
            if (fault.endpoint is None or fault.endpoint == endpoint) and (
                fault.diffid is None or fault.diffid == diffid
            ):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self.queued[index]
                return fault
        lasting = self.lasting.get(diffid) if diffid is not None else None
        if lasting is not None and (lasting.endpoint is None or lasting.endpoint == endpoint):
            return lasting
        return None


def fault_response(fault: Fault, diffid: int | None) -> Reply | None:
    """The canned answer of a fault, or None for the faults that answer normally."""
    kind = fault.kind
    headers: list[tuple[str, str]] = []
    if fault.retry_after is not None:
        headers.append(("Retry-After", str(max(0, math.ceil(fault.retry_after)))))
    if kind == "429":
        return Reply(429, json_body({"error": "Too many requests"}), headers=headers)
    if kind == "503":
        return Reply(503, json_body({"error": "Service temporarily unavailable"}), headers=headers)
    if kind == "500":
        return error_reply(500, "Internal server error")
    if kind == "502":
        return error_reply(502, "Bad gateway: upstream did not answer")
    if kind == "400":
        return error_reply(400, f"Invalid request for diff {diffid}: parameters rejected")
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
        head = json_body({"diffid": diffid, "jobstateid": 5, "jobstatename": "Completed"})
        padding = b',"padding":"' + b"x" * _HUGE_SIZE + b'"}'
        return Reply(200, head[:-1] + padding)
    return None


def tamper(response: Reply, kind: str) -> Reply:
    job = json.loads(response.body)
    if kind == "live-shape":
        # As the live API was seen to answer: a started job (image version, uninstall)
        # without the diff it came from, and a status read with the create's ``success``.
        if "imageversionid" in job or "uninstalljobid" in job:
            job.pop("diffid", None)
        job["success"] = True
    elif kind == "wrong-type":
        job["jobprogress"] = "lots"
        job["diffid"] = [1]
    else:
        job["jobstatename"] = f"{job.get('jobstatename', '')}{HOSTILE_TEXT}"
        job["joberror"] = f"[bold red]x[/] {HOSTILE_TEXT} \x1b]0;pwned\x07 disk on fire"
        for key in ("game", "machine", "image"):
            if isinstance(job.get(key), dict):
                job[key]["name"] = f"{job[key].get('name', '')}{HOSTILE_TEXT}"
    return Reply(response.status, json_body(job), response.content_type, response.headers)
