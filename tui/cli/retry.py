"""``retry``: diffs retried once each, in order; ``--all`` plans from fresh statuses.

``retry --all`` prints one object per diff it leaves out::

    {"diffid": 4103, "skipped": "Running: only ...", "jobstateid": 4, "jobstatename": "Running"}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import sys
import time
from collections.abc import Awaitable, Iterable, Sequence
from typing import Any, TextIO

from tui.api.errors import ActionOutcomeUnknown, ApiError
from tui.cli.common import PROG, CliError, ExitCode, print_error, print_warning
from tui.cli.joblines import STATE_WIDTH
from tui.cli.output import emit_json, error_json, job_line, report_error
from tui.cli.pacing import (
    Pacer,
    TimeLimit,
    each_once,
    make_pacer,
    report_unanswered,
    timeout_line,
)
from tui.cli.sending import JournalAndWatchlist, run_actions, send_action
from tui.cli.status import read_statuses, status_concurrency
from tui.cli.targets import load_connection, parse_ids, watchlist_ids
from tui.domain.jobs import DiffJob
from tui.domain.text import plain
from tui.polling.plan import RETRY, Candidate, Plan, Skip, make_plan
from tui.store.settings import Settings, make_client


def plan_from_statuses(reads: Iterable[tuple[int, DiffJob | ApiError]]) -> Plan:
    """``retry --all``: send what a fresh status shows Completed or Failed, skip the rest.

    >>> from tui.domain.jobs import parse_job
    >>> running = parse_job({"diffid": 2, "jobstateid": 4, "jobstatename": "Running",
    ...     "jobprogress": 5, "jobfailed": 0, "jobcreated": 0, "jobupdated": 0})
    >>> plan = plan_from_statuses([(2, running)])
    >>> plan.send, plan.skipped[0].reason
    ((), 'Running: only Completed or Failed diffs can be retried')
    """
    return make_plan(RETRY, (Candidate.of_read(diffid, read) for diffid, read in reads))


def skip_json(skip: Skip) -> dict[str, Any]:
    """The ``--json`` object of a skipped diff (a failed status read is an error object)."""
    if skip.error is not None:
        return error_json(skip.diffid, skip.error)
    job = skip.job.to_json() if skip.job is not None else {}
    return {
        "diffid": skip.diffid,
        "skipped": skip.reason,
        "jobstateid": job.get("jobstateid"),
        "jobstatename": job.get("jobstatename"),
    }


def _report_skips(plan: Plan, width: int, as_json: bool, out: TextIO) -> int:
    result = ExitCode.OK
    for skip in plan.skipped:
        if skip.error is not None:
            report_error(skip.diffid, skip.error, as_json, out)
            result = ExitCode.FAILED
        elif as_json:
            emit_json(skip_json(skip), out)
        else:
            state = _state_of(skip.job)
            line = f"{skip.diffid:>{width}}  {state:<{STATE_WIDTH}}  skipped: {RETRY.rule}"
            print(line, file=out, flush=True)
    return result


def _state_of(job: DiffJob | None) -> str:
    return plain(job.display_state, limit=40) if job is not None else ""


def confirm_plan(plan: Plan, ask: TextIO, answer: TextIO) -> bool:
    """List the plan on ``ask`` and read a yes from ``answer`` (anything else is a no)."""
    width = max(len(str(i)) for i in [*plan.send, *(s.diffid for s in plan.skipped)])
    lines = [f"{PROG}: retry --all will send {len(plan.send)} retries:"]
    lines += [
        f"  {diffid:>{width}}  {_state_of(plan.read.get(diffid))}".rstrip() for diffid in plan.send
    ]
    if plan.skipped:
        lines.append(f"skipped ({len(plan.skipped)}):")
        lines += [f"  {s.diffid:>{width}}  {plain(s.reason, limit=200)}" for s in plan.skipped]
    ask.write("\n".join(lines) + f"\nRetry these {len(plan.send)} diffs? [y/N] ")
    ask.flush()
    return answer.readline().strip().lower() in ("y", "yes")


async def _plan_all(conn: Settings, pacer: Pacer, time_limit: float | None) -> Plan:
    """Fresh status of the watchlist; stops at once on a credentials error, and on
    ``time_limit`` (nothing sent)."""
    ids = watchlist_ids(conn)
    reads: list[tuple[int, DiffJob | ApiError]] = []
    async with make_client(conn) as client:
        statuses = read_statuses(client, pacer, ids, info=False, in_flight=status_concurrency(conn))
        try:
            async with asyncio.timeout(time_limit), contextlib.aclosing(statuses):
                async for diffid, outcome in statuses:
                    if isinstance(outcome, ApiError) and outcome.stops_command:
                        raise outcome
                    reads.append((diffid, outcome))
        except TimeoutError:
            assert time_limit is not None
            read = {diffid for diffid, _ in reads}
            missing = (f"diff {i}: {pacer.why_unanswered(i)}" for i in ids if i not in read)
            raise CliError(
                timeout_line(time_limit, missing) + "; nothing was sent", ExitCode.FAILED
            ) from None
    return plan_from_statuses(reads)


async def _send_retries(
    args: argparse.Namespace,
    conn: Settings,
    pacer: Pacer,
    ids: Sequence[int],
    width: int,
    out: TextIO,
    time_limit: float | None,
) -> int:
    def failed(diffid: int, exc: ApiError) -> None:
        if not isinstance(exc, ActionOutcomeUnknown):
            report_error(diffid, exc, args.json, out)
        elif args.json:
            emit_json(error_json(diffid, exc), out)
        else:
            print(f"{diffid:>{width}}  {'unknown':<{STATE_WIDTH}}", file=out, flush=True)
            print_error(f"diff {diffid}: {exc.message}; check with: imagediff-tui status {diffid}")

    def show(diffid: int, job: DiffJob) -> None:
        if args.json:
            emit_json(job.to_json(), out)
        else:
            print(job_line(job, width, time.time()), file=out, flush=True)

    def interrupted(diffid: int, exc: ApiError) -> None:
        # A --timeout is said once for all, by the line that ends the command.
        if not limit.ran_out:
            failed(diffid, exc)

    records = JournalAndWatchlist(conn)
    limit = TimeLimit(time_limit, args.timeout)
    async with make_client(conn) as client:

        def send(diffid: int) -> Awaitable[DiffJob]:
            call = functools.partial(client.retry, diffid)
            return send_action(pacer, records, diffid, "retry", call, "", interrupted, limit)

        # One at a time, once each: a retry is never repeated unless the server said it
        # did nothing with it (429, 503).
        return await each_once(
            ids,
            send,
            show,
            failed,
            lambda missing: report_unanswered(pacer, missing, args.timeout, args.json, out),
            limit,
        )


def _on_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _retry_ids(args: argparse.Namespace) -> list[int]:
    """The IDs asked for, after the checks that come before anything is sent."""
    if args.all and args.ids:
        raise CliError("give diff IDs or --all, not both; nothing was sent", ExitCode.USAGE)
    ids = parse_ids(args.ids)
    if not ids and not args.all:
        raise CliError(
            "no diff IDs given; nothing was sent. Name the diffs (retry ID...), or retry "
            "every Completed or Failed diff of the watchlist with: retry --all",
            ExitCode.USAGE,
        )
    if args.all and not args.yes and not _on_terminal():
        raise CliError(
            "retry --all asks for confirmation and this is not a terminal; "
            "add --yes to retry without asking. Nothing was sent",
            ExitCode.USAGE,
        )
    return ids


def run_retry(args: argparse.Namespace) -> int:
    """``retry ID... | --all [--yes] [--json]``: each diff retried once, in order."""
    ids = _retry_ids(args)
    conn = load_connection(args)
    pacer = make_pacer(conn)
    started = time.monotonic()
    plan = Plan(RETRY, tuple(ids))
    if args.all:
        plan = asyncio.run(_plan_all(conn, pacer, args.timeout))
    # --timeout bounds the waits for the server, not the question on the terminal.
    time_limit = None if args.timeout is None else args.timeout - (time.monotonic() - started)
    if args.all and plan.send and not args.yes and not confirm_plan(plan, sys.stderr, sys.stdin):
        print_error("not confirmed; nothing was sent")
        return ExitCode.FAILED
    out = sys.stdout
    width = max(len(str(i)) for i in [*plan.send, *(s.diffid for s in plan.skipped)])
    result = _report_skips(plan, width, args.json, out)
    if not plan.send:
        if not args.json:
            print_warning("nothing was sent: no diff is known to be Completed or Failed")
        return result
    sent = run_actions(_send_retries(args, conn, pacer, plan.send, width, out, time_limit))
    return max(result, sent)
