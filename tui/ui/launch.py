"""Start the TUI: for the current profile, or (``--demo``) on the embedded simulator."""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tui.domain.clock import SystemClock
from tui.domain.errors import UsageError
from tui.store.config import Config, ConfigError, update_config
from tui.store.journal import Journal
from tui.store.log_file import log_to_file, register_secret
from tui.store.paths import app_paths
from tui.store.settings import Settings, make_client, open_watchlist, resolve_settings
from tui.store.watchlist.account import AccountWatchlist
from tui.store.watchlist.file import WatchlistStore, account_entries
from tui.ui.app import AppOptions, ImageDiffApp
from tui.ui.profile_switch import ConfigProfiles, api_host_of
from tui.ui.screens.actions import keymap_problem
from tui.ui.themes import (
    DEFAULT_THEME,
    ThemeCatalog,
    UnknownTheme,
    load_catalog,
    resolve_theme_name,
)

log = logging.getLogger("tui.ui.launch")

DEMO_SPEED = 1.0
"""The demo's jobs run at real speed: a few finish within a minute, some take longer."""


@dataclass(frozen=True)
class LaunchOptions:
    """What the command line asks of this run of the TUI."""

    demo: bool = False
    read_only: bool = False
    theme: str | None = None
    """``--theme NAME``: for this run only, never saved."""
    debug: bool = False
    profile: str | None = None
    api_url: str | None = None
    asid: str | None = None


def requested_theme(launch: LaunchOptions, catalog: ThemeCatalog) -> str | None:
    """The ``--theme NAME`` of this run, checked: an unknown name raises :class:`UnknownTheme`.

    Checked before anything else starts (credentials, the demo's simulator), so a
    typo costs nothing and the message lists the names that would work.
    """
    if not launch.theme:
        return None
    return resolve_theme_name(launch.theme, catalog)


def _theme_choice(
    launch: LaunchOptions, configured: str | None, catalog: ThemeCatalog
) -> tuple[str, list[str]]:
    """The theme for this run, and notices about it (each also logged)."""
    notices: list[str] = []
    for error in catalog.errors:
        log.warning("%s", error)
        notices.append(str(error))
    requested = requested_theme(launch, catalog)
    if requested is not None:
        return requested, notices
    if configured:
        try:
            return resolve_theme_name(configured, catalog), notices
        except UnknownTheme:
            notice = (
                f"theme {configured!r} from the config file is not available; using {DEFAULT_THEME}"
            )
            log.warning("%s", notice)
            notices.append(notice)
    return DEFAULT_THEME, notices


def build_app(
    settings: Settings,
    launch: LaunchOptions,
    store: WatchlistStore,
    catalog: ThemeCatalog,
    *,
    persist_theme: bool,
    extra_notices: list[str],
    profiles: ConfigProfiles | None = None,
) -> ImageDiffApp:
    """The app for these settings, not yet running (tests drive it with Pilot).

    ``persist_theme``: a theme picked with `t` is written to the config file, unless
    this run has ``--theme`` (a choice for one run only); so is compact mode (`m`).
    """
    clash = keymap_problem(settings.keymap)
    if clash is not None:
        raise ConfigError(f"{settings.config_path}: {clash}")
    clock = SystemClock()
    register_secret(settings.secret_key)
    loaded = store.load()
    notices = list(extra_notices)
    if loaded.notice:
        notices.append(loaded.notice)
    theme, theme_notices = _theme_choice(launch, settings.ui.theme, catalog)
    notices += theme_notices
    client = make_client(settings)

    def save_theme(name: str) -> None:
        def with_theme(config: Config) -> Config:
            return dataclasses.replace(config, ui=dataclasses.replace(config.ui, theme=name))

        update_config(settings.config_path, with_theme)

    def save_compact(compact: bool) -> None:
        def with_compact(config: Config) -> Config:
            return dataclasses.replace(config, ui=dataclasses.replace(config.ui, compact=compact))

        update_config(settings.config_path, with_compact)

    options = AppOptions(
        profile=settings.profile,
        asid=settings.asid,
        api_host=api_host_of(settings.api_url),
        api_url=settings.account_url,
        read_only=launch.read_only or settings.ui.read_only,
        bell=settings.ui.bell,
        compact=settings.ui.compact,
        theme=theme,
        keymap=dict(settings.keymap),
        notices=notices,
        save_theme=save_theme if persist_theme and not launch.theme else None,
        save_compact=save_compact if persist_theme else None,
        poll=settings.poll,
        profiles=profiles,
        notify=settings.notify,
    )
    # The file was just read: filter that copy rather than parse it again.
    entries = account_entries(loaded.entries, settings.account_url, settings.asid)
    watchlist = AccountWatchlist(
        store, api_url=settings.account_url, asid=settings.asid, clock=clock, held=entries
    )
    return ImageDiffApp(
        client,
        entries,
        watchlist=watchlist,
        clock=clock,
        options=options,
        themes=catalog,
        journal=Journal(app_paths().journal_file),
    )


def _app_settings(launch: LaunchOptions, config_file: Path) -> Settings:
    try:
        return resolve_settings(
            profile=launch.profile,
            api_url=launch.api_url,
            asid=launch.asid,
            env=os.environ,
        )
    except ConfigError as exc:
        if config_file.exists():
            raise
        # A first run: nothing is set up yet, and the demo needs nothing.
        raise ConfigError(f"{exc}; or look around first: imagediff-tui --demo") from None


def require_terminal() -> None:
    """Raise :class:`UsageError` unless the app can have a terminal: it reads keys from
    stdin and draws on stderr. Called after every other check, before the screen is
    touched (a typo in a flag is still said first)."""
    for fd, name in ((0, "standard input"), (2, "standard error")):
        if not os.isatty(fd):
            raise UsageError(
                f"the terminal UI needs a terminal, and {name} is not one "
                "(in a script, use a command: status, watch, ...)"
            )


def run_app(launch: LaunchOptions) -> int:
    """``imagediff-tui`` with no subcommand.

    Raises what the core raises (:class:`UnknownTheme`, :class:`ConfigError`,
    :class:`~tui.store.watchlist.file.WatchlistError`...): the command line says what it means.
    """
    if launch.demo:
        return run_demo(launch)
    paths = app_paths()
    log_notice = log_to_file(paths.log_file, debug=launch.debug)
    catalog = load_catalog(paths.themes_dir)
    requested_theme(launch, catalog)
    settings = _app_settings(launch, paths.config_file)
    store = open_watchlist(paths)
    notices = [] if log_notice is None else [log_notice]
    profiles = ConfigProfiles(
        paths,
        os.environ,
        only_one=(
            "There is no other profile to switch to; add one with: "
            "imagediff-tui profile add NAME --asid N --access-key KEY"
        ),
    )
    app = build_app(
        settings,
        launch,
        store,
        catalog,
        persist_theme=True,
        extra_notices=notices,
        profiles=profiles,
    )
    require_terminal()
    app.run()
    return 0


def run_demo(launch: LaunchOptions) -> int:
    """The whole app against the embedded simulator, in a throwaway config and data dir."""
    from tui.simulator import DEMO_DIFFS, Simulator

    # Read before the XDG folders move: a theme author previews their theme on every
    # job state at once. Only read: the demo writes into its throwaway folder alone.
    catalog = load_catalog(app_paths().themes_dir)
    requested_theme(launch, catalog)
    with tempfile.TemporaryDirectory(prefix="imagediff-demo-") as tmp:
        # Point every XDG dir at the temporary folder, so the demo never reads or
        # writes the user's own config, watchlist or log (themes were read above).
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            folder = Path(tmp) / name.lower()
            folder.mkdir(mode=0o700)
            os.environ[name] = str(folder)
        paths = app_paths()
        log_notice = log_to_file(paths.log_file, debug=launch.debug)
        with Simulator(speed=DEMO_SPEED, seed_demo=True) as simulator:
            env = {
                "CLANFORGE_API_URL": simulator.url,
                "CLANFORGE_ASID": str(simulator.asid),
                "CLANFORGE_ACCESS_KEY": simulator.access_key,
                "CLANFORGE_SECRET_KEY": simulator.secret_key,
                "CLANFORGE_PROFILE": "demo",
            }
            settings = resolve_settings(env=env)
            store = WatchlistStore(paths.watchlist_file, paths.status_cache_file)
            watchlist = AccountWatchlist(
                store, api_url=settings.account_url, asid=settings.asid, clock=SystemClock()
            )
            for diffid, label in DEMO_DIFFS:
                watchlist.add([diffid], label)
            app = build_app(
                settings,
                launch,
                store,
                catalog,
                persist_theme=False,
                profiles=ConfigProfiles(
                    paths,
                    env,
                    only_one="The demo has one profile (demo): there is no other to switch to.",
                ),
                extra_notices=[
                    "Demo mode: an embedded simulator on "
                    f"{api_host_of(simulator.url)}; nothing is saved after you quit.",
                    *([] if log_notice is None else [log_notice]),
                ],
            )
            require_terminal()
            app.run()
            return 0
