"""A modal list of the config's profiles: each with its account (API URL and ASID),
never a key or secret. Enter returns the highlighted profile's name, Escape None.

Example:
    >>> # app.push_screen(ProfilePicker(choices, current="prod"), switch_to)
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets.option_list import Option

from tui.domain.text import plain
from tui.ui.profile_switch import ProfileChoice
from tui.ui.screens.list_picker import ListPicker


def choice_line(choice: ProfileChoice, current: str, width: int) -> Text:
    """``● prod   https://api.multiplay.co.uk  ASID 1234`` (● marks the current one)."""
    marker = "●" if choice.name == current else " "
    asid = f"ASID {choice.asid}" if choice.asid is not None else "no ASID"
    name = plain(choice.name, limit=64)
    return Text(f"{marker} {name:<{width}}  {plain(choice.api_url, limit=200)}  {asid}")


class ProfilePicker(ListPicker):
    """Choose a profile from ``choices``; ``current`` is highlighted and marked."""

    DEFAULT_CSS = """
    ProfilePicker > Vertical {
        min-width: 40;
        max-width: 90%;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "cancel", "Cancel", show=True),
    ]

    def __init__(self, choices: list[ProfileChoice], current: str) -> None:
        width = max((len(plain(c.name, limit=64)) for c in choices), default=1)
        names = [choice.name for choice in choices]
        # Option ids index the choices: a name from the config file is no safe id.
        super().__init__(
            "Switch profile: ↑↓ choose, Enter switch, Esc cancel",
            [
                Option(choice_line(choice, current, width), id=str(index))
                for index, choice in enumerate(choices)
            ],
            names.index(current) if current in names else None,
        )
        self._choices = choices

    def value_of(self, option: Option) -> str | None:
        """The profile's name."""
        return self._choices[int(option.id)].name if option.id is not None else None
