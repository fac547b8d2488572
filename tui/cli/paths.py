"""The ``paths`` command: where each file the app reads or writes lives.

Example:
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["paths"]).handler.__name__
    'run_paths'
"""

from __future__ import annotations

import argparse
import json

from tui.cli.common import ExitCode, Subcommands, add_command, add_json_flag
from tui.domain.text import plain
from tui.store.paths import app_paths


def run_paths(args: argparse.Namespace) -> int:
    """Print the config file, watchlist, its status cache, journal, log file and user themes
    folder (they need not exist)."""
    paths = app_paths()
    rows = {
        "config": paths.config_file,
        "watchlist": paths.watchlist_file,
        "cache": paths.status_cache_file,
        "journal": paths.journal_file,
        "log": paths.log_file,
        "themes": paths.themes_dir,
    }
    if getattr(args, "json", False):
        print(json.dumps({name: str(path) for name, path in rows.items()}))
        return ExitCode.OK
    width = max(len(name) for name in rows)
    for name, path in rows.items():
        print(f"{name:<{width}}  {plain(str(path))}")
    return ExitCode.OK


def register(subparsers: Subcommands) -> None:
    """Add ``paths``; it sets ``handler`` to ``fn(args) -> int``."""
    parser = add_command(
        subparsers,
        "paths",
        run_paths,
        help="show where the config, watchlist, journal, log and themes live",
        description=run_paths.__doc__,
    )
    add_json_flag(parser, "one JSON object")
