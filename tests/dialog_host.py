"""A small app that pushes one dialog and keeps what it dismissed with, so a dialog is
tested with Pilot on its own."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.screen import Screen

UNSET: Any = object()
"""``DialogApp.result`` until the dialog is dismissed."""


class DialogApp(App[None]):
    """Pushes ``dialog`` at start; ``result`` is what it was dismissed with."""

    def __init__(self, dialog: Screen[Any]) -> None:
        super().__init__()
        self.dialog = dialog
        self.result: object = UNSET

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self._done)

    def _done(self, result: object) -> None:
        self.result = result
