"""Textual's footer, with its keys drawn in the screen's first frame, cheaply.

It relies on two of Textual's private names (through ``tui.ui.textual_internals``):
the footer's ``_bindings_ready`` flag, and ``FooterKey``, whose look :class:`KeyLine`
copies. Should a Textual upgrade break it, the monitor can yield
Textual's own :class:`~textual.widgets.Footer` instead: its keys then come one frame
later.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from tui.ui.textual_internals import FooterKey, mark_footer_bindings_ready


class ReadyFooter(Footer):
    """A :class:`~textual.widgets.Footer` that lists its keys from the first frame.

    Textual's footer composes no keys until the screen first announces its bindings,
    which happens after the first frame: the first paint showed an empty footer, and
    the keys came one recompose, layout and frame later. The screen's own bindings are
    known when it composes; a later change of bindings recomposes the footer as usual.

    The first frame draws the keys as one :class:`KeyLine` (styled by the keys' own
    rules) rather than a widget per key, each mounted, styled, laid out and drawn. The
    keys' widgets (clickable, with hover) replace the line right after that frame, cell
    for cell the same.
    """

    def __init__(self, *, id: str | None = None, order: Sequence[str] = ()) -> None:
        super().__init__(id=id)
        mark_footer_bindings_ready(self)
        self._composed = False
        self._order = {action: rank for rank, action in enumerate(order)}
        """The actions by use, most used first: a narrow footer drops the last first
        (and any action not named before them). Empty: every key is shown."""
        self._kept: frozenset[str] | None = None

    def fit(self, keys: Iterable[tuple[str, str, str]]) -> frozenset[str]:
        """Of ``keys`` (action, key as shown, description), the actions whose keys fit
        the footer's width, the most used first (all when no order was given)."""
        keys = list(keys)
        if not self._order:
            return frozenset(action for action, _, _ in keys)
        last = len(self._order)
        keys.sort(key=lambda entry: self._order.get(entry[0], last))
        room = (self.size.width or self.app.size.width) - PALETTE_ROOM
        kept: set[str] = set()
        for action, key, description in keys:
            room -= cell_len(key) + cell_len(description) + KEY_PADDING
            if room < 0:
                break
            kept.add(action)
        return frozenset(kept)

    def on_resize(self) -> None:
        if self._kept is not None and self._order:
            keys = [(b.action, self.app.get_key_display(b), b.description) for b in _shown(self)]
            if self.fit(keys) != self._kept:
                self.call_later(self.recompose)

    def compose(self) -> ComposeResult:
        line = None if self._composed else KeyLine.of(self)
        self._composed = True
        if line is not None:
            yield line
        widgets = list(super().compose())
        self._kept = kept = self.fit(
            (widget.action, widget.key_display, widget.description)
            for widget in widgets
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette")
        )
        for widget in widgets:
            palette = widget.has_class("-command-palette")
            if isinstance(widget, FooterKey) and not palette:
                if widget.action not in kept:
                    continue  # too narrow for it
                if line is not None:
                    continue  # on the line
            yield widget

    def on_mount(self) -> None:
        super().on_mount()
        if self.query(KeyLine):
            self.call_after_refresh(self.recompose)


PALETTE_ROOM: Final = 14
"""The footer's cells kept for the command palette's key, at its right end."""
KEY_PADDING: Final = 3
"""Cells a footer key takes besides its key and description (padding around both)."""


def _shown(footer: Footer) -> list[Binding]:
    """The footer's bindings, one per action (the first), as it shows them."""
    first: dict[str, Binding] = {}
    for _node, binding, _enabled, _tooltip in footer.screen.active_bindings.values():
        if binding.show:
            first.setdefault(binding.action, binding)
    return list(first.values())


class KeyLine(FooterKey):
    """A footer's keys, but the palette's, drawn by one widget as their own widgets
    draw them side by side (the footer's first frame)."""

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__("", "", "", "")
        self.keys = keys
        """(key display, description) of each key, left to right."""
        self.set_reactive(FooterKey.compact, False)

    @classmethod
    def of(cls, footer: Footer) -> KeyLine | None:
        """The line of ``footer``'s keys; None where Textual's footer draws them other
        than side by side in one style (compact, grouped or disabled keys)."""
        if footer.compact:
            return None
        first: dict[str, Binding] = {}
        for _node, binding, enabled, _tooltip in footer.screen.active_bindings.values():
            if not binding.show:
                continue
            if binding.group is not None or not enabled:
                return None
            # One key per action, the first, as the footer shows them.
            first.setdefault(binding.action, binding)
        display = footer.app.get_key_display
        keys = [
            (binding.action, display(binding), binding.description) for binding in first.values()
        ]
        kept = footer.fit(keys) if isinstance(footer, ReadyFooter) else None
        return cls(
            [
                (key, description)
                for action, key, description in keys
                if kept is None or action in kept
            ]
        )

    def render(self) -> Text:
        # FooterKey.render, once per key.
        key_style = self.get_component_rich_style("footer-key--key")
        description_style = self.get_component_rich_style("footer-key--description")
        key_padding = self.get_component_styles("footer-key--key").padding
        description_padding = self.get_component_styles("footer-key--description").padding
        pieces: list[tuple[str, Style]] = []
        for key_display, description in self.keys:
            if not description:
                pieces.append((key_display, key_style))
                continue
            key = " " * key_padding.left + key_display + " " * key_padding.right
            left, right = description_padding.left, description_padding.right
            pieces.append((key, key_style))
            pieces.append((" " * left + description + " " * right, description_style))
        text = Text.assemble(*pieces)
        text.stylize_before(self.rich_style)
        return text

    def on_mouse_down(self) -> None:
        # Replaced within a frame: a click lands on the keys' own widgets.
        pass
