"""The list of watched diffs: one virtual panel per diff, drawn with the Line API.

One widget draws the whole list. Only the rows on screen are rendered, so a
watchlist of a thousand diffs costs no more to paint than a dozen; a row that
changes off screen costs nothing until it scrolls into view. Each second,
:meth:`JobList.tick` re-renders the visible lines and refreshes only the cells that
changed (an ETA's digits), which keeps the bytes sent over a slow SSH link small.

Example:
    >>> # views: a mapping diff ID -> JobView, shared with the tracker
    >>> # job_list = JobList(views, clock=SystemClock())
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.domain.clock import Clock
from tui.domain.text import plain
from tui.polling.job_order import SortKey
from tui.ui.textual_internals import scroll_to_virtual_size
from tui.ui.widgets.list_rows import ListRows
from tui.ui.widgets.panel import (
    LOCK_KEY,
    PANEL_COMPONENT_CLASSES,
    PANEL_CSS,
    Columns,
    PanelStyles,
    panel_styles,
)
from tui.ui.widgets.row_painter import ListState, RowPainter

if TYPE_CHECKING:
    from tui.polling.tracker import JobView


class JobList(ScrollView, can_focus=True):
    """A scrolling list of diff panels with a cursor and a multi-selection.

    Normal mode gives each diff a three-line panel (state and name; progress, ETA
    and elapsed time; the job or poll error); compact mode gives it one line.
    """

    DEFAULT_CSS = PANEL_CSS

    COMPONENT_CLASSES: ClassVar[set[str]] = PANEL_COMPONENT_CLASSES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="cursor-down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="cursor-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="page-up"),
        Binding("home,g", "first", "First", show=False, id="first"),
        Binding("end,G", "last", "Last", show=False, id="last"),
        # Left out of the footer, which must fit 80 columns; `?` lists them.
        Binding("space", "toggle_select", "Select", id="toggle-select", show=False),
        Binding("enter", "activate", "Details", id="details", show=False),
    ]

    cursor: reactive[int] = reactive(0, init=False, always_update=True)
    compact: reactive[bool] = reactive(False, init=False)

    class _ListMessage(Message):
        """A message from a JobList; ``control`` is the list (as OptionList's are)."""

        def __init__(self, job_list: JobList) -> None:
            super().__init__()
            self.job_list = job_list

        @property
        def control(self) -> JobList:
            """The list that sent this message."""
            return self.job_list

    class Highlighted(_ListMessage):
        """The cursor moved to another diff."""

        def __init__(self, job_list: JobList, diffid: int | None) -> None:
            super().__init__(job_list)
            self.diffid = diffid

    class SelectionChanged(_ListMessage):
        """Diffs were selected or unselected."""

        def __init__(self, job_list: JobList, count: int) -> None:
            super().__init__(job_list)
            self.count = count

    class Arranged(_ListMessage):
        """How many diffs the filters show, of how many watched, changed."""

        def __init__(self, job_list: JobList, shown: int, total: int) -> None:
            super().__init__(job_list)
            self.shown = shown
            self.total = total

    class ColumnsChanged(_ListMessage):
        """The columns moved (a resize, compact mode, a longer diff ID): the header
        line above the list follows."""

        def __init__(self, job_list: JobList, columns: Columns) -> None:
            super().__init__(job_list)
            self.columns = columns

    class Activated(_ListMessage):
        """Enter (or a double click) on a diff: open its details."""

        def __init__(self, job_list: JobList, diffid: int) -> None:
            super().__init__(job_list)
            self.diffid = diffid

    def __init__(
        self,
        views: Mapping[int, JobView],
        *,
        clock: Clock,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._views = views
        self._clock = clock
        self.rows = ListRows(views, clock=clock)
        """Which diffs the list shows, in which order."""
        self.selected: set[int] = set()
        self.painter = RowPainter(views, clock)
        """Draws the rows; a tick refreshes only the cells that changed."""
        self._styles: PanelStyles | None = None
        """The panel styles of the current theme (looked up when first drawn)."""
        self._cursor_placed = False
        """False until the user moves the cursor: until then it stays on the top row."""
        self.columns = Columns.fit(80, compact=False, id_digits=1)
        """The columns every row is cut to (set from the width once mounted)."""
        self._digits_for = (-1, 1)
        """(how many diffs were watched, the digits of the longest ID then)."""
        self._shown_of: tuple[int, int] | None = None
        """What the last Arranged message said."""
        self.empty_hint = "Nothing watched yet: press n to add diff IDs."
        """Shown when no diff is watched (the app words it with the current keys)."""
        self.lock_key = LOCK_KEY
        """The key a locked diff's hint names for going to its holder (after the keymap)."""
        self.rebuild()

    @property
    def order(self) -> list[int]:
        """The diffs shown, top to bottom."""
        return self.rows.order

    # -- geometry -------------------------------------------------------------

    @property
    def row_height(self) -> int:
        """Lines per diff: 3 for a panel, 1 in compact mode."""
        return 1 if self.compact else 3

    def _update_virtual_size(self) -> None:
        width = max(self.scrollable_content_region.width, 20)
        self.virtual_size = Size(width, len(self.order) * self.row_height)

    def id_digits(self) -> int:
        """The digits of the longest watched diff ID (counted again when diffs come or
        go, not on every filter keystroke)."""
        count = len(self._views)
        if self._digits_for[0] != count:
            self._digits_for = (count, len(str(max(self._views, default=0))))
        return self._digits_for[1]

    def _update_columns(self) -> None:
        """Fit the columns to the width, the mode and the longest diff ID."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        columns = Columns.fit(width, compact=self.compact, id_digits=self.id_digits())
        if columns != self.columns:
            self.columns = columns
            self.painter.forget()
            self.refresh()
            self.post_message(self.ColumnsChanged(self, columns))

    def _resize_rows(self) -> None:
        """Fit the virtual size to the rows, without the screen layout that setting
        ``virtual_size`` asks for: the list's own size comes from the screen, not from
        its rows, and the gutter keeps its width whether a scrollbar shows or not, so
        only the scrollbar and the scroll offset follow (as a layout would do them).
        A filter keystroke then repaints the list alone."""
        width = max(self.scrollable_content_region.width, 20)
        size = Size(width, len(self.order) * self.row_height)
        if size == self.virtual_size:
            return
        if self.styles.auto_dimensions:
            self.virtual_size = size  # sized by its rows after all: lay the screen out
            return
        self.set_reactive(JobList.virtual_size, size)
        scroll_to_virtual_size(self, size)
        self.refresh()

    def visible_rows(self) -> range:
        """The indexes into ``order`` of the rows at least partly on screen."""
        top = int(self.scroll_offset.y)
        height = max(self.scrollable_content_region.height, 1)
        first = top // self.row_height
        last = min(len(self.order), (top + height + self.row_height - 1) // self.row_height)
        return range(first, max(first, last))

    def visible_ids(self) -> list[int]:
        """The diffs on screen, top to bottom."""
        return [self.order[row] for row in self.visible_rows()]

    @property
    def highlighted(self) -> int | None:
        """The diff under the cursor."""
        if 0 <= self.cursor < len(self.order):
            return self.order[self.cursor]
        return None

    # -- content --------------------------------------------------------------

    def rebuild(self, *, keep: int | None = None, narrow: bool = False) -> bool:
        """Re-apply the filter and sort (:meth:`ListRows.arrange`, ``narrow`` as there),
        keeping the cursor on the same diff; True when rows moved (all are redrawn)."""
        anchor = keep if keep is not None else (self.highlighted if self._cursor_placed else None)
        # In place, and over the selection only (not a set of every watched diff).
        self.selected.difference_update([d for d in self.selected if d not in self._views])
        self.rows.hold = bool(self.selected)
        changed = self.rows.arrange(narrow=narrow)
        order = self.order
        index = self.rows.index
        if anchor is not None and anchor in index:
            self.set_reactive(JobList.cursor, index[anchor])
            if keep is not None:
                # Placed on purpose (e.g. on a diff just added): later re-sorts follow it.
                self._cursor_placed = True
        elif self._cursor_placed:
            self.set_reactive(JobList.cursor, min(self.cursor, max(len(order) - 1, 0)))
        else:
            self.set_reactive(JobList.cursor, 0)
        if self.is_mounted:
            self._resize_rows()
            self._update_columns()
            if changed or not order:
                # (An empty list's hint names the filter: redraw it as the filter changes.)
                self.painter.forget()
                self.refresh()
            self._scroll_cursor_into_view()
        shown_of = self.rows.shown_of()
        if shown_of != self._shown_of:
            self._shown_of = shown_of
            self.post_message(self.Arranged(self, *shown_of))
        return changed

    def set_filter(self, text: str) -> None:
        """Show only diffs whose ID, label or state contains ``text``."""
        self.rebuild(narrow=self.rows.set_filter(text))

    def set_attention(self, on: bool) -> None:
        """Show only the diffs that need the operator (the to-do), or all."""
        self.rebuild(narrow=self.rows.set_attention(on))

    def cycle_sort(self) -> SortKey:
        """Switch to the next sort order and return it (re-sorts even while held)."""
        key = self.rows.cycle_sort()
        self.rebuild()
        return key

    def reverse_sort(self) -> bool:
        """Flip the sort direction; True when now reversed."""
        descending = self.rows.reverse_sort()
        self.rebuild()
        return descending

    def rows_changed(self, diffids: Iterable[int]) -> None:
        """Views changed: redraw what is on screen; re-filter at once, re-sort soon (as
        :meth:`ListRows.take_changes` says: a moved row is redrawn in place until then)."""
        changed, rearrange = self.rows.take_changes(diffids)
        if rearrange and self.rebuild():
            return
        visible = self.visible_rows()
        state = self._state()
        for diffid in changed:
            row = self.rows.index.get(diffid)
            if row is not None and row in visible:
                self._refresh_changed_cells(state, row)

    def tick(self) -> None:
        """Once a second: re-sort when due, else refresh only the cells of visible rows
        that changed."""
        if self.rows.resort_due() and self.rebuild():
            return
        state = self._state()
        for row in self.visible_rows():
            self._refresh_changed_cells(state, row)

    # -- selection ------------------------------------------------------------

    def toggle(self, diffid: int) -> None:
        """Select or unselect one diff."""
        if diffid in self.selected:
            self.selected.discard(diffid)
        else:
            self.selected.add(diffid)
        row = self.rows.index.get(diffid)
        if row is not None:
            self._refresh_row(row)
        self._selection_changed()

    def select_all(self) -> None:
        """Select every diff that the filter shows."""
        self.selected.update(self.order)
        self.painter.forget()
        self.refresh()
        self._selection_changed()

    def select_none(self) -> None:
        """Clear the selection."""
        if self.selected:
            self.selected.clear()
            self.painter.forget()
            self.refresh()
        self._selection_changed()

    def _selection_changed(self) -> None:
        """A selection holds the order steady; clearing it pays the re-sort it held."""
        held = bool(self.selected)
        if self.rows.hold and not held:
            self.rows.hold = False
            self.rebuild()
        self.rows.hold = held
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def targets(self) -> list[int]:
        """What an action applies to: the selected diffs the list shows, in list order,
        else the cursor's diff. Never a selected diff the filter hides (see
        :meth:`hidden_selection`): an action takes only what the operator sees."""
        if self.selected:
            return [diffid for diffid in self.order if diffid in self.selected]
        highlighted = self.highlighted
        return [highlighted] if highlighted is not None else []

    def hidden_selection(self) -> list[int]:
        """The selected diffs that the filter hides (an action leaves them out)."""
        return sorted(self.selected.difference(self.order))

    # -- actions --------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self._move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(self.cursor - 1)

    def action_page_down(self) -> None:
        page = max(1, self.scrollable_content_region.height // self.row_height)
        self._move_cursor(self.cursor + page)

    def action_page_up(self) -> None:
        page = max(1, self.scrollable_content_region.height // self.row_height)
        self._move_cursor(self.cursor - page)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        self._move_cursor(len(self.order) - 1)

    def action_toggle_select(self) -> None:
        highlighted = self.highlighted
        if highlighted is not None:
            self.toggle(highlighted)
            self._move_cursor(self.cursor + 1)

    def action_activate(self) -> None:
        highlighted = self.highlighted
        if highlighted is not None:
            self.post_message(self.Activated(self, highlighted))

    def _move_cursor(self, row: int) -> None:
        if not self.order:
            return
        self.cursor = max(0, min(row, len(self.order) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._cursor_placed = True
        for row in (old, new):
            if 0 <= row < len(self.order):
                self._refresh_row(row)
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self, self.highlighted))

    def watch_compact(self) -> None:
        self.painter.forget()
        self._update_virtual_size()
        self._update_columns()
        self.refresh()
        self._scroll_cursor_into_view()

    def _scroll_cursor_into_view(self) -> None:
        if not self.order or not self.is_mounted:
            return
        top = self.cursor * self.row_height
        region = Region(0, top, 1, self.row_height)
        self.scroll_to_region(region, animate=False, immediate=True, force=True)

    async def _on_click(self, event: events.Click) -> None:
        row = int(event.y + self.scroll_offset.y) // self.row_height
        if not 0 <= row < len(self.order):
            return
        diffid = self.order[row]
        if event.x <= 1:
            self.toggle(diffid)
        if event.chain >= 2:
            self.post_message(self.Activated(self, diffid))
        self.cursor = row

    def on_resize(self) -> None:
        self.painter.forget()
        self._update_virtual_size()
        self._update_columns()

    def on_mount(self) -> None:
        self._update_virtual_size()
        self._update_columns()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # The theme or CSS changed: styles are looked up again, every line redrawn.
        self._styles = None
        self.painter.forget()

    # -- drawing (RowPainter) --------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self.painter.begin_frame(self._state(), self._clock.now())
        try:
            return super().render_lines(crop)
        finally:
            self.painter.end_frame()

    def render_line(self, y: int) -> Strip:
        if self.painter.in_frame:
            return self.painter.line(y)
        self.painter.begin_frame(self._state(), self._clock.now())
        try:
            return self.painter.line(y)
        finally:
            self.painter.end_frame()

    def _state(self) -> ListState:
        """The list as the painter draws it now."""
        region = self.scrollable_content_region
        scroll_x, scroll_y = self.scroll_offset
        return ListState(
            order=self.order,
            row_height=self.row_height,
            selected=self.selected,
            cursor=self.cursor,
            columns=self.columns,
            compact=self.compact,
            id_digits=self.id_digits(),
            lock_key=self.lock_key,
            styles=self._panel_styles(),
            empty_text="" if self.order else self._empty_text(),
            scroll_x=scroll_x,
            scroll_y=scroll_y,
            width=region.width,
            height=region.height,
        )

    def _panel_styles(self) -> PanelStyles:
        """The panel styles of the current theme (looked up once)."""
        if self._styles is None:
            self._styles = panel_styles(
                self.get_component_rich_style,
                self.rich_style,
                # NO_COLOR with an ANSI theme (Textual's NoColor filter): nothing on
                # screen has a colour, so colour cannot tell bar parts apart.
                colours_dropped=bool(self.app.no_color) and self.app.native_ansi_color,
            )
        return self._styles

    def _empty_text(self) -> str:
        """What the list says when it shows no diff."""
        if self._views:
            filter_text = plain(self.rows.filter_text.strip())
            return (
                f"No watched diff matches the filter “{filter_text}” "
                "(ID, label or state): escape clears the filter."
            )
        return self.empty_hint

    def _refresh_row(self, row: int) -> None:
        """Redraw every line of ``row`` whole."""
        self.painter.forget_row(row, self.row_height)
        self.refresh_lines(row * self.row_height, self.row_height)

    def _refresh_changed_cells(self, state: ListState, row: int) -> None:
        """Refresh just the cells of ``row`` whose content differs from what was painted."""
        for region in self.painter.changed_regions(state, row):
            self.refresh(region)
