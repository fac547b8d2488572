"""The ``profile`` command: add, list, check, remove profiles and choose the default one.

A profile is a named set of credentials for one Clanforge account, kept in the
config file (mode 0600). The secret key is stored there, or named by an
environment variable (``--secret-env``), or printed by a command such as a
password manager (``--secret-command``). Secrets are never printed.

``profile add`` asks the server whether it accepts the keys before saving them
(``--no-check``: it does not ask), and ``profile check`` asks again at any time: one
read-only call, the status of a diff that cannot exist. 404 means the keys were
accepted (the server looked for the diff); 401 or 403 that they were refused.

Example:
    >>> parser = argparse.ArgumentParser(prog="imagediff-tui")
    >>> register(parser.add_subparsers())
    >>> parser.parse_args(["profile", "list"]).handler.__name__
    'run_list'
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import os
import re
import shlex
import sys
from collections.abc import Callable
from typing import Final

from tui.api.errors import ApiError, NotFound
from tui.api.urls import api_url_problem, normal_api_url
from tui.cli.common import CliError, ExitCode, Subcommands, add_command, add_command_group
from tui.domain.ids import MAX_DIFF_ID
from tui.domain.text import plain
from tui.store.atomic_file import LockTimeout
from tui.store.config import (
    DEFAULT_API_URL,
    Config,
    ConfigError,
    Profile,
    load_config,
    parse_asid,
    update_config,
)
from tui.store.paths import app_paths
from tui.store.profile_secret import resolve_secret
from tui.store.settings import ENV_PROFILE

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


UNKNOWN_DIFF: Final = MAX_DIFF_ID
"""The diff the keys check asks about: an ID no account has (the largest possible)."""


class KeysRefused(CliError):
    """The server refused the keys (401 or 403)."""


def check_keys(profile: Profile, secret: str) -> str:
    """Ask the server whether it accepts ``profile``'s keys; the answer in words.

    :class:`KeysRefused` (exit 3) on 401/403, :class:`CliError` (exit 1) when the
    server cannot tell (out of reach, another error).
    """
    from tui.api.client import ClanforgeClient

    asid, access_key = profile.asid, profile.access_key
    assert asid is not None and access_key is not None

    async def ask() -> None:
        async with ClanforgeClient(profile.api_url, asid, access_key, secret) as client:
            await client.status(UNKNOWN_DIFF)

    where = f"{profile.api_url} (ASID {profile.asid})"
    try:
        asyncio.run(ask())
    except NotFound:
        return f"keys accepted by {where}"
    except ApiError as exc:
        if exc.account_wide:
            status = f"{exc.http_status}: " if exc.http_status is not None else ""
            raise KeysRefused(
                f"the server refused the keys of profile {profile.name!r} ({status}"
                f"{exc.message}): check the access key and the secret key (Clanforge "
                f"dashboard, Auth Keys) and that they have access to ASID {profile.asid}",
                ExitCode.CONFIG,
            ) from None
        raise CliError(
            f"could not check the keys of profile {profile.name!r} at {where}: {exc.message}",
            ExitCode.FAILED,
        ) from None
    # The diff exists after all: the keys could read it, so they were accepted.
    return f"keys accepted by {where}"


def _checked_before_saving(profile: Profile) -> str:
    """:func:`check_keys` for a profile not saved yet: every failure says nothing was
    saved, and how to save it without asking."""
    unsaved = "; nothing was saved (--no-check saves the profile without asking the server)"
    try:
        return check_keys(profile, resolve_secret(profile))
    except ConfigError as exc:
        raise CliError(f"{exc}{unsaved}", ExitCode.CONFIG) from None
    except CliError as exc:
        raise type(exc)(f"{exc}{unsaved}", exc.code) from None


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
    # A broken config file is said before the keys are asked about.
    load_config(app_paths().config_file)
    checked = "" if args.no_check else f"; {_checked_before_saving(profile)}"

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
    print(f"saved profile {name}{note} to {where}{checked}")
    return ExitCode.OK


def run_check(args: argparse.Namespace) -> int:
    """Ask the server whether it accepts a profile's keys (default: the default profile)."""
    config = load_config(app_paths().config_file)
    name = args.name or os.environ.get(ENV_PROFILE) or config.default_profile
    if name is None:
        raise CliError(
            "there is no profile to check; add one with: imagediff-tui profile add NAME "
            "--asid N --access-key KEY",
            ExitCode.USAGE,
        )
    profile = config.profiles.get(name)
    if profile is None:
        raise _missing(name, config)
    if profile.asid is None or not profile.access_key:
        raise CliError(
            f"profile {name!r} has no ASID or access key; replace it with: imagediff-tui "
            f"profile add {name} --replace ...",
            ExitCode.CONFIG,
        )
    print(f"profile {plain(name)}: {plain(check_keys(profile, resolve_secret(profile)))}")
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
            "not a terminal, and stored in the config file (mode 0600). The keys are "
            "checked first (see 'profile check'); refused keys are not saved (exit 3)."
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
    add.add_argument(
        "--no-check",
        action="store_true",
        help="save without asking the server whether it accepts the keys (offline)",
    )

    check = add_command(
        commands,
        "check",
        run_check,
        help="ask the server whether it accepts a profile's keys",
        description=(
            "Ask the server whether it accepts the keys of profile NAME (default: "
            "CLANFORGE_PROFILE, else the default profile), with one read-only call: "
            "the status of a diff that cannot exist. 404: accepted (exit 0); 401 or "
            "403: refused (exit 3); no answer: exit 1."
        ),
    )
    check.add_argument("name", metavar="NAME", nargs="?", default=None)

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
