"""The ``themes`` command: ``themes list`` and ``themes path``.

Example:
    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> args = parser.parse_args(["themes", "path"])
    >>> args.handler.__name__
    'run_path'
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.cli.common import ExitCode, Subcommands, add_command, add_command_group, print_warning
from tui.domain.text import plain
from tui.store.paths import app_paths

# tui.ui.themes imports Textual, which is slow to import: it is imported by the handler
# that needs it, so that every other command starts without it.


def user_themes_dir() -> Path:
    """The folder the user puts their own ``*.toml`` theme files in (the one the TUI reads)."""
    return app_paths().themes_dir


def run_list(args: argparse.Namespace) -> int:
    """Print every theme: name, dark/light, origin and file; ``*`` marks the default.

    Broken user theme files are reported on stderr, one line each; the rest are
    still listed and the exit code stays 0, so one typo does not hide the others.
    """
    from tui.ui.themes import DEFAULT_THEME, load_catalog

    catalog = load_catalog(user_themes_dir())
    for error in catalog.errors:
        print_warning(str(error))
    names = catalog.names()
    width = max((len(name) for name in names), default=0)
    for name in names:
        source = catalog.themes[name]
        marker = "*" if name == DEFAULT_THEME else " "
        mode = "dark" if source.theme.dark else "light"
        # Paths are printed made safe: a file name is user-controlled text too.
        print(f"{marker} {name:<{width}}  {mode:<5}  {source.origin:<8}  {plain(str(source.path))}")
    return ExitCode.OK


def run_path(args: argparse.Namespace) -> int:
    """Print the user themes folder (it need not exist yet)."""
    print(plain(str(user_themes_dir())))
    return ExitCode.OK


def register(subparsers: Subcommands) -> None:
    """Add ``themes list`` and ``themes path``; each sets ``handler`` to ``fn(args) -> int``."""
    commands = add_command_group(
        subparsers,
        "themes",
        help="list themes or show the user themes folder",
        description=(
            "Themes are TOML files. Built-in themes ship with the app; put your own "
            "*.toml files in the folder that 'themes path' prints. A user theme with a "
            "built-in theme's name replaces it."
        ),
    )
    add_command(
        commands,
        "list",
        run_list,
        help="list every theme (* marks the default)",
        description=(
            "Print each theme's name, dark or light, origin (built-in or user) and file. "
            "'*' marks the default theme (used when config.toml names none). Broken user "
            "theme files are reported on stderr and skipped."
        ),
    )
    add_command(
        commands,
        "path",
        run_path,
        help="print the user themes folder",
        description="Print the folder where your own theme files (*.toml) are read from.",
    )
