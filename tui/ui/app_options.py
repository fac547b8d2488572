"""What the app is given: how this run is set up (the watchlist it writes to is a
:class:`~tui.store.watchlist.port.WatchlistPort`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.domain.poll_settings import PollSettings
from tui.store.config import NotifySettings

if TYPE_CHECKING:
    from tui.ui.profile_switch import ConfigProfiles


@dataclass
class AppOptions:
    """How this run of the app is set up."""

    profile: str
    asid: int
    api_host: str
    """The API's host name (and port), as the header shows it."""
    api_url: str = ""
    """The account's API URL as the watchlist keys it (:func:`tui.store.config.account_url`)."""
    read_only: bool = False
    bell: bool = False
    compact: bool = False
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    save_theme: Callable[[str], None] | None = None
    """Persist a theme picked with `t` (None: do not persist, e.g. demo or --theme)."""
    save_compact: Callable[[bool], None] | None = None
    """Persist compact mode as `m` leaves it (None: do not persist, e.g. demo)."""
    poll: PollSettings = field(default_factory=PollSettings)
    profiles: ConfigProfiles | None = None
    """The profiles `P` switches between (None: this run has no other)."""
    notify: NotifySettings = field(default_factory=NotifySettings)
    """Who hears of an event when nobody is looking (``[notify]``)."""
