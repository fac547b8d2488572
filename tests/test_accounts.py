"""The watchlist belongs to the account (API URL and ASID), not to a profile name (issue 14
item 7): every way of reaching an account sees its diffs, and old files keep every entry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.test_cli_jobs import assert_clean, json_lines, run_cli
from tui.store.config import DEFAULT_API_URL, account_url
from tui.store.paths import app_paths

if TYPE_CHECKING:
    from tui.simulator import Simulator

IDS = list(range(5001, 5013))


def _without_variables(env: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in env.items() if not key.startswith("CLANFORGE_")}


def _listed(env: dict[str, str], *args: str) -> list[int]:
    result = run_cli(env, "watchlist", "list", "--json", *args)
    assert_clean(result)
    assert result.returncode == 0, result.stderr
    return [line["diffid"] for line in json_lines(result.stdout)]


def test_diffs_imported_with_the_variables_are_seen_through_a_profile_of_that_account(
    cli_env: dict[str, str], simulator: Simulator, tmp_path: Path
) -> None:
    # The story: 12 diffs imported with the CLANFORGE_* variables set...
    for diffid in IDS:
        simulator.add_diff(diffid, state=5, progress=100)
    listing = tmp_path / "ids.txt"
    listing.write_text("\n".join(str(i) for i in IDS) + "\n", encoding="utf-8")
    imported = run_cli(cli_env, "watchlist", "import", str(listing))
    assert imported.returncode == 0 and b"added 12 diffs" in imported.stdout
    # ...then `profile add` for the same account and URL (spelt with a trailing slash).
    profiled = {**_without_variables(cli_env), "CF_SECRET": simulator.secret_key}
    added = run_cli(
        profiled,
        *("profile", "add", "prod", "--asid", str(simulator.asid)),
        *("--api-url", simulator.url + "/", "--access-key", simulator.access_key),
        *("--secret-env", "CF_SECRET"),
    )
    assert added.returncode == 0, added.stderr
    assert _listed(profiled) == IDS
    assert _listed(profiled, "--profile", "prod") == IDS
    assert _listed(profiled, "--profile", "default") == IDS
    assert _listed(cli_env) == IDS
    status = run_cli(profiled, "status", "--json")
    assert_clean(status)
    assert status.returncode == 0, status.stderr
    assert [line["diffid"] for line in json_lines(status.stdout)] == IDS


def test_another_url_or_asid_is_another_account(cli_env: dict[str, str]) -> None:
    assert run_cli(cli_env, "watchlist", "add", "1").returncode == 0
    other_url = {**cli_env, "CLANFORGE_API_URL": "https://elsewhere.example"}
    assert run_cli(other_url, "watchlist", "add", "2").returncode == 0
    assert run_cli(cli_env, "watchlist", "add", "--asid", "99", "3").returncode == 0
    assert _listed(cli_env) == [1]
    assert _listed(other_url) == [2]
    assert _listed(cli_env, "--asid", "99") == [3]


# A watchlist as imagediff-tui wrote it when entries were keyed by profile name.
PROFILE_KEYED = """schema = 1

[[diff]]
diffid = 4101
asid = {asid}
profile = "prod"
label = "via the profile"
added_at = 1764340000.0

[[diff]]
diffid = 4102
asid = {asid}
profile = "default"
label = "via the variables"
added_at = 1764340001.0

[diff.last]
state_id = 5
state_name = "Completed"
progress = 100
seen_at = 1764340100.0

[[diff]]
diffid = 4103
asid = 99
profile = "gone"
label = "a profile since removed"
added_at = 1764340002.0
"""


def test_a_profile_keyed_watchlist_migrates_without_losing_an_entry(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    env = {**_without_variables(cli_env), "CF_SECRET": simulator.secret_key}
    added = run_cli(
        env,
        *("profile", "add", "prod", "--asid", str(simulator.asid), "--api-url", simulator.url),
        *("--access-key", simulator.access_key, "--secret-env", "CF_SECRET"),
    )
    assert added.returncode == 0, added.stderr
    path = app_paths().watchlist_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PROFILE_KEYED.format(asid=simulator.asid), encoding="utf-8")

    # "default" (the variables' name) is no profile now: its ASID is prod's, so prod's URL.
    assert _listed(env) == [4101, 4102]
    everything = run_cli(env, "watchlist", "list", "--all")
    assert_clean(everything)
    text = everything.stdout.decode()
    assert text.splitlines() == [
        f"{account_url(simulator.url)}, ASID {simulator.asid}: 2 diffs",
        "4101                    via the profile",
        "4102  Completed 100%    via the variables",
        "",
        f"{DEFAULT_API_URL}, ASID 99: 1 diff",
        "4103                    a profile since removed",
    ]
    assert simulator.access_key not in text and simulator.secret_key not in text

    # The first read wrote it anew, keyed by account (schema 3); every entry is still there.
    assert run_cli(env, "watchlist", "add", "4104").returncode == 0
    saved = path.read_text(encoding="utf-8")
    assert saved.startswith("schema = 3\n") and "profile =" not in saved
    assert _listed(env) == [4101, 4102, 4104]
    assert _listed(env, "--all") == [4101, 4102, 4104, 4103]  # account by account


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://api.example.com", "https://api.example.com"),
        ("https://api.example.com/", "https://api.example.com"),
        ("HTTPS://API.Example.com:443/", "https://api.example.com"),
        ("http://127.0.0.1:80/v1/", "http://127.0.0.1/v1"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://api.example.com/Path", "https://api.example.com/Path"),
    ],
)
def test_account_url_spells_one_account_one_way(given: str, expected: str) -> None:
    assert account_url(given) == expected
