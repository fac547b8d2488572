"""What the job commands print: aligned lines for people, JSON Lines for scripts.

With ``--json`` every result is one JSON object on its own line, flushed at once::

    {"diffid": 4101, "jobstateid": 4, ...}                     # DiffJob.to_json()
    {"diffid": 4102, "error": {"kind": "not-found", "http_status": 404, "message": "..."}}
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any, Final, TextIO

from tui.api.errors import ApiError
from tui.cli.common import print_error
from tui.cli.joblines import JobColumns
from tui.domain.jobs import DiffJob, Job
from tui.domain.text import plain


@dataclasses.dataclass(frozen=True)
class JobOutput:
    """What a command reads and watches, and how it names and prints them: diffs, or
    image versions (the same job fields under another ID)."""

    key: str
    """The API's name of the job's ID: ``diffid``, ``imageversionid``."""
    noun: str
    """How a line names one: ``diff``, ``image version``."""
    to_json: Callable[[DiffJob], dict[str, Any]]
    """The ``--json`` object of a job as the tracker holds it."""


DIFFS: Final = JobOutput("diffid", "diff", DiffJob.to_json)


def job_line(job: DiffJob, id_width: int, now: float) -> str:
    """One aligned human line without a label: id, state, progress, ETA, error (made safe)."""
    return any_job_line(job.diffid, job, id_width, now)


def any_job_line(ident: int, job: Job, id_width: int, now: float) -> str:
    """:func:`job_line` for any job (a diff, an image version, an uninstall job)."""
    return JobColumns(id_width).line(ident, job, now)


def _describe(obj: Mapping[str, Any]) -> str:
    name = next((obj[k] for k in ("name", "title", "hostname") if obj.get(k)), None)
    ident = next((obj[k] for k in ("id", "gameid", "machineid", "imageid") if obj.get(k)), None)
    if name is not None and ident is not None:
        return plain(f"{name} ({ident})", limit=120)
    if name is not None or ident is not None:
        return plain(str(name if name is not None else ident), limit=120)
    return "-"


def info_lines(job: DiffJob) -> list[str]:
    """The ``--info`` extras: game, machine, image and file counts."""
    if job.info is None:
        return ["    (no diff info in the response)"]
    info = job.info
    return [
        f"    game: {_describe(info.game)}",
        f"    machine: {_describe(info.machine)}",
        f"    image: {_describe(info.image)}",
        f"    files: {len(info.added)} added, {len(info.modified)} modified, "
        f"{len(info.removed)} removed",
    ]


def error_json(diffid: int, error: ApiError, key: str = "diffid") -> dict[str, Any]:
    """The ``--json`` object for a failed call about ``key`` (an image version's, say)."""
    return {key: diffid, "error": error.to_json()}


def emit_json(obj: Mapping[str, Any], out: TextIO) -> None:
    """One JSON Lines record, flushed so a pipe sees it at once."""
    out.write(json.dumps(obj, ensure_ascii=True) + "\n")
    out.flush()


def report_error(
    jobid: int,
    error: ApiError,
    as_json: bool,
    out: TextIO,
    key: str = "diffid",
    noun: str = "diff",
) -> None:
    """A failed call about a job (a diff unless ``key`` and ``noun`` name another kind):
    a JSON object on ``out``, or one line on stderr."""
    if as_json:
        emit_json(error_json(jobid, error, key), out)
    else:
        print_error(f"{noun} {jobid}: {error.message}")
