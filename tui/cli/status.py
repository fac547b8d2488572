"""``status``: each diff's state, progress and ETA, read once, in the order asked."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sys
import time
from collections.abc import AsyncGenerator, Mapping, Sequence, Set
from typing import Final, TextIO

from tui.api.client import ClanforgeClient
from tui.api.errors import ApiError
from tui.cli.common import ExitCode
from tui.cli.joblines import JobColumns
from tui.cli.learned import LearnedStatuses
from tui.cli.output import emit_json, info_lines, report_error
from tui.cli.pacing import Pacer, make_pacer, report_unanswered
from tui.cli.targets import Targets, prepare
from tui.domain.jobs import DiffJob
from tui.domain.watch_entry import LastStatus
from tui.store.settings import Settings, make_client

STATUS_CONCURRENCY: Final = 4


async def read_statuses(
    client: ClanforgeClient, pacer: Pacer, ids: Sequence[int], *, info: bool, in_flight: int
) -> AsyncGenerator[tuple[int, DiffJob | ApiError]]:
    """Each diff's status (or the error), up to ``in_flight`` at once: in the order asked,
    except that a diff the server asked to wait for goes after those that answer."""
    gate = asyncio.Semaphore(in_flight)
    waiting: set[int] = set()
    changed = asyncio.Event()

    def on_wait(diffid: int) -> None:
        waiting.add(diffid)
        changed.set()

    async def one(diffid: int) -> DiffJob | ApiError:
        async with gate:
            try:
                return await pacer.send(
                    lambda: client.status(diffid, diff_info=info),
                    diffid,
                    functools.partial(on_wait, diffid),
                )
            except ApiError as exc:
                return exc
            finally:
                changed.set()

    tasks = {diffid: asyncio.create_task(one(diffid)) for diffid in ids}
    pending = list(ids)
    try:
        while pending:
            ready = _next_ready(pending, tasks, waiting)
            if ready is None:
                changed.clear()
                await changed.wait()
                continue
            pending.remove(ready)
            yield ready, tasks[ready].result()
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


def _next_ready(
    pending: Sequence[int], tasks: Mapping[int, asyncio.Task[DiffJob | ApiError]], waiting: Set[int]
) -> int | None:
    """The first pending diff that has its answer, passing over those told to wait."""
    for diffid in pending:
        if tasks[diffid].done():
            return diffid
        if diffid not in waiting:
            return None
    return None


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
    pacer = make_pacer(conn)
    answered: set[int] = set()
    learned: dict[int, LastStatus] = {}
    async with make_client(conn) as client:
        reads = read_statuses(
            client, pacer, ids, info=args.info, in_flight=status_concurrency(conn)
        )
        try:
            async with asyncio.timeout(args.timeout), contextlib.aclosing(reads):
                async for diffid, outcome in reads:
                    answered.add(diffid)
                    if not isinstance(outcome, ApiError):
                        learned[diffid] = LastStatus.from_job(outcome, time.time())
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
        except TimeoutError:
            missing = [diffid for diffid in ids if diffid not in answered]
            report_unanswered(pacer, missing, args.timeout, args.json, out)
            result = ExitCode.FAILED
        finally:
            LearnedStatuses(targets.watched).save(learned)
    return result


def run_status(args: argparse.Namespace) -> int:
    """``status ID... [--info] [--json]``."""
    return asyncio.run(_status_all(args, prepare(args), sys.stdout))
