"""How the job list draws its rows, and repaints no more of them than changed.

:class:`RowPainter` builds each diff's panel lines (once a frame: a frame draws up to
three lines of each panel), remembers what every line showed when last drawn, and on
a tick names only the cells of a row that differ from it (an ETA's digits): over a
slow SSH link the bytes sent are what the user waits for. What it draws from, the
list hands it as a :class:`ListState`; what to refresh, it answers as regions.

Example:
    >>> # painter = RowPainter(views, clock)
    >>> # painter.begin_frame(state, now); painter.line(y) in render_line
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

from tui.ui.widgets.panel import Columns, PanelStyles, panel_strips, pieces_to_strip, truncate

if TYPE_CHECKING:
    from tui.domain.clock import Clock
    from tui.polling.tracker import JobView


@dataclass(frozen=True, slots=True)
class ListState:
    """The list as the painter draws it at one moment: its rows and its window."""

    order: Sequence[int]
    """The diffs shown, top to bottom."""
    row_height: int
    """Lines per diff."""
    selected: Set[int]
    cursor: int
    """The row under the cursor."""
    columns: Columns
    """The columns the rows are cut to, as last fitted to the list's width."""
    compact: bool
    id_digits: int
    """The digits of the longest watched diff ID (to fit columns to another width)."""
    lock_key: str
    styles: PanelStyles
    empty_text: str
    """What the list says when it shows no diff."""
    scroll_x: int
    scroll_y: int
    width: int
    """The window's width in cells (its content region)."""
    height: int
    """The window's height in lines."""


class RowPainter:
    """Draws the list's lines and keeps what each showed (see the module)."""

    def __init__(self, views: Mapping[int, JobView], clock: Clock) -> None:
        self._views = views
        self._clock = clock
        self._painted: dict[int, Strip] = {}
        """What each line (by virtual y) showed when last drawn."""
        self._frame: ListState | None = None
        """The list while Textual draws one frame (else None)."""
        self._frame_rows: dict[int, list[Strip]] = {}
        """Each panel's lines in the frame being drawn."""
        self._frame_now = 0.0

    @property
    def in_frame(self) -> bool:
        """True between :meth:`begin_frame` and :meth:`end_frame`."""
        return self._frame is not None

    def forget(self) -> None:
        """Nothing on screen can be trusted to match (the rows moved, the columns did,
        the styles changed): the next refresh of a row redraws it whole."""
        self._painted.clear()

    def begin_frame(self, state: ListState, now: float) -> None:
        """A frame of ``state`` starts: each panel is built at most once until
        :meth:`end_frame`."""
        self._frame = state
        self._frame_rows = {}
        self._frame_now = now

    def end_frame(self) -> None:
        self._frame = None
        self._frame_rows = {}

    def line(self, y: int) -> Strip:
        """Line ``y`` of the list's window (Textual's ``render_line``), in a frame."""
        state = self._frame
        assert state is not None, "line() is drawn within begin_frame() and end_frame()"
        width = state.width
        virtual_y = y + state.scroll_y
        row, line = divmod(virtual_y, state.row_height)
        styles = state.styles
        if not state.order and virtual_y == 1 and width > 0:
            hint = truncate(state.empty_text, max(0, width - 2))
            return pieces_to_strip([("  " + hint, styles.base + styles.dim)], width, styles.base)
        if row >= len(state.order) or width <= 0:
            return Strip.blank(width, styles.base)
        strips = self._frame_rows.get(row)
        if strips is None:
            strips = self._frame_rows[row] = self.row_strips(state, row, self._frame_now)
        strip = strips[line]
        self._painted[virtual_y] = strip
        return strip.crop(state.scroll_x, state.scroll_x + width)

    def forget_row(self, row: int, row_height: int) -> None:
        """``row`` is to be redrawn whole."""
        top = row * row_height
        for line in range(top, top + row_height):
            self._painted.pop(line, None)

    def changed_regions(self, state: ListState, row: int) -> list[Region]:
        """The window's regions to refresh for the cells of ``row`` whose content
        differs from what was painted (the whole line where nothing is known)."""
        width, height = state.width, state.height
        if width <= 0:
            return []
        scroll_x, scroll_y = state.scroll_x, state.scroll_y
        top = row * state.row_height
        regions: list[Region] = []
        for offset, new in enumerate(self.row_strips(state, row, self._clock.now())):
            y = top + offset
            if not 0 <= y - scroll_y < height:
                # A panel cut by the screen edge: its hidden lines are not drawn, and a
                # refresh there would repaint whatever is below the list (the footer).
                continue
            old = self._painted.get(y)
            if old is None:
                regions.append(Region(0, y - scroll_y, width, 1))
                continue
            span = changed_span(old, new)
            if span is not None:
                start, end = span
                regions.append(Region(start - scroll_x, y - scroll_y, end - start, 1))
        return regions

    def row_strips(self, state: ListState, row: int, now: float) -> list[Strip]:
        """The lines of the panel in ``row`` of ``state``, at time ``now``."""
        diffid = state.order[row]
        columns = state.columns
        if columns.width != state.width:
            # Drawn before the resize reached the list's columns: fit them for this width.
            columns = Columns.fit(state.width, compact=state.compact, id_digits=state.id_digits)
        return panel_strips(
            self._views[diffid],
            now=now,
            columns=columns,
            selected=diffid in state.selected,
            cursor=row == state.cursor,
            styles=state.styles,
            lock_key=state.lock_key,
        )


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    cells: list[tuple[str, Style | None]] = []
    for segment in strip:
        for char in segment.text:
            cells.append((char, segment.style))
            cells.extend(("", segment.style) for _ in range(cell_len(char) - 1))
    return cells


def changed_span(old: Strip, new: Strip) -> tuple[int, int] | None:
    """The [start, end) cell range where two lines differ, or None when equal."""
    if old == new:
        return None
    old_cells, new_cells = _cells(old), _cells(new)
    length = max(len(old_cells), len(new_cells))
    old_cells += [(" ", None)] * (length - len(old_cells))
    new_cells += [(" ", None)] * (length - len(new_cells))
    start = 0
    while start < length and old_cells[start] == new_cells[start]:
        start += 1
    if start == length:
        return None
    end = length
    while end > start and old_cells[end - 1] == new_cells[end - 1]:
        end -= 1
    return start, end
