"""How the job list draws its rows, and repaints no more of them than changed.

:class:`RowPainter` builds each diff's panel lines (once a frame: a frame draws up to
three lines of each panel), remembers what every line showed when last drawn, and on
a tick refreshes only the cells of a row that differ from it (an ETA's digits): over
a slow SSH link the bytes sent are what the user waits for.

Example:
    >>> # painter = RowPainter(job_list, views, clock); painter.line(y) in render_line
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip

from tui.domain.text import plain
from tui.ui.widgets.panel import (
    Columns,
    PanelStyles,
    panel_strips,
    panel_styles,
    pieces_to_strip,
    truncate,
)

if TYPE_CHECKING:
    from tui.domain.clock import Clock
    from tui.polling.tracker import JobView
    from tui.ui.widgets.job_list import JobList


class RowPainter:
    """Draws ``job_list``'s lines and keeps what each showed (see the module)."""

    def __init__(self, job_list: JobList, views: Mapping[int, JobView], clock: Clock) -> None:
        self._list = job_list
        self._views = views
        self._clock = clock
        self._painted: dict[int, Strip] = {}
        """What each line (by virtual y) showed when last drawn."""
        self._styles: PanelStyles | None = None
        self._frame_rows: dict[int, list[Strip]] | None = None
        """Each panel's lines while Textual draws one frame (else None)."""
        self._frame_now = 0.0

    def forget(self) -> None:
        """Nothing on screen can be trusted to match (the rows moved, the columns did):
        the next refresh of a row redraws it whole."""
        self._painted.clear()

    def styles_changed(self) -> None:
        """The theme or CSS changed: styles are looked up again, every line redrawn."""
        self._styles = None
        self._painted.clear()

    def begin_frame(self, now: float) -> None:
        """A frame starts: each panel is built at most once until :meth:`end_frame`."""
        self._frame_rows = {}
        self._frame_now = now

    def end_frame(self) -> None:
        self._frame_rows = None

    def line(self, y: int) -> Strip:
        """Line ``y`` of the list's window (Textual's ``render_line``)."""
        job_list = self._list
        scroll_x, scroll_y = job_list.scroll_offset
        width = job_list.scrollable_content_region.width
        virtual_y = y + scroll_y
        row, line = divmod(virtual_y, job_list.row_height)
        styles = self.styles()
        if not job_list.order and virtual_y == 1 and width > 0:
            hint = truncate(self.empty_text(), max(0, width - 2))
            return pieces_to_strip([("  " + hint, styles.base + styles.dim)], width, styles.base)
        if row >= len(job_list.order) or width <= 0:
            return Strip.blank(width, styles.base)
        frame = self._frame_rows
        strips = frame.get(row) if frame is not None else None
        if strips is None:
            now = self._frame_now if frame is not None else self._clock.now()
            strips = self.row_strips(row, width, now)
            if frame is not None:
                frame[row] = strips
        strip = strips[line]
        self._painted[virtual_y] = strip
        return strip.crop(scroll_x, scroll_x + width)

    def empty_text(self) -> str:
        """What the list says when it shows no diff."""
        if self._views:
            filter_text = plain(self._list.rows.filter_text.strip())
            return (
                f"No watched diff matches the filter “{filter_text}” "
                "(ID, label or state): escape clears the filter."
            )
        return self._list.empty_hint

    def refresh_row(self, row: int) -> None:
        """Redraw every line of ``row`` whole."""
        height = self._list.row_height
        top = row * height
        for line in range(top, top + height):
            self._painted.pop(line, None)
        self._list.refresh_lines(top, height)

    def refresh_changed_cells(self, row: int) -> None:
        """Refresh just the cells of ``row`` whose content differs from what was painted."""
        job_list = self._list
        width = job_list.scrollable_content_region.width
        if width <= 0:
            return
        scroll_x, scroll_y = job_list.scroll_offset
        height = job_list.scrollable_content_region.height
        top = row * job_list.row_height
        for offset, new in enumerate(self.row_strips(row, width, self._clock.now())):
            y = top + offset
            if not 0 <= y - scroll_y < height:
                # A panel cut by the screen edge: its hidden lines are not drawn, and a
                # refresh there would repaint whatever is below the list (the footer).
                continue
            old = self._painted.get(y)
            if old is None:
                job_list.refresh(Region(0, y - scroll_y, width, 1))
                continue
            span = changed_span(old, new)
            if span is not None:
                start, end = span
                job_list.refresh(Region(start - scroll_x, y - scroll_y, end - start, 1))

    def styles(self) -> PanelStyles:
        """The panel styles of the list's current theme (looked up once)."""
        if self._styles is None:
            job_list = self._list
            app = job_list.app
            self._styles = panel_styles(
                job_list.get_component_rich_style,
                job_list.rich_style,
                # NO_COLOR with an ANSI theme (Textual's NoColor filter): nothing on
                # screen has a colour, so colour cannot tell bar parts apart.
                colours_dropped=bool(app.no_color) and app.native_ansi_color,
            )
        return self._styles

    def row_strips(self, row: int, width: int, now: float) -> list[Strip]:
        """The lines of the panel in ``row``, ``width`` cells wide, at time ``now``."""
        job_list = self._list
        diffid = job_list.order[row]
        columns = job_list.columns
        if columns.width != width:
            # Drawn before the resize reached the list's columns: fit them for this width.
            columns = Columns.fit(width, compact=job_list.compact, id_digits=job_list.id_digits())
        return panel_strips(
            self._views[diffid],
            now=now,
            columns=columns,
            selected=diffid in job_list.selected,
            cursor=row == job_list.cursor,
            styles=self.styles(),
            lock_key=job_list.lock_key,
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
