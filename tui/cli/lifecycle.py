"""The ``accept``, ``reject`` and ``create`` commands: the rest of a diff's life.

A Completed diff that is neither accepted nor rejected keeps its image locked (API.md,
Locks). ``accept`` turns it into an image version (a job, followed with ``version
watch``), ``reject`` drops it (with ``--reinstall 1`` the machine is put back, an
uninstall job). Both need their choice said: ``--restart`` and ``--reinstall`` have
no default, and without them nothing is sent (exit 2).

Each diff named is sent once, in order; a 429 or 503 (the server did nothing) is sent
again after the wait, a timeout or lost answer never: its outcome is unknown, and a
status read cannot tell whether a diff was accepted or rejected (check the Clanforge
dashboard). The watchlist file keeps an unknown accept or reject, and neither command
nor the app sends one to that diff again unless told so (``--again``). The server's
refusal is shown as it said it. Every action goes to
the journal (sent, then its outcome), and the watchlist records it: ``accept`` links
the image version to its diff's entry, ``reject`` notes it, ``create`` adds the diff.

JSON Lines, with the API's field names::

    {"imageversionid": 700001, "diffid": 4113, "jobstateid": 1, ..., "success": true}
    {"diffid": 4108, "success": true}                          # reject --reinstall 0
    {"uninstalljobid": 900001, "diffid": 4108, "jobstateid": 1, ..., "success": true}
    {"diffid": 4114, "jobstateid": 1, ..., "success": true}    # create
    {"diffid": 4113, "error": {"kind": "refused", "http_status": 400, "message": "..."}}

Exit codes as every command: 0 all done, 1 a call failed, was refused or its outcome is
unknown (``version watch --exit-status``: a version ended Failed), 2 bad input or a
missing choice (nothing sent), 3 credentials or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import functools
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final, TextIO, TypeVar

from tui.api.client import ClanforgeClient, check_game_build
from tui.api.errors import ApiError
from tui.cli.common import (
    CliError,
    ExitCode,
    Subcommands,
    add_command,
    add_json_flag,
    checked_option,
    connection_options,
    failure_code,
    print_error,
)
from tui.cli.output import any_job_line, emit_json, report_error
from tui.cli.pacing import (
    TimeLimit,
    add_timeout_option,
    each_once,
    make_pacer,
    report_unanswered,
)
from tui.cli.sending import (
    JournalAndWatchlist,
    Sending,
    interrupted_error,
    run_actions,
    send_action,
)
from tui.cli.targets import load_connection, parse_ids
from tui.domain.actions import ActionOutcome, how_unknown_settles
from tui.domain.ids import InvalidDiffId, parse_diff_id
from tui.domain.jobs import UninstallJob, VersionJob
from tui.domain.watch_entry import Accepted, LastStatus, Rejected
from tui.polling.job_view import AcceptOptions
from tui.store.journal import new_ref
from tui.store.settings import Settings, make_client
from tui.store.watchlist.file import clean_label

_T = TypeVar("_T")

RESTART_CHOICE: Final = (
    "1 stops every game server using the image during the install and restarts them "
    "after; 0 lets them pick the new version up when they next exit or reallocate"
)
SENT_TIMEOUT: Final = (
    "for every answer; one sent and not answered by then has an unknown outcome, the "
    "rest are not sent"
)
REINSTALL_CHOICE: Final = (
    "1 also puts the build machine back to the last good image (an uninstall job); "
    "0 only rejects the diff"
)


def report_failure(action: str, diffid: int, error: ApiError, as_json: bool, out: TextIO) -> None:
    """The refusal as the server said it; an outcome that may be done says how to
    check (a status read cannot tell whether a diff was accepted or rejected)."""
    if error.may_have_acted and not as_json:
        print_error(
            f"diff {diffid}: {error.message}; it may have been done: "
            f"{how_unknown_settles(action)}. The watchlist keeps it as unknown: {action} "
            f"again only with --again"
        )
        return
    report_error(diffid, error, as_json, out)


def _width(ids: Sequence[int]) -> int:
    return max(len(str(i)) for i in ids)


# --- accept -------------------------------------------------------------------------


def _journal_words(options: AcceptOptions) -> str:
    """The options as the command line's journal entries say them."""
    parts = [f"restart={int(options.restart)}"]
    parts += ["full=1"] if options.full else []
    parts += [f"game_build={options.game_build}"] if options.game_build is not None else []
    parts += ["force=1"] if options.force else []
    return " ".join(parts)


def accept_options(args: argparse.Namespace) -> AcceptOptions:
    """The options, checked before anything is sent (a missing choice exits 2)."""
    if args.restart is None:
        raise CliError(
            f"accept needs --restart 0 or 1 ({RESTART_CHOICE}); nothing was sent",
            ExitCode.USAGE,
        )
    game_build = checked_option(
        "--game-build", args.game_build, check_game_build, note="; nothing was sent"
    )
    return AcceptOptions(args.restart == "1", args.full, game_build, args.force)


async def send_each(
    args: argparse.Namespace,
    conn: Settings,
    ids: Sequence[int],
    action: str,
    what: str,
    call: Callable[[ClanforgeClient, int], Awaitable[_T]],
    done: Callable[[JournalAndWatchlist, int, _T, Line], None],
) -> int:
    """``action`` on each diff, once, in order; ``done`` records and prints each answer."""
    out = sys.stdout
    records = JournalAndWatchlist(conn)
    pacer = make_pacer(conn)
    line = Line(_width(ids), args.json, out)
    limit = TimeLimit(args.timeout)
    async with make_client(conn) as client:

        def failed(diffid: int, error: ApiError) -> None:
            report_failure(action, diffid, error, args.json, out)

        def interrupted(diffid: int, error: ApiError) -> None:
            # A --timeout is said once for all, by the line that ends the command.
            if not limit.ran_out:
                failed(diffid, error)

        def send(diffid: int) -> Awaitable[_T]:
            call_it = functools.partial(call, client, diffid)
            return send_action(
                pacer, records, diffid, action, call_it, what, interrupted, limit, again=args.again
            )

        return await each_once(
            ids,
            send,
            lambda diffid, answer: done(records, diffid, answer, line),
            failed,
            lambda missing: report_unanswered(pacer, missing, args.timeout, args.json, out),
            limit,
        )


@dataclasses.dataclass(frozen=True)
class Line:
    """Where and how an action's answer is printed."""

    id_width: int
    as_json: bool
    out: TextIO

    def show(self, diffid: int, text: str, job: Mapping[str, Any]) -> None:
        """``job`` as a JSON line, or ``diffid`` and ``text`` as a human one."""
        if self.as_json:
            emit_json(job, self.out)
        else:
            print(f"{diffid:>{self.id_width}}  {text}".rstrip(), file=self.out, flush=True)


def _accepted(
    options: AcceptOptions, records: JournalAndWatchlist, diffid: int, job: VersionJob, line: Line
) -> None:
    now = time.time()
    accepted = Accepted(
        job.imageversionid,
        options.restart,
        options.full,
        options.force,
        options.game_build,
        at=now,
        last=LastStatus.from_job(job, now),
    )
    records.store.record_decision(records.entry(diffid, accepted=accepted))
    text = any_job_line(job.imageversionid, job, 0, now)
    # The live API's answer may not name the diff; a script needs it to pair them.
    named = job if job.diffid is not None else dataclasses.replace(job, diffid=diffid)
    line.show(diffid, f"accepted: image version {text}", named.to_json())


def run_accept(args: argparse.Namespace) -> int:
    """``accept ID... --restart 0|1 [--full] [--game-build S] [--force] [--json]``."""
    options = accept_options(args)
    ids = parse_ids(args.ids)
    conn = load_connection(args)

    def accept(client: ClanforgeClient, diffid: int) -> Awaitable[VersionJob]:
        return client.accept(
            diffid,
            restart=options.restart,
            full=options.full,
            game_build=options.game_build,
            force=options.force,
        )

    done = functools.partial(_accepted, options)
    return run_actions(send_each(args, conn, ids, "accept", _journal_words(options), accept, done))


# --- reject -------------------------------------------------------------------------


def _rejected(
    reinstall: bool, records: JournalAndWatchlist, diffid: int, job: UninstallJob | None, line: Line
) -> None:
    now = time.time()
    rejected = Rejected(
        reinstall,
        job.uninstalljobid if job is not None else None,
        at=now,
        last=LastStatus.from_job(job, now) if job is not None else None,
    )
    records.store.record_decision(records.entry(diffid, rejected=rejected))
    if job is None:
        line.show(diffid, "rejected", {"diffid": diffid, "success": True})
    else:
        text = any_job_line(job.uninstalljobid, job, 0, now)
        line.show(diffid, f"rejected: uninstall job {text}", job.to_json())


def run_reject(args: argparse.Namespace) -> int:
    """``reject ID... --reinstall 0|1 [--json]``."""
    if args.reinstall is None:
        raise CliError(
            f"reject needs --reinstall 0 or 1 ({REINSTALL_CHOICE}); nothing was sent",
            ExitCode.USAGE,
        )
    ids = parse_ids(args.ids)
    conn = load_connection(args)
    reinstall = args.reinstall == "1"

    def reject(client: ClanforgeClient, diffid: int) -> Awaitable[UninstallJob | None]:
        return client.reject(diffid, reinstall=reinstall)

    done = functools.partial(_rejected, reinstall)
    what = f"reinstall={int(reinstall)}"
    return run_actions(send_each(args, conn, ids, "reject", what, reject, done))


# --- create -------------------------------------------------------------------------


def _positive_id(what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return parse_diff_id(text)
        except InvalidDiffId as exc:
            raise argparse.ArgumentTypeError(f"{what} {text!r}: {exc.reason}") from None

    return parse


async def _create(args: argparse.Namespace, conn: Settings) -> int:
    out = sys.stdout
    records = JournalAndWatchlist(conn)
    what = f"image {args.image} on machine {args.machine}"
    ref = new_ref()
    # No diff to name until the server answers with the new one.
    records.event(None, "create", ActionOutcome.SENT, what, ref)
    limit = TimeLimit(args.timeout)
    async with make_client(conn) as client:
        sending = Sending(functools.partial(client.create, args.image, args.machine))
        try:
            async with limit.scope():
                job = await make_pacer(conn).send(sending)
        except TimeoutError:
            error = interrupted_error("create", sending.in_flight, limit.cause)
            records.event(None, "create", error.action_outcome, f"{what}: {error.message}", ref)
            _create_failed(error, args, out)
            return ExitCode.FAILED
        except asyncio.CancelledError:
            error = interrupted_error("create", sending.in_flight)
            records.event(None, "create", error.action_outcome, f"{what}: {error.message}", ref)
            _create_failed(error, args, out)
            raise
        except ApiError as exc:
            records.event(None, "create", exc.action_outcome, f"{what}: {exc.message}", ref)
            _create_failed(exc, args, out)
            return failure_code(exc)
    records.event(job.diffid, "create", ActionOutcome.ACCEPTED, what, ref)
    label = clean_label(args.label or "")
    records.store.add([records.entry(job.diffid, label=label)])
    if args.json:
        emit_json({**job.to_json(), "success": job.extra.get("success", True)}, out)
    else:
        print(any_job_line(job.diffid, job, 0, time.time()), file=out, flush=True)
    return ExitCode.OK


def _create_failed(error: ApiError, args: argparse.Namespace, out: TextIO) -> None:
    if error.may_have_acted and not args.json:
        print_error(
            f"create: {error.message}; a diff may have been created: look for it in "
            "the web dashboard before creating again"
        )
    elif args.json:
        emit_json({"imageid": args.image, "error": error.to_json()}, out)
    else:
        print_error(f"create: {error.message}")


def run_create(args: argparse.Namespace) -> int:
    """``create --image I --machine M [--label T] [--json]``."""
    conn = load_connection(args)
    return run_actions(_create(args, conn))


# --- registration -------------------------------------------------------------------


def _add_again_flag(parser: argparse.ArgumentParser, harm: str) -> None:
    parser.add_argument(
        "--again",
        action="store_true",
        help=(
            "send even to a diff whose earlier accept or reject (by the app or this "
            f"command) has an unknown outcome; it may make {harm}: check the Clanforge "
            "dashboard first"
        ),
    )


def register(subparsers: Subcommands) -> None:
    """Add ``accept``, ``reject`` and ``create``; each sets ``handler``."""
    parent = connection_options()

    accept = add_command(
        subparsers,
        "accept",
        run_accept,
        parents=[parent],
        help="accept Completed diffs: create image versions (--restart required)",
        description=(
            "Create an image version from each Completed diff named, once, in order; "
            "this releases the image's lock. --restart must be given: "
            f"{RESTART_CHOICE}. The version job is added to the watchlist with its "
            "diff; follow it with `version watch`."
        ),
    )
    accept.add_argument("ids", nargs="+", metavar="ID", help="Completed diff IDs")
    accept.add_argument(
        "--restart", choices=("0", "1"), default=None, help="required: " + RESTART_CHOICE
    )
    accept.add_argument(
        "--full",
        action="store_true",
        help="make a full (rolled-up) image, not a differential one; "
        "required when the diff found no changes",
    )
    accept.add_argument(
        "--game-build",
        metavar="S",
        default=None,
        help="the game's own build string; becomes the game version's version",
    )
    accept.add_argument(
        "--force",
        action="store_true",
        help="create it even while servers of the image are allocated",
    )
    _add_again_flag(accept, "a second image version")
    add_json_flag(accept)
    add_timeout_option(accept, SENT_TIMEOUT)

    reject = add_command(
        subparsers,
        "reject",
        run_reject,
        parents=[parent],
        help="reject Completed or Failed diffs (--reinstall required)",
        description=(
            "Reject each diff named, once, in order; this releases the image's lock. "
            f"--reinstall must be given: {REINSTALL_CHOICE}."
        ),
    )
    reject.add_argument("ids", nargs="+", metavar="ID", help="Completed or Failed diff IDs")
    reject.add_argument(
        "--reinstall", choices=("0", "1"), default=None, help="required: " + REINSTALL_CHOICE
    )
    _add_again_flag(reject, "a second reject")
    add_json_flag(reject)
    add_timeout_option(reject, SENT_TIMEOUT)

    create = add_command(
        subparsers,
        "create",
        run_create,
        parents=[parent],
        help="start a new diff of an image on a machine, and watch it",
        description=(
            "Start a diff of the machine's files against the image's latest version "
            '(sent once) and add it to the watchlist. Refused with "Image locked by '
            'diffid N" while diff N is neither accepted nor rejected.'
        ),
    )
    create.add_argument(
        "--image", type=_positive_id("image ID"), required=True, metavar="I", help="image ID"
    )
    create.add_argument(
        "--machine",
        type=_positive_id("machine ID"),
        required=True,
        metavar="M",
        help="build machine ID",
    )
    create.add_argument("--label", metavar="T", default=None, help="the watchlist label")
    add_json_flag(create)
    add_timeout_option(create, SENT_TIMEOUT)
