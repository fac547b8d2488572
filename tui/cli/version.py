"""The ``version`` commands: the image version jobs that ``accept`` starts.

``version status VID...`` reads each once; ``version watch VID...`` polls them until each
has ended, as ``watch`` does diffs. With ``--json`` a read has the API's field names,
no ``success`` (the create call's, not a read's) and the diff it was made from, where
the answer or the watchlist (``accept`` linked them) says it::

    {"imageversionid": 700001, "diffid": 4113, "jobstateid": 4, ...}
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tui.api.client import ClanforgeClient
from tui.cli.common import (
    CliError,
    ExitCode,
    Subcommands,
    add_command,
    add_command_group,
    add_json_flag,
    connection_options,
    print_warning,
)
from tui.cli.output import JobOutput, any_job_line, emit_json, report_error
from tui.cli.pacing import add_timeout_option, each_once, make_pacer, report_unanswered
from tui.cli.targets import load_connection, parse_ids, watchlist_entries
from tui.cli.watch import RecordingClient, add_interval_option, watch_all
from tui.domain.jobs import DiffJob, Job, JobKind, VersionJob
from tui.store.atomic_file import LockTimeout
from tui.store.settings import Settings, make_client


def version_diffs(conn: Settings) -> dict[int, int]:
    """Each image version's diff, as ``accept`` linked them in the watchlist; none if it
    is unreadable (they only complete the JSON)."""
    try:
        entries = watchlist_entries(conn)
    except (CliError, LockTimeout) as exc:
        print_warning(f"the diffs of image versions not named: {exc}")
        return {}
    return {e.accepted.imageversionid: e.diffid for e in entries if e.accepted is not None}


def read_json(job: VersionJob, diffs: Mapping[int, int]) -> dict[str, Any]:
    """A version status read as ``--json`` prints it: no ``success`` (a read has none,
    whatever the server adds), and the diff where the answer or the watchlist says."""
    diffid = job.diffid if job.diffid is not None else diffs.get(job.imageversionid)
    return dataclasses.replace(job, success=None, diffid=diffid).to_json()


async def _version_statuses(args: argparse.Namespace, conn: Settings, ids: list[int]) -> int:
    out = sys.stdout
    pacer = make_pacer(conn)
    width = max(len(str(vid)) for vid in ids)
    diffs = version_diffs(conn) if args.json else {}

    def show(vid: int, job: VersionJob) -> None:
        if args.json:
            emit_json(read_json(job, diffs), out)
        else:
            print(any_job_line(vid, job, width, time.time()), file=out, flush=True)

    async with make_client(conn) as client:
        return await each_once(
            ids,
            lambda vid: pacer.send(functools.partial(client.version_status, vid), vid),
            show,
            lambda vid, error: report_error(vid, error, args.json, out, VERSIONS_KEY, VERSION_NOUN),
            lambda missing: report_unanswered(
                pacer, missing, args.timeout, args.json, out, VERSIONS
            ),
            args.timeout,
        )


VERSIONS_KEY: Final = "imageversionid"
VERSION_NOUN: Final = JobKind.VERSION.noun
VERSIONS: Final = JobOutput(VERSIONS_KEY, VERSION_NOUN, DiffJob.to_json)
"""How a timeout names image versions (their JSON is :func:`read_json`'s)."""


def as_tracked(job: VersionJob) -> DiffJob:
    """An image-version job in the shape the tracker follows, under the version's ID.

    The job fields are the same (API.md); the watch machinery then paces, backs off
    and ends on it as on a diff.
    """
    job_fields = {f.name: getattr(job, f.name) for f in dataclasses.fields(Job)}
    return DiffJob(diffid=job.imageversionid, **job_fields)


def follow_versions(
    api: ClanforgeClient, diffs: Mapping[int, int]
) -> tuple[RecordingClient, JobOutput]:
    """What ``version watch`` gives ``watch``: a client reading image versions, and
    their JSON as :func:`read_json` prints it."""
    last: dict[int, VersionJob] = {}

    async def read(vid: int) -> DiffJob:
        job = await api.version_status(vid)
        last[vid] = job
        return as_tracked(job)

    def to_json(tracked: DiffJob) -> dict[str, Any]:
        return read_json(last[tracked.diffid], diffs)

    return RecordingClient(api, read), JobOutput(VERSIONS_KEY, VERSION_NOUN, to_json)


def _version_ids(tokens: Sequence[str]) -> list[int]:
    ids = parse_ids(tokens)
    if not ids:
        raise CliError("name the image version IDs; nothing was sent", ExitCode.USAGE)
    return ids


def run_version_status(args: argparse.Namespace) -> int:
    """``version status VID... [--json]``."""
    ids = _version_ids(args.ids)
    conn = load_connection(args)
    return asyncio.run(_version_statuses(args, conn, ids))


def run_version_watch(args: argparse.Namespace) -> int:
    """``version watch VID... [--exit-status] [--json]``: poll until each has ended."""
    ids = _version_ids(args.ids)
    conn = load_connection(args)
    follow = functools.partial(follow_versions, diffs=version_diffs(conn) if args.json else {})
    return asyncio.run(watch_all(args, conn, ids, sys.stdout, follow))


def register(subparsers: Subcommands) -> None:
    """Add ``version status`` and ``version watch``; each sets ``handler``."""
    parent = connection_options()
    verbs = add_command_group(
        subparsers,
        "version",
        help="image version jobs (what accept starts): status, watch",
        metavar="VERB",
    )
    status = add_command(
        verbs, "status", run_version_status, parents=[parent], help="show image version jobs"
    )
    status.add_argument("ids", nargs="+", metavar="VID", help="image version IDs")
    add_json_flag(status)
    add_timeout_option(status, "for every status")
    watch = add_command(
        verbs,
        "watch",
        run_version_watch,
        parents=[parent],
        help="poll image version jobs until each has ended",
    )
    watch.add_argument("ids", nargs="+", metavar="VID", help="image version IDs")
    watch.add_argument(
        "--exit-status", action="store_true", help="exit 1 if a version ended Failed"
    )
    add_json_flag(watch, "JSON Lines output, one per change")
    add_interval_option(watch)
    add_timeout_option(watch, "for the whole watch: the versions to end")
