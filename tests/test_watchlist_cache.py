"""The status cache: losing or breaking it costs a first poll, never a diff, a label,
a decision or an action whose outcome is unknown."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.domain.actions import ActionOutcome
from tui.domain.watch_entry import (
    Accepted,
    LastOutcome,
    LastStatus,
    Rejected,
    SentAction,
    WatchEntry,
)
from tui.store.watchlist.file import WatchlistStore

RUNNING = LastStatus(4, "Running", 40, 1764340600, None, 1764340100.25, 1764340050)
FAILED = LastStatus(6, "Failed", 100, None, 'disk "full"\n', 1764340200.0)


def _store(tmp_path: Path) -> WatchlistStore:
    return WatchlistStore(tmp_path / "data" / "watchlist.toml", tmp_path / "cache" / "s.json")


def _said(entry: WatchEntry) -> WatchEntry:
    """What the user's file keeps of ``entry``."""
    accepted, rejected = entry.accepted, entry.rejected
    return dataclasses.replace(
        entry,
        added_at=0.0,
        last=None,
        outcome=None,
        accepted=accepted and dataclasses.replace(accepted, last=None),
        rejected=rejected and dataclasses.replace(rejected, last=None),
    )


def _watched(store: WatchlistStore) -> list[WatchEntry]:
    """Three diffs: one labelled and polled, one accepted (its version seen), one with a
    retry sent whose outcome is unknown."""
    store.add([WatchEntry(1, 7, "https://api.x", "eu build", 5.0)])
    store.add([WatchEntry(2, 7, "https://api.x", "", 6.0), WatchEntry(3, 7, "https://api.x")])
    store.update_status({("https://api.x", 7, 1): RUNNING, ("https://api.x", 7, 3): FAILED})
    accepted = Accepted(700_001, restart=True, game_build="1.4.2", at=9.0, last=RUNNING)
    store.record_decision(WatchEntry(2, 7, "https://api.x", accepted=accepted))
    key = ("https://api.x", 7, 3)
    store.note_sent(key, SentAction("retry", 10.0))
    store.note_outcome(key, "retry", LastOutcome("retry", ActionOutcome.UNKNOWN, "timed out", 11.0))
    return store.load().entries


@pytest.mark.parametrize(
    "damage",
    [
        "deleted",
        "not JSON",
        "truncated",
        "wrong types",
        "a folder",
        "binary",
    ],
)
def test_a_lost_or_broken_cache_costs_statuses_only(tmp_path: Path, damage: str) -> None:
    store = _store(tmp_path)
    entries = _watched(store)
    assert entries[0].last == RUNNING and entries[1].accepted is not None
    assert entries[1].accepted.last == RUNNING and entries[2].sent == (SentAction("retry", 10.0),)
    assert entries[2].outcome == LastOutcome("retry", ActionOutcome.UNKNOWN, "timed out", 11.0)
    cache = store.cache.path
    text = cache.read_text(encoding="utf-8")
    if damage == "deleted":
        cache.unlink()
    elif damage == "not JSON":
        cache.write_text("{{{", encoding="utf-8")
    elif damage == "truncated":
        cache.write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "wrong types":
        cache.write_text(text.replace('"Running"', "17"), encoding="utf-8")
    elif damage == "a folder":
        cache.unlink()
        cache.mkdir()
    else:
        cache.write_bytes(b"\xff\xfe\x00")

    fresh = WatchlistStore(store.path, cache)
    loaded = fresh.load()
    assert loaded.notice is None
    assert loaded.entries == [_said(entry) for entry in entries]
    # The unknown retry is still there: it is never sent again because a cache went missing.
    assert loaded.entries[2].sent == (SentAction("retry", 10.0),)
    # The app goes on: a poll's status is saved again where the cache can be written.
    fresh.update_status({("https://api.x", 7, 1): FAILED})
    if damage != "a folder":
        assert fresh.load().entries[0].last == FAILED
    assert fresh.load().entries[0].label == "eu build"


def test_after_polling_the_users_file_holds_no_status(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _watched(store)
    data = tomllib.loads(store.path.read_text(encoding="utf-8"))
    (account,) = data["account"]
    assert account["diffs"] == [1, 2, 3]
    assert account["labels"] == {"eu build": [1]}
    assert account["sent"] == {"3": {"retry": {"at": 10.0, "options": ""}}}
    assert "last" not in account["accepted"]["2"]
    text = store.path.read_text(encoding="utf-8")
    for learned in ("Running", "Failed", "seen_at", "unknown", "timed out"):
        assert learned not in text


def test_a_known_outcome_clears_the_sent_action_and_an_unknown_keeps_it(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add([WatchEntry(1, 7, "https://api.x")])
    key = ("https://api.x", 7, 1)
    assert store.note_sent(key, SentAction("accept", 3.0, "restart=1 full=0"))
    assert not store.note_sent(("https://api.x", 7, 99), SentAction("retry", 3.0))
    store.note_outcome(
        key, "accept", LastOutcome("accept", ActionOutcome.UNKNOWN, "no answer", 4.0)
    )
    assert store.load().entries[0].sent == (SentAction("accept", 3.0, "restart=1 full=0"),)
    refused = LastOutcome("accept", ActionOutcome.REFUSED, "Image locked by diffid 5", 5.0)
    store.note_outcome(key, "accept", refused)
    (entry,) = store.load().entries
    assert entry.sent == () and entry.outcome == refused
    store.note_sent(key, SentAction("retry", 6.0))
    store.note_outcome(key, "retry", None)
    (entry,) = store.load().entries
    assert entry.sent == () and entry.outcome is None


def test_a_removed_diff_leaves_the_cache_too(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add([WatchEntry(1, 7, "https://api.x", last=RUNNING)])
    store.remove([("https://api.x", 7, 1)])
    store.add([WatchEntry(1, 7, "https://api.x")])
    assert store.load().entries[0].last is None


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
_time = st.floats(0, 2e9, allow_nan=False)
_last = st.builds(
    LastStatus,
    state_id=st.none() | st.integers(1, 6),
    state_name=_text,
    progress=st.integers(0, 100),
    eta=st.none() | st.integers(0, 2**40),
    error=st.none() | _text,
    seen_at=_time,
    start=st.none() | st.integers(0, 2**40),
)
_entry = st.builds(
    WatchEntry,
    diffid=st.integers(1, 2**40),
    asid=st.integers(1, 3),
    api_url=st.sampled_from(["https://api.x", "http://127.0.0.1:1"]),
    label=_text,
    added_at=_time,
    last=st.none() | _last,
    accepted=st.none()
    | st.builds(
        Accepted,
        imageversionid=st.integers(1, 2**40),
        restart=st.booleans(),
        full=st.booleans(),
        force=st.booleans(),
        game_build=st.none() | _text,
        at=_time,
        last=st.none() | _last,
    ),
    rejected=st.none()
    | st.builds(
        Rejected,
        reinstall=st.booleans(),
        uninstalljobid=st.none() | st.integers(1, 2**40),
        at=_time,
        last=st.none() | _last,
    ),
    sent=st.lists(
        st.builds(
            SentAction, st.sampled_from(["retry", "accept", "reject", "create"]), _time, _text
        ),
        max_size=2,
        unique_by=lambda sent: sent.action,
    ).map(tuple),
    outcome=st.none()
    | st.builds(
        LastOutcome,
        st.sampled_from(["retry", "accept"]),
        st.sampled_from(ActionOutcome),
        _text,
        _time,
    ),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_entry, max_size=6, unique_by=lambda entry: entry.key))
def test_what_is_saved_reads_back_the_same(tmp_path: Path, entries: list[WatchEntry]) -> None:
    store = _store(tmp_path)
    store.path.unlink(missing_ok=True)
    store.cache.path.unlink(missing_ok=True)
    store.add([dataclasses.replace(_said(entry), added_at=entry.added_at) for entry in entries])
    for entry in entries:
        if entry.decided:
            store.record_decision(entry)
        for sent in entry.sent:
            store.note_sent(entry.key, sent)
    store.update_status({e.key: e.last for e in entries if e.last is not None})
    for entry in entries:
        if entry.outcome is not None:
            store.cache.set_outcome(entry.key, entry.outcome)
    by_account: dict[tuple[str, int], list[WatchEntry]] = {}
    for entry in entries:
        by_account.setdefault((entry.api_url, entry.asid), []).append(entry)
    expected = [entry for group in by_account.values() for entry in group]
    assert store.load().entries == expected
    if entries:
        assert tomllib.loads(store.path.read_text(encoding="utf-8"))["schema"] == 3


def test_the_account_watchlist_keeps_a_sent_action_until_its_outcome_is_known(
    tmp_path: Path,
) -> None:
    from tui.domain.clock import SystemClock
    from tui.store.watchlist.account import AccountWatchlist

    store = _store(tmp_path)
    store.add([WatchEntry(1, 7, "https://api.x")])
    watchlist = AccountWatchlist(
        store, api_url="https://api.x", asid=7, clock=SystemClock(), held=store.load().entries
    )
    assert watchlist.note_sent(1, SentAction("reject", 2.0, "reinstall=1"))
    watchlist.note_outcome(
        1, "reject", LastOutcome("reject", ActionOutcome.UNKNOWN, "timed out", 3.0)
    )
    store.cache.path.unlink()  # the cache is lost: the sent reject is not
    (entry,) = WatchlistStore(store.path, store.cache.path).load().entries
    assert entry.sent == (SentAction("reject", 2.0, "reinstall=1"),)
    watchlist.note_outcome(1, "reject", LastOutcome("reject", ActionOutcome.NOT_DONE, "429", 4.0))
    (entry,) = store.load().entries
    assert entry.sent == () and entry.outcome == LastOutcome(
        "reject", ActionOutcome.NOT_DONE, "429", 4.0
    )
