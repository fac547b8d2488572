"""The ``status``, ``retry`` and ``watch`` commands.

Every ID is checked before anything is sent: all bad tokens are reported, one line
each, and the command exits 2. Output is one aligned line per diff, or with
``--json`` one JSON object per diff per result (JSON Lines)::

    {"diffid": 4101, "jobstateid": 4, ...}                     # DiffJob.to_json()
    {"diffid": 4102, "error": {"kind": "not-found", "http_status": 404, "message": "..."}}

``retry --all`` adds one object per diff it leaves out::

    {"diffid": 4103, "skipped": "Running: only ...", "jobstateid": 4, "jobstatename": "Running"}

Every request keeps to the app's rate window; one answered 429 or 503 (the server did
nothing) is sent again after Retry-After, for at most ``RETRY_AFTER_LIMIT`` seconds.

Exit codes: 0 all went well; 1 a call failed (or, with ``watch --exit-status``, a
job ended Failed; or ``retry --all`` was not confirmed); 2 bad input, or ``retry``
without IDs or ``--all``, or ``--all`` off a terminal without ``--yes``; 3 credentials
or configuration.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["retry", "4101", "--json"]).json
    True
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import json
import os
import shutil
import sys
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, TextIO, TypeVar

from tui.api.client import ClanforgeClient
from tui.api.errors import ActionOutcomeUnknown, ApiError
from tui.cli.common import (
    PROG,
    CliError,
    ExitCode,
    Subcommands,
    add_command,
    add_json_flag,
    connection_options,
    print_error,
    print_warning,
)
from tui.cli.joblines import STATE_WIDTH, WATCH_HINT, JobColumns, dim, fit_cells, stamped
from tui.domain.clock import Clock, SystemClock
from tui.domain.ids import InvalidDiffId, parse_diff_id
from tui.domain.jobs import DiffJob, Job
from tui.domain.poll_settings import PollSettings
from tui.domain.text import plain
from tui.domain.watch_entry import WatchEntry
from tui.polling.plan import RETRY, Candidate, Plan, Skip, make_plan
from tui.polling.rate_window import MIN_RATE_FACTOR, RateWindow, Send
from tui.polling.tracker import JobView, Tracker
from tui.store.settings import Settings, make_client, resolve_settings

STATUS_CONCURRENCY: Final = 4
_T = TypeVar("_T")


@dataclasses.dataclass(frozen=True)
class WatchedKind:
    """What a command reads and watches: diffs, or image versions (the same job fields)."""

    key: str
    """The API's name of the job's ID: ``diffid``, ``imageversionid``."""
    noun: str
    """How a line names one: ``diff``, ``image version``."""
    to_json: Callable[[DiffJob], dict[str, Any]]
    """The ``--json`` object of a job as the tracker holds it."""


DIFFS: Final = WatchedKind("diffid", "diff", DiffJob.to_json)


# --- settings ---------------------------------------------------------------------


def load_connection(args: argparse.Namespace) -> Settings:
    """The settings for this command: flags, then ``CLANFORGE_*``, then the profile.

    Missing credentials raise ``ConfigError`` (exit 3) naming what is missing; a bad
    ``--asid`` or ``--api-url`` flag a usage error (exit 2).
    """
    return resolve_settings(
        profile=getattr(args, "profile", None),
        api_url=getattr(args, "api_url", None),
        asid=getattr(args, "asid", None),
        env=os.environ,
    )


# --- IDs --------------------------------------------------------------------------


def parse_ids(tokens: Sequence[str]) -> list[int]:
    """The IDs in order, once each; every bad token is reported and exits 2."""
    ids: list[int] = []
    bad = False
    for token in tokens:
        try:
            value = parse_diff_id(token)
        except InvalidDiffId as exc:
            print_error(str(exc))
            bad = True
            continue
        # A repeated ID must not become a second retry.
        if value not in ids:
            ids.append(value)
    if bad:
        raise CliError("nothing was sent: fix the diff IDs above", ExitCode.USAGE)
    return ids


def watchlist_entries(conn: Settings) -> list[WatchEntry]:
    """This account's watchlist (its API URL and ASID), in file order."""
    # Imported here: only the watchlist's IDs and labels need it.
    from tui.store.settings import open_watchlist
    from tui.store.watchlist.file import WatchlistError, account_entries

    store = open_watchlist()
    try:
        loaded = store.load()
    except WatchlistError as exc:
        raise CliError(str(exc), ExitCode.CONFIG) from None
    if loaded.notice:
        print_warning(loaded.notice)
    return account_entries(loaded.entries, conn.account_url, conn.asid)


def watchlist_ids(conn: Settings, entries: Iterable[WatchEntry] | None = None) -> list[int]:
    """The IDs of ``entries`` (default: :func:`watchlist_entries`), once each; none exits 2."""
    ids = [e.diffid for e in (watchlist_entries(conn) if entries is None else entries)]
    if not ids:
        raise CliError(
            f"the watchlist of profile {conn.profile!r} (ASID {conn.asid}) is empty; "
            "name diff IDs instead",
            ExitCode.USAGE,
        )
    return list(dict.fromkeys(ids))


def _labels(entries: Iterable[WatchEntry]) -> dict[int, str]:
    labels: dict[int, str] = {}
    for entry in entries:
        if entry.label:
            labels.setdefault(entry.diffid, entry.label)
    return labels


def _labels_of_named(conn: Settings) -> dict[int, str]:
    """The watchlist's labels for diffs named on the command line; none if it is unreadable."""
    from tui.store.atomic_file import LockTimeout

    try:
        return _labels(watchlist_entries(conn))
    except (CliError, LockTimeout) as exc:
        # The labels only decorate the lines: the command still does what it was asked.
        print_warning(f"labels not shown: {exc}")
        return {}


@dataclasses.dataclass(frozen=True)
class Targets:
    """What ``status`` and ``watch`` act on."""

    ids: list[int]
    conn: Settings
    labels: Mapping[int, str]
    """The watchlist's labels, for people: empty with ``--json``."""


def _prepare(args: argparse.Namespace) -> Targets:
    """IDs checked first (nothing sent on a bad one), then settings, then the watchlist."""
    ids = parse_ids(args.ids)
    conn = load_connection(args)
    if ids:
        return Targets(ids, conn, {} if args.json else _labels_of_named(conn))
    entries = watchlist_entries(conn)
    return Targets(watchlist_ids(conn, entries), conn, {} if args.json else _labels(entries))


# --- output -----------------------------------------------------------------------


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
    key: str = DIFFS.key,
    noun: str = DIFFS.noun,
) -> None:
    """A failed call about a job (a diff unless ``key`` and ``noun`` name another kind):
    a JSON object on ``out``, or one line on stderr."""
    if as_json:
        emit_json(error_json(jobid, error, key), out)
    else:
        print_error(f"{noun} {jobid}: {error.message}")


async def each_once(
    ids: Sequence[int],
    send: Callable[[int], Awaitable[_T]],
    show: Callable[[int, _T], None],
    failed: Callable[[int, ApiError], None],
) -> int:
    """``send`` for each ID, once, in order; ``show`` each answer and ``failed`` each
    error. The exit code: FAILED if any failed; an error no other request would escape
    stops there (CONFIG)."""
    result = ExitCode.OK
    for jobid in ids:
        try:
            answer = await send(jobid)
        except ApiError as exc:
            failed(jobid, exc)
            if exc.stops_command:
                return ExitCode.CONFIG
            result = ExitCode.FAILED
            continue
        show(jobid, answer)
    return result


# --- pacing: the rate cap and the server's "wait" ---------------------------------


RETRY_AFTER_LIMIT: Final = 60.0
"""Longest one request waits in all while the server answers 429 or 503 to it (seconds)."""


class GaveUpWaiting(ApiError):
    """The server kept asking to wait (429 or 503) for longer than ``RETRY_AFTER_LIMIT``."""

    def __init__(self, cause: ApiError) -> None:
        super().__init__(
            f"{cause.message}; gave up (this command waits at most "
            f"{RETRY_AFTER_LIMIT:.0f} s per request)",
            http_status=cause.http_status,
        )
        self.kind = cause.kind


class Pacer:
    """Every request of one command goes through here: the app's rate window, and a
    pause for all of them while the server asks to wait.

    A request answered 429 or 503 was not acted on, so it is sent again after the
    wait, even a retry; a timeout or a dropped answer is not (the caller sees it).
    """

    def __init__(self, clock: Clock, rate: float) -> None:
        self._clock = clock
        self.window = RateWindow(clock, rate)
        self._paused_until = 0.0

    async def send(self, call: Callable[[], Awaitable[_T]]) -> _T:
        """``call()`` within the cap, sent again after each 429/503 for up to
        ``RETRY_AFTER_LIMIT`` seconds; then :class:`GaveUpWaiting`."""
        first_refusal: float | None = None
        refusals = 0
        while True:
            send = await self._slot()
            try:
                return await call()
            except ApiError as exc:
                if not exc.asks_to_wait:
                    raise
                now = self._clock.monotonic()
                first_refusal = now if first_refusal is None else first_refusal
                wait = _retry_after(exc)
                if wait is None:
                    wait = float(2**refusals)
                if now + wait - first_refusal > RETRY_AFTER_LIMIT:
                    raise GaveUpWaiting(exc) from None
                refusals += 1
                self._pause(now, wait)
            finally:
                self.window.close(send)

    def _pause(self, now: float, wait: float) -> None:
        if now >= self._paused_until:
            # The first refusal of a pause: our cap is above the server's, so halve it.
            self.window.factor = max(MIN_RATE_FACTOR, self.window.factor / 2)
        self._paused_until = max(self._paused_until, now + wait)

    async def _slot(self) -> Send:
        # The cap and the pause free up with time, not with an event: sleeping is right.
        while True:
            pause = self._paused_until - self._clock.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
                continue
            send = self.window.acquire()
            if send is not None:
                return send
            await asyncio.sleep(max(0.01, self.window.seconds_until_slot()))


def _retry_after(error: ApiError) -> float | None:
    value = error.retry_after
    return value if value is not None and value >= 0 else None


# --- status -----------------------------------------------------------------------


async def read_statuses(
    client: ClanforgeClient, pacer: Pacer, ids: Sequence[int], *, info: bool, in_flight: int
) -> AsyncGenerator[tuple[int, DiffJob | ApiError]]:
    """Each diff's status (or the error), in the order asked, up to ``in_flight`` at once."""
    gate = asyncio.Semaphore(in_flight)

    async def one(diffid: int) -> DiffJob | ApiError:
        async with gate:
            try:
                return await pacer.send(lambda: client.status(diffid, diff_info=info))
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


def _status_concurrency(conn: Settings) -> int:
    return min(STATUS_CONCURRENCY, conn.poll.max_in_flight)


def make_pacer(conn: Settings) -> Pacer:
    """The pacing for one command, at the configured requests per second."""
    return Pacer(SystemClock(), conn.poll.max_requests_per_second)


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
            client, make_pacer(conn), ids, info=args.info, in_flight=_status_concurrency(conn)
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
    return asyncio.run(_status_all(args, _prepare(args), sys.stdout))


# --- retry ------------------------------------------------------------------------


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


async def _plan_all(conn: Settings, pacer: Pacer) -> Plan:
    """Fresh status of the watchlist; stops at once on a credentials error."""
    ids = watchlist_ids(conn)
    reads: list[tuple[int, DiffJob | ApiError]] = []
    async with make_client(conn) as client:
        statuses = read_statuses(
            client, pacer, ids, info=False, in_flight=_status_concurrency(conn)
        )
        async with contextlib.aclosing(statuses):
            async for diffid, outcome in statuses:
                if isinstance(outcome, ApiError) and outcome.stops_command:
                    raise outcome
                reads.append((diffid, outcome))
    return plan_from_statuses(reads)


async def _send_retries(
    args: argparse.Namespace,
    conn: Settings,
    pacer: Pacer,
    ids: Sequence[int],
    width: int,
    out: TextIO,
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

    async with make_client(conn) as client:
        # One at a time, once each: a retry is never repeated unless the server said it
        # did nothing with it (429, 503).
        return await each_once(
            ids, lambda diffid: pacer.send(functools.partial(client.retry, diffid)), show, failed
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
    plan = asyncio.run(_plan_all(conn, pacer)) if args.all else Plan(RETRY, tuple(ids))
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
    sent = asyncio.run(_send_retries(args, conn, pacer, plan.send, width, out))
    return max(result, sent)


# --- watch ------------------------------------------------------------------------


def watch_poll_settings(poll: PollSettings, interval: float | None) -> PollSettings:
    """The tracker's poll settings with ``--interval`` as the base interval.

    Waiting and far-from-ETA jobs are still polled less often than the base, in the
    same proportion as the defaults, so a short base stays polite.
    """
    if interval is None:
        return poll
    return dataclasses.replace(
        poll,
        min_interval=interval,
        waiting_interval=max(interval, min(poll.waiting_interval, 3 * interval)),
        running_max_interval=max(interval, min(poll.running_max_interval, 6 * interval)),
    )


class RecordingClient:
    """The client as the tracker sees it, keeping each job's last error for ``--json``.

    ``read`` reads one job's status: a diff's by default; ``version watch`` gives one
    that reads an image version's, in the shape the tracker follows (the job fields are
    the same; the ID is the version's).
    """

    def __init__(
        self, client: ClanforgeClient, read: Callable[[int], Awaitable[DiffJob]] | None = None
    ) -> None:
        self._client = client
        self._read = read if read is not None else client.status
        self.last_error: dict[int, ApiError] = {}
        # The rest of the tracker's client protocol is the client's own (watch sends none).
        self.accept = client.accept
        self.reject = client.reject
        self.version_status = client.version_status
        self.create = client.create

    async def status(self, diffid: int, diff_info: bool = False) -> DiffJob:
        try:
            job = await (self._client.status(diffid, True) if diff_info else self._read(diffid))
        except ApiError as exc:
            self.last_error[diffid] = exc
            raise
        self.last_error.pop(diffid, None)
        return job

    async def retry(self, diffid: int) -> DiffJob:
        # watch never retries; present only to satisfy the tracker's client protocol.
        raise NotImplementedError("watch does not retry")


def _finished(view: JobView) -> bool:
    """Nothing more to wait for: terminal, or an error that polling will not cure."""
    failure = view.poll_failure
    if failure is not None:
        return failure.error.permanent or failure.error.stops_command
    return view.job is not None and view.job.is_terminal


def _stops_command(view: JobView) -> bool:
    """The diff's last poll failed in a way no other diff will escape (the keys)."""
    return view.poll_failure is not None and view.poll_failure.error.stops_command


class _WatchView:
    """Where ``watch`` output goes: on a TTY a redrawn block (a header, the diffs and
    how to stop), otherwise one timestamped line per change."""

    def __init__(
        self,
        ids: list[int],
        errors: Mapping[int, ApiError],
        out: TextIO,
        *,
        as_json: bool,
        kind: WatchedKind = DIFFS,
        labels: Mapping[int, str] | None = None,
    ) -> None:
        self.kind = kind
        self.ids = ids
        self.errors = errors
        self.out = out
        self.as_json = as_json
        self.live = not as_json and out.isatty()
        self.columns = JobColumns.of(ids, labels or {}, header=self.live)
        self._drawn: list[str] = []
        self._last_emitted: dict[int, tuple[Any, ...]] = {}

    def _line(self, view: JobView, now: float) -> str:
        if view.job is None:
            text = self.columns.pending(view.diffid)
        else:
            text = self.columns.line(view.diffid, view.job, now)
        if view.poll_error is not None:
            error = self.errors.get(view.diffid)
            message = error.message if error is not None else view.poll_error
            if not _finished(view) and view.next_poll_at is not None:
                message += f"; next try in {max(0.0, view.next_poll_at - now):.0f}s"
            text += f"  [{plain(message, limit=300)}]"
        return text

    def redraw(self, views: Mapping[int, JobView], now: float, *, final: bool = False) -> None:
        """On a TTY, rewrite the block in place, in one write, only if it changed.

        The last line says how to stop the watch, until the ``final`` redraw clears it.
        """
        if not self.live:
            return
        columns = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
        rows = [self.columns.header(), *(self._line(views[diffid], now) for diffid in self.ids)]
        if not final:
            rows.append(WATCH_HINT)
        # Lines are cut to the terminal width so none wraps and cursor-up stays exact.
        lines = [fit_cells(row, columns) for row in rows]
        if not final:
            lines[-1] = dim(lines[-1])
        if lines == self._drawn:
            return
        parts = [f"\x1b[{len(self._drawn)}F"] if self._drawn else []
        parts.extend(f"\x1b[2K{line}\n" for line in lines)
        if len(lines) < len(self._drawn):
            parts.append("\x1b[J")  # the rows the shorter block left below it
        self.out.write("".join(parts))
        self.out.flush()
        self._drawn = lines

    def changed(self, view: JobView, now: float) -> None:
        """A poll finished: in line mode print it if something worth saying changed."""
        if self.live:
            return
        error = self.errors.get(view.diffid) if view.poll_error is not None else None
        if error is not None:
            key: tuple[Any, ...] = ("error", error.kind, error.message)
        elif view.job is not None:
            job = view.job
            key = ("job", job.state, job.state_name, job.progress, job.error, job.eta)
        else:
            return
        if key == self._last_emitted.get(view.diffid):
            return
        self._last_emitted[view.diffid] = key
        if error is not None:
            report_error(view.diffid, error, self.as_json, self.out, self.kind.key, self.kind.noun)
        elif view.job is not None:
            if self.as_json:
                emit_json(self.kind.to_json(view.job), self.out)
            else:
                line = stamped(self.columns.line(view.diffid, view.job, now), now)
                print(line, file=self.out, flush=True)


async def watch_all(
    args: argparse.Namespace,
    conn: Settings,
    ids: list[int],
    out: TextIO,
    follow: Callable[[ClanforgeClient], tuple[RecordingClient, WatchedKind]] | None = None,
    labels: Mapping[int, str] | None = None,
) -> int:
    """Poll the jobs ``ids`` until each has ended; ``follow`` says which kind (diffs by
    default) and gives the client that reads them; ``labels`` are shown beside the IDs."""
    clock = SystemClock()
    entries = [WatchEntry(diffid, conn.asid, conn.account_url) for diffid in ids]
    async with make_client(conn) as api:
        client, kind = follow(api) if follow is not None else (RecordingClient(api), DIFFS)
        view = _WatchView(ids, client.last_error, out, as_json=args.json, kind=kind, labels=labels)
        all_done = asyncio.Event()
        holder: list[Tracker] = []
        reader_gone: list[BrokenPipeError] = []

        def on_change(changed: set[int]) -> None:
            # Called from inside the tracker's constructor too, before it is stored.
            if not holder or reader_gone:
                return
            views = holder[0].views
            try:
                for diffid in sorted(changed, key=ids.index):
                    if diffid in views:
                        view.changed(views[diffid], clock.now())
            except BrokenPipeError as exc:
                # The reader went away (``| head``). The tracker would log and swallow
                # this, so it is kept here, and ends the command as ``status`` ends.
                reader_gone.append(exc)
                all_done.set()
                return
            if any(_stops_command(v) for v in views.values()) or all(
                _finished(v) for v in views.values()
            ):
                all_done.set()

        tracker = Tracker(
            client,
            entries,
            clock=clock,
            settings=watch_poll_settings(conn.poll, args.interval),
            on_change=on_change,
        )
        holder.append(tracker)
        runner = asyncio.create_task(tracker.run(), name="watch tracker")
        try:
            while not all_done.is_set():
                view.redraw(tracker.views, clock.now())
                # Wake every second: the ETA countdown ticks and a crashed loop is noticed.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(all_done.wait(), 1.0)
                if runner.done():
                    runner.result()  # surfaces a crash of the loop; a clean end is a bug
                    break
            if reader_gone:
                raise reader_gone[0]
            view.redraw(tracker.views, clock.now(), final=True)
        finally:
            await tracker.close()
            await asyncio.gather(runner, return_exceptions=True)
    return _watch_result(tracker.views.values(), client.last_error, args, view.live, kind)


def _watch_result(
    views: Iterable[JobView],
    errors: Mapping[int, ApiError],
    args: argparse.Namespace,
    live: bool,
    kind: WatchedKind,
) -> int:
    result = ExitCode.OK
    for job_view in views:
        error = errors.get(job_view.diffid) if job_view.poll_error is not None else None
        if error is None:
            if args.exit_status and job_view.job is not None and job_view.job.failed:
                result = max(result, ExitCode.FAILED)
            continue
        if live:
            # The block above shows it too, but a summary on stderr outlives the screen.
            print_error(f"{kind.noun} {job_view.diffid}: {error.message}")
        if error.stops_command:
            result = ExitCode.CONFIG
        elif error.permanent:
            result = max(result, ExitCode.FAILED)
    return int(result)


def run_watch(args: argparse.Namespace) -> int:
    """``watch ID... [--exit-status] [--json] [--interval S]``: poll until all are done."""
    targets = _prepare(args)
    return asyncio.run(
        watch_all(args, targets.conn, targets.ids, sys.stdout, labels=targets.labels)
    )


# --- registration -----------------------------------------------------------------


def add_interval_option(parser: argparse.ArgumentParser) -> None:
    """``--interval S``, the base poll interval of ``watch`` and ``version watch``."""
    parser.add_argument(
        "--interval",
        type=interval_seconds,
        default=None,
        metavar="S",
        help="base poll interval in seconds (default: the [poll] settings)",
    )


def interval_seconds(text: str) -> float:
    """``--interval``: seconds between 0.1 and 3600."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("the interval must be between 0.1 and 3600 seconds")
    return value


def register(subparsers: Subcommands) -> None:
    """Add ``status``, ``retry`` and ``watch``; each sets ``handler``."""
    parent = connection_options()
    ids_help = "diff IDs (default: the current profile's watchlist)"

    status = add_command(
        subparsers,
        "status",
        run_status,
        parents=[parent],
        help="show diffs' state, progress and ETA",
        description=(
            "Show each diff's state, progress and ETA, in the order given. The requests "
            "keep to [poll] max_requests_per_second; a 429 or 503 is waited out "
            f"(Retry-After) for at most {RETRY_AFTER_LIMIT:.0f} s per request."
        ),
    )
    status.add_argument("ids", nargs="*", metavar="ID", help=ids_help)
    status.add_argument("--info", action="store_true", help="also game, machine, image, files")
    add_json_flag(status)

    retry = add_command(
        subparsers,
        "retry",
        run_retry,
        parents=[parent],
        help="retry Completed or Failed diffs (each sent once)",
        description=(
            "Retry the diffs named, each once, in order (the server says why it refuses "
            "one). --all retries every diff of the watchlist that a fresh status shows "
            "Completed or Failed, after asking on a terminal (--yes: without asking). "
            "The requests keep to [poll] max_requests_per_second; a 429 or 503 is waited "
            f"out (Retry-After) and the request sent again, for at most {RETRY_AFTER_LIMIT:.0f} s "
            "per request. A timeout or a lost answer is never re-sent."
        ),
    )
    retry.add_argument("ids", nargs="*", metavar="ID", help="diff IDs to retry")
    retry.add_argument(
        "--all",
        action="store_true",
        help="every Completed or Failed diff of the current profile's watchlist",
    )
    retry.add_argument("--yes", action="store_true", help="with --all: do not ask first")
    add_json_flag(retry)

    watch = add_command(
        subparsers,
        "watch",
        run_watch,
        parents=[parent],
        help="poll diffs until every one has finished",
    )
    watch.add_argument("ids", nargs="*", metavar="ID", help=ids_help)
    watch.add_argument("--exit-status", action="store_true", help="exit 1 if a diff ended Failed")
    add_json_flag(watch, "JSON Lines output, one per change")
    add_interval_option(watch)
