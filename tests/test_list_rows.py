"""ListRows, the list's filter and sort, on its own: no screen, a fake clock."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_job_list import NOW, _answer, _view
from tui.domain.clock import FakeClock
from tui.polling.job_order import filter_haystack, needs_attention, sort_value
from tui.polling.tracker import JobView
from tui.ui.widgets.list_rows import RESORT_AFTER, ListRows


def test_a_diff_that_moves_keeps_its_row_until_the_owed_resort_is_due() -> None:
    views = {1: _view(1, 5, 100), 2: _view(2, 4, 10)}
    clock = FakeClock(NOW)
    rows = ListRows(views, clock=clock)
    assert rows.arrange()
    assert rows.order == [2, 1]

    _answer(views[2], 5, 100)
    changed, now = rows.take_changes([2, 99])
    assert changed == {2} and not now
    clock.advance(RESORT_AFTER - 1)
    assert not rows.resort_due()
    clock.advance(1)
    assert rows.resort_due()
    assert rows.arrange() and rows.order == [1, 2]
    assert not rows.resort_due()


def test_a_diff_leaving_the_filter_asks_for_an_arrange_at_once() -> None:
    views = {1: _view(1, 4, 10), 2: _view(2, 6, 20)}
    rows = ListRows(views, clock=FakeClock(NOW))
    assert not rows.set_filter("ru"), "from no filter: not a narrowing"
    assert rows.set_filter("run"), "stricter"
    rows.arrange(narrow=True)
    assert rows.order == [1] and rows.index == {1: 0}

    _answer(views[1], 5, 100)
    assert rows.take_changes([1]) == ({1}, True)
    rows.arrange()
    assert rows.order == []


Edit = tuple[str, object]
EDITS = st.one_of(
    st.tuples(st.just("type"), st.sampled_from("12 ruNfaiLdx")),
    st.tuples(st.just("erase"), st.integers(1, 3)),
    st.tuples(st.just("set"), st.sampled_from(("", "run", "fa", "comp", "1", "eu"))),
    st.tuples(st.just("attention"), st.booleans()),
    st.tuples(st.just("sort"), st.booleans()),
    st.tuples(st.just("answer"), st.tuples(st.integers(0, 7), st.sampled_from((4, 5, 6)))),
)


def _from_scratch(rows: ListRows, views: dict[int, JobView]) -> list[int]:
    """What the filters show in sort order, worked out with nothing kept."""
    needle = rows.filter_text.strip().lower()
    ranked = sorted(views, key=lambda d: sort_value(views[d], rows.sort_key))
    if rows.descending:
        ranked.reverse()
    return [
        d
        for d in ranked
        if needle in filter_haystack(views[d])
        and (not rows.attention_only or needs_attention(views[d]))
    ]


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.sampled_from((4, 5, 6)), st.sampled_from(("", "eu-1", "us-2"))),
        min_size=1,
        max_size=8,
    ),
    st.lists(EDITS, max_size=30),
)
def test_a_narrowed_filter_shows_what_filtering_from_scratch_shows(
    fleet: list[tuple[int, str]], edits: list[Edit]
) -> None:
    views = {100 + n: _view(100 + n, state, 10) for n, (state, _label) in enumerate(fleet)}
    for n, (_state, label) in enumerate(fleet):
        views[100 + n].entry = replace(views[100 + n].entry, label=label)
    rows = ListRows(views, clock=FakeClock(NOW))
    rows.arrange()
    for kind, arg in edits:
        narrow = False
        if kind == "type":
            narrow = rows.set_filter(rows.filter_text + str(arg))
        elif kind == "erase":
            narrow = rows.set_filter(rows.filter_text[: -int(str(arg))])
        elif kind == "set":
            narrow = rows.set_filter(str(arg))
        elif kind == "attention":
            narrow = rows.set_attention(bool(arg))
        elif kind == "sort":
            rows.cycle_sort() if arg else rows.reverse_sort()
        else:
            index, state = arg  # type: ignore[misc]
            diffid = 100 + index % len(fleet)
            _answer(views[diffid], state, 50)
            if not rows.take_changes([diffid])[1]:
                continue  # the list re-sorts later: the order may lag until then
        rows.arrange(narrow=narrow)
        assert rows.order == _from_scratch(rows, views), (kind, arg)
        assert rows.index == {d: row for row, d in enumerate(rows.order)}


def test_erasing_goes_back_to_what_the_shorter_filter_showed_without_testing_every_diff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    views = {diffid: _view(diffid, 4 if diffid % 3 else 5, 10) for diffid in range(1, 301)}
    rows = ListRows(views, clock=FakeClock(NOW))
    tested: list[int] = []
    shows = rows._shows

    def counted(diffid: int, needle: str) -> bool:
        tested.append(diffid)
        return shows(diffid, needle)

    monkeypatch.setattr(rows, "_shows", counted)
    shown = {}
    for text in ("", "1", "12"):
        rows.arrange(narrow=rows.set_filter(text))
        shown[text] = rows.order
    tested.clear()
    for text in ("1", "", "1", "12"):
        rows.arrange(narrow=rows.set_filter(text))
        assert rows.order == shown[text]
        assert rows.index == {d: row for row, d in enumerate(shown[text])}
    assert tested == []

    _answer(views[12], 5, 100)  # an answer: what each filter shows is worked out again
    rows.take_changes([12])
    rows.arrange(narrow=rows.set_filter("1"))
    assert tested and 12 in rows.order


def test_a_diff_replaced_by_another_is_sorted_in_even_when_the_count_stays() -> None:
    views = {1: _view(1, 5, 100), 2: _view(2, 4, 10)}
    rows = ListRows(views, clock=FakeClock(NOW))
    rows.arrange()
    del views[1]
    views[3] = _view(3, 6, 10)
    rows.arrange()
    assert rows.order == [3, 2]
