"""The ``status``, ``retry`` and ``watch`` commands.

Every ID is checked before anything is sent: all bad tokens are reported, one line
each, and the command exits 2. Output is one aligned line per diff, or with
``--json`` one JSON object per diff per result (JSON Lines)::

    {"diffid": 4101, "jobstateid": 4, ...}                     # DiffJob.to_json()
    {"diffid": 4102, "error": {"kind": "not-found", "http_status": 404, "message": "..."}}

Exit codes: 0 all went well; 1 a call failed (or, with ``watch --exit-status``, a
job ended Failed); 2 bad input; 3 credentials or configuration.

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
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TextIO

from tui.api import ApiError, ClanforgeClient, RetryOutcomeUnknown
from tui.cli_common import CliError, ExitCode, connection_options, print_error
from tui.formatting import eta_text
from tui.models import DiffJob, InvalidDiffId, JobState, parse_diff_id
from tui.poll_settings import PollSettings
from tui.safetext import plain

DEFAULT_API_URL: Final = "https://api.multiplay.co.uk"
CONFIG_KINDS: Final = frozenset({"auth", "forbidden", "config"})
"""Errors that no other diff will escape either: stop at once, exit 3."""
PERMANENT_KINDS: Final = frozenset({"not-found", "rejected"})
"""Errors ``watch`` does not keep polling through."""
STATE_WIDTH: Final = max(len(state.label) for state in JobState)
DEFAULT_WATCH_INTERVAL: Final = 5.0
STATUS_CONCURRENCY: Final = 4


# --- settings ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connection:
    """What a command needs to talk to the API."""

    api_url: str
    asid: int
    access_key: str
    secret_key: str
    poll: PollSettings

    def __repr__(self) -> str:
        return f"Connection(api_url={self.api_url!r}, asid={self.asid})"


def _parse_asid(text: str, source: str, code: ExitCode) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit() or int(value) <= 0:
        raise CliError(f"{source} {text!r} is not an account service ID (a positive integer)", code)
    return int(value)


def connection_from_env(args: argparse.Namespace, env: Mapping[str, str]) -> Connection:
    """Settings from flags and ``CLANFORGE_*`` variables (flags win).

    A stand-in until ``tui.settings.resolve_settings`` (profiles, config file) is
    available; missing credentials exit 3 naming the variables, a bad ``--asid`` 2.
    """
    if getattr(args, "profile", None):
        raise CliError(
            "profiles are not available in this build; use CLANFORGE_* variables", ExitCode.CONFIG
        )
    flag_asid = getattr(args, "asid", None)
    asid: int | None = None
    if flag_asid is not None:
        asid = _parse_asid(flag_asid, "--asid", ExitCode.USAGE)
    elif env.get("CLANFORGE_ASID", "").strip():
        asid = _parse_asid(env["CLANFORGE_ASID"], "CLANFORGE_ASID", ExitCode.CONFIG)
    access_key = env.get("CLANFORGE_ACCESS_KEY", "")
    secret_key = env.get("CLANFORGE_SECRET_KEY", "")
    missing = [
        name
        for name, present in (
            ("CLANFORGE_ASID (or --asid)", asid is not None),
            ("CLANFORGE_ACCESS_KEY", bool(access_key)),
            ("CLANFORGE_SECRET_KEY", bool(secret_key)),
        )
        if not present
    ]
    if missing or asid is None:
        raise CliError("missing credentials: set " + ", ".join(missing), ExitCode.CONFIG)
    api_url = getattr(args, "api_url", None) or env.get("CLANFORGE_API_URL") or DEFAULT_API_URL
    return Connection(api_url, asid, access_key, secret_key, PollSettings())


def load_connection(args: argparse.Namespace) -> Connection:
    """The connection settings for this command."""
    return connection_from_env(args, os.environ)


def make_client(conn: Connection) -> ClanforgeClient:
    """A client with the configured timeout."""
    return ClanforgeClient(
        conn.api_url,
        conn.asid,
        conn.access_key,
        conn.secret_key,
        read_timeout=conn.poll.timeout,
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


def resolve_ids(args: argparse.Namespace) -> list[int]:
    """The IDs on the command line, or else the watchlist's."""
    if args.ids:
        return parse_ids(args.ids)
    raise CliError("no diff IDs given (a watchlist is not available in this build)", ExitCode.USAGE)


# --- output -----------------------------------------------------------------------


def job_line(job: DiffJob, id_width: int, now: float) -> str:
    """One aligned human line: id, state, progress, ETA, error (made safe)."""
    state = plain(job.display_state, limit=40)
    eta = "" if job.is_terminal else eta_text(job.eta, now)
    parts = [f"{job.diffid:>{id_width}}", f"{state:<{STATE_WIDTH}}", f"{job.progress:>3}%"]
    parts.append(f"{eta:<14}")
    if job.error:
        parts.append(plain(job.error, limit=300))
    return "  ".join(parts).rstrip()


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


def error_json(diffid: int, error: ApiError) -> dict[str, Any]:
    """The ``--json`` object for a failed call."""
    return {"diffid": diffid, "error": error.to_json()}


def emit_json(obj: Mapping[str, Any], out: TextIO) -> None:
    """One JSON Lines record, flushed so a pipe sees it at once."""
    out.write(json.dumps(obj, ensure_ascii=True) + "\n")
    out.flush()


def _report_error(diffid: int, error: ApiError, as_json: bool, out: TextIO) -> None:
    if as_json:
        emit_json(error_json(diffid, error), out)
    else:
        print_error(f"diff {diffid}: {error.message}")


# --- status and retry -------------------------------------------------------------


async def _status_all(args: argparse.Namespace, ids: list[int], out: TextIO) -> int:
    conn = load_connection(args)
    result = ExitCode.OK
    width = max(len(str(i)) for i in ids)
    async with make_client(conn) as client:
        gate = asyncio.Semaphore(STATUS_CONCURRENCY)

        async def one(diffid: int) -> DiffJob | ApiError:
            async with gate:
                try:
                    return await client.status(diffid, diff_info=args.info)
                except ApiError as exc:
                    return exc

        tasks = [asyncio.create_task(one(diffid)) for diffid in ids]
        try:
            # Awaited in order so output order is the order asked, while up to
            # STATUS_CONCURRENCY requests are in flight.
            for diffid, task in zip(ids, tasks, strict=True):
                outcome = await task
                if isinstance(outcome, ApiError):
                    _report_error(diffid, outcome, args.json, out)
                    if outcome.kind in CONFIG_KINDS:
                        return ExitCode.CONFIG
                    result = ExitCode.FAILED
                elif args.json:
                    emit_json(outcome.to_json(), out)
                else:
                    print(job_line(outcome, width, time.time()), file=out, flush=True)
                    if args.info:
                        print("\n".join(info_lines(outcome)), file=out, flush=True)
        finally:
            for task in tasks:
                task.cancel()
    return result


def run_status(args: argparse.Namespace) -> int:
    """``status ID... [--info] [--json]``."""
    ids = resolve_ids(args)
    return asyncio.run(_status_all(args, ids, sys.stdout))


async def _retry_all(args: argparse.Namespace, ids: list[int], out: TextIO) -> int:
    conn = load_connection(args)
    result = ExitCode.OK
    width = max(len(str(i)) for i in ids)
    async with make_client(conn) as client:
        # One at a time, once each: a retry is never sent twice, even on failure.
        for diffid in ids:
            try:
                job = await client.retry(diffid)
            except RetryOutcomeUnknown as exc:
                result = ExitCode.FAILED
                if args.json:
                    emit_json(error_json(diffid, exc), out)
                else:
                    print(f"{diffid:>{width}}  {'unknown':<{STATE_WIDTH}}", file=out, flush=True)
                    print_error(
                        f"diff {diffid}: {exc.message}; check with: imagediff-tui status {diffid}"
                    )
                continue
            except ApiError as exc:
                _report_error(diffid, exc, args.json, out)
                if exc.kind in CONFIG_KINDS:
                    return ExitCode.CONFIG
                result = ExitCode.FAILED
                continue
            if args.json:
                emit_json(job.to_json(), out)
            else:
                print(job_line(job, width, time.time()), file=out, flush=True)
    return result


def run_retry(args: argparse.Namespace) -> int:
    """``retry ID... [--json]``: each diff retried exactly once, in order."""
    ids = resolve_ids(args)
    return asyncio.run(_retry_all(args, ids, sys.stdout))


# --- watch ------------------------------------------------------------------------


def next_interval(job: DiffJob, base: float, now: float) -> float:
    """Seconds until the next poll of a job that is not finished yet.

    Waiting jobs change slowly; a running job far from its ETA is polled less often
    (half the time left, capped), and at ``base`` once near or past it.
    """
    if job.state is not None and job.state.is_waiting:
        return max(base, min(15.0, 3 * base))
    if job.eta is not None and job.eta > now:
        return min(max(base, (job.eta - now) / 2), max(base, 30.0))
    return base


def error_delay(failures: int, base: float, error: ApiError, cap: float) -> float:
    """Exponential backoff with jitter; the server's Retry-After wins when longer."""
    delay: float = min(cap, base * 2.0 ** min(failures, 16)) * random.uniform(0.8, 1.2)
    retry_after = getattr(error, "retry_after", None)
    if isinstance(retry_after, float | int):
        delay = max(delay, float(retry_after))
    return delay


@dataclass(slots=True)
class _Watched:
    diffid: int
    job: DiffJob | None = None
    error: ApiError | None = None
    failures: int = 0
    next_at: float = 0.0
    done: bool = False
    last_emitted: tuple[Any, ...] | None = None


class _WatchView:
    """Where ``watch`` output goes: a redrawn block on a TTY, change lines otherwise."""

    def __init__(self, entries: list[_Watched], out: TextIO, *, as_json: bool) -> None:
        self.entries = entries
        self.out = out
        self.as_json = as_json
        self.live = not as_json and out.isatty()
        self.width = max(len(str(e.diffid)) for e in entries)
        self._drawn: list[str] = []

    def _line(self, entry: _Watched, now: float, monotonic: float) -> str:
        if entry.job is None:
            text = f"{entry.diffid:>{self.width}}  {'…':<{STATE_WIDTH}}"
        else:
            text = job_line(entry.job, self.width, now)
        if entry.error is not None:
            if entry.done:
                text += f"  [{entry.error.message}]"
            else:
                wait = max(0.0, entry.next_at - monotonic)
                text += f"  [{entry.error.message}; next try in {wait:.0f}s]"
        return text

    def redraw(self, now: float, monotonic: float) -> None:
        """On a TTY, rewrite the block in place, in one write, only if it changed."""
        if not self.live:
            return
        columns = max(20, shutil.get_terminal_size((100, 24)).columns - 1)
        # Lines are cut to the terminal width so none wraps and cursor-up stays exact.
        lines = [self._line(e, now, monotonic)[:columns] for e in self.entries]
        if lines == self._drawn:
            return
        parts = [f"\x1b[{len(self._drawn)}F"] if self._drawn else []
        parts.extend(f"\x1b[2K{line}\n" for line in lines)
        self.out.write("".join(parts))
        self.out.flush()
        self._drawn = lines

    def changed(self, entry: _Watched, now: float) -> None:
        """A poll finished: in line mode print it if something worth saying changed."""
        if self.live:
            return
        if entry.error is not None:
            key: tuple[Any, ...] = ("error", entry.error.kind, entry.error.message)
        elif entry.job is not None:
            job = entry.job
            key = ("job", job.state, job.state_name, job.progress, job.error, job.eta)
        else:
            return
        if key == entry.last_emitted:
            return
        entry.last_emitted = key
        if entry.error is not None:
            _report_error(entry.diffid, entry.error, self.as_json, self.out)
        elif entry.job is not None:
            if self.as_json:
                emit_json(entry.job.to_json(), self.out)
            else:
                print(job_line(entry.job, self.width, now), file=self.out, flush=True)


async def _watch_all(args: argparse.Namespace, ids: list[int], out: TextIO) -> int:
    conn = load_connection(args)
    base = args.interval if args.interval is not None else DEFAULT_WATCH_INTERVAL
    entries = [_Watched(diffid) for diffid in ids]
    view = _WatchView(entries, out, as_json=args.json)
    call_failed = False
    paused_until = 0.0
    async with make_client(conn) as client:
        while pending := [e for e in entries if not e.done]:
            wake = max(paused_until, min(e.next_at for e in pending))
            while (left := wake - time.monotonic()) > 0:
                view.redraw(time.time(), time.monotonic())
                # Short naps on a TTY keep the ETA countdown ticking.
                await asyncio.sleep(min(left, 1.0) if view.live else left)
            for entry in pending:
                if entry.next_at > time.monotonic() or time.monotonic() < paused_until:
                    continue
                try:
                    job = await client.status(entry.diffid)
                except ApiError as exc:
                    entry.error = exc
                    if exc.kind in CONFIG_KINDS:
                        entry.done = True
                        view.changed(entry, time.time())
                        view.redraw(time.time(), time.monotonic())
                        if view.live:
                            print_error(f"diff {entry.diffid}: {exc.message}")
                        return ExitCode.CONFIG
                    if exc.kind in PERMANENT_KINDS:
                        entry.done = True
                        call_failed = True
                    else:
                        entry.failures += 1
                        delay = error_delay(entry.failures, base, exc, conn.poll.backoff_max)
                        entry.next_at = time.monotonic() + delay
                        if exc.kind == "rate-limited" or getattr(exc, "retry_after", None):
                            # The whole account is asked to slow down, not one diff.
                            paused_until = entry.next_at
                else:
                    entry.job, entry.error, entry.failures = job, None, 0
                    if job.is_terminal:
                        entry.done = True
                    else:
                        entry.next_at = time.monotonic() + next_interval(job, base, time.time())
                view.changed(entry, time.time())
            view.redraw(time.time(), time.monotonic())
    if view.live:
        for entry in entries:
            if entry.error is not None and entry.done:
                print_error(f"diff {entry.diffid}: {entry.error.message}")
    ended_failed = any(e.job is not None and e.job.failed for e in entries)
    if call_failed or (args.exit_status and ended_failed):
        return ExitCode.FAILED
    return ExitCode.OK


def run_watch(args: argparse.Namespace) -> int:
    """``watch ID... [--exit-status] [--json] [--interval S]``: poll until all are done."""
    ids = resolve_ids(args)
    return asyncio.run(_watch_all(args, ids, sys.stdout))


# --- registration -----------------------------------------------------------------


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError("the interval must be between 0.1 and 3600 seconds")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``status``, ``retry`` and ``watch``; each sets ``handler``."""
    parent = connection_options()
    ids_help = "diff IDs (default: the current profile's watchlist)"

    status = subparsers.add_parser(
        "status", parents=[parent], help="show diffs' state, progress and ETA"
    )
    status.add_argument("ids", nargs="*", metavar="ID", help=ids_help)
    status.add_argument("--info", action="store_true", help="also game, machine, image, files")
    status.add_argument("--json", action="store_true", help="JSON Lines output")
    status.set_defaults(handler=run_status)

    retry = subparsers.add_parser(
        "retry", parents=[parent], help="retry Completed or Failed diffs (each sent once)"
    )
    retry.add_argument("ids", nargs="*", metavar="ID", help=ids_help)
    retry.add_argument("--json", action="store_true", help="JSON Lines output")
    retry.set_defaults(handler=run_retry)

    watch = subparsers.add_parser(
        "watch", parents=[parent], help="poll diffs until every one has finished"
    )
    watch.add_argument("ids", nargs="*", metavar="ID", help=ids_help)
    watch.add_argument("--exit-status", action="store_true", help="exit 1 if a diff ended Failed")
    watch.add_argument("--json", action="store_true", help="JSON Lines output, one per change")
    watch.add_argument(
        "--interval",
        type=_interval,
        default=None,
        metavar="S",
        help=f"base poll interval in seconds (default {DEFAULT_WATCH_INTERVAL:g})",
    )
    watch.set_defaults(handler=run_watch)
