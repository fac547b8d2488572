"""The floor for this stack: a Textual app that paints one line (and counts ``j`` presses).

Run as a file (``python bench/minimal_app.py``) so that nothing but Python and
Textual is imported: whatever the real app costs beyond this is its own.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import Static

LINE = "minimal textual app: {count} keys"


class OneLine(App[None]):
    """One line of text; ``j`` bumps the count on it, ``q`` quits."""

    BINDINGS: ClassVar[list[BindingType]] = [("j", "bump", "Bump"), ("q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def compose(self) -> ComposeResult:
        yield Static(LINE.format(count=0), id="line")

    def action_bump(self) -> None:
        self.count += 1
        self.query_one("#line", Static).update(LINE.format(count=self.count))


if __name__ == "__main__":
    OneLine().run()
