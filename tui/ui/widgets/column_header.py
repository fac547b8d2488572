"""The header line above the list: each column's name over it.

Its own widget, above the scrolling list, so it stays in place as the list scrolls.
The list says where its columns are (:class:`~tui.ui.widgets.job_list.JobList.ColumnsChanged`).

Example:
    >>> header = ColumnHeader()
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.ui.widgets.panel import SORT_COLUMNS, Columns


class ColumnHeader(Widget):
    """One line naming the list's columns, in the list's column widths."""

    DEFAULT_CSS = """
    ColumnHeader {
        height: 1;
        background: $surface;
        color: $text-muted;
        text-style: bold;
        text-wrap: nowrap;
    }
    """

    columns: reactive[Columns | None] = reactive(None)
    sort_key: reactive[str] = reactive("state")
    """The sort key (:data:`tui.polling.job_order.SORT_KEYS`): its column gets the arrow."""
    sort_arrow: reactive[str] = reactive("↑")

    def render(self) -> Text:
        columns = self.columns
        if columns is None:
            return Text("")
        column = SORT_COLUMNS.get(self.sort_key, "")
        return Text(columns.heading(column, self.sort_arrow), no_wrap=True)
