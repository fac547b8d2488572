"""Which watched diffs the list shows, in which order: its filter and sort, no drawing.

:class:`~tui.ui.widgets.job_list.JobList` composes one :class:`ListRows` and draws what
it says. Keeping the order here (plain Python, no Textual) keeps the rules on when a
list re-sorts apart from the cursor, scrolling and painting.

Example:
    >>> # rows = ListRows(views, clock=SystemClock())
    >>> # rows.set_filter("fail"); rows.arrange(); rows.order
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Final

from tui.domain.clock import Clock
from tui.polling.job_order import SORT_KEYS, SortKey, filter_haystack, needs_attention, sort_value

if TYPE_CHECKING:
    from tui.polling.tracker import JobView

RESORT_AFTER: Final = 30.0
"""Seconds at most before answers that move diffs in the sort order re-sort the list."""
_SHOWN_KEPT: Final = 32
"""How many filter texts' results are kept at most (a typed filter's prefixes)."""


class ListRows:
    """The diffs a filter shows, in sort order, with the re-sort that answers owe."""

    def __init__(self, views: Mapping[int, JobView], *, clock: Clock) -> None:
        self._views = views
        self._clock = clock
        self.order: list[int] = []
        """The diffs shown, top to bottom."""
        self.index: dict[int, int] = {}
        """Per diff shown, its row in ``order``."""
        self.filter_text = ""
        self.sort_key: SortKey = "state"
        self.descending = False
        """True when the sort is reversed (``S``)."""
        self.attention_only = False
        """The quick filter: only the diffs that need the operator (the to-do)."""
        self.hold = False
        """True while the user has a selection: answers do not move rows (the sort
        waits until the selection is cleared, or the user sorts)."""
        self._owed = False
        """Answers moved diffs in the sort order since the last re-sort."""
        self._sort_values: dict[int, tuple[float, ...]] = {}
        """Per diff, its sort value as of the last re-sort."""
        self._resort_at: float | None = None
        """Monotonic time of the re-sort owed to answers that moved diffs; None: none owed."""
        self._unknown_placed: set[int] = set()
        """Diffs without a known state as of the last re-sort."""
        self._sorted: list[int] | None = None
        """Every diff (shown or not) in sort order as of the last re-sort; None: re-sort."""
        self._haystacks: dict[int, str] = {}
        """Per diff, the filter's text to search, until :meth:`take_changes` says it
        changed."""
        self._shown_for: dict[str, tuple[list[int], dict[int, int]]] = {}
        """Per filter text (as searched), the ``order`` and ``index`` it gave, while
        nothing else changed: erasing a character goes back to what it showed without
        testing every diff again (forgotten on any re-sort, answer or quick filter)."""

    def arrange(self, *, narrow: bool = False) -> bool:
        """Re-apply the filter and sort (paying any re-sort owed); True when the order
        changed.

        ``narrow``: the filter only got stricter, so filter the rows shown now, in their
        order, instead of the whole list (a keystroke in the filter box stays cheap),
        unless a re-sort is owed.
        """
        ranked = self._sorted
        if ranked is None or not self._sorted_is_current() or (self._owed and not self.hold):
            key = self.sort_key
            values = {diffid: sort_value(view, key) for diffid, view in self._views.items()}
            ranked = sorted(values, key=values.__getitem__, reverse=self.descending)
            self._sort_values, self._sorted = values, ranked
            self._unknown_placed = {d for d, view in self._views.items() if view.state is None}
            self._owed, self._resort_at = False, None
            self._shown_for.clear()
            candidates = ranked
        else:
            # Only the filter changed (or a selection holds the order): the order stands.
            # When the filter only got stricter, the rows left out now were left out
            # before too: test only the rows shown.
            candidates = self.order if narrow else ranked
        needle = _needle(self.filter_text)
        shown = self._shown_for.get(needle)
        if shown is None:
            if needle or self.attention_only:
                order = [d for d in candidates if self._shows(d, needle)]
            else:
                order = list(candidates)  # no filter: every diff shows
            shown = order, dict(zip(order, range(len(order)), strict=True))
            if len(self._shown_for) >= _SHOWN_KEPT:
                self._shown_for.clear()
            self._shown_for[needle] = shown
        changed = shown[0] != self.order
        self.order, self.index = shown
        return changed

    def set_filter(self, text: str) -> bool:
        """Filter on ``text`` from the next :meth:`arrange`; True when it only got
        stricter (that arrange may be ``narrow``)."""
        before = _needle(self.filter_text)
        self.filter_text = text
        return bool(before) and before in _needle(text)

    def set_attention(self, on: bool) -> bool:
        """Turn the quick filter on or off from the next :meth:`arrange`; True when it
        only got stricter (that arrange may be ``narrow``)."""
        self.attention_only = on
        self._shown_for.clear()
        return on

    def cycle_sort(self) -> SortKey:
        """Switch to the next sort key, in its own direction (applied by the next
        :meth:`arrange`, even while a selection holds the order)."""
        position = SORT_KEYS.index(self.sort_key)
        self.sort_key = SORT_KEYS[(position + 1) % len(SORT_KEYS)]
        self.descending = False
        self._sorted = None
        return self.sort_key

    def reverse_sort(self) -> bool:
        """Flip the sort direction (from the next :meth:`arrange`); True: now reversed."""
        self.descending = not self.descending
        self._sorted = None
        return self.descending

    def take_changes(self, diffids: Iterable[int]) -> tuple[set[int], bool]:
        """Views changed: the watched ones among ``diffids``, and True when the list must
        :meth:`arrange` now (else a re-sort is owed at most ``RESORT_AFTER`` seconds on).

        A diff that now sorts elsewhere keeps its row until the list re-sorts (sooner on
        any arrange; while :attr:`hold` is set, not before it is cleared): a burst of
        completions moves the rows once, not once per answer, and a row does not jump
        away from under the reader's eyes. One that the filter now leaves out (or lets
        in) goes (or comes) at once: the filter never shows what it excludes; so does one
        placed while its state was unknown (its first answer puts it where it belongs),
        unless :attr:`hold` is set (then it keeps its row too).
        """
        changed = {d for d in diffids if d in self._views}
        for diffid in changed:
            self._haystacks.pop(diffid, None)
        if changed:
            self._shown_for.clear()
        key, was = self.sort_key, self._sort_values
        moved = {d for d in changed if was.get(d) != sort_value(self._views[d], key)}
        if moved:
            self._owed = True
        if any(d not in was for d in changed):
            self._sorted = None
            return changed, True
        needle = _needle(self.filter_text)
        if any(
            self._shows(d, needle) != (d in self.index)
            or (d in moved and d in self._unknown_placed)
            for d in changed
        ):
            return changed, True
        if moved and self._resort_at is None:
            self._resort_at = self._clock.monotonic() + RESORT_AFTER
        return changed, False

    def resort_due(self) -> bool:
        """True when the re-sort owed to answers is due (never while held)."""
        return (
            not self.hold
            and self._resort_at is not None
            and self._clock.monotonic() >= self._resort_at
        )

    def shown_of(self) -> tuple[int, int]:
        """How many diffs the filters show, of how many watched."""
        return len(self.order), len(self._views)

    def _shows(self, diffid: int, needle: str) -> bool:
        """True when the filter box (``needle``) and the quick filter both let
        ``diffid`` in."""
        if self.attention_only and not needs_attention(self._views[diffid]):
            return False
        return not needle or needle in self._haystack(diffid)

    def _haystack(self, diffid: int) -> str:
        """What the filter searches in a diff (kept until its row changes)."""
        text = self._haystacks.get(diffid)
        if text is None:
            text = self._haystacks[diffid] = filter_haystack(self._views[diffid])
        return text

    def _sorted_is_current(self) -> bool:
        """True when the sorted order of every diff still holds (no diff came or went,
        no answer moved one, the sort key is the same)."""
        # The sort values were taken of every diff sorted: comparing the two key sets
        # runs in C, where a Python loop over every diff would cost each keystroke.
        return self._sorted is not None and self._sort_values.keys() == self._views.keys()


def _needle(filter_text: str) -> str:
    return filter_text.strip().lower()
