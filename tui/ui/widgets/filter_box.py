"""The list's filter box: hidden until `/` opens it; Escape closes and clears it."""

from __future__ import annotations

from textual.geometry import Size
from textual.widgets import Input


class FilterBox(Input):
    """An input for the list's filter text, shown while a filter is being typed or set.

    The screen watches its ``value`` to filter the list (in the keystroke's own frame).

    Example:
        >>> box = FilterBox(id="filter")
        >>> box.is_open
        False
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter by ID, label or state · esc clears", id=id)

    @property
    def content_width(self) -> int:
        """The text's width, but at least the box's: Input sets its virtual size from
        this on every change, and a new virtual size lays out the whole screen. The
        box's size is set by CSS, so while the text fits a keystroke only repaints."""
        return max(super().content_width, self.scrollable_content_region.width)

    def on_resize(self) -> None:
        # Sized while hidden, the virtual size is the placeholder's: widen it now, so the
        # first keystroke after opening does not lay out the screen either.
        self.virtual_size = Size(self.content_width, 1)

    @property
    def is_open(self) -> bool:
        """True while the box is shown (being typed in, or holding a filter)."""
        return self.has_class("-active")

    def open(self) -> None:
        """Show the box and type in it."""
        self.add_class("-active")
        self.focus()

    def close(self, *, clear: bool = True) -> None:
        """Hide the box (its text cleared, unless ``clear`` is False)."""
        if clear:
            self.value = ""
        self.remove_class("-active")
