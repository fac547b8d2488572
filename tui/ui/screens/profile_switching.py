"""The `P` key's flow: pick a profile, open its account, and only then hand it to the app.

A profile that cannot be opened (a missing key, a failing secret command) or whose
keys the server refuses is reported in words and the current account keeps running;
the app (:meth:`tui.ui.app.ImageDiffApp.adopt_account`) stops the old account only once
the new one is ready.

Example:
    >>> # offer_profiles(app)  # bound to P and the palette's "Switch profile"
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from tui.domain.text import plain
from tui.ui.profile_switch import refused_keys
from tui.ui.screens.profile_picker import ProfilePicker

if TYPE_CHECKING:
    from tui.ui.app import ImageDiffApp

NO_OTHER_PROFILE = "No other profile."


def offer_profiles(host: ImageDiffApp) -> None:
    """Show the profile picker, or say why there is nothing to switch to."""
    profiles = host.options.profiles
    choices = profiles.choices() if profiles is not None else []
    if all(choice.name == host.options.profile for choice in choices):
        only_one = profiles.only_one if profiles is not None else NO_OTHER_PROFILE
        host.notify(only_one, severity="warning", markup=False)
        return

    def picked(name: str | None) -> None:
        if name is not None and name != host.options.profile:
            host.run_worker(switch_to(host, name), group="switch-profile", exclusive=True)

    host.push_screen(ProfilePicker(choices, host.options.profile), picked)


async def switch_to(host: ImageDiffApp, name: str) -> None:
    """Open ``name``'s account; only then let the app stop the old one and show the new."""
    profiles = host.options.profiles
    assert profiles is not None
    now = plain(host.options.profile)
    try:
        opened = await asyncio.to_thread(profiles.open, name)
    except Exception as exc:
        host.notify(
            f"Cannot switch to profile {plain(name)}: {plain(str(exc))}. Still on {now}.",
            severity="error",
            timeout=15,
            markup=False,
        )
        return
    refused = await refused_keys(opened)
    if refused is not None or host.quitting:
        await opened.client.aclose()
        if refused is not None:
            host.notify(
                f"Profile {plain(name)}: the server refused its keys ({plain(refused)}). "
                f"Still on {now}.",
                severity="error",
                timeout=15,
                markup=False,
            )
        return
    await host.adopt_account(opened)
    account = f"{plain(opened.api_url)}, ASID {opened.asid}"
    host.notify(f"Profile {plain(opened.profile)}: {account}", markup=False)
