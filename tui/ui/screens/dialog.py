"""The frame every dialog shares: centred, bordered, on the surface colour."""

from __future__ import annotations

from typing import TypeVar

from textual.containers import ScrollableContainer
from textual.screen import ModalScreen
from textual.widget import Widget

_R = TypeVar("_R")


class Dialog(ModalScreen[_R]):
    """A modal dialog: compose one ``Vertical`` (the frame) with a ``.title`` first.

    Subclasses set the frame's size (``width``, ``height``) and what is their own.
    A ``Horizontal`` holds the buttons, right-aligned.

    Example:
        >>> class Ask(Dialog[bool]):
        ...     DEFAULT_CSS = "Ask > Vertical { width: 60; }"
    """

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        max-width: 95%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    Dialog .title { text-style: bold; }
    Dialog .hint { color: $text-muted; }
    Dialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog Button { margin-left: 2; }
    """

    def fit_scroll(self, scroll: ScrollableContainer, most: int) -> None:
        """Give ``scroll`` (the part of the dialog that may scroll: the plan) the rows
        the rest of the frame leaves on this screen, ``most`` at most: on a 24-line
        terminal the choices and the buttons stay in view, the plan scrolls."""
        frame = self.query_one(f"{type(self).__name__} > Vertical", Widget)
        footer = sum(widget.outer_size.height for widget in self.query("Footer"))
        # What the rest needs, not what it got: a frame taller than the screen is cut.
        rest = frame.styles.gutter.height + sum(
            child.outer_size.height + child.styles.margin.height
            for child in frame.children
            if child is not scroll and child.display
        )
        room = self.size.height - footer - rest
        fitted = max(MIN_SCROLL_ROWS, min(most, room))
        if scroll.styles.max_height is None or scroll.styles.max_height.value != fitted:
            scroll.styles.max_height = fitted


MIN_SCROLL_ROWS = 2
"""The plan keeps at least this many rows, however small the terminal."""
