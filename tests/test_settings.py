"""resolve_settings: flags > CLANFORGE_* > profile > defaults, and what is missing."""

from __future__ import annotations

import shlex
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tui.cli.common import ExitCode, exit_code_for
from tui.domain.poll_settings import PollSettings
from tui.store.config import Config, ConfigError, Profile, UiSettings, save_config, update_config
from tui.store.paths import AppPaths
from tui.store.settings import FlagError, resolve_settings

FULL_ENV = {
    "CLANFORGE_ASID": "99",
    "CLANFORGE_ACCESS_KEY": "env-ak",
    "CLANFORGE_SECRET_KEY": "env-sk",
}


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "config", tmp_path / "data", tmp_path / "log", tmp_path / "cache")


def configure(paths: AppPaths, default: str | None = "prod") -> None:
    save_config(
        paths.config_file,
        Config(
            default_profile=default,
            profiles={
                "prod": Profile(
                    "prod", api_url="https://prod.example", asid=1, access_key="p-ak", secret="p-sk"
                ),
                "eu": Profile("eu", asid=2, access_key="eu-ak", secret_env="EU_SECRET"),
            },
            poll=PollSettings(timeout=2.0),
            ui=UiSettings(theme="nord"),
            keymap={"retry": "r"},
        ),
    )


def test_env_only_with_no_config(paths: AppPaths) -> None:
    s = resolve_settings(env=FULL_ENV, paths=paths)
    assert (s.profile, s.api_url, s.asid, s.access_key, s.secret_key) == (
        "default",
        "https://api.multiplay.co.uk",
        99,
        "env-ak",
        "env-sk",
    )
    assert s.config_path == paths.config_file
    assert "env-sk" not in repr(s)


def test_default_profile_from_config(paths: AppPaths) -> None:
    configure(paths)
    s = resolve_settings(env={}, paths=paths)
    assert (s.profile, s.api_url, s.asid, s.access_key, s.secret_key) == (
        "prod",
        "https://prod.example",
        1,
        "p-ak",
        "p-sk",
    )
    assert s.poll.timeout == 2.0 and s.ui.theme == "nord" and s.keymap == {"retry": "r"}


def test_env_beats_profile_and_flags_beat_env(paths: AppPaths) -> None:
    configure(paths)
    env = {**FULL_ENV, "CLANFORGE_API_URL": "http://127.0.0.1:1/"}
    s = resolve_settings(env=env, paths=paths)
    assert (s.profile, s.api_url, s.asid, s.access_key, s.secret_key) == (
        "prod",
        "http://127.0.0.1:1",
        99,
        "env-ak",
        "env-sk",
    )
    s = resolve_settings(env=env, paths=paths, api_url="https://flag.example", asid="5")
    assert (s.api_url, s.asid) == ("https://flag.example", 5)


def test_profile_selection_flag_then_env_then_default(paths: AppPaths) -> None:
    configure(paths)
    env = {"CLANFORGE_PROFILE": "eu", "EU_SECRET": "eu-sk"}
    assert resolve_settings(env=env, paths=paths).profile == "eu"
    assert resolve_settings(env=env, paths=paths).secret_key == "eu-sk"
    assert resolve_settings(env=env, paths=paths, profile="prod").profile == "prod"


def test_profile_default_names_the_default_profile_unless_one_is_called_so(
    paths: AppPaths,
) -> None:
    configure(paths)
    env = {"CLANFORGE_PROFILE": "eu", "EU_SECRET": "eu-sk"}
    assert resolve_settings(env=env, paths=paths, profile="default").profile == "prod"
    update_config(
        paths.config_file,
        lambda c: replace(
            c, profiles={**c.profiles, "default": Profile("default", asid=9, access_key="d")}
        ),
    )
    chosen = resolve_settings(env=env, paths=paths, profile="default", need_credentials=False)
    assert (chosen.profile, chosen.asid) == ("default", 9)


def test_only_profile_is_chosen_without_a_default(paths: AppPaths) -> None:
    save_config(
        paths.config_file,
        Config(profiles={"solo": Profile("solo", asid=3, access_key="a", secret="b")}),
    )
    assert resolve_settings(env={}, paths=paths).profile == "solo"


def test_several_profiles_and_no_default_is_an_error(paths: AppPaths) -> None:
    configure(paths, default=None)
    with pytest.raises(ConfigError, match=r"several profiles .* no default_profile"):
        resolve_settings(env={}, paths=paths)


def test_unknown_profile_flag_is_an_error(paths: AppPaths) -> None:
    configure(paths)
    with pytest.raises(ConfigError, match=r"no profile 'prdo' .*profiles: prod, eu"):
        resolve_settings(env={}, paths=paths, profile="prdo")


def test_env_profile_name_without_config_is_a_namespace(paths: AppPaths) -> None:
    s = resolve_settings(env={**FULL_ENV, "CLANFORGE_PROFILE": "demo"}, paths=paths)
    assert s.profile == "demo"


def test_missing_credentials_are_all_named(paths: AppPaths) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(env={}, paths=paths)
    message = str(info.value)
    for needle in (
        "CLANFORGE_ASID",
        "CLANFORGE_ACCESS_KEY",
        "CLANFORGE_SECRET_KEY",
        "imagediff-tui profile add default",
    ):
        assert needle in message


def test_watchlist_commands_need_only_the_asid(paths: AppPaths) -> None:
    s = resolve_settings(env={"CLANFORGE_ASID": "4"}, paths=paths, need_credentials=False)
    assert (s.asid, s.access_key, s.secret_key) == (4, "", "")
    with pytest.raises(ConfigError, match="account service ID"):
        resolve_settings(env={}, paths=paths, need_credentials=False)


def test_secret_command_not_run_without_need(paths: AppPaths, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = shlex.join([sys.executable, "-c", f"open({str(marker)!r}, 'w'); print('x')"])
    save_config(
        paths.config_file,
        Config(profiles={"c": Profile("c", asid=1, access_key="a", secret_command=command)}),
    )
    resolve_settings(env={}, paths=paths, need_credentials=False)
    assert not marker.exists()
    assert resolve_settings(env={}, paths=paths).secret_key == "x"
    assert marker.exists()


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "١٢"])
def test_bad_asid_flag_is_a_usage_error(paths: AppPaths, bad: str) -> None:
    with pytest.raises(FlagError) as info:
        resolve_settings(env=FULL_ENV, paths=paths, asid=bad)
    assert exit_code_for(info.value) is ExitCode.USAGE
    assert repr(bad) in str(info.value)


def test_bad_asid_env_is_a_config_error(paths: AppPaths) -> None:
    with pytest.raises(ConfigError, match="CLANFORGE_ASID='x1' is not an account service ID"):
        resolve_settings(env={**FULL_ENV, "CLANFORGE_ASID": "x1"}, paths=paths)


def test_bad_urls(paths: AppPaths) -> None:
    with pytest.raises(FlagError, match="--api-url"):
        resolve_settings(env=FULL_ENV, paths=paths, api_url="api.example")
    with pytest.raises(ConfigError, match="CLANFORGE_API_URL"):
        resolve_settings(env={**FULL_ENV, "CLANFORGE_API_URL": "x"}, paths=paths)


def test_empty_env_values_count_as_unset(paths: AppPaths) -> None:
    configure(paths)
    s = resolve_settings(env={"CLANFORGE_ASID": "", "CLANFORGE_SECRET_KEY": " "}, paths=paths)
    assert (s.asid, s.secret_key) == (1, "p-sk")
