"""Switching profile in the running app (issue 14 item 8): `P` or the palette's "Switch
profile" lists the profiles with their account (never a key), stops the old account's
polling, loads the new one's watchlist and polls it; a profile that cannot be used
leaves the current one running."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.app_support import PROFILE, make_app, screen_text, wait_until
from tests.monitor.steps import SIZE, all_polled, toasts
from tui.domain.watch_entry import WatchEntry
from tui.simulator import Simulator
from tui.store.config import Config, Profile, account_url, save_config
from tui.store.paths import app_paths
from tui.store.watchlist.file import WatchlistStore
from tui.ui.app import ImageDiffApp
from tui.ui.profile_switch import ConfigProfiles
from tui.ui.screens.profile_picker import ProfilePicker

ONLY_ONE = "The demo has one profile (demo): there is no other to switch to."


@pytest.fixture
def other() -> Iterator[Simulator]:
    """A second account, on its own server, with its own keys."""
    with Simulator(
        speed=50.0, seed_demo=False, asid=777, access_key="other-key", secret_key="other-secret"
    ) as sim:
        yield sim


def _profiles(simulator: Simulator, other: Simulator, **extra: Profile) -> ConfigProfiles:
    first = Profile(PROFILE, simulator.url, simulator.asid, simulator.access_key)
    first.secret = simulator.secret_key
    second = Profile("eu", other.url, other.asid, other.access_key)
    second.secret = other.secret_key
    profiles = {p.name: p for p in (first, second, *extra.values())}
    save_config(app_paths().config_file, Config(default_profile=PROFILE, profiles=profiles))
    return ConfigProfiles(app_paths(), os.environ, only_one="one profile only")


def _switch_app(simulator: Simulator, profiles: ConfigProfiles) -> ImageDiffApp:
    simulator.add_diff(1, state=4, duration=10_000.0)
    return make_app(simulator, [1], profiles=profiles)


@pytest.mark.usefixtures("isolated_dirs")
async def test_p_switches_to_another_profiles_account_and_its_watchlist(
    simulator: Simulator, other: Simulator
) -> None:
    profiles = _profiles(simulator, other)
    for diffid in (7, 8):
        other.add_diff(diffid, state=6, fail_with="boom")
    WatchlistStore(app_paths().watchlist_file).add(
        WatchEntry(d, other.asid, account_url(other.url), label=f"eu {d}") for d in (7, 8)
    )
    app = _switch_app(simulator, profiles)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("P")
        assert isinstance(app.screen, ProfilePicker)
        listed = screen_text(app)
        assert f"{simulator.url}  ASID {simulator.asid}" in listed
        assert f"eu    {other.url}  ASID 777" in listed
        assert "other-key" not in listed and "other-secret" not in listed
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: set(app.tracker.views) == {7, 8} and all_polled(app))
        await wait_until(pilot, lambda: "eu 7" in screen_text(app))
        header = screen_text(app).split("\n")[0]
        assert " eu " in header and "ASID 777" in header
        before = simulator.count("status")
        await pilot.pause(0.5)
        assert simulator.count("status") == before  # the old account is no longer polled
        assert other.count("status") >= 2


@pytest.mark.usefixtures("isolated_dirs")
async def test_a_profile_that_cannot_be_used_leaves_the_current_one_running(
    simulator: Simulator, other: Simulator
) -> None:
    wrong = Profile("wrong", other.url, other.asid, "not-the-key")
    wrong.secret = "not-the-secret"
    keyless = Profile("keyless", other.url, other.asid)
    profiles = _profiles(simulator, other, wrong=wrong, keyless=keyless)
    other.add_diff(7, state=5)
    WatchlistStore(app_paths().watchlist_file).add([WatchEntry(7, 777, account_url(other.url))])
    app = _switch_app(simulator, profiles)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        tracker = app.tracker
        await pilot.press("P", "down", "down", "enter")  # wrong
        await wait_until(pilot, lambda: any("refused its keys" in t for t in toasts(app)))
        await pilot.press("P", "down", "down", "down", "enter")  # keyless
        await wait_until(pilot, lambda: any("missing the access key" in t for t in toasts(app)))
        assert all(f"Still on {PROFILE}." in t for t in toasts(app))
        assert app.tracker is tracker and set(tracker.views) == {1}
        before = simulator.count("status")
        await wait_until(pilot, lambda: simulator.count("status") > before)  # still polled
        assert "not-the-secret" not in " ".join(toasts(app))


async def test_with_one_profile_p_says_so_instead_of_an_empty_picker(
    simulator: Simulator, isolated_dirs: dict[str, str]
) -> None:
    app = make_app(
        simulator, [], profiles=ConfigProfiles(app_paths(), os.environ, only_one=ONLY_ONE)
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("P")
        await wait_until(pilot, lambda: toasts(app))
        assert toasts(app) == [ONLY_ONE]
        assert not isinstance(app.screen, ProfilePicker)


async def test_switch_profile_is_a_palette_command(simulator: Simulator) -> None:
    app = make_app(simulator, [])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Switch profile", "enter")
        await wait_until(pilot, lambda: toasts(app))
        assert toasts(app) == ["No other profile."]


@pytest.mark.usefixtures("isolated_dirs")
async def test_a_profile_name_from_the_config_is_shown_as_plain_text(
    simulator: Simulator, other: Simulator
) -> None:
    # A TOML key may hold any character: the config file is the user's, not ours.
    hostile = Profile("eu\x1b[2J[b]x[/b]", other.url, other.asid, other.access_key)
    hostile.secret = other.secret_key
    profiles = _profiles(simulator, other, hostile=hostile)
    app = _switch_app(simulator, profiles)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("P", "down", "down", "enter")
        await wait_until(pilot, lambda: any(t.startswith("Profile eu") for t in toasts(app)))
        said = next(t for t in toasts(app) if t.startswith("Profile eu"))
        assert "\x1b" not in said and "[b]x[/b]" in said
