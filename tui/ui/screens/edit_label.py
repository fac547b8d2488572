"""A one-field dialog to edit a diff's label."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input, Static

from tui.ui.screens.dialog import Dialog


class EditLabelScreen(Dialog[str | None]):
    """Enter saves the label (empty clears it); escape leaves it as it was.

    Example:
        >>> screen = EditLabelScreen(4101, "eu-west build")
    """

    DEFAULT_CSS = """
    EditLabelScreen > Vertical { width: 64; }
    EditLabelScreen .title { margin-bottom: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="label-cancel"),
        # Priority: the field's own ctrl+a goes to the start, and home does that too.
        Binding("ctrl+a", "select_all", "Select all", id="label-select-all", priority=True),
    ]

    def __init__(self, diffid: int, label: str) -> None:
        super().__init__()
        self._diffid = diffid
        self._label = label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Label for diff #{self._diffid}"), classes="title")
            # The cursor at the end: typing adds to the label (ctrl+a first to replace it).
            yield Input(value=self._label, id="label", max_length=200, select_on_focus=False)
            yield Static(
                "enter saves · escape cancels · ctrl+a selects all · empty clears",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def action_select_all(self) -> None:
        self.query_one(Input).select_all()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
