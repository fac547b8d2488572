"""The watchlist's fast reader agrees with tomllib on every text it accepts."""

from __future__ import annotations

import dataclasses
import tomllib

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.domain.watch_entry import Accepted, LastStatus, Rejected, WatchEntry
from tui.store.watchlist.file import (
    _FAST_ENTRY,
    _FAST_GROUPS,
    WatchlistError,
    _Corrupt,
    _entries_of,
    _fast_entries,
    _fast_toml,
    default_legacy_url,
    parse_watchlist,
    watchlist_to_toml,
)

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_last = st.builds(
    LastStatus,
    state_id=st.none() | st.integers(1, 6),
    state_name=_text,
    progress=st.integers(0, 100),
    eta=st.none() | st.integers(0, 2**40),
    error=st.none() | _text,
    seen_at=st.floats(0, 2e9, allow_nan=False),
    start=st.none() | st.integers(0, 2**40),
)
_accepted = st.builds(
    Accepted,
    imageversionid=st.integers(1, 2**40),
    restart=st.booleans(),
    full=st.booleans(),
    force=st.booleans(),
    game_build=st.none() | _text,
    at=st.floats(0, 2e9, allow_nan=False),
    last=st.none() | _last,
)
_rejected = st.builds(
    Rejected,
    reinstall=st.booleans(),
    uninstalljobid=st.none() | st.integers(1, 2**40),
    at=st.floats(0, 2e9, allow_nan=False),
    last=st.none() | _last,
)
_entry = st.builds(
    WatchEntry,
    diffid=st.integers(1, 2**31),
    asid=st.integers(1, 2**31),
    api_url=_text,
    label=_text,
    added_at=st.floats(0, 2e9, allow_nan=False),
    last=st.none() | _last,
    accepted=st.none() | _accepted,
    rejected=st.none() | _rejected,
)


@given(st.lists(_entry, max_size=8))
def test_what_the_app_writes_is_toml_that_reads_back_the_same_fast(
    entries: list[WatchEntry],
) -> None:
    text = watchlist_to_toml(entries)
    data = tomllib.loads(text)
    assert _fast_toml(text) == data
    assert data == tomllib.loads(tomli_w.dumps(data))
    assert parse_watchlist(text) == _one_per_diff(entries)


def _one_per_diff(entries: list[WatchEntry]) -> list[WatchEntry]:
    """The rule for a diff listed twice in one account, spelled out: in the order first
    seen, the first label that is not empty, the first decision, the newest last status,
    watched since the earliest."""
    groups: dict[tuple[str, int, int], list[WatchEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.key, []).append(entry)
    merged = []
    for group in groups.values():
        seen = [entry.last for entry in group if entry.last is not None]
        decided = [entry for entry in group if entry.accepted or entry.rejected]
        decision = decided[0] if decided else group[0]
        merged.append(
            dataclasses.replace(
                group[0],
                label=next((entry.label for entry in group if entry.label), ""),
                added_at=min(entry.added_at for entry in group),
                # max() keeps the first of equals, as a later equal status adds nothing.
                last=max(seen, key=lambda last: last.seen_at) if seen else None,
                accepted=decision.accepted,
                rejected=decision.rejected,
            )
        )
    return merged


def test_odd_characters_and_numbers_are_written_as_toml() -> None:
    last = LastStatus(6, "Failed", 0, -5, 'a\x7f"\\\n\t\x01é\u2028', float("inf"), 0)
    entry = WatchEntry(7, 1, "p\x00", "x", -0.0, last)
    text = watchlist_to_toml([entry])
    data = tomllib.loads(text)
    assert data["diff"][0]["last"]["error"] == 'a\x7f"\\\n\t\x01é\u2028'
    assert data["diff"][0]["last"]["seen_at"] == float("inf")
    assert parse_watchlist(text) == [entry]


def test_a_plain_watchlist_takes_the_fast_path() -> None:
    last = LastStatus(5, "Completed", 100, None, 'disk "full"\n', 1.8e9, 1_799_999_000)
    accepted = Accepted(700_001, True, game_build="1.4.2", at=1.8e9, last=last)
    rejected = Rejected(True, 900_001, 1.8e9, last)
    entries = [
        WatchEntry(
            diffid,
            1234,
            "prod",
            f"eu-west build {diffid}",
            1.7e9,
            last,
            accepted if diffid % 3 == 1 else None,
            rejected if diffid % 3 == 2 else None,
        )
        for diffid in range(1, 10_001)
    ]
    text = watchlist_to_toml(entries)
    assert _fast_toml(text) == tomllib.loads(text)
    # Built from each entry's match, the decided ones from their own text.
    assert _fast_entries(text) == entries
    assert parse_watchlist(text) == entries


_LINES = st.sampled_from(
    [
        "schema = 1",
        "[[diff]]",
        "[diff.last]",
        "[diff.accepted]",
        "[diff.accepted.last]",
        "[diff.rejected]",
        "[diff.rejected.last]",
        "[diff.accepted.other]",
        "restart = true",
        "full = false",
        "force = True",
        "accepted = 1",
        "[diff]",
        "diff = 3",
        "diffid = 12",
        "diffid = 012",
        "asid = -0",
        "added_at = 1.5",
        "added_at = 1.5e3",
        "added_at = 1.",
        "added_at = inf",
        'label = "a\\"b"',
        'label = "a\\u00e9"',
        'label = "a\\ud800"',
        'label = "a\\U0001F600"',
        'label = "tab\there"',
        "label = 'literal'",
        'label = "x" # comment',
        "label=1",
        "last = 1",
        "",
        " ",
        "\r",
        "x = 1\x0cy = 2",
        'label = "\u2028"',
    ]
)


@settings(max_examples=300)
@given(st.lists(_LINES, max_size=12), st.sampled_from(["\n", "\r\n"]))
def test_any_text_the_fast_reader_accepts_means_the_same_to_tomllib(
    lines: list[str], newline: str
) -> None:
    text = newline.join(lines)
    fast = _fast_toml(text)
    if fast is not None:
        assert fast == tomllib.loads(text)


_EDITS = st.sampled_from(
    [
        "restart = true",
        "note = 1",
        "diffid = 12",
        'state_name = "edited"',
        "start = 5",
        "[diff.last]",
        "[diff.accepted]",
        "at = 1.5",
        "[diff.accepted.last]",
        "[[diff]]",
        "",
    ]
)


@settings(max_examples=300)
@given(_entry, st.lists(_EDITS, max_size=4), st.lists(_EDITS, min_size=1, max_size=4))
def test_an_entry_read_whole_then_edited_lines_mean_the_same_to_tomllib(
    entry: WatchEntry, before: list[str], after: list[str]
) -> None:
    # The reader takes a written entry in one match, then goes line by line: lines a
    # person added around it (a key, a table, a duplicate) must read as TOML reads them.
    written = watchlist_to_toml([entry]).removeprefix("schema = 2\n")
    text = "\n".join([*before, written, *after])
    fast = _fast_toml(text)
    if fast is not None:
        assert fast == tomllib.loads(text)


_DIRECT_EDITS = st.sampled_from(
    [
        "diffid = 0",
        "asid = 0",
        "diffid = 99999999999999",
        "schema = 2",
        "schema = 1",
        'profile = "prod"',
        "[diff.accepted]",
        "imageversionid = 0",
        "imageversionid = 5",
        "at = 1.5",
        "[diff.rejected]",
        "restart = 1",
        "[[diff]]",
        "# a comment",
        "",
    ]
)


@settings(max_examples=300)
@given(
    st.lists(_entry, max_size=5),
    st.lists(st.tuples(st.integers(0, 60), _DIRECT_EDITS | _EDITS), max_size=3),
)
def test_entries_built_straight_from_the_text_are_what_the_general_reader_builds(
    entries: list[WatchEntry], edits: list[tuple[int, str]]
) -> None:
    # Written files, and the same with lines a person added: the direct reader either
    # declines (None) or agrees entry for entry with tomllib's data read the long way.
    lines = watchlist_to_toml(entries).split("\n")
    for at, line in edits:
        lines.insert(min(at, len(lines)), line)
    text = "\n".join(lines)
    direct = _fast_entries(text)
    if not edits:
        assert direct is not None
    if direct is None:
        return
    try:
        expected = _entries_of(tomllib.loads(text), default_legacy_url)
    except (tomllib.TOMLDecodeError, _Corrupt, WatchlistError) as exc:
        raise AssertionError(f"read directly, but the file is wrong: {exc}") from None
    assert direct == expected


def test_the_entry_pattern_s_groups_come_in_the_order_the_reader_unpacks() -> None:
    assert _FAST_ENTRY.groupindex == {name: n for n, name in enumerate(_FAST_GROUPS, start=1)}
    assert _FAST_ENTRY.groups == len(_FAST_GROUPS)
