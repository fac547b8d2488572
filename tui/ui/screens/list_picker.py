"""The frame both pickers share (themes `t`, profiles `P`): a centred modal list
under a one-line hint. Enter returns the highlighted option's value, Escape None.

Example:
    >>> class Pick(ListPicker):
    ...     def __init__(self) -> None:
    ...         super().__init__("Pick: ↑↓ choose, Enter keep", [Option("a", id="a")], 0)
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option


class ListPicker(ModalScreen[str | None]):
    """Choose one of ``options`` (each with an id); ``highlighted`` is where the
    cursor starts. Subclasses turn an option into the value returned (:meth:`value_of`)
    and may act on each highlight (:meth:`highlighted_value`)."""

    DEFAULT_CSS = """
    ListPicker {
        align: center middle;
    }
    ListPicker > Vertical {
        width: auto;
        min-width: 36;
        max-width: 80%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ListPicker Label {
        width: 100%;
        color: $text-muted;
        padding-bottom: 1;
    }
    ListPicker OptionList {
        height: auto;
        max-height: 20;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
    ]

    def __init__(self, hint: str, options: list[Option], highlighted: int | None) -> None:
        super().__init__()
        self._hint = hint
        self._options = options
        self._highlighted = highlighted

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self._hint)
            # Markup off: the options come from user files. Compact: no border of its
            # own inside the frame (plain CSS `border: none` loses to OptionList's own
            # `:focus` rule).
            yield OptionList(*self._options, markup=False, compact=True)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self._highlighted is not None:
            options.highlighted = self._highlighted
        options.focus()

    def value_of(self, option: Option) -> str | None:
        """What choosing ``option`` returns (by default its id)."""
        return option.id

    def highlighted_value(self, value: str) -> None:
        """Called as the cursor reaches each option (by default nothing happens)."""

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        value = self.value_of(event.option)
        if value is not None:
            self.highlighted_value(value)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        value = self.value_of(event.option)
        if value is not None:
            self.highlighted_value(value)
            self.dismiss(value)

    def action_cancel(self) -> None:
        """Return None."""
        self.dismiss(None)
