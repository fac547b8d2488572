"""``profile add`` checks the keys with one read-only call before saving; ``profile check``
asks again. Real subprocesses against the simulator."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import TYPE_CHECKING

from tests.test_cli_jobs import REPO, assert_clean
from tui.store.config import load_config
from tui.store.paths import app_paths

if TYPE_CHECKING:
    from tui.simulator import Simulator


def cli(env: dict[str, str], *argv: str, stdin: str = "") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *argv],
        env={k: v for k, v in env.items() if not k.startswith("CLANFORGE_")},
        input=stdin.encode(),
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )


def add(
    env: dict[str, str], simulator: Simulator, name: str, *extra: str, secret: str
) -> subprocess.CompletedProcess[bytes]:
    return cli(
        env,
        *("profile", "add", name, "--asid", str(simulator.asid), "--api-url", simulator.url),
        *("--access-key", simulator.access_key, *extra),
        stdin=secret + "\n",
    )


def profiles() -> list[str]:
    return list(load_config(app_paths().config_file).profiles)


def test_refused_keys_are_not_saved_and_exit_3(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    refused = add(cli_env, simulator, "prod", secret="wrong-secret")
    assert refused.returncode == 3
    (line,) = refused.stderr.decode().splitlines()
    assert "401" in line and "nothing was saved" in line
    assert "access key" in line and "secret key" in line and str(simulator.asid) in line
    assert "wrong-secret" not in line
    assert profiles() == []
    assert simulator.count("status") == 1, "one read-only call"
    assert_clean(refused)


def test_accepted_keys_are_saved_and_no_check_asks_nothing(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    added = add(cli_env, simulator, "prod", secret=simulator.secret_key)
    assert added.returncode == 0, added.stderr
    assert "keys accepted" in added.stdout.decode()
    assert [r.status for r in simulator.requests] == [404], "a diff that cannot exist"
    offline = add(cli_env, simulator, "stale", "--no-check", secret="wrong-secret")
    assert offline.returncode == 0, offline.stderr
    assert profiles() == ["prod", "stale"]
    assert simulator.count("status") == 1, "--no-check sends nothing"

    checked = cli(cli_env, "profile", "check")
    assert checked.returncode == 0, checked.stderr
    assert "prod" in checked.stdout.decode() and "accepted" in checked.stdout.decode()
    stale = cli(cli_env, "profile", "check", "stale")
    assert stale.returncode == 3
    assert "401" in stale.stderr.decode() and "stale" in stale.stderr.decode()
    assert_clean(stale)


def test_a_server_out_of_reach_saves_nothing_and_says_no_check(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    gone = cli(
        cli_env,
        *("profile", "add", "prod", "--asid", "5", "--api-url", f"http://127.0.0.1:{port}"),
        *("--access-key", "AK"),
        stdin="secret\n",
    )
    assert gone.returncode == 1
    (line,) = gone.stderr.decode().splitlines()
    assert "could not check" in line and "--no-check" in line
    assert profiles() == []
