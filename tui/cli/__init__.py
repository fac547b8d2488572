"""The ``imagediff-tui`` command: the TUI by default, or one scriptable subcommand.

Subcommands live in this package's modules; each exposes ``register(subparsers)``
and sets ``handler`` to ``fn(args) -> int``. This module only wires them together
and turns every failure into one line on stderr and a documented exit code
(:func:`~tui.cli.common.exit_code_for` says which).
Nothing here imports Textual: the TUI is imported only when it is launched.

Example:
    >>> build_parser().parse_args(["status", "4101"]).ids
    ['4101']
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from typing import TYPE_CHECKING

from tui import __version__
from tui.api.errors import ApiError
from tui.cli.common import (
    EXIT_TERMINATED,
    PROG,
    ExitCode,
    Handler,
    Terminated,
    connection_options,
    exit_code_for,
    print_error,
    print_warning,
)
from tui.cli.std_streams import CheckedOutput, OutputError, hold_closed_streams
from tui.store.config import ConfigError
from tui.store.log_file import RedactingFormatter, log_to_file, redact
from tui.store.paths import app_paths

if TYPE_CHECKING:
    from tui.ui.launch import LaunchOptions

EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells report a command stopped by Ctrl-C."""


def _root_parser(*, add_help: bool = True) -> argparse.ArgumentParser:
    """The options of the terminal UI and of every command, without the commands."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Watch, retry, accept and reject Multiplay Clanforge image-diff jobs. "
            "Without a command, opens the terminal UI."
        ),
        parents=[connection_options()],
        add_help=add_help,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    tui_group = parser.add_argument_group("terminal UI")
    tui_group.add_argument(
        "--demo", action="store_true", help="run against a built-in simulator (no real account)"
    )
    tui_group.add_argument(
        "--read-only", action="store_true", help="disable retry and other changing actions"
    )
    tui_group.add_argument("--theme", metavar="NAME", help="colour theme (see `themes list`)")
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The root parser with every subcommand present in this tree."""
    # Imported here, not at the top: the terminal UI needs none of them before its
    # first paint (see README, Performance).
    from tui.cli import events as cli_events
    from tui.cli import jobs as cli_jobs
    from tui.cli import lifecycle as cli_lifecycle
    from tui.cli import paths as cli_paths
    from tui.cli import profile as cli_profile
    from tui.cli import simulate as cli_simulate
    from tui.cli import themes as cli_themes
    from tui.cli import version as cli_version
    from tui.cli import watchlist as cli_watchlist

    parser = _root_parser()
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Explicit, in the order of `--help`: no discovery, so what runs is what is listed.
    cli_jobs.register(subparsers)
    cli_lifecycle.register(subparsers)
    cli_version.register(subparsers)
    cli_watchlist.register(subparsers)
    cli_events.register(subparsers)
    cli_profile.register(subparsers)
    cli_paths.register(subparsers)
    cli_themes.register(subparsers)
    cli_simulate.register(subparsers)
    return parser


def _names_a_command(argv: list[str] | None) -> bool:
    """False when ``argv`` holds only the terminal UI's options (then the commands'
    modules are not imported); anything else (a command, ``--help``, a typo) gets the
    whole parser and its usual answer."""
    _known, rest = _root_parser(add_help=False).parse_known_args(argv)
    return bool(rest)


def _configure_logging(debug: bool, *, tui: bool) -> None:
    # The TUI draws on the terminal: its debug lines go to the log file only.
    if debug and not tui:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.basicConfig(level=logging.DEBUG, handlers=[stderr])


def _log_to_file(debug: bool) -> None:
    # The TUI sets up its own log; a command that cannot open the log still runs.
    notice = log_to_file(app_paths().log_file, debug=debug)
    if notice is not None:
        print_warning(notice)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see :class:`ExitCode`)."""
    hold_closed_streams()
    parser = build_parser() if _names_a_command(argv) else _root_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    handler = getattr(args, "handler", None)
    _configure_logging(debug, tui=handler is None)
    if handler is not None:
        _log_to_file(debug)
    try:
        if handler is None:
            # Paused before the app's modules load; the first frame resumes it.
            from tui.ui.startup import collector_paused

            with collector_paused():
                from tui.ui.launch import run_app

                return int(run_app(_launch_options(args)))
        return _run_command(handler, args)
    except OutputError as exc:
        print_error(str(exc))
        _silence_stdout()
        return int(ExitCode.FAILED)
    except ApiError as exc:
        print_error(exc.message)
        return int(exit_code_for(exc) or ExitCode.FAILED)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Terminated:
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader went away (``| head``): not worth a message; silence the flush too.
        _silence_stdout()
        return int(ExitCode.FAILED)
    except Exception as exc:
        code = exit_code_for(exc)
        if debug and (code is None or isinstance(exc, ConfigError)):
            traceback.print_exc()
        if code is not None:
            print_error(str(exc))
            return int(code)
        print_error(f"internal error: {type(exc).__name__}: {redact(str(exc))}")
        if not debug:
            print(f"{PROG}: rerun with --debug to see the traceback", file=sys.stderr)
        return int(ExitCode.FAILED)


def _run_command(handler: Handler, args: argparse.Namespace) -> int:
    """``handler``'s exit code; its output is flushed here, so that a write error is
    reported like any other."""
    stdout = sys.stdout
    sys.stdout = CheckedOutput(stdout)
    try:
        code = int(handler(args))
        sys.stdout.flush()
        return code
    finally:
        sys.stdout = stdout


def _launch_options(args: argparse.Namespace) -> LaunchOptions:
    # Connection flags default to SUPPRESS (see connection_options): absent, not None.
    from tui.ui.launch import LaunchOptions

    return LaunchOptions(
        demo=bool(args.demo),
        read_only=bool(args.read_only),
        theme=args.theme,
        debug=bool(getattr(args, "debug", False)),
        profile=getattr(args, "profile", None),
        api_url=getattr(args, "api_url", None),
        asid=getattr(args, "asid", None),
    )


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
