"""``watch``: poll jobs until each has ended, with the app's tracker and scheduler.

On a terminal the diffs are one block redrawn in place; otherwise one timestamped line
(or with ``--json`` one JSON object) per change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import shutil
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TextIO

from tui.api.client import ClanforgeClient
from tui.api.errors import ApiError
from tui.cli.common import ExitCode, print_error, print_warning
from tui.cli.joblines import WATCH_HINT, JobColumns, dim, fit_cells, stamped
from tui.cli.learned import LearnedStatuses
from tui.cli.output import DIFFS, JobOutput, emit_json, error_json, report_error
from tui.cli.pacing import NotAnswered, timeout_line
from tui.cli.std_streams import OutputError
from tui.cli.targets import prepare
from tui.domain.clock import SystemClock
from tui.domain.jobs import DiffJob
from tui.domain.poll_settings import PollSettings
from tui.domain.text import plain
from tui.domain.watch_entry import WatchEntry
from tui.polling.notifier import Notifier
from tui.polling.tracker import JobView, Tracker
from tui.store.settings import Settings, make_client


def watch_poll_settings(poll: PollSettings, interval: float | None) -> PollSettings:
    """The tracker's poll settings: with ``--interval`` no diff is read more often than
    that (the interval itself is the tracker's ``every``); without it, the ``[poll]``
    settings' adaptive intervals."""
    if interval is None:
        return poll
    return dataclasses.replace(poll, min_interval=interval)


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
        kind: JobOutput = DIFFS,
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
    follow: Callable[[ClanforgeClient], tuple[RecordingClient, JobOutput]] | None = None,
    labels: Mapping[int, str] | None = None,
    learned: LearnedStatuses | None = None,
) -> int:
    """Poll the jobs ``ids`` until each has ended; ``follow`` says which kind (diffs by
    default) and gives the client that reads them; ``labels`` are shown beside the IDs;
    ``learned`` saves the statuses read (of diffs only)."""
    clock = SystemClock()
    entries = [WatchEntry(diffid, conn.asid, conn.account_url) for diffid in ids]
    async with make_client(conn) as api:
        client, kind = follow(api) if follow is not None else (RecordingClient(api), DIFFS)
        view = _WatchView(ids, client.last_error, out, as_json=args.json, kind=kind, labels=labels)
        all_done = asyncio.Event()
        holder: list[Tracker] = []
        output_ended: list[BrokenPipeError | OutputError] = []

        def on_change(changed: set[int]) -> None:
            # Called from inside the tracker's constructor too, before it is stored.
            if not holder or output_ended:
                return
            views = holder[0].views
            try:
                for diffid in sorted(changed, key=ids.index):
                    if diffid in views:
                        view.changed(views[diffid], clock.now())
            except (BrokenPipeError, OutputError) as exc:
                # The reader went away (``| head``), or the output cannot be written (a
                # full disk). The tracker would log and swallow this, so it is kept
                # here, and ends the command as ``status`` ends.
                output_ended.append(exc)
                all_done.set()
                return
            if any(_stops_command(v) for v in views.values()) or all(
                _finished(v) for v in views.values()
            ):
                all_done.set()

        # The [notify] hook (not the desktop: this output may be a pipe): a CI
        # pipeline's watch can page someone.
        notifier = Notifier(dataclasses.replace(conn.notify, desktop=False), report=print_warning)
        tracker = Tracker(
            client,
            entries,
            clock=clock,
            settings=watch_poll_settings(conn.poll, args.interval),
            on_change=on_change,
            every=args.interval,
            save_status=learned.save if learned is not None else None,
            on_event=notifier.event if notifier.active else None,
        )
        holder.append(tracker)
        runner = asyncio.create_task(tracker.run(), name="watch tracker")
        ends_at = None if args.timeout is None else clock.monotonic() + args.timeout
        timed_out = False
        try:
            while not all_done.is_set():
                view.redraw(tracker.views, clock.now())
                left = 1.0 if ends_at is None else ends_at - clock.monotonic()
                if left <= 0:
                    timed_out = True
                    break
                # Wake every second: the ETA countdown ticks and a crashed loop is noticed.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(all_done.wait(), min(1.0, left))
                if runner.done():
                    runner.result()  # surfaces a crash of the loop; a clean end is a bug
                    break
            if output_ended:
                raise output_ended[0]
            view.redraw(tracker.views, clock.now(), final=True)
        finally:
            await tracker.close()
            await asyncio.gather(runner, return_exceptions=True)
            # Every event seen is run before the command ends (each run is bounded).
            await asyncio.to_thread(notifier.close, None)
    result = _watch_result(tracker.views.values(), client.last_error, args, view.live, kind)
    if timed_out:
        _report_not_ended(tracker.views, ids, client.last_error, args, out, kind)
        result = max(result, ExitCode.FAILED)
    return result


def _report_not_ended(
    views: Mapping[int, JobView],
    ids: Sequence[int],
    errors: Mapping[int, ApiError],
    args: argparse.Namespace,
    out: TextIO,
    kind: JobOutput,
) -> None:
    """``--timeout`` ran out: which jobs had not ended, and how they were last seen."""
    missing: list[str] = []
    for jobid in ids:
        job_view = views.get(jobid)
        if job_view is None or _finished(job_view):
            continue
        seen = _last_seen(job_view, errors.get(jobid))
        missing.append(f"{kind.noun} {jobid}: {seen}")
        if args.json:
            error = NotAnswered(f"not ended within --timeout {args.timeout:g} s: {seen}")
            emit_json(error_json(jobid, error, kind.key), out)
    print_error(timeout_line(args.timeout, missing))


def _last_seen(job_view: JobView, error: ApiError | None) -> str:
    if job_view.poll_error is not None:
        message = error.message if error is not None else job_view.poll_error
        return f"last try failed: {plain(message, limit=200)}"
    job = job_view.job
    if job is None:
        return "no answer yet"
    state = plain(job.display_state, limit=40)
    return f"{state} {job.progress}%" if job.progress else state


def _watch_result(
    views: Iterable[JobView],
    errors: Mapping[int, ApiError],
    args: argparse.Namespace,
    live: bool,
    kind: JobOutput,
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
    targets = prepare(args)
    return asyncio.run(
        watch_all(
            args,
            targets.conn,
            targets.ids,
            sys.stdout,
            labels=targets.labels,
            learned=LearnedStatuses(targets.watched),
        )
    )


def add_interval_option(parser: argparse.ArgumentParser) -> None:
    """``--interval S``, the read interval of ``watch`` and ``version watch``."""
    parser.add_argument(
        "--interval",
        type=interval_seconds,
        default=None,
        metavar="S",
        help="read every job every S seconds (1 to 3600), within [poll] "
        "max_requests_per_second; default: adaptive (waiting jobs less often, running "
        "ones more often near their end, as the app does)",
    )


def interval_seconds(text: str) -> float:
    """``--interval``: seconds between 1 and 3600."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 3600:
        raise argparse.ArgumentTypeError("the interval must be between 1 and 3600 seconds")
    return value
