"""``retry``'s rules: IDs or ``--all``, a fresh status decides, a terminal confirms
(real subprocesses against the simulator; a pseudo-terminal for the prompt)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.test_cli_jobs import assert_clean, check_line_schema, json_lines, run_cli
from tests.test_launch import TerminalRun
from tui.api.errors import NotFound
from tui.cli.jobs import plan_from_statuses, skip_json
from tui.domain.jobs import DiffJob, parse_job
from tui.domain.watch_entry import WatchEntry
from tui.simulator import STATE_NAMES
from tui.store.paths import app_paths
from tui.store.watchlist.file import WatchlistStore

if TYPE_CHECKING:
    from tui.simulator import Simulator

# Completed, Failed, Running, Queued.
FLEET = {4101: 5, 4102: 6, 4103: 4, 4104: 3}


@pytest.fixture
def fleet(cli_env: dict[str, str], simulator: Simulator) -> dict[str, str]:
    """The four diffs on the simulator and on the default profile's watchlist."""
    for diffid, state in FLEET.items():
        simulator.add_diff(diffid, state=state, duration=10_000.0)
    store = WatchlistStore(app_paths().watchlist_file)
    store.add(WatchEntry(diffid, simulator.asid, simulator.url) for diffid in FLEET)
    return cli_env


def test_no_ids_is_a_usage_error_naming_both_ways_and_sends_nothing(
    fleet: dict[str, str], simulator: Simulator
) -> None:
    result = run_cli(fleet, "retry")
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "ID" in stderr and "--all" in stderr
    assert simulator.requests == []
    assert_clean(result)

    result = run_cli(fleet, "retry", "4101", "--all", "--yes")
    assert result.returncode == 2
    assert simulator.requests == []


def test_all_off_a_terminal_needs_yes(fleet: dict[str, str], simulator: Simulator) -> None:
    result = run_cli(fleet, "retry", "--all")
    assert result.returncode == 2
    assert "--yes" in result.stderr.decode()
    assert simulator.requests == []
    assert_clean(result)


def test_all_retries_only_what_a_fresh_status_shows_completed_or_failed(
    fleet: dict[str, str], simulator: Simulator
) -> None:
    result = run_cli(fleet, "retry", "--all", "--yes", "--json")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    skipped = [line for line in lines if "skipped" in line]
    assert [(s["diffid"], s["jobstatename"], s["jobstateid"]) for s in skipped] == [
        (4103, "Running", 4),
        (4104, "Queued", 3),
    ]
    assert all("Completed or Failed" in s["skipped"] for s in skipped)
    sent = [line for line in lines if "skipped" not in line]
    for line in sent:
        check_line_schema(line)
    assert [line["diffid"] for line in sent] == [4101, 4102]
    assert {d: simulator.count("status", d) for d in FLEET} == dict.fromkeys(FLEET, 1)
    assert {d: simulator.count("retry", d) for d in FLEET} == {4101: 1, 4102: 1, 4103: 0, 4104: 0}
    assert_clean(result)


def test_all_human_output_names_the_skipped_with_their_state(
    fleet: dict[str, str], simulator: Simulator
) -> None:
    result = run_cli(fleet, "retry", "--all", "--yes")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode().splitlines()
    assert any(line.startswith("4103  Running") and "skipped" in line for line in out)
    assert any(line.startswith("4104  Queued") and "skipped" in line for line in out)
    assert simulator.count("retry") == 2


def test_explicit_ids_are_sent_as_asked_and_a_refusal_shows_the_reason(
    fleet: dict[str, str], simulator: Simulator
) -> None:
    result = run_cli(fleet, "retry", "4103", "4101")
    assert result.returncode == 1
    assert "Diff 4103 is not in a completed or failed state" in result.stderr.decode()
    assert simulator.count("status") == 0
    assert simulator.count("retry", 4103) == simulator.count("retry", 4101) == 1
    assert_clean(result)


def run_on_terminal(env: dict[str, str], answer: bytes, *args: str) -> tuple[int, str]:
    """Run the CLI with stdin and stdout on a pseudo-terminal; answer its prompt."""
    run = TerminalRun(env, *args)
    try:
        run.read_until(b"[y/N]")
        run.send(answer)
        return run.wait_exit(), run.output.decode(errors="replace")
    finally:
        run.close()


def test_all_on_a_terminal_asks_first_listing_the_plan(
    fleet: dict[str, str], simulator: Simulator
) -> None:
    code, screen = run_on_terminal(fleet, b"n\n", "retry", "--all")
    assert code == 1
    assert "4101" in screen and "4102" in screen
    assert "4103" in screen and "Running" in screen
    assert "nothing was sent" in screen
    assert simulator.count("retry") == 0

    code, screen = run_on_terminal(fleet, b"y\n", "retry", "--all")
    assert code == 0, screen
    assert {d: simulator.count("retry", d) for d in FLEET} == {4101: 1, 4102: 1, 4103: 0, 4104: 0}


def test_the_plan_sends_terminal_diffs_and_skips_the_rest_with_a_reason() -> None:
    def job(diffid: int, state: int) -> DiffJob:
        return parse_job(
            {
                "diffid": diffid,
                "jobstateid": state,
                "jobstatename": STATE_NAMES[state],
                "jobprogress": 0,
                "jobfailed": int(state == 6),
                "jobcreated": 0,
                "jobupdated": 0,
            }
        )

    lost = NotFound("Diff 3 not found", http_status=404)
    plan = plan_from_statuses([(1, job(1, 6)), (2, job(2, 2)), (3, lost), (4, job(4, 5))])
    assert plan.send == (1, 4)
    assert [(s.diffid, s.reason) for s in plan.skipped] == [
        (2, "Pending: only Completed or Failed diffs can be retried"),
        (3, "status unknown: Diff 3 not found"),
    ]
    assert skip_json(plan.skipped[0]) == {
        "diffid": 2,
        "skipped": "Pending: only Completed or Failed diffs can be retried",
        "jobstateid": 2,
        "jobstatename": "Pending",
    }
    assert skip_json(plan.skipped[1])["error"]["kind"] == "not-found"
