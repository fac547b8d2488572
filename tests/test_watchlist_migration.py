"""Files of today's release (schema 1 and 2) are read once and written anew, nothing lost:
what the user said stays in the file, what the app learned moves to the status cache."""

from __future__ import annotations

import dataclasses
import json
import random
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.legacy_watchlist import schema2_text
from tui.domain.watch_entry import Accepted, LastStatus, Rejected, WatchEntry
from tui.store.watchlist.file import WatchlistStore, parse_watchlist

FILES = Path(__file__).parent / "watchlist_files"
URLS = {
    "prod": "https://api.multiplay.co.uk",
    "ops": "https://api.multiplay.co.uk",
    "staging": "https://staging.example",
}
STATUS_KEYS = {"last", "state_id", "state_name", "progress", "seen_at", "eta", "error", "start"}
STATUS_KEYS |= {"added_at"}  # noted by the app, not said by the user: in the cache too


def _store(tmp_path: Path, text: str) -> WatchlistStore:
    path = tmp_path / "data" / "watchlist.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    store = WatchlistStore(path, tmp_path / "cache" / "watchlist-status.json")
    store.legacy_url = lambda profile, _asid: URLS[profile]
    return store


def _as_today(entries: list[WatchEntry]) -> list[dict[str, Any]]:
    """The entries as today's reader gave them (the fixtures' expected JSON)."""
    rows = [dataclasses.asdict(entry) for entry in entries]
    for row in rows:
        assert row.pop("sent") == () and row.pop("outcome") is None
    return rows


def _keys(data: object) -> set[str]:
    """Every key in a TOML document, at any depth."""
    if isinstance(data, dict):
        return set(data) | {key for value in data.values() for key in _keys(value)}
    if isinstance(data, list):
        return {key for value in data for key in _keys(value)}
    return set()


def test_the_kept_old_writer_writes_what_todays_release_wrote() -> None:
    text = (FILES / "schema2_release.toml").read_text(encoding="utf-8")
    assert schema2_text(parse_watchlist(text)) == text


@pytest.mark.parametrize("name", ["schema2_release", "schema1_profiles"])
def test_an_old_file_is_written_anew_losing_nothing(tmp_path: Path, name: str) -> None:
    store = _store(tmp_path, (FILES / f"{name}.toml").read_text(encoding="utf-8"))
    expected = json.loads((FILES / f"{name}.expected.json").read_text(encoding="utf-8"))

    assert _as_today(store.load().entries) == expected
    data = tomllib.loads(store.path.read_text(encoding="utf-8"))
    assert data["schema"] == 3
    assert not _keys(data) & STATUS_KEYS, "statuses moved to the cache"
    assert store.cache.path.exists()
    # Read again, from the new layout and the cache: the same.
    again = WatchlistStore(store.path, store.cache.path)
    assert _as_today(again.load().entries) == expected


def test_decisions_stay_in_the_users_file_and_statuses_leave_it(tmp_path: Path) -> None:
    store = _store(tmp_path, (FILES / "schema2_release.toml").read_text(encoding="utf-8"))
    store.load()
    data = tomllib.loads(store.path.read_text(encoding="utf-8"))
    first = data["account"][0]
    assert first["accepted"]["4104"] == {
        "imageversionid": 700001,
        "restart": True,
        "full": False,
        "force": True,
        "game_build": "1.4.2",
        "at": 1764340700.0,
    }
    assert first["rejected"]["4106"] == {
        "reinstall": True,
        "uninstalljobid": 900001,
        "at": 1764340720.0,
    }
    assert first["labels"]['quote " back \\ tab\t del\x7f 日本語 🦀'] == [4102]


def _release_fleet(count: int) -> list[WatchEntry]:
    """A large watchlist as today's release keeps one: every diff with its last status,
    some accepted (their version job seen) or rejected."""
    rng = random.Random(f"migration:{count}")
    entries = []
    for diffid in range(100_000, 100_000 + count):
        last = LastStatus(
            rng.choice((1, 2, 3, 4, 5, 6)),
            rng.choice(("Running", "Completed", "Failed")),
            rng.randint(0, 100),
            rng.choice((None, 1764340600)),
            rng.choice((None, 'disk "full"\n')),
            1764340000.0 + rng.random() * 1e5,
            rng.choice((None, 1764339000)),
        )
        accepted = rejected = None
        if diffid % 97 == 0:
            seen = rng.choice((None, last))
            accepted = Accepted(diffid + 7, rng.random() < 0.5, at=1764340700.5, last=seen)
        elif diffid % 89 == 0:
            rejected = Rejected(True, diffid + 9, 1764340800.0, last)
        label = rng.choice(("", "eu-west build", "hotfix ✓"))
        added = 1764330000.0 + rng.random() * 1e4
        entries.append(
            WatchEntry(
                diffid, 1234, "https://api.multiplay.co.uk", label, added, last, accepted, rejected
            )
        )
    return entries


def test_a_10000_diff_file_of_todays_release_is_migrated_with_nothing_lost(tmp_path: Path) -> None:
    entries = _release_fleet(10_000)
    store = _store(tmp_path, schema2_text(entries))

    assert store.load().entries == entries
    text = store.path.read_text(encoding="utf-8")
    assert not _keys(tomllib.loads(text)) & STATUS_KEYS
    assert WatchlistStore(store.path, store.cache.path).load().entries == entries
    # Without the cache, what the user said is all there (when each was added is not).
    store.cache.path.unlink()
    said = [
        dataclasses.replace(
            entry,
            added_at=0.0,
            last=None,
            accepted=entry.accepted and dataclasses.replace(entry.accepted, last=None),
            rejected=entry.rejected and dataclasses.replace(entry.rejected, last=None),
        )
        for entry in entries
    ]
    assert store.load().entries == said
