"""A profile's secret key: stored in the config file, from an environment variable, or
printed by the profile's ``secret_command`` (run without a shell, with a time limit,
its output never quoted in an error)."""

from __future__ import annotations

import os
import selectors
import shlex
import subprocess
import time
from collections.abc import Mapping
from typing import Final

from tui.store.config import ConfigError, Profile

SECRET_COMMAND_TIMEOUT: Final = 30.0


def resolve_secret(profile: Profile, *, env: Mapping[str, str] | None = None) -> str:
    """The profile's secret key: stored, from its environment variable, or from its command.

    The command is split with :func:`shlex.split` and run without a shell; its
    standard output (without the final newline) is the secret. A failure raises
    :class:`ConfigError` that never quotes the command's output.
    """
    environ = os.environ if env is None else env
    if profile.secret is not None:
        return profile.secret
    if profile.secret_env is not None:
        value = environ.get(profile.secret_env, "")
        if not value:
            raise ConfigError(
                f"profile {profile.name!r}: the secret key comes from environment variable "
                f"{profile.secret_env}, which is not set"
            )
        return value
    if profile.secret_command is not None:
        return _run_secret_command(profile.name, profile.secret_command)
    raise ConfigError(
        f"profile {profile.name!r} has no secret key; set CLANFORGE_SECRET_KEY or run: "
        f"imagediff-tui profile add {profile.name} ..."
    )


def _run_secret_command(name: str, command: str) -> str:
    where = f"profile {name!r}: secret_command"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"{where}: cannot split the command: {exc}") from None
    if not argv:
        raise ConfigError(f"{where} is empty")
    try:
        # stderr is left to the terminal, as git does for credential helpers, so a
        # helper can explain itself; stdout (the secret) is captured.
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ConfigError(f"{where}: command not found: {argv[0]}") from None
    except PermissionError:
        raise ConfigError(f"{where}: not allowed to run {argv[0]}") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot run {argv[0]}: {exc.strerror or exc}") from None
    with process:
        try:
            output = _output_until_exit(process, SECRET_COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Only the command itself is ours to end; see _output_until_exit.
            process.kill()
            raise ConfigError(
                f"{where}: {argv[0]} did not finish within {SECRET_COMMAND_TIMEOUT:g} s"
            ) from None
    if process.returncode != 0:
        raise ConfigError(f"{where}: {argv[0]} exited with status {process.returncode}")
    try:
        secret = output.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: {argv[0]} printed something that is not UTF-8") from None
    secret = secret.removesuffix("\n").removesuffix("\r")
    if not secret.strip():
        raise ConfigError(f"{where}: {argv[0]} printed nothing")
    if "\n" in secret:
        raise ConfigError(f"{where}: {argv[0]} printed more than one line")
    return secret


_EXIT_CHECK_STEP: Final = 0.05
"""Seconds between checks whether the secret command has exited."""


def _output_until_exit(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """What ``process`` wrote to its standard output by the time it exited.

    Not until end of file: a background child it left behind (a daemon such as
    gpg-agent, started on purpose) inherits the pipe and may hold it open for hours.
    That child is not killed: it is not ours, and it runs in the user's session
    rather than a new one, so that a helper can still ask for a passphrase on the
    terminal. Raises :class:`subprocess.TimeoutExpired` after ``timeout`` seconds.
    """
    assert process.stdout is not None
    pipe = process.stdout.fileno()
    os.set_blocking(pipe, False)
    deadline = time.monotonic() + timeout
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as selector:
        selector.register(pipe, selectors.EVENT_READ)
        while True:
            # Checked before reading: all it wrote before exiting is then in the pipe.
            exited = process.poll() is not None
            if _read_available(pipe, chunks):
                process.wait(max(0.0, deadline - time.monotonic()))
                break
            if exited:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(process.args, timeout)
            selector.select(min(remaining, _EXIT_CHECK_STEP))
    return b"".join(chunks)


def _read_available(pipe: int, chunks: list[bytes]) -> bool:
    """Append what can be read from the non-blocking ``pipe`` now; True at end of file."""
    while True:
        try:
            data = os.read(pipe, 65536)
        except BlockingIOError:
            return False
        if not data:
            return True
        chunks.append(data)
