"""``status`` and ``watch`` keep what they learn about watched diffs where the app reads
it (issue 20): the app, opened later, starts from it rather than from an older status.
Diffs that are not watched are not added. Real subprocesses against the simulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.test_cli_jobs import assert_clean, json_lines, run_cli

if TYPE_CHECKING:
    from tui.simulator import Simulator


def last_known(env: dict[str, str]) -> dict[int, Any]:
    listed = run_cli(env, "watchlist", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {line["diffid"]: line.get("last") for line in json_lines(listed.stdout)}


@pytest.mark.parametrize(
    "command", [["status"], ["watch", "--interval", "1"]], ids=["status", "watch"]
)
def test_what_the_command_learned_is_kept_for_watched_diffs_only(
    cli_env: dict[str, str], simulator: Simulator, command: list[str]
) -> None:
    simulator.add_diff(2001, state=6, fail_with="checksum mismatch")
    simulator.add_diff(2002, state=5)
    assert run_cli(cli_env, "watchlist", "add", "2001").returncode == 0
    assert last_known(cli_env) == {2001: None}

    result = run_cli(cli_env, *command, "2001", "2002")
    assert result.returncode == 0, result.stderr
    assert_clean(result)
    known = last_known(cli_env)
    assert list(known) == [2001], "a diff that is not watched is not added"
    assert (known[2001]["state_id"], known[2001]["state_name"]) == (6, "Failed")
    assert known[2001]["error"] == "checksum mismatch"
