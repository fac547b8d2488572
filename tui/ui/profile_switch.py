"""Switching the running app to another profile's account (the `P` key).

:class:`ConfigProfiles` lists the config's profiles and opens one: its settings,
watchlist slice and API client, or a :class:`~tui.store.config.ConfigError` that says
what is missing. The app stops the old account only once the new one has opened
(and, when it watches anything, its keys were not refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from tui.api.client import ClanforgeClient
from tui.api.errors import ApiError, AuthenticationError, Forbidden
from tui.domain.clock import SystemClock
from tui.domain.watch_entry import WatchEntry
from tui.store.config import load_config
from tui.store.paths import AppPaths
from tui.store.settings import (
    ENV_ACCESS_KEY,
    ENV_API_URL,
    ENV_ASID,
    ENV_PROFILE,
    ENV_SECRET_KEY,
    make_client,
    open_watchlist,
    resolve_settings,
)
from tui.store.watchlist.account import AccountWatchlist
from tui.store.watchlist.file import account_entries

_ACCOUNT_VARIABLES = frozenset({ENV_PROFILE, ENV_API_URL, ENV_ASID, ENV_ACCESS_KEY, ENV_SECRET_KEY})


def api_host_of(api_url: str) -> str:
    """The host (and port) the header shows for ``api_url``."""
    return urlsplit(api_url).netloc or api_url


@dataclass(frozen=True)
class ProfileChoice:
    """One profile as the picker lists it: its name and account, nothing secret."""

    name: str
    api_url: str
    asid: int | None


@dataclass(frozen=True)
class OpenedAccount:
    """A profile opened for a switch: who it is and what polls it."""

    profile: str
    asid: int
    api_host: str
    api_url: str
    """As the watchlist keys the account (:func:`tui.store.config.account_url`)."""
    client: ClanforgeClient
    entries: list[WatchEntry]
    watchlist: AccountWatchlist


class ConfigProfiles:
    """The config file's profiles, to switch between in the app.

    ``only_one`` is what the app says when there is no other profile to switch to.

    Example:
        >>> # ConfigProfiles(app_paths(), os.environ, only_one="...").open("eu")
    """

    def __init__(self, paths: AppPaths, env: Mapping[str, str], *, only_one: str) -> None:
        self._paths = paths
        # A chosen profile is used as configured: the variables that chose this run's
        # account (its keys above all) must not override another account's.
        self._env = {k: v for k, v in env.items() if k not in _ACCOUNT_VARIABLES}
        self.only_one = only_one

    def choices(self) -> list[ProfileChoice]:
        """Every profile of the config file, in its order (an unreadable file: none)."""
        try:
            config = load_config(self._paths.config_file)
        except Exception:
            return []
        return [ProfileChoice(p.name, p.api_url, p.asid) for p in config.profiles.values()]

    def open(self, name: str) -> OpenedAccount:
        """Profile ``name``'s account, ready to poll; blocks (a secret command, the file).

        Raises :class:`~tui.store.config.ConfigError` (a missing key or ASID, a failing
        secret command) or :class:`~tui.store.watchlist.file.WatchlistError`.
        """
        settings = resolve_settings(profile=name, env=self._env, paths=self._paths)
        store = open_watchlist(self._paths, self._env)
        entries = account_entries(store.load().entries, settings.account_url, settings.asid)
        watchlist = AccountWatchlist(
            store,
            api_url=settings.account_url,
            asid=settings.asid,
            clock=SystemClock(),
            held=entries,
        )
        return OpenedAccount(
            profile=settings.profile,
            asid=settings.asid,
            api_host=api_host_of(settings.api_url),
            api_url=settings.account_url,
            client=make_client(settings),
            entries=entries,
            watchlist=watchlist,
        )


async def refused_keys(opened: OpenedAccount) -> str | None:
    """Why the server refused ``opened``'s keys (None: not refused, or nothing to ask).

    One status read of its first watched diff: the API has no call that checks keys
    alone, and a profile that watches nothing is taken as it is.
    """
    if not opened.entries:
        return None
    try:
        await opened.client.status(opened.entries[0].diffid)
    except (AuthenticationError, Forbidden) as exc:
        return str(exc)
    except ApiError:
        return None  # the keys were not the problem: polling will say what is
    return None
