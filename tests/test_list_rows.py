"""ListRows, the list's filter and sort, on its own: no screen, a fake clock."""

from __future__ import annotations

from tests.test_job_list import NOW, _answer, _view
from tui.clock import FakeClock
from tui.widgets.list_rows import RESORT_AFTER, ListRows


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
