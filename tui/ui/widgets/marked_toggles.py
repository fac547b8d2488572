"""Checkbox and radio button whose mark says on or off in characters, not colour alone.

Textual draws the same mark (``X``, ``●``) for on and off and tells them apart by
colour only, which a NO_COLOR terminal, a monochrome theme or a colour-blind
operator cannot see. Here the mark of one that is off is blank.

Example:
    >>> # yield MarkedCheckbox("full (f): a full image", id="full")
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, RadioButton


class _Marked:
    """Mixed in before a toggle button: ``BUTTON_INNER`` follows ``value``."""

    ON_MARK: str
    BUTTON_INNER: str
    value: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._show_mark()

    def watch_value(self) -> None:
        super().watch_value()  # type: ignore[misc]
        self._show_mark()

    def _show_mark(self) -> None:
        self.BUTTON_INNER = self.ON_MARK if self.value else " "


class MarkedCheckbox(_Marked, Checkbox):
    """A :class:`Checkbox` that shows ``X`` when checked and a blank when not."""

    ON_MARK = "X"


class MarkedRadioButton(_Marked, RadioButton):
    """A :class:`RadioButton` that shows ``●`` when chosen and a blank when not."""

    ON_MARK = "\u25cf"
