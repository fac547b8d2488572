"""The watchlist's fast reader agrees with tomllib on every text it accepts."""

from __future__ import annotations

import time
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.models import LastStatus, WatchEntry
from tui.watchlist import _fast_toml, parse_watchlist, watchlist_to_toml

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
_entry = st.builds(
    WatchEntry,
    diffid=st.integers(1, 2**31),
    asid=st.integers(1, 2**31),
    profile=_text,
    label=_text,
    added_at=st.floats(0, 2e9, allow_nan=False),
    last=st.none() | _last,
)


@given(st.lists(_entry, max_size=8))
def test_what_the_app_writes_reads_back_the_same_fast(entries: list[WatchEntry]) -> None:
    text = watchlist_to_toml(entries)
    fast = _fast_toml(text)
    if fast is not None:
        assert fast == tomllib.loads(text)


def test_a_plain_watchlist_takes_the_fast_path_and_is_fast() -> None:
    last = LastStatus(5, "Completed", 100, None, 'disk "full"\n', 1.8e9, 1_799_999_000)
    entries = [
        WatchEntry(diffid, 1234, "prod", f"eu-west build {diffid}", 1.7e9, last)
        for diffid in range(1, 10_001)
    ]
    text = watchlist_to_toml(entries)
    assert _fast_toml(text) == tomllib.loads(text)
    started = time.process_time()
    assert parse_watchlist(text) == entries
    # tomllib alone takes about a second here; the fast path about a tenth of that.
    assert time.process_time() - started < 0.6


_LINES = st.sampled_from(
    [
        "schema = 1",
        "[[diff]]",
        "[diff.last]",
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
