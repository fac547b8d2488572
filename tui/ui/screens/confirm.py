"""A yes/no dialog that shows exactly what an action will do before it does it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Static

from tui.ui.screens.dialog import Dialog

BODY_ROWS = 16
"""The body's rows at most, on a terminal tall enough."""


class ConfirmScreen(Dialog[bool]):
    """Ask before a state-changing action; dismisses with True to go ahead.

    The body is a Rich ``Text`` built by the caller from plain strings, so remote
    text inside it is never read as markup.

    Example:
        >>> screen = ConfirmScreen("Retry 2 diffs?", Text("#4101 Failed"), confirm="Retry")
    """

    DEFAULT_CSS = """
    ConfirmScreen > Vertical { width: 72; max-height: 100%; }
    ConfirmScreen .title { margin-bottom: 1; }
    ConfirmScreen VerticalScroll { height: auto; max-height: 16; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # q as well: it leaves every other screen of the app, and a modal swallows the app's keys.
        Binding("escape,n,q", "cancel", "Cancel", id="dialog-cancel"),
        Binding("y", "confirm", "Confirm", id="dialog-confirm"),
    ]

    def __init__(
        self, title: str, body: Text, *, confirm: str = "OK", can_confirm: bool = True
    ) -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._confirm_label = confirm
        self._can_confirm = can_confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title), classes="title")
            with VerticalScroll():
                yield Static(self._body)
            with Horizontal():
                if self._can_confirm:
                    yield Button("Cancel (n)", id="cancel")
                    yield Button(f"{self._confirm_label} (y)", id="confirm", variant="primary")
                else:
                    # Nothing to confirm: no dead button, one way out.
                    yield Button("Close (n)", id="cancel")
        # The list's footer behind a modal would offer keys that do nothing here.
        yield Footer()

    def on_mount(self) -> None:
        button_id = "#confirm" if self._can_confirm else "#cancel"
        self.query_one(button_id, Button).focus()
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        self.fit_scroll(self.query_one(VerticalScroll), BODY_ROWS)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "confirm" or self._can_confirm

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
