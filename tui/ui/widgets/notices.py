"""Completion and failure notices: one line under the list, like a toast that does
not move anything, each notice gone after a while.

Textual's toasts live in a rack that is shown and hidden as they come and go: each
show or hide shifts every widget's paint order (Textual then repaints the whole
screen) and lays the screen out again (which repaints the list's scrollbar). This
line is always there, and a notice changes only its own cells: little to send over
a slow SSH link.

Example:
    >>> # notices = Notices(); notices.add("✓ #4101 completed")
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Final, Literal

from rich.text import Text
from textual.widget import Widget

Severity = Literal["information", "error"]

MOST: Final = 20
"""Notices kept while they last (the newest is shown, with how many more there are)."""


@dataclass(frozen=True, eq=False)
class Notice:
    """One line: its words (plain text) and how it is drawn."""

    text: str
    severity: Severity


class Notices(Widget):
    """The newest notice that has not expired, and how many more there are."""

    DEFAULT_CSS = """
    Notices {
        dock: bottom;
        height: 1;
        margin-bottom: 1;
        background: $surface;
    }
    Notices > .notices--information { color: $state-completed; }
    Notices > .notices--error { color: $state-failed; text-style: bold; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"notices--information", "notices--error"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: list[Notice] = []

    def add(self, text: str, *, severity: Severity = "information", timeout: float = 6.0) -> None:
        """Show ``text`` (plain, never markup) for ``timeout`` seconds."""
        notice = Notice(text, severity)
        self.shown = [*self.shown[-(MOST - 1) :], notice]
        self.set_timer(timeout, partial(self._expire, notice))
        self.refresh()

    def _expire(self, notice: Notice) -> None:
        if notice in self.shown:
            self.shown = [shown for shown in self.shown if shown is not notice]
            self.refresh()

    def render(self) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.shown:
            newest = self.shown[-1]
            style = self.get_component_rich_style(f"notices--{newest.severity}")
            line.append(" " + newest.text, style=style)
            if len(self.shown) > 1:
                line.append(f"  (+{len(self.shown) - 1} more)", style="dim")
        return line
