"""What every command-line module shares: exit codes, errors, safe output."""

from __future__ import annotations

import argparse
import sys
from enum import IntEnum
from typing import TextIO

from tui.api import ApiError
from tui.atomicfile import LockTimeout
from tui.config import ConfigError
from tui.errors import UsageError
from tui.safetext import plain
from tui.watchlist import WatchlistError

PROG = "imagediff-tui"


class ExitCode(IntEnum):
    """The documented exit codes."""

    OK = 0
    FAILED = 1
    """An API call failed, or a watched job ended Failed."""
    USAGE = 2
    """A usage error or invalid input; nothing was sent."""
    CONFIG = 3
    """Configuration or authentication: missing credentials, 401, 403, bad config file."""


class CliError(Exception):
    """An error to print as one line on stderr, then exit with ``code``."""

    def __init__(self, message: str, code: ExitCode) -> None:
        super().__init__(message)
        self.code = code


def exit_code_for(exc: BaseException) -> ExitCode | None:
    """The exit code for an error the core raises on purpose; None for a defect."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, ApiError):
        return ExitCode.CONFIG if exc.stops_command else ExitCode.FAILED
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
