"""The list's filter box: hidden until `/` opens it; Escape closes and clears it."""

from __future__ import annotations

from textual.widgets import Input


class FilterBox(Input):
    """An input for the list's filter text, shown while a filter is being typed or set.

    The screen listens to its ``Input.Changed`` to filter the list.

    Example:
        >>> box = FilterBox(id="filter")
        >>> box.is_open
        False
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter by ID, label or state · esc clears", id=id)

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
