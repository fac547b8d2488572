"""``accept``, ``reject``, ``create`` and ``version``: real subprocesses against the simulator.

Each confirmed action sends exactly one request; a missing choice sends nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.test_cli_jobs import JOB_KEYS, assert_clean, json_lines, run_cli
from tui.domain.watch_entry import Accepted, Rejected
from tui.store.journal import EventKind, Journal
from tui.store.paths import app_paths
from tui.store.watchlist.file import WatchlistStore

if TYPE_CHECKING:
    from tui.simulator import Simulator

REPO = Path(__file__).resolve().parent.parent
VERSION_KEYS = (JOB_KEYS - {"diffid"}) | {"imageversionid", "diffid", "success"}


def watched() -> dict[int, Any]:
    return {e.diffid: e for e in WatchlistStore(app_paths().watchlist_file).load().entries}


def actions() -> list[tuple[int | None, str | None, str | None]]:
    events = reversed(Journal(app_paths().journal_file).read())
    return [(e.diffid, e.action, e.outcome) for e in events if e.kind == EventKind.ACTION]


@pytest.mark.parametrize(
    ("args", "needed"),
    [
        (["accept", "4101"], "--restart"),
        (["accept", "4101", "--restart", "1", "--game-build", "a\nb"], "--game-build"),
        (["accept", "4101", "x", "--restart", "1"], "'x' is not a diff ID"),
        (["reject", "4101"], "--reinstall"),
        (["reject", "4101", "--reinstall", "yes"], "--reinstall"),
        (["create", "--image", "0", "--machine", "7"], "image ID '0'"),
        (["version", "status"], "VID"),
    ],
)
def test_a_missing_choice_or_bad_input_sends_nothing(
    cli_env: dict[str, str], simulator: Simulator, args: list[str], needed: str
) -> None:
    simulator.add_diff(4101, state=5)
    result = run_cli(cli_env, *args)
    assert result.returncode == 2
    assert needed in result.stderr.decode()
    assert simulator.requests == []
    assert_clean(result)


def test_accept_sends_one_request_per_diff_and_links_the_version(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=4, duration=10_000.0)
    simulator.add_diff(4103, state=5, allocations=True)
    result = run_cli(
        cli_env, "accept", "4101", "4102", "4103", "4101", "--restart", "0",
        "--game-build", "1.4.2", "--json",
    )  # fmt: skip
    assert result.returncode == 1
    lines = json_lines(result.stdout)
    assert set(lines[0]) == VERSION_KEYS
    assert (lines[0]["diffid"], lines[0]["success"], lines[0]["jobstateid"]) == (4101, True, 1)
    assert lines[1:] == [
        {"diffid": 4102, "error": {"kind": "refused", "http_status": 400,
                                   "message": "diff 4102 is not completed"}},
        {"diffid": 4103, "error": {"kind": "refused", "http_status": 400,
                                   "message": "image has active allocations; use force=1"}},
    ]  # fmt: skip
    assert [simulator.count("accept", d) for d in (4101, 4102, 4103)] == [1, 1, 1]
    vid = lines[0]["imageversionid"]
    entry = watched()[4101]
    assert entry.accepted is not None
    assert entry.accepted == Accepted(
        vid, restart=False, game_build="1.4.2", at=entry.accepted.at, last=entry.accepted.last
    )
    assert 4102 not in watched() and 4103 not in watched()
    assert actions() == [
        (4101, "accept", "sent"),
        (4101, "accept", "accepted"),
        (4102, "accept", "sent"),
        (4102, "accept", "refused"),
        (4103, "accept", "sent"),
        (4103, "accept", "refused"),
    ]
    assert_clean(result)


def test_force_and_full_go_through_and_the_refusal_is_shown_as_said(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5, allocations=True, files=0)
    refused = run_cli(cli_env, "accept", "4101", "--restart", "1", "--force")
    assert refused.returncode == 1
    assert "diff 4101 found no changes; use full=1" in refused.stderr.decode()
    done = run_cli(cli_env, "accept", "4101", "--restart", "1", "--force", "--full")
    assert done.returncode == 0
    assert "accepted: image version" in done.stdout.decode()
    assert simulator.count("accept", 4101) == 2


@pytest.mark.parametrize("kind", ["drop-after", "500"])
def test_an_accept_whose_answer_is_lost_is_not_repeated(
    cli_env: dict[str, str], simulator: Simulator, kind: str
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.inject(kind, endpoint="accept")
    result = run_cli(cli_env, "accept", "4101", "--restart", "1")
    assert result.returncode == 1
    # A status read cannot tell whether a diff was accepted: the hint says how instead.
    assert "imagediff-tui status" not in result.stderr.decode()
    assert "Clanforge dashboard" in result.stderr.decode()
    assert simulator.count("accept") == 1
    assert actions()[-1] == (4101, "accept", "unknown")
    assert_clean(result)


def test_reject_with_and_without_reinstall(cli_env: dict[str, str], simulator: Simulator) -> None:
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=6)
    result = run_cli(cli_env, "reject", "4101", "--reinstall", "0", "--json")
    assert result.returncode == 0
    assert json_lines(result.stdout) == [{"diffid": 4101, "success": True}]
    result = run_cli(cli_env, "reject", "4102", "4101", "--reinstall", "1", "--json")
    assert result.returncode == 1
    uninstall, again = json_lines(result.stdout)
    assert set(uninstall) == (JOB_KEYS | {"uninstalljobid", "success"})
    assert again["error"]["message"] == "Diff 4101 has already been rejected"
    assert watched()[4101].rejected == Rejected(False, None, watched()[4101].rejected.at)
    rejected = watched()[4102].rejected
    assert rejected is not None and rejected.reinstall
    assert rejected.uninstalljobid == uninstall["uninstalljobid"]
    assert simulator.count("reject") == 3


def test_create_watches_the_new_diff_or_names_the_lock(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5, imageid=77)
    locked = run_cli(cli_env, "create", "--image", "77", "--machine", "7712")
    assert locked.returncode == 1
    assert "create: Image locked by diffid 4101" in locked.stderr.decode()
    result = run_cli(
        cli_env, "create", "--image", "78", "--machine", "7712", "--label", "eu 1.5", "--json"
    )
    assert result.returncode == 0
    (job,) = json_lines(result.stdout)
    assert set(job) >= JOB_KEYS and job["success"] is True
    assert watched()[job["diffid"]].label == "eu 1.5"
    assert simulator.count("create") == 2
    outcomes = [
        ("create", "sent"),
        ("create", "refused"),
        ("create", "sent"),
        ("create", "accepted"),
    ]
    assert [a[1:] for a in actions()] == outcomes


def test_version_status_says_each_missing_version_on_its_own_line(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    accepted = run_cli(cli_env, "accept", "4101", "--restart", "0", "--json")
    (vid,) = (line["imageversionid"] for line in json_lines(accepted.stdout))
    status = run_cli(cli_env, "version", "status", "99", str(vid), "98")
    assert status.returncode == 1
    assert [line.split()[0] for line in status.stdout.decode().splitlines()] == [str(vid)]
    assert status.stderr.decode().splitlines() == [
        "imagediff-tui: error: image version 99: Image version 99 not found",
        "imagediff-tui: error: image version 98: Image version 98 not found",
    ]


def test_version_status_and_watch_follow_the_version_to_its_end(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.add_diff(4102, state=5, version_error="Timed out distributing the image version")
    accepted = run_cli(cli_env, "accept", "4101", "4102", "--restart", "1", "--json")
    ok, failing = (line["imageversionid"] for line in json_lines(accepted.stdout))
    status = run_cli(cli_env, "version", "status", str(ok), "99", "--json")
    assert status.returncode == 1
    first, missing = json_lines(status.stdout)
    assert set(first) == VERSION_KEYS - {"success"}
    assert missing["imageversionid"] == 99
    assert missing["error"]["message"] == "Image version 99 not found"
    watch = run_cli(
        cli_env, "version", "watch", str(ok), str(failing),
        "--exit-status", "--json", "--interval", "1",
    )  # fmt: skip
    assert watch.returncode == 1, "a version ended Failed"
    last = {line["imageversionid"]: line for line in json_lines(watch.stdout)}
    assert last[ok]["jobstateid"] == 5 and last[ok]["diffid"] == 4101
    assert last[failing]["jobstateid"] == 6
    assert last[failing]["joberror"] == "Timed out distributing the image version"
    assert_clean(watch)


LOCK_CHAIN_SCRIPT = """
set -eu
tui() { "$PYTHON" -m tui "$@"; }
# The failed diff's image is locked: a new diff of it is refused, naming the lock.
if tui create --image 58108 --machine 7 2>locked.txt; then exit 10; fi
grep -q "Image locked by diffid 4113" locked.txt
vid=$(tui accept 4113 --restart 1 --json | "$PYTHON" -c \
    'import json, sys; print(json.loads(sys.stdin.readline())["imageversionid"])')
tui version watch "$vid" --exit-status --interval 1 >/dev/null
tui retry 4108 >/dev/null
tui watch 4108 --exit-status --interval 1
"""


@pytest.fixture
def demo_env(cli_env: dict[str, str]) -> Iterator[dict[str, str]]:
    from tui.simulator import Simulator

    with Simulator(speed=200.0) as demo:
        yield dict(cli_env, CLANFORGE_API_URL=demo.url, PYTHON=sys.executable)


def test_a_script_resolves_the_demos_lock_chain(demo_env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        ["/bin/sh", "-c", LOCK_CHAIN_SCRIPT],
        env=dict(demo_env, PYTHONPATH=os.pathsep.join(sys.path)),
        cwd=tmp_path,
        capture_output=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert "4108  Completed  100%" in result.stdout.decode()
    assert b"Traceback" not in result.stderr


def test_watchlist_list_shows_what_became_of_each_diff(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    for diffid in (4101, 4102, 4103):
        simulator.add_diff(diffid, state=5)
    assert run_cli(cli_env, "watchlist", "add", "4103").returncode == 0
    accepted = run_cli(cli_env, "accept", "4101", "--restart", "1", "--game-build", "7", "--json")
    vid = json_lines(accepted.stdout)[0]["imageversionid"]
    assert run_cli(cli_env, "reject", "4102", "--reinstall", "0").returncode == 0

    listed = json_lines(run_cli(cli_env, "watchlist", "list", "--json").stdout)
    by_id = {line["diffid"]: line for line in listed}
    assert by_id[4101]["accepted"] == {
        "imageversionid": vid, "restart": True, "full": False, "force": False,
        "game_build": "7", "at": by_id[4101]["accepted"]["at"],
    }  # fmt: skip
    assert by_id[4102]["rejected"] == {
        "reinstall": False,
        "uninstalljobid": None,
        "at": by_id[4102]["rejected"]["at"],
    }
    assert "accepted" not in by_id[4103] and "rejected" not in by_id[4103]

    text = run_cli(cli_env, "watchlist", "list").stdout.decode().splitlines()
    lines = {int(line.split()[0]): line for line in text}
    assert lines[4101].endswith(f"accepted (image version {vid})")
    assert lines[4102].endswith("rejected")
    assert "accepted" not in lines[4103] and "rejected" not in lines[4103]


def test_every_lifecycle_object_names_its_diff_when_the_answer_does_not(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    for diffid in (1201, 1202, 1203):
        simulator.add_diff(diffid, state=5)
    # The live API's shape: the version and uninstall jobs do not say which diff.
    simulator.inject("live-shape", endpoint="accept", count=2)
    simulator.inject("live-shape", endpoint="reject")
    accepted = run_cli(cli_env, "accept", "1201", "1202", "--restart", "0", "--json")
    assert accepted.returncode == 0, accepted.stderr
    lines = json_lines(accepted.stdout)
    assert [line["diffid"] for line in lines] == [1201, 1202]
    assert all(set(line) == VERSION_KEYS for line in lines)
    rejected = run_cli(cli_env, "reject", "1203", "--reinstall", "1", "--json")
    assert [line["diffid"] for line in json_lines(rejected.stdout)] == [1203]


def test_version_status_prints_what_a_read_has_and_the_diff_it_came_from(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.inject("live-shape", endpoint="accept")
    accepted = run_cli(cli_env, "accept", "4101", "--restart", "0", "--json")
    (vid,) = (line["imageversionid"] for line in json_lines(accepted.stdout))
    # A read answered without the diff and with a create's `success`.
    simulator.inject("live-shape", endpoint="version-status", count=3)
    status = run_cli(cli_env, "version", "status", str(vid), "--json")
    assert status.returncode == 0, status.stderr
    (line,) = json_lines(status.stdout)
    assert set(line) == VERSION_KEYS - {"success"}
    assert line["diffid"] == 4101, "known from the watchlist, where accept linked it"
    watch = run_cli(cli_env, "version", "watch", str(vid), "--json", "--interval", "1")
    assert watch.returncode == 0, watch.stderr
    assert all("success" not in line for line in json_lines(watch.stdout))
    assert all(line["diffid"] == 4101 for line in json_lines(watch.stdout))
