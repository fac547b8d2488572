"""The config file: profiles (credentials), poll settings, UI settings, key bindings.

``config.toml`` lives in the user's config folder::

    default_profile = "prod"

    [profiles.prod]
    api_url = "https://api.multiplay.co.uk"
    asid = 1234
    access_key = "AK..."
    secret_command = "pass show clanforge/prod"   # or secret = "..." / secret_env = "VAR"

    [poll]
    max_requests_per_second = 4.0

    [ui]
    theme = "nord"

    [keymap]
    retry = "r,ctrl+r"

    [notify]
    desktop = true                          # OSC 9 through the terminal
    command = "notify-team --channel ops"   # the event's JSON on stdin
    on = ["failed", "refused"]

Reading is strict: a typo is an error that names the file, the key and what was
expected, rather than a setting silently ignored. As OpenSSH does with keys, a
file that stores a secret and is readable by other users is refused, and so is a
file with profiles that another user owns or can write, or in a folder they can write.
"""

from __future__ import annotations

import dataclasses
import os
import shlex
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import tomli_w

from tui.api.urls import api_url_problem, normal_api_url
from tui.domain.poll_settings import POLL_RANGES, PollSettings
from tui.store.atomic_file import atomic_write_text, ensure_private_dir, file_lock, sweep_temp_files
from tui.store.notify_events import DEFAULT_ON, NOTIFY_NAMES

DEFAULT_API_URL: Final = "https://api.multiplay.co.uk"
"""Seconds a ``secret_command`` may take (it may ask for a passphrase)."""


def account_url(url: str) -> str:
    """``url`` as the watchlist keys accounts by: scheme and host in lower case, no
    default port, no trailing slash (``HTTPS://Api.X:443/`` is ``https://api.x``)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.netloc.lower()
    default_port = {"https": ":443", "http": ":80"}.get(scheme)
    if default_port is not None and host.endswith(default_port):
        host = host.removesuffix(default_port)
    if not scheme or not host:
        return url.strip().rstrip("/")
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


class ConfigError(Exception):
    """The configuration is unusable; the message says where and what was expected."""


@dataclass
class Profile:
    """One set of credentials for one Clanforge account."""

    name: str
    api_url: str = DEFAULT_API_URL
    asid: int | None = None
    access_key: str | None = None
    secret: str | None = field(default=None, repr=False)
    secret_env: str | None = None
    """Name of an environment variable that holds the secret key."""
    secret_command: str | None = None
    """A command whose standard output is the secret key (like a git credential helper)."""

    @property
    def has_secret_source(self) -> bool:
        """True when the profile says where its secret key comes from."""
        return any(v is not None for v in (self.secret, self.secret_env, self.secret_command))

    @property
    def secret_source(self) -> str:
        """Where the secret comes from, for display (never the secret itself)."""
        if self.secret is not None:
            return "stored in config file"
        if self.secret_env is not None:
            return f"environment variable {self.secret_env}"
        if self.secret_command is not None:
            return f"command: {self.secret_command}"
        return "not set"


@dataclass
class UiSettings:
    """The ``[ui]`` table."""

    theme: str | None = None
    read_only: bool = False
    bell: bool = False
    compact: bool = False


@dataclass
class NotifySettings:
    """The ``[notify]`` table: who hears of an event when nobody is looking."""

    desktop: bool = False
    """A desktop notification through the terminal (OSC 9)."""
    command: str | None = None
    """Run once per event with its JSON on stdin (split like ``secret_command``)."""
    on: tuple[str, ...] = DEFAULT_ON
    """Which events (:data:`~tui.store.notify_events.NOTIFY_NAMES`)."""


@dataclass
class Config:
    """The whole config file."""

    default_profile: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    poll: PollSettings = field(default_factory=PollSettings)
    ui: UiSettings = field(default_factory=UiSettings)
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> comma-separated keys."""
    notify: NotifySettings = field(default_factory=NotifySettings)


_TOP_KEYS: Final = ("default_profile", "profiles", "poll", "ui", "keymap", "notify")
_PROFILE_KEYS: Final = ("api_url", "asid", "access_key", "secret", "secret_env", "secret_command")
_SECRET_KEYS: Final = ("secret", "secret_env", "secret_command")


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return names.get(type(value), type(value).__name__)


class _Reader:
    """Validation helpers that know which file they are reading."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, where: str, what: str) -> ConfigError:
        return ConfigError(f"{self.path}: {where}: {what}")

    def table(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, f"expected a table, got {_type_name(value)}")
        return value

    def unknown(self, data: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in data:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                raise self.error(
                    f"{prefix}{key}", f"unknown key (expected one of: {', '.join(allowed)})"
                )

    def string(self, value: object, where: str) -> str:
        if not isinstance(value, str):
            raise self.error(where, f"expected a string, got {_type_name(value)}")
        return value

    def boolean(self, value: object, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.error(where, f"expected true or false, got {_type_name(value)}")
        return value

    def number(self, value: object, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(where, f"expected a number, got {_type_name(value)}")
        return float(value)

    def integer(self, value: object, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(where, f"expected an integer, got {_type_name(value)}")
        return value


def parse_asid(value: object) -> int | None:
    """An account service ID from an int or decimal text, or None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and int(text) > 0:
            return int(text)
    return None


def _read_profile(reader: _Reader, name: str, raw: object) -> Profile:
    where = f"[profiles.{name}]"
    data = reader.table(raw, where)
    reader.unknown(data, _PROFILE_KEYS, where)
    profile = Profile(name=name)
    if "api_url" in data:
        api_url = reader.string(data["api_url"], f"{where} api_url")
        if api_url_problem(api_url) is not None:
            raise reader.error(
                f"{where} api_url",
                "expected an http:// or https:// URL with no query (?...) or fragment "
                f"(#...), got {api_url!r}",
            )
        profile.api_url = normal_api_url(api_url)
    if "asid" in data:
        asid = parse_asid(data["asid"]) if not isinstance(data["asid"], str) else None
        if asid is None:
            raise reader.error(
                f"{where} asid",
                f"expected an account service ID (a positive integer), got {data['asid']!r}",
            )
        profile.asid = asid
    if "access_key" in data:
        profile.access_key = reader.string(data["access_key"], f"{where} access_key")
    sources = [key for key in _SECRET_KEYS if key in data]
    if len(sources) > 1:
        raise reader.error(
            where, f"give only one of secret, secret_env, secret_command; got {sources}"
        )
    for key in sources:
        text = reader.string(data[key], f"{where} {key}")
        if not text.strip():
            raise reader.error(f"{where} {key}", "expected a non-empty string")
        setattr(profile, key, text)
    return profile


def _read_poll(reader: _Reader, raw: object) -> PollSettings:
    data = reader.table(raw, "[poll]")
    names = tuple(f.name for f in dataclasses.fields(PollSettings))
    reader.unknown(data, names, "[poll]")
    values: dict[str, Any] = {}
    for key, value in data.items():
        where = f"[poll] {key}"
        if key == "max_in_flight":
            values[key] = reader.integer(value, where)
        else:
            values[key] = reader.number(value, where)
        allowed = POLL_RANGES[key]
        if values[key] not in allowed:
            raise reader.error(where, f"{value!r} is out of range (expected {allowed})")
    return PollSettings(**values)


def _read_ui(reader: _Reader, raw: object) -> UiSettings:
    data = reader.table(raw, "[ui]")
    reader.unknown(data, ("theme", "read_only", "bell", "compact"), "[ui]")
    ui = UiSettings()
    if "theme" in data:
        ui.theme = reader.string(data["theme"], "[ui] theme")
    for key in ("read_only", "bell", "compact"):
        if key in data:
            setattr(ui, key, reader.boolean(data[key], f"[ui] {key}"))
    return ui


def _read_notify(reader: _Reader, raw: object) -> NotifySettings:
    data = reader.table(raw, "[notify]")
    reader.unknown(data, ("desktop", "command", "on"), "[notify]")
    notify = NotifySettings()
    if "desktop" in data:
        notify.desktop = reader.boolean(data["desktop"], "[notify] desktop")
    if "command" in data:
        command = reader.string(data["command"], "[notify] command")
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise reader.error("[notify] command", f"cannot split the command: {exc}") from None
        if not argv:
            raise reader.error("[notify] command", "expected a non-empty command")
        notify.command = command
    if "on" in data:
        names = data["on"]
        if not isinstance(names, list):
            raise reader.error("[notify] on", f"expected an array, got {_type_name(names)}")
        for name in names:
            if name not in NOTIFY_NAMES:
                raise reader.error(
                    "[notify] on",
                    f"unknown event {name!r} (expected some of: {', '.join(NOTIFY_NAMES)})",
                )
        notify.on = tuple(names)
    return notify


def _check_permissions(path: Path, info: os.stat_result, config: Config) -> None:
    what = _commanding(config)
    if what is not None:
        # A profile says where the keys are sent and which command is run (so does a
        # [notify] command): only its owner may be able to change it, as OpenSSH
        # requires of keys and ~/.ssh/config.
        _check_owned_by_me(path, info, what)
        _check_folder(path, what)
    has_secret = any(p.secret is not None for p in config.profiles.values())
    if has_secret and info.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        raise ConfigError(
            f"{path} holds a secret key and is readable by other users; run: chmod 600 {path}"
        )


def _commanding(config: Config) -> str | None:
    """What in ``config`` sends the keys or runs a command, for messages; None: nothing."""
    if config.profiles:
        return "profiles"
    return "a [notify] command" if config.notify.command is not None else None


def _trusted_owner(uid: int) -> bool:
    return uid in (os.getuid(), 0)


def _check_owned_by_me(path: Path, info: os.stat_result, what: str) -> None:
    if not _trusted_owner(info.st_uid):
        raise ConfigError(
            f"{path} defines {what} but belongs to another user (uid {info.st_uid}), who "
            "could send your keys elsewhere or choose the command that is run; check it, "
            f"then make it yours: cp {path} {path}.mine && mv {path}.mine {path}"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"{path} defines {what} and is writable by other users; run: chmod 600 {path}"
        )


def _check_folder(path: Path, what: str) -> None:
    folder = path.absolute().parent
    try:
        info = folder.stat()
    except OSError as exc:
        raise ConfigError(f"{folder}: cannot check the folder: {exc.strerror or exc}") from None
    # Whoever can write the folder can put a file of their own in place of this one.
    if not _trusted_owner(info.st_uid):
        raise ConfigError(
            f"{path} defines {what} but its folder {folder} belongs to another user "
            f"(uid {info.st_uid}); move the file to a folder of your own"
        )
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"{path} defines {what} but its folder {folder} is writable by other users; "
            f"run: chmod go-w {folder}"
        )


def parse_config(text: str, path: Path) -> Config:
    """Read config TOML (``path`` is only used in messages)."""
    reader = _Reader(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The decoder's message ends with "(at line N, column M)".
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    reader.unknown(data, _TOP_KEYS, "")
    config = Config()
    if "default_profile" in data:
        config.default_profile = reader.string(data["default_profile"], "default_profile")
    for name, raw in reader.table(data.get("profiles", {}), "[profiles]").items():
        if not name.strip():
            raise reader.error("[profiles]", "a profile name must not be empty")
        config.profiles[name] = _read_profile(reader, name, raw)
    if "poll" in data:
        config.poll = _read_poll(reader, data["poll"])
    if "ui" in data:
        config.ui = _read_ui(reader, data["ui"])
    for key, value in reader.table(data.get("keymap", {}), "[keymap]").items():
        config.keymap[key] = reader.string(value, f"[keymap] {key}")
    if "notify" in data:
        config.notify = _read_notify(reader, data["notify"])
    if config.default_profile is not None and config.default_profile not in config.profiles:
        known = ", ".join(config.profiles) or "none"
        raise reader.error(
            "default_profile",
            f"there is no profile {config.default_profile!r} (profiles: {known})",
        )
    return config


def load_config(path: Path) -> Config:
    """The config in ``path``; defaults when the file does not exist.

    Raises :class:`ConfigError` on a syntax error (with its line), an unknown key, a
    wrong type, a file holding a secret that other users can read, or a file with
    profiles that someone else owns or can write (or whose folder they can write).
    """
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            raw = handle.read()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    config = parse_config(text, path)
    _check_permissions(path, info, config)
    return config


def config_to_toml(config: Config) -> str:
    """The TOML text of ``config``; settings equal to their default are left out."""
    data: dict[str, Any] = {}
    if config.default_profile is not None:
        data["default_profile"] = config.default_profile
    if config.profiles:
        profiles: dict[str, Any] = {}
        for name, profile in config.profiles.items():
            entry: dict[str, Any] = {"api_url": profile.api_url}
            for key in ("asid", "access_key", *_SECRET_KEYS):
                value = getattr(profile, key)
                if value is not None:
                    entry[key] = value
            profiles[name] = entry
        data["profiles"] = profiles
    for table, settings in (("poll", config.poll), ("ui", config.ui), ("notify", config.notify)):
        changed = _changed_fields(settings)
        if changed:
            data[table] = changed
    if config.keymap:
        data["keymap"] = dict(config.keymap)
    return tomli_w.dumps(data)


def _changed_fields(settings: PollSettings | UiSettings | NotifySettings) -> dict[str, Any]:
    """The fields of ``settings`` that differ from a fresh instance's defaults."""
    defaults = type(settings)()
    return {
        f.name: list(value) if isinstance(value, tuple) else value
        for f in dataclasses.fields(settings)
        if (value := getattr(settings, f.name)) != getattr(defaults, f.name)
    }


def _write(path: Path, config: Config) -> None:
    ensure_private_dir(path.parent)
    what = _commanding(config)
    if what is not None:
        # Rather than write a file that the next read refuses.
        _check_folder(path, what)
    # A writer killed mid-write leaves a temp copy, possibly holding secrets.
    sweep_temp_files(path)
    atomic_write_text(path, config_to_toml(config), 0o600)


def save_config(path: Path, config: Config) -> None:
    """Write ``config`` to ``path`` atomically, mode 0600, in a 0700 folder, under the lock."""
    ensure_private_dir(path.parent)
    with file_lock(path):
        _write(path, config)


def update_config(path: Path, change: Callable[[Config], Config]) -> Config:
    """Load, ``change`` and save the config as one locked step; returns the saved config.

    Use this rather than load + save so that two processes editing profiles at the
    same time do not undo each other.
    """
    ensure_private_dir(path.parent)
    with file_lock(path):
        config = change(load_config(path))
        _write(path, config)
    return config
