"""WatchlistStore: round trips, merging with other instances, corrupt files."""

from __future__ import annotations

import stat
import tomllib
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.domain.watch_entry import Accepted, LastStatus, Rejected, WatchEntry
from tui.store.watchlist.file import WatchlistError, WatchlistStore, parse_watchlist
from tui.store.watchlist.layout import layout_text

HOSTILE_LABELS = [
    "",
    'quote " and \\ backslash',
    "newline\nand\r\ncr",
    "tab\tnull\x00bell\x07del\x7f",
    "\x1b[2J\x1b]0;title\x07 escape",
    "[red]markup[/red] ${x} '''triple''' \"\"\"",
    'label = "x"\n[[diff]]\ndiffid = 1',
    "# not a comment",
    "unicode ✓ 日本語 \u2028 \u202e rtl 🦀",
]


def entry(diffid: int, label: str = "", api_url: str = "prod", asid: int = 1) -> WatchEntry:
    return WatchEntry(diffid=diffid, asid=asid, api_url=api_url, label=label, added_at=1.5)


@pytest.fixture
def store(tmp_path: Path) -> WatchlistStore:
    return WatchlistStore(tmp_path / "data" / "watchlist.toml")


def test_missing_file_is_empty(store: WatchlistStore) -> None:
    loaded = store.load()
    assert loaded.entries == [] and loaded.notice is None
    assert not store.path.exists()


def test_round_trip_with_hostile_labels_and_status(store: WatchlistStore) -> None:
    entries = [entry(i + 1, label) for i, label in enumerate(HOSTILE_LABELS)]
    result = store.add(entries)
    assert result.added == entries and result.duplicates == []
    status = LastStatus(6, "Failed\x1b[0m", 100, None, 'disk "full"\n', 12.0, start=3)
    store.update_status({entries[0].key: status})
    loaded = store.load().entries
    assert loaded == [replace(entries[0], last=status), *entries[1:]]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    text = store.path.read_text(encoding="utf-8")
    assert tomllib.loads(text)["schema"] == 3
    assert "Failed" not in text and "seen_at" not in text  # statuses are in the cache


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40))
def test_any_label_survives_toml(label: str) -> None:
    assert parse_watchlist(layout_text([entry(5, label)]))[0].label == label


def test_lone_surrogates_become_replacement_characters(store: WatchlistStore) -> None:
    store.add([entry(1, "bad \udcff byte")])
    assert store.load().entries[0].label == "bad \ufffd byte"


def test_duplicates_are_skipped_and_reported(store: WatchlistStore) -> None:
    store.add([entry(1), entry(2)])
    result = store.add([entry(2, "again"), entry(3), entry(3), entry(1, api_url="other")])
    assert [e.diffid for e in result.added] == [3, 1]
    assert [e.diffid for e in result.duplicates] == [2, 3]
    assert [e.key for e in store.load().entries] == [
        ("prod", 1, 1),
        ("prod", 1, 2),
        ("prod", 1, 3),
        ("other", 1, 1),
    ]


def test_entries_for_filters_by_account_url_and_asid(store: WatchlistStore) -> None:
    store.add([entry(1), entry(2, asid=2), entry(3, api_url="eu")])
    assert [e.diffid for e in store.entries_for("prod", 1)] == [1]
    assert [e.diffid for e in store.entries_for("prod", 2)] == [2]
    assert [e.diffid for e in store.entries_for("eu", 1)] == [3]


def test_remove_and_set_label(store: WatchlistStore) -> None:
    store.add([entry(1), entry(2), entry(3)])
    assert store.remove([("prod", 1, 2), ("prod", 1, 99)]) == 1
    store.set_label(("prod", 1, 3), "new\nlabel")
    store.set_label(("prod", 1, 2), "gone")  # removed: nothing happens
    assert [(e.diffid, e.label) for e in store.load().entries] == [(1, ""), (3, "new\nlabel")]


def test_two_instances_merge_instead_of_overwriting(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    first, second = WatchlistStore(path), WatchlistStore(path)
    first.add([entry(1), entry(2)])
    second.load()  # second now holds a copy that is about to go stale
    first.add([entry(3)])
    second.add([entry(4)])
    second.remove([("prod", 1, 1)])
    first.update_status({("prod", 1, 1): LastStatus(4, "Running", 5, None, None, 1.0)})
    first.set_label(("prod", 1, 4), "from first")
    loaded = WatchlistStore(path).load().entries
    assert [(e.diffid, e.label) for e in loaded] == [(2, ""), (3, ""), (4, "from first")]


def test_corrupt_file_is_moved_aside_never_overwritten(store: WatchlistStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("schema = 1\n[[diff]\nbroken", encoding="utf-8")
    loaded = store.load()
    assert loaded.entries == []
    assert loaded.notice is not None and "moved to" in loaded.notice
    aside = sorted(store.path.parent.glob("watchlist.toml.corrupt-*"))
    assert len(aside) == 1 and str(aside[0]) in loaded.notice
    assert aside[0].read_text(encoding="utf-8") == "schema = 1\n[[diff]\nbroken"
    assert not store.path.exists()

    # A second corrupt file in the same second gets its own name.
    store.path.write_bytes(b"\xff\xfe not utf-8")
    notice = store.load().notice
    assert notice is not None and "not UTF-8" in notice
    assert len(list(store.path.parent.glob("watchlist.toml.corrupt-*"))) == 2

    # A mutation that finds a corrupt file also keeps it, and says so.
    store.path.write_text('schema = 1\n[[diff]]\ndiffid = "x"\n', encoding="utf-8")
    store.add([entry(7)])
    assert [e.diffid for e in store.load().entries] == [7]
    assert len(list(store.path.parent.glob("watchlist.toml.corrupt-*"))) == 3
    assert any("diffid must be an integer" in n for n in store.notices)


@pytest.mark.parametrize(
    "text",
    [
        "diff = []\n",
        "schema = 0\n",
        "schema = 1\ndiff = 3\n",
        "schema = 1\n[[diff]]\ndiffid = 1\nasid = 1\n",
        "schema = 1\n[[diff]]\ndiffid = -1\nasid = 1\nprofile = 'p'\n",
        "schema = 1\n[[diff]]\ndiffid = 1\nasid = 1\nprofile = 'p'\nlast = 3\n",
    ],
)
def test_invalid_content_counts_as_corrupt(store: WatchlistStore, text: str) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(text, encoding="utf-8")
    assert store.load().notice is not None
    assert not store.path.exists()


def test_newer_schema_is_left_alone(store: WatchlistStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("schema = 4\n", encoding="utf-8")
    with pytest.raises(WatchlistError, match="newer imagediff-tui"):
        store.load()
    with pytest.raises(WatchlistError):
        store.add([entry(1)])
    assert store.path.read_text(encoding="utf-8") == "schema = 4\n"


# --- accepted and rejected diffs -----------------------------------------------------------

# A file as imagediff-tui wrote it before accept and reject existed (the same layout).
BEFORE_ACCEPT = """schema = 1

[[diff]]
diffid = 4101
asid = 1234
profile = "prod"
label = "EU build 812"
added_at = 1764340000.0

[diff.last]
state_id = 5
state_name = "Completed"
progress = 100
seen_at = 1764340100.0
start = 1764340050

[[diff]]
diffid = 4102
asid = 1234
profile = "prod"
label = ""
added_at = 1764340000.5
"""


def test_a_watchlist_from_before_accept_and_reject_still_loads(store: WatchlistStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(BEFORE_ACCEPT, encoding="utf-8")
    loaded = store.load()
    assert loaded.notice is None
    assert [(e.diffid, e.label, e.accepted, e.rejected) for e in loaded.entries] == [
        (4101, "EU build 812", None, None),
        (4102, "", None, None),
    ]
    assert loaded.entries[0].last == LastStatus(
        5, "Completed", 100, None, None, 1764340100.0, 1764340050
    )
    assert not any(e.decided for e in loaded.entries)


def test_a_decision_is_recorded_on_its_diff_or_adds_it(store: WatchlistStore) -> None:
    store.add([entry(1, "one"), entry(2)])
    accepted = Accepted(700_001, restart=True, game_build="1.4.2", at=3.0)
    store.record_decision(replace(entry(1, "ignored"), accepted=accepted))
    rejected = Rejected(reinstall=True, uninstalljobid=900_001, at=4.0)
    store.record_decision(replace(entry(3, "new"), rejected=rejected))
    running = LastStatus(4, "Running", 40, 99, None, 5.0)
    store.update_version_status({("prod", 1, 1): running, ("prod", 1, 2): running})
    loaded = store.load().entries
    assert [(e.diffid, e.label, e.decided) for e in loaded] == [
        (1, "one", True),
        (2, "", False),
        (3, "new", True),
    ]
    assert loaded[0].accepted == replace(accepted, last=running)
    assert loaded[1].accepted is None and loaded[1].last is None
    assert loaded[2].rejected == rejected
    text = store.path.read_text(encoding="utf-8")
    assert "[account.accepted.1]\nimageversionid = 700001\nrestart = true\n" in text


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[diff.accepted]\nrestart = true\n", "accepted: imageversionid must be an integer"),
        ("[diff.accepted]\nimageversionid = 5\nrestart = 1\n", "restart must be true or false"),
        ('[diff.rejected]\nreinstall = true\nuninstalljobid = "x"\n', "uninstalljobid"),
    ],
)
def test_a_bad_decision_table_counts_as_corrupt(
    store: WatchlistStore, table: str, message: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(BEFORE_ACCEPT + "\n" + table, encoding="utf-8")
    loaded = store.load()
    assert loaded.entries == []
    assert loaded.notice is not None and message in loaded.notice


def test_the_account_watchlist_records_decisions_and_version_status(store: WatchlistStore) -> None:
    from tui.domain.clock import SystemClock
    from tui.store.watchlist.account import AccountWatchlist

    store.add([entry(1, "one")])
    watchlist = AccountWatchlist(
        store, api_url="prod", asid=1, clock=SystemClock(), held=store.load().entries
    )
    accepted = Accepted(700_001, restart=False)
    assert watchlist.record_decision(1, accepted=accepted).label == "one"
    added = watchlist.record_decision(2, rejected=Rejected(reinstall=False))
    assert (added.diffid, added.api_url, added.asid) == (2, "prod", 1)
    done = LastStatus(5, "Completed", 100, None, None, 9.0)
    watchlist.save_version_status({1: done, 2: done})
    loaded = {e.diffid: e for e in store.load().entries}
    assert loaded[1].accepted == replace(accepted, last=done)
    assert loaded[2].rejected == Rejected(reinstall=False) and loaded[2].accepted is None
    assert {e.diffid: e for e in watchlist.entries()} == loaded


# Two profiles of one account watched the same diff: the label was set through one,
# the accept went through the other.
TWO_PROFILES_ONE_DIFF = """schema = 1

[[diff]]
diffid = 4101
asid = 1234
profile = "prod"
label = ""
added_at = 1764340000.0

[[diff]]
diffid = 4101
asid = 1234
profile = "ops"
label = "eu build"
added_at = 1764340001.0

[diff.last]
state_id = 5
state_name = "Completed"
progress = 100
seen_at = 1764340100.0

[diff.accepted]
imageversionid = 700001
restart = true
at = 1764340200.0
"""


def test_migrating_two_profiles_entries_for_one_diff_keeps_what_each_knew() -> None:
    entries = parse_watchlist(TWO_PROFILES_ONE_DIFF, lambda _profile, _asid: "https://api.x")
    assert len(entries) == 1
    (entry,) = entries
    assert (entry.diffid, entry.api_url, entry.label) == (4101, "https://api.x", "eu build")
    assert entry.accepted is not None and entry.accepted.imageversionid == 700001
    assert entry.last is not None and entry.last.state_name == "Completed"
    assert entry.added_at == 1764340000.0  # watched since the first


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('schema = 3\naccount = 3\n', "account must be an array"),
        ('schema = 3\n[[account]]\nasid = 1\ndiffs = [1]\n', "api_url must be a string"),
        ('schema = 3\n[[account]]\napi_url = "u"\nasid = 0\n', "asid must be a positive"),
        ('schema = 3\n[[account]]\napi_url = "u"\nasid = 1\ndiffs = "1 2"\n', "diffs must be"),
        ('schema = 3\n[[account]]\napi_url = "u"\nasid = 1\ndiffs = [1, -2]\n', "positive"),
        ('schema = 3\n[[account]]\napi_url = "u"\nasid = 1\ndiffs = [1]\nlabels = {a = 1}\n',
         "labels"),
        ('schema = 3\n[[account]]\napi_url = "u"\nasid = 1\ndiffs = [1]\n'
         '[account.accepted.1]\nrestart = true\n', "imageversionid"),
        ('schema = 3\n[[account]]\napi_url = "u"\nasid = 1\ndiffs = [1]\n'
         '[account.sent.1.launch]\nat = 1.0\n', "not an action"),
    ],
)  # fmt: skip
def test_a_hand_edit_that_breaks_the_layout_counts_as_corrupt(
    store: WatchlistStore, text: str, reason: str
) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(text, encoding="utf-8")
    loaded = store.load()
    assert loaded.entries == [] and loaded.notice is not None and reason in loaded.notice


def test_a_hand_edit_the_layout_allows_reads_as_meant(store: WatchlistStore) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(
        "# my diffs\nschema = 3\n\n[[account]]\napi_url = 'u'\nasid = 1\n"
        "diffs = [3, 1, 3]  # 3 twice\n\n[account.labels]\n"
        "first = [3]\nsecond = [3, 1]\ngone = [99]\n",
        encoding="utf-8",
    )
    assert [(e.diffid, e.label) for e in store.load().entries] == [(3, "first"), (1, "second")]
