"""The command line's accept and reject keep the same notes as the app: an unknown
outcome is kept in the watchlist file, and neither the command line nor the app sends
that diff's accept or reject again unless told so (``--again``, "send again anyway")."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from tests.test_cli_jobs import assert_clean, run_cli
from tests.test_cli_lifecycle import watched
from tui.domain.watch_entry import SentAction, WatchEntry
from tui.store.paths import app_paths
from tui.store.watchlist.file import WatchlistStore

if TYPE_CHECKING:
    from tui.simulator import Simulator


def test_an_unknown_accept_is_kept_and_not_sent_again_without_again(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4101, state=5)
    simulator.inject("drop-after", endpoint="accept")
    lost = run_cli(cli_env, "accept", "4101", "--restart", "1")
    assert lost.returncode == 1
    assert [s.action for s in watched()[4101].sent] == ["accept"]
    again = run_cli(cli_env, "accept", "4101", "--restart", "1")
    assert again.returncode == 1
    said = again.stderr.decode()
    assert "not sent: a accept was sent before" not in said
    assert "an accept was sent before and its outcome is unknown" in said
    assert "a second image version" in said and "--again" in said
    assert simulator.count("accept", 4101) == 1
    rejected = run_cli(cli_env, "reject", "4101", "--reinstall", "0")
    assert rejected.returncode == 1
    assert simulator.count("reject", 4101) == 0
    anyway = run_cli(cli_env, "accept", "4101", "--restart", "1", "--again")
    assert simulator.count("accept", 4101) == 2
    # Its outcome is known now (done or refused): the mark is gone.
    assert watched()[4101].sent == ()
    assert_clean(anyway)


def test_an_accept_the_app_left_unknown_blocks_the_command_line(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4102, state=5)
    store = WatchlistStore(app_paths().watchlist_file)
    store.add([WatchEntry(4102, simulator.asid, simulator.url)])
    store.note_sent((simulator.url, simulator.asid, 4102), SentAction("accept", time.time()))
    result = run_cli(cli_env, "accept", "4102", "--restart", "0", "--json")
    assert result.returncode == 1
    assert '"outcome-unknown-before"' in result.stdout.decode()
    assert simulator.count("accept") == 0


def test_a_retry_is_noted_and_its_mark_cleared_once_answered(
    cli_env: dict[str, str], simulator: Simulator
) -> None:
    simulator.add_diff(4103, state=6, fail_with="boom")
    run_cli(cli_env, "watchlist", "add", "4103")
    simulator.inject("drop-after", endpoint="retry")
    lost = run_cli(cli_env, "retry", "4103")
    assert lost.returncode == 1
    # A status read settles a retry: the hint names it; the mark is kept until then.
    assert "status 4103" in lost.stderr.decode()
    assert [s.action for s in watched()[4103].sent] == ["retry"]
