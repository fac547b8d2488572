"""A modal list of theme names that previews each one as it is highlighted.

Example:
    Push it and apply (or persist) the choice in the callback::

        def action_pick_theme(self) -> None:
            def chosen(name: str | None) -> None:
                if name is not None:
                    self.notify(f"Theme: {name}")

            self.push_screen(ThemePicker(sorted(self.available_themes), self.theme), chosen)

    Moving the highlight sets ``app.theme`` at once; Enter keeps the highlighted
    theme and returns its name; Escape puts the original theme back and returns
    ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.widgets.option_list import Option

from tui.domain.text import plain
from tui.ui.screens.list_picker import ListPicker


class ThemePicker(ListPicker):
    """Choose a theme from ``names``, previewing live; ``current`` is restored on Escape."""

    def __init__(self, names: list[str], current: str) -> None:
        # OptionList refuses duplicate ids, and a repeated name is meaningless here.
        unique = list(dict.fromkeys(names))
        # Option ids are the names, so a highlight maps back to a theme even if
        # labels are ever decorated.
        super().__init__(
            "Theme: ↑↓ preview, Enter keep, Esc cancel",
            [Option(name, id=name) for name in unique],
            unique.index(current) if current in unique else None,
        )
        self._original = current

    def highlighted_value(self, value: str) -> None:
        """Preview the highlighted theme."""
        # A name the app has not registered would raise InvalidThemeError from
        # the reactive validator; skip previewing it rather than crash the picker.
        if value in self.app.available_themes and self.app.theme != value:
            self.app.theme = value

    def action_cancel(self) -> None:
        """Put the original theme back and return ``None``."""
        if self.app.theme != self._original and self._original in self.app.available_themes:
            self.app.theme = self._original
        self.dismiss(None)


def theme_saver(
    app: App[Any], original: str, save: Callable[[str], None] | None
) -> Callable[[str | None], None]:
    """The picker's callback: a theme other than ``original`` is saved (when ``save``
    is given: not in demo mode or under --theme), and the app says so in words."""

    def picked(name: str | None) -> None:
        if name is None or name == original:
            return
        if save is not None:
            try:
                save(name)
            except Exception as exc:
                app.notify(
                    f"Theme applied, but not saved: {plain(str(exc))}",
                    severity="warning",
                    markup=False,
                )
                return
        app.notify(f"Theme: {name}")

    return picked
