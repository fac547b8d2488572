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
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tui.safetext import plain


class ThemePicker(ModalScreen[str | None]):
    """Choose a theme from ``names``, previewing live; ``current`` is restored on Escape."""

    DEFAULT_CSS = """
    ThemePicker {
        align: center middle;
    }
    ThemePicker > Vertical {
        width: auto;
        min-width: 36;
        max-width: 80%;
        height: auto;
        max-height: 80%;
        border: round $primary;
        background: $surface;
        padding: 0 1;
    }
    ThemePicker Label {
        width: 100%;
        color: $text-muted;
        padding-bottom: 1;
    }
    ThemePicker OptionList {
        height: auto;
        max-height: 20;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", show=True),
    ]

    def __init__(self, names: list[str], current: str) -> None:
        super().__init__()
        # OptionList refuses duplicate ids, and a repeated name is meaningless here.
        self._names = list(dict.fromkeys(names))
        self._original = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Theme: ↑↓ preview, Enter keep, Esc cancel")
            # Option ids are the names, so a highlight maps back to a theme even if
            # labels are ever decorated; markup is off because names come from
            # user files. Compact: no border of its own inside the dialog's border
            # (plain CSS `border: none` loses to OptionList's own `:focus` rule).
            yield OptionList(
                *(Option(name, id=name) for name in self._names),
                markup=False,
                compact=True,
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self._original in self._names:
            options.highlighted = self._names.index(self._original)
        options.focus()

    def _preview(self, name: str) -> None:
        # A name the app has not registered would raise InvalidThemeError from
        # the reactive validator; skip previewing it rather than crash the picker.
        if name in self.app.available_themes and self.app.theme != name:
            self.app.theme = name

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Preview the highlighted theme."""
        event.stop()
        if event.option.id is not None:
            self._preview(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Keep the selected theme and return its name."""
        event.stop()
        name = event.option.id
        if name is None:
            return
        self._preview(name)
        self.dismiss(name)

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
