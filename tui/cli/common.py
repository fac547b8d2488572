"""What every command-line module shares: exit codes, errors, safe output."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import TextIO, TypeAlias, TypeVar

from tui.api.errors import ApiError
from tui.domain.errors import UsageError
from tui.domain.text import plain
from tui.store.atomic_file import LockTimeout
from tui.store.config import ConfigError
from tui.store.watchlist.file import WatchlistError

PROG = "imagediff-tui"

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
"""Where a module's ``register`` adds its commands."""
Handler: TypeAlias = Callable[[argparse.Namespace], int]
"""What a command runs: its parsed arguments in, its exit code out."""

_T = TypeVar("_T")


class ExitCode(IntEnum):
    """The documented exit codes."""

    OK = 0
    FAILED = 1
    """An API call failed, or a watched job ended Failed."""
    USAGE = 2
    """A usage error or invalid input; nothing was sent."""
    CONFIG = 3
    """Configuration or authentication: missing credentials, 401, 403, bad config file."""


EXIT_TERMINATED = 143
"""128 + SIGTERM, as shells report a command stopped by SIGTERM."""


class Terminated(BaseException):
    """SIGTERM arrived while actions were being sent: the command stops as after Ctrl-C."""


class CliError(Exception):
    """An error to print as one line on stderr, then exit with ``code``."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def failure_code(error: ApiError) -> ExitCode:
    """A failed request's exit code: CONFIG where no other request with these settings
    can succeed either (the command stops there), else FAILED."""
    return ExitCode.CONFIG if error.stops_command else ExitCode.FAILED


def exit_code_for(exc: BaseException) -> ExitCode | None:
    """The exit code for an error the core raises on purpose; None for a defect."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, ApiError):
        return failure_code(exc)
    if isinstance(exc, UsageError):
        return ExitCode.USAGE
    if isinstance(exc, ConfigError):
        return ExitCode.CONFIG
    if isinstance(exc, (WatchlistError, LockTimeout)):
        return ExitCode.FAILED
    return None


def print_error(message: str, *, stream: TextIO | None = None) -> None:
    """One line on stderr; the message is made safe (it may quote remote text)."""
    out = stream if stream is not None else sys.stderr
    print(f"{PROG}: error: {plain(message)}", file=out)


def print_warning(message: str, *, stream: TextIO | None = None) -> None:
    """One warning line on stderr."""
    out = stream if stream is not None else sys.stderr
    print(f"{PROG}: warning: {plain(message)}", file=out)


def connection_options() -> argparse.ArgumentParser:
    """A parent parser with the options every API-using command takes.

    Defaults are SUPPRESS so a value given before the subcommand is not overwritten.
    """
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--profile", default=argparse.SUPPRESS, help="profile from the config file")
    group.add_argument(
        "--api-url", default=argparse.SUPPRESS, help="API base URL (env CLANFORGE_API_URL)"
    )
    group.add_argument(
        "--asid", default=argparse.SUPPRESS, help="account service ID (env CLANFORGE_ASID)"
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="verbose log; show tracebacks",
    )
    return parent


def add_command(
    subcommands: Subcommands,
    name: str,
    handler: Handler,
    *,
    help: str,
    description: str | None = None,
    parents: Sequence[argparse.ArgumentParser] = (),
) -> argparse.ArgumentParser:
    """Add the command ``name``, which runs ``handler``; its options are added to the
    parser returned."""
    parser = subcommands.add_parser(name, parents=list(parents), help=help, description=description)
    parser.set_defaults(handler=handler)
    return parser


def add_command_group(
    subcommands: Subcommands,
    name: str,
    *,
    help: str,
    description: str | None = None,
    metavar: str = "COMMAND",
) -> Subcommands:
    """Add ``name``, a command that needs one of its own (``profile add``, ...): they
    are added to what this returns."""
    group = subcommands.add_parser(name, help=help, description=description)
    return group.add_subparsers(dest=f"{name}_command", metavar=metavar, required=True)


def add_json_flag(parser: argparse.ArgumentParser, help: str = "JSON Lines output") -> None:
    """``--json``: the command's output as JSON, as ``help`` describes it."""
    parser.add_argument("--json", action="store_true", help=help)


def checked_option(
    flag: str, value: str | None, check: Callable[[str], _T], *, note: str = ""
) -> _T | None:
    """An option's ``value`` through ``check``, None where the option was not given; a
    ValueError from ``check`` is a usage error that names ``flag`` (then ``note``)."""
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise CliError(f"{flag}: {exc}{note}", ExitCode.USAGE) from None
