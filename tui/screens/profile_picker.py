"""A modal list of the config's profiles: each with its account (API URL and ASID),
never a key or secret. Enter returns the highlighted profile's name, Escape None.

Example:
    >>> # app.push_screen(ProfilePicker(choices, current="prod"), switch_to)
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.profile_switch import ProfileChoice
from tui.safetext import plain


def choice_line(choice: ProfileChoice, current: str, width: int) -> Text:
    """``● prod   https://api.multiplay.co.uk  ASID 1234`` (● marks the current one)."""
    marker = "●" if choice.name == current else " "
    asid = f"ASID {choice.asid}" if choice.asid is not None else "no ASID"
    name = plain(choice.name, limit=64)
    return Text(f"{marker} {name:<{width}}  {plain(choice.api_url, limit=200)}  {asid}")


class ProfilePicker(ModalScreen[str | None]):
    """Choose a profile from ``choices``; ``current`` is highlighted and marked."""

    DEFAULT_CSS = """
    ProfilePicker {
        align: center middle;
    }
    ProfilePicker > Vertical {
        width: auto;
        min-width: 40;
        max-width: 90%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ProfilePicker Label {
        width: 100%;
        color: $text-muted;
        padding-bottom: 1;
    }
    ProfilePicker OptionList {
        height: auto;
        max-height: 20;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", show=True),
    ]

    def __init__(self, choices: list[ProfileChoice], current: str) -> None:
        super().__init__()
        self._choices = choices
        self._current = current

    def compose(self) -> ComposeResult:
        width = max((len(plain(c.name, limit=64)) for c in self._choices), default=1)
        with Vertical():
            yield Label("Switch profile: ↑↓ choose, Enter switch, Esc cancel")
            # Option ids index the choices: a name from the config file is no safe id.
            yield OptionList(
                *(
                    Option(choice_line(choice, self._current, width), id=str(index))
                    for index, choice in enumerate(self._choices)
                ),
                markup=False,
                compact=True,
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [choice.name for choice in self._choices]
        if self._current in names:
            options.highlighted = names.index(self._current)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Return the selected profile's name."""
        event.stop()
        if event.option.id is not None:
            self.dismiss(self._choices[int(event.option.id)].name)

    def action_cancel(self) -> None:
        self.dismiss(None)
