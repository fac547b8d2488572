"""Where the files a user owns live (platformdirs, app name ``imagediff-tui``).

On Linux these follow ``XDG_CONFIG_HOME``, ``XDG_DATA_HOME``, ``XDG_STATE_HOME`` and
``XDG_CACHE_HOME``.
The environment is read on every call, not at import time, so tests and ``--demo``
can point them at temporary folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

APP_NAME: Final = "imagediff-tui"


@dataclass(frozen=True)
class AppPaths:
    """The folders and files of one user's installation."""

    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path

    @property
    def config_file(self) -> Path:
        """Profiles, poll settings, UI settings and key bindings."""
        return self.config_dir / "config.toml"

    @property
    def watchlist_file(self) -> Path:
        """The persisted watchlist: what the user said and did."""
        return self.data_dir / "watchlist.toml"

    @property
    def status_cache_file(self) -> Path:
        """What the app last learned of the watched diffs: a cache (losing it costs a poll)."""
        return self.cache_dir / "watchlist-status.json"

    @property
    def journal_file(self) -> Path:
        """What happened to the watched diffs (JSON Lines; rotated files beside it)."""
        return self.data_dir / "journal.jsonl"

    @property
    def log_file(self) -> Path:
        """The rotating log of the TUI."""
        return self.log_dir / "imagediff-tui.log"

    @property
    def themes_dir(self) -> Path:
        """User theme files (``*.toml``)."""
        return self.config_dir / "themes"


def app_paths() -> AppPaths:
    """The current user's paths, computed from the environment as it is now."""
    # appauthor=False: no "vendor" folder level on Windows.
    return AppPaths(
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
        cache_dir=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
    )
