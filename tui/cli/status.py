"""``status``: each diff's state, progress and ETA, read once, in the order asked."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncGenerator, Sequence
from typing import Final, TextIO

from tui.api.client import ClanforgeClient
from tui.api.errors import ApiError
from tui.cli.common import ExitCode
from tui.cli.joblines import JobColumns
from tui.cli.output import emit_json, info_lines, report_error
from tui.cli.pacing import Pacer, make_pacer
from tui.cli.targets import Targets, prepare
from tui.domain.jobs import DiffJob
from tui.store.settings import Settings, make_client

STATUS_CONCURRENCY: Final = 4


async def read_statuses(
    client: ClanforgeClient, pacer: Pacer, ids: Sequence[int], *, info: bool, in_flight: int
) -> AsyncGenerator[tuple[int, DiffJob | ApiError]]:
    """Each diff's status (or the error), in the order asked, up to ``in_flight`` at once."""
    gate = asyncio.Semaphore(in_flight)

    async def one(diffid: int) -> DiffJob | ApiError:
        async with gate:
            try:
                return await pacer.send(lambda: client.status(diffid, diff_info=info), diffid)
            except ApiError as exc:
                return exc

    tasks = [asyncio.create_task(one(diffid)) for diffid in ids]
    try:
        for diffid, task in zip(ids, tasks, strict=True):
            yield diffid, await task
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def status_concurrency(conn: Settings) -> int:
    return min(STATUS_CONCURRENCY, conn.poll.max_in_flight)


async def _status_all(args: argparse.Namespace, targets: Targets, out: TextIO) -> int:
    ids, conn = targets.ids, targets.conn
    result = ExitCode.OK
    # A header is for people: a script reading the lines gets none.
    header = not args.json and out.isatty()
    columns = JobColumns.of(ids, targets.labels, header=header)
    if header:
        print(columns.header(), file=out, flush=True)
    async with make_client(conn) as client:
        reads = read_statuses(
            client, make_pacer(conn), ids, info=args.info, in_flight=status_concurrency(conn)
        )
        async with contextlib.aclosing(reads):
            async for diffid, outcome in reads:
                if isinstance(outcome, ApiError):
                    report_error(diffid, outcome, args.json, out)
                    if outcome.stops_command:
                        return ExitCode.CONFIG
                    result = ExitCode.FAILED
                elif args.json:
                    emit_json(outcome.to_json(), out)
                else:
                    print(columns.line(diffid, outcome, time.time()), file=out, flush=True)
                    if args.info:
                        print("\n".join(info_lines(outcome)), file=out, flush=True)
    return result


def run_status(args: argparse.Namespace) -> int:
    """``status ID... [--info] [--json]``."""
    return asyncio.run(_status_all(args, prepare(args), sys.stdout))
