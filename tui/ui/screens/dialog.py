"""The frame every dialog shares: centred, bordered, on the surface colour."""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

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
