"""The ``profile`` command: add, list, remove profiles and choose the default one.

A profile is a named set of credentials for one Clanforge account, kept in the
config file (mode 0600). The secret key is stored there, or named by an
environment variable (``--secret-env``), or printed by a command such as a
password manager (``--secret-command``). Secrets are never printed.

Example:
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["profile", "list"]).handler.__name__
    'run_list'
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import re
import shlex
import sys
from collections.abc import Callable
from typing import Final

from tui.api.urls import api_url_problem, normal_api_url
from tui.cli.common import CliError, ExitCode, Subcommands, add_command, add_command_group
from tui.domain.text import plain
from tui.store.atomic_file import LockTimeout
from tui.store.config import (
    DEFAULT_API_URL,
    Config,
    Profile,
    load_config,
    parse_asid,
    update_config,
)
from tui.store.paths import app_paths

_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_ENV_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise CliError(
            f"profile name {name!r} is not valid: use up to 64 letters, digits, '.', '_' or '-'",
            ExitCode.USAGE,
        )
    return name


def _read_secret() -> str:
    """The secret key from the terminal (not echoed) or one line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        secret = getpass.getpass("Secret key (not shown): ")
    else:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        secret = line.removesuffix("\n").removesuffix("\r")
    if not secret.strip():
        raise CliError(
            "no secret key given (type it at the prompt, pipe it on standard input, "
            "or use --secret-env / --secret-command)",
            ExitCode.USAGE,
        )
    return secret


def _edit(change: Callable[[Config], Config]) -> Config:
    try:
        return update_config(app_paths().config_file, change)
    except LockTimeout as exc:
        raise CliError(str(exc), ExitCode.FAILED) from None


def run_add(args: argparse.Namespace) -> int:
    """Add (or with ``--replace`` replace) a profile; the first one becomes the default."""
    name = _check_name(args.name)
    asid = parse_asid(args.asid)
    if asid is None:
        raise CliError(
            f"--asid {args.asid!r} is not an account service ID (a positive integer)",
            ExitCode.USAGE,
        )
    if not args.access_key.strip():
        raise CliError("--access-key must not be empty", ExitCode.USAGE)
    problem = api_url_problem(args.api_url)
    if problem is not None:
        raise CliError(f"--api-url {args.api_url!r} {problem}", ExitCode.USAGE)
    profile = Profile(name=name, api_url=normal_api_url(args.api_url), asid=asid)
    profile.access_key = args.access_key.strip()
    if args.secret_env is not None:
        if not _ENV_NAME.fullmatch(args.secret_env):
            raise CliError(
                f"--secret-env {args.secret_env!r} is not an environment variable name",
                ExitCode.USAGE,
            )
        profile.secret_env = args.secret_env
    elif args.secret_command is not None:
        try:
            argv = shlex.split(args.secret_command)
        except ValueError as exc:
            raise CliError(f"--secret-command: {exc}", ExitCode.USAGE) from None
        if not argv:
            raise CliError("--secret-command must not be empty", ExitCode.USAGE)
        profile.secret_command = args.secret_command
    else:
        # Checked before prompting, so a typo'd name does not waste a typed secret.
        if name in load_config(app_paths().config_file).profiles and not args.replace:
            raise _exists(name)
        profile.secret = _read_secret()

    def change(config: Config) -> Config:
        if name in config.profiles and not args.replace:
            raise _exists(name)
        profiles = dict(config.profiles)
        profiles[name] = profile
        default = config.default_profile
        if args.default or default is None:
            default = name
        return dataclasses.replace(config, profiles=profiles, default_profile=default)

    config = _edit(change)
    where = plain(str(app_paths().config_file))
    note = " (default)" if config.default_profile == name else ""
    print(f"saved profile {name}{note} to {where}")
    return ExitCode.OK


def _exists(name: str) -> CliError:
    return CliError(
        f"profile {name!r} already exists; use --replace to overwrite it", ExitCode.USAGE
    )


def _missing(name: str, config: Config) -> CliError:
    known = ", ".join(config.profiles) or "none"
    return CliError(f"there is no profile {name!r} (profiles: {known})", ExitCode.USAGE)


def run_list(args: argparse.Namespace) -> int:
    """Print each profile; ``*`` marks the default. Secrets are never shown, only their source."""
    config = load_config(app_paths().config_file)
    if not config.profiles:
        print("no profiles; add one with: imagediff-tui profile add NAME --asid N --access-key KEY")
        return ExitCode.OK
    width = max(len(name) for name in config.profiles)
    for name, profile in config.profiles.items():
        marker = "*" if name == config.default_profile else " "
        asid = str(profile.asid) if profile.asid is not None else "-"
        # The access key is half of the credentials: enough of it to tell keys apart.
        key = f"{profile.access_key[:4]}…" if profile.access_key else "-"
        print(
            plain(
                f"{marker} {name:<{width}}  asid {asid}  {profile.api_url}  "
                f"access key {key}  secret: {profile.secret_source}"
            )
        )
    return ExitCode.OK


def run_remove(args: argparse.Namespace) -> int:
    """Remove a profile (its watchlist entries stay in the watchlist file)."""
    name = args.name

    def change(config: Config) -> Config:
        if name not in config.profiles:
            raise _missing(name, config)
        profiles = {k: v for k, v in config.profiles.items() if k != name}
        default = None if config.default_profile == name else config.default_profile
        return dataclasses.replace(config, profiles=profiles, default_profile=default)

    _edit(change)
    print(f"removed profile {plain(name)}")
    return ExitCode.OK


def run_default(args: argparse.Namespace) -> int:
    """Make a profile the one used when no ``--profile`` or ``CLANFORGE_PROFILE`` is given."""
    name = args.name

    def change(config: Config) -> Config:
        if name not in config.profiles:
            raise _missing(name, config)
        return dataclasses.replace(config, default_profile=name)

    _edit(change)
    print(f"default profile is now {plain(name)}")
    return ExitCode.OK


def register(subparsers: Subcommands) -> None:
    """Add ``profile add|list|remove|default``; each sets ``handler`` to ``fn(args) -> int``."""
    commands = add_command_group(
        subparsers,
        "profile",
        help="manage credentials profiles",
        description=(
            "Profiles hold the credentials of one Clanforge account in the config file "
            "(see 'paths'). Secrets are never printed."
        ),
    )

    add = add_command(
        commands,
        "add",
        run_add,
        help="add a profile",
        description=(
            "Add a profile. Without --secret-env or --secret-command the secret key is "
            "asked for (not echoed), or read as one line from standard input when it is "
            "not a terminal, and stored in the config file (mode 0600)."
        ),
    )
    add.add_argument("name", metavar="NAME", help="profile name (letters, digits, . _ -)")
    add.add_argument("--asid", required=True, metavar="N", help="account service ID")
    add.add_argument("--access-key", required=True, metavar="KEY", help="access key")
    add.add_argument("--api-url", default=DEFAULT_API_URL, metavar="URL", help="API base URL")
    source = add.add_mutually_exclusive_group()
    source.add_argument(
        "--secret-env", metavar="VAR", help="read the secret key from this environment variable"
    )
    source.add_argument(
        "--secret-command",
        metavar="CMD",
        help="run CMD (no shell) and use its output as the secret key, e.g. 'pass show cf'",
    )
    add.add_argument("--default", action="store_true", help="make it the default profile")
    add.add_argument("--replace", action="store_true", help="overwrite a profile of that name")

    add_command(
        commands,
        "list",
        run_list,
        help="list profiles (* marks the default)",
        description=run_list.__doc__,
    )
    remove = add_command(
        commands, "remove", run_remove, help="remove a profile", description=run_remove.__doc__
    )
    remove.add_argument("name", metavar="NAME")
    default = add_command(
        commands,
        "default",
        run_default,
        help="choose the default profile",
        description=run_default.__doc__,
    )
    default.add_argument("name", metavar="NAME")
