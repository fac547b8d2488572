"""The API URL's form (issue 22 §6): the scheme in any case, no query and no fragment,
the same rule for a flag, the environment, a profile and the client."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.test_cli_jobs import run_cli
from tui.api.errors import InsecureURL
from tui.api.urls import check_api_url

if TYPE_CHECKING:
    from tui.simulator import Simulator

schemes = st.sampled_from(["http", "https"]).flatmap(
    lambda scheme: st.lists(st.booleans(), min_size=len(scheme), max_size=len(scheme)).map(
        lambda upper: "".join(c.upper() if u else c for c, u in zip(scheme, upper, strict=True))
    )
)
tails = st.sampled_from(["?", "?x=1", "#", "#top", "?a=b#c", "/cfp?x=1"])


@given(schemes)
def test_the_scheme_is_read_in_any_case(scheme: str) -> None:
    url = check_api_url(f"{scheme}://127.0.0.1:8080")
    assert url.scheme == scheme.lower()


@given(schemes, tails)
def test_a_query_or_a_fragment_is_refused(scheme: str, tail: str) -> None:
    with pytest.raises(InsecureURL, match=r"query|fragment"):
        check_api_url(f"{scheme}://127.0.0.1:8080{tail}")


def add_profile(env: dict[str, str], name: str, url: str) -> subprocess.CompletedProcess[bytes]:
    keys = ("--asid", "1234", "--access-key", "AK", "--secret-env", "SECRET", "--no-check")
    return run_cli(env, "profile", "add", name, "--api-url", url, *keys)


def test_an_upper_case_scheme_works_from_the_command_line(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(3001, state=5)
    url = simulator.url.replace("http://127.0.0.1", "HTTP://LOCALHOST")
    result = run_cli(cli_env, "status", "3001", "--api-url", url)
    assert result.returncode == 0, result.stderr
    assert b"Completed" in result.stdout
    added = add_profile(cli_env, "upper", url)
    assert added.returncode == 0, added.stderr


@pytest.mark.parametrize("tail", ["/?x=1", "#x"])
def test_a_query_or_fragment_in_the_api_url_is_refused_wherever_it_is_given(
    cli_env: dict[str, str], simulator: Simulator, tail: str
) -> None:
    url = simulator.url + tail
    flag = run_cli(cli_env, "status", "3001", "--api-url", url)
    assert flag.returncode == 2 and b"query" in flag.stderr, flag.stderr
    env = run_cli({**cli_env, "CLANFORGE_API_URL": url}, "status", "3001")
    assert env.returncode == 3 and b"query" in env.stderr, env.stderr
    added = add_profile(cli_env, "q", url)
    assert added.returncode == 2 and b"query" in added.stderr, added.stderr
    config = Path(cli_env["XDG_CONFIG_HOME"]) / "imagediff-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[profiles.q]\napi_url = "{url}"\nasid = 1234\n', encoding="utf-8")
    config.chmod(0o600)
    read = run_cli(
        {k: v for k, v in cli_env.items() if k != "CLANFORGE_API_URL"},
        "status",
        "3001",
        "--profile",
        "q",
    )
    assert read.returncode == 3 and b"query" in read.stderr, read.stderr
