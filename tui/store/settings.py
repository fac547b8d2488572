"""The settings of one run: which profile, which account, which credentials.

Each value comes from the first of: a command-line flag, a ``CLANFORGE_*``
environment variable, the selected profile in the config file, the default.

Example:
    >>> s = resolve_settings(env={"CLANFORGE_ASID": "7", "CLANFORGE_ACCESS_KEY": "a",
    ...                           "CLANFORGE_SECRET_KEY": "s"}, paths=_doctest_paths())
    >>> s.profile, s.asid, "secret_key" in repr(s)
    ('default', 7, False)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tui.api.urls import api_url_problem, normal_api_url
from tui.domain.errors import UsageError
from tui.domain.poll_settings import PollSettings
from tui.store.config import (
    DEFAULT_API_URL,
    Config,
    ConfigError,
    NotifySettings,
    Profile,
    UiSettings,
    account_url,
    load_config,
    parse_asid,
)
from tui.store.log_file import register_secret
from tui.store.paths import AppPaths, app_paths
from tui.store.profile_secret import resolve_secret
from tui.store.watchlist.file import WatchlistStore

if TYPE_CHECKING:
    from tui.api.client import ClanforgeClient

DEFAULT_PROFILE_NAME: Final = "default"
"""The profile name (watchlist namespace) when no profile is configured."""

ENV_PROFILE: Final = "CLANFORGE_PROFILE"
ENV_API_URL: Final = "CLANFORGE_API_URL"
ENV_ASID: Final = "CLANFORGE_ASID"
ENV_ACCESS_KEY: Final = "CLANFORGE_ACCESS_KEY"
ENV_SECRET_KEY: Final = "CLANFORGE_SECRET_KEY"  # noqa: S105 - a variable name


class FlagError(UsageError):
    """A value given as a flag (``--asid``, ``--api-url``) is unusable: a usage error.

    Told apart from :class:`ConfigError` because the fix is in the command typed,
    not in the config file or the environment.
    """


@dataclass(frozen=True)
class Settings:
    """Everything a command or the TUI needs to talk to one account."""

    profile: str
    api_url: str
    asid: int
    access_key: str
    """Empty when resolved with ``need_credentials=False`` and none is configured."""
    secret_key: str = field(repr=False)
    """Empty when resolved with ``need_credentials=False``; never printed or logged."""
    poll: PollSettings
    ui: UiSettings
    keymap: dict[str, str]
    config_path: Path
    notify: NotifySettings = field(default_factory=NotifySettings)

    @property
    def account_url(self) -> str:
        """The API URL as the watchlist keys this account by (with :attr:`asid`)."""
        return account_url(self.api_url)


def _env(env: Mapping[str, str], name: str) -> str | None:
    # An empty variable counts as unset, as `VAR= command` is a common way to unset.
    value = env.get(name, "")
    return value if value.strip() else None


def _select_profile(
    config: Config, flag: str | None, env: Mapping[str, str], config_path: Path
) -> tuple[str, Profile | None]:
    if flag == DEFAULT_PROFILE_NAME and flag not in config.profiles:
        # "default" names the profile used when none is given, whatever it is called.
        flag = None
        env = {}
    if flag:
        if flag not in config.profiles and config.profiles:
            raise ConfigError(
                f"there is no profile {flag!r} in {config_path} "
                f"(profiles: {', '.join(config.profiles)}); add it with: "
                f"imagediff-tui profile add {flag} --asid N --access-key KEY"
            )
        return flag, config.profiles.get(flag)
    name = _env(env, ENV_PROFILE)
    if name is not None:
        # A profile named only in the environment may live entirely in CLANFORGE_*
        # variables (as --demo does); it is then just the watchlist's namespace.
        return name, config.profiles.get(name)
    if config.default_profile is not None:
        return config.default_profile, config.profiles[config.default_profile]
    if len(config.profiles) == 1:
        only = next(iter(config.profiles.values()))
        return only.name, only
    if config.profiles:
        raise ConfigError(
            f"{config_path} has several profiles ({', '.join(config.profiles)}) and no "
            "default_profile; choose one with --profile, CLANFORGE_PROFILE or: "
            "imagediff-tui profile default NAME"
        )
    return DEFAULT_PROFILE_NAME, None


def _check_url(url: str, source: str, error: type[Exception]) -> str:
    problem = api_url_problem(url)
    if problem is not None:
        raise error(f"{source} {url!r} {problem}")
    return normal_api_url(url)


def resolve_settings(
    *,
    profile: str | None = None,
    api_url: str | None = None,
    asid: str | int | None = None,
    env: Mapping[str, str] | None = None,
    paths: AppPaths | None = None,
    need_credentials: bool = True,
) -> Settings:
    """The settings for this run (flags > ``CLANFORGE_*`` env > profile > defaults).

    ``need_credentials=False`` (watchlist commands) still needs an ASID but neither
    key; the secret command is then not run. Raises :class:`ConfigError` naming
    what is missing and how to give it, or :class:`FlagError` for a bad ``--asid``
    or ``--api-url`` flag.
    """
    environ = os.environ if env is None else env
    where = paths if paths is not None else app_paths()
    config_path = where.config_file
    config = load_config(config_path)
    name, chosen = _select_profile(config, profile, environ, config_path)

    if api_url:
        url = _check_url(api_url, "--api-url", FlagError)
    elif (env_url := _env(environ, ENV_API_URL)) is not None:
        url = _check_url(env_url, ENV_API_URL, ConfigError)
    else:
        url = chosen.api_url.rstrip("/") if chosen is not None else DEFAULT_API_URL

    account: int | None
    if asid is not None and str(asid).strip():
        account = parse_asid(asid)
        if account is None:
            raise FlagError(
                f"--asid {str(asid)!r} is not an account service ID (a positive integer)"
            )
    elif (env_asid := _env(environ, ENV_ASID)) is not None:
        account = parse_asid(env_asid)
        if account is None:
            raise ConfigError(
                f"{ENV_ASID}={env_asid!r} is not an account service ID (a positive integer)"
            )
    else:
        account = chosen.asid if chosen is not None else None

    access_key = _env(environ, ENV_ACCESS_KEY)
    if access_key is None and chosen is not None:
        access_key = chosen.access_key
    secret_key = _env(environ, ENV_SECRET_KEY)

    missing: list[str] = []
    if account is None:
        missing.append(f"the account service ID (--asid or {ENV_ASID})")
    if need_credentials:
        if not access_key:
            missing.append(f"the access key ({ENV_ACCESS_KEY})")
        has_source = chosen is not None and chosen.has_secret_source
        if secret_key is None and not has_source:
            missing.append(f"the secret key ({ENV_SECRET_KEY})")
    if missing:
        in_config = f"profile {name!r}" if chosen is not None else f"no profile in {config_path}"
        raise ConfigError(
            f"missing {', '.join(missing)} ({in_config}); set the variables, or run: "
            f"imagediff-tui profile add {name} --asid N --access-key KEY"
        )
    assert account is not None
    if need_credentials and secret_key is None:
        assert chosen is not None
        secret_key = resolve_secret(chosen, env=environ)

    if secret_key:
        # Whatever logs a request or an error from here on must never show it.
        register_secret(secret_key)
    return Settings(
        profile=name,
        api_url=url,
        asid=account,
        access_key=access_key or "",
        secret_key=secret_key or "",
        poll=config.poll,
        ui=config.ui,
        keymap=dict(config.keymap),
        config_path=config_path,
        notify=config.notify,
    )


def legacy_account_urls(config: Config, env: Mapping[str, str]) -> Callable[[str, int], str]:
    """The account URL of an entry a schema 1 watchlist keyed by profile name (and ASID):
    that profile's URL; for a name no longer configured (or the ``CLANFORGE_*`` variables'
    "default"), the one URL configured for that ASID, else ``CLANFORGE_API_URL``, else
    the default API."""
    by_asid: dict[int, set[str]] = {}
    for known in config.profiles.values():
        if known.asid is not None:
            by_asid.setdefault(known.asid, set()).add(account_url(known.api_url))
    env_url = _env(env, ENV_API_URL)
    fallback = account_url(env_url) if env_url is not None else DEFAULT_API_URL

    def url(profile: str, asid: int) -> str:
        known = config.profiles.get(profile)
        if known is not None:
            return account_url(known.api_url)
        urls = by_asid.get(asid, set())
        return next(iter(urls)) if len(urls) == 1 else fallback

    return url


def open_watchlist(
    paths: AppPaths | None = None, env: Mapping[str, str] | None = None
) -> WatchlistStore:
    """The watchlist file, reading a schema 1 file's profiles with this config's URLs."""
    where = paths if paths is not None else app_paths()
    environ = os.environ if env is None else env
    store = WatchlistStore(where.watchlist_file, where.status_cache_file)
    resolved: list[Callable[[str, int], str]] = []

    def legacy_url(profile: str, asid: int) -> str:
        # The config is read only when a schema 1 file is, and once.
        if not resolved:
            resolved.append(legacy_account_urls(load_config(where.config_file), environ))
        return resolved[0](profile, asid)

    store.legacy_url = legacy_url
    return store


def make_client(settings: Settings) -> ClanforgeClient:
    """The API client for these settings, with the configured read timeout."""
    # Imported here: commands that never call the API (watchlist, profile) skip httpx.
    from tui.api.client import ClanforgeClient

    return ClanforgeClient(
        settings.api_url,
        settings.asid,
        settings.access_key,
        settings.secret_key,
        read_timeout=settings.poll.timeout,
    )


def _doctest_paths() -> AppPaths:  # pragma: no cover - for the module example only
    empty = Path("/nonexistent-imagediff-tui-doctest")
    return AppPaths(empty, empty, empty, empty)
