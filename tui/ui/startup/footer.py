"""Textual's footer, with its keys drawn in the screen's first frame, cheaply.

It relies on two of Textual's private names (through ``tui.ui.textual_internals``):
the footer's ``_bindings_ready`` flag, and ``FooterKey``, whose look :class:`KeyLine`
copies. Should a Textual upgrade break it, the monitor can yield
Textual's own :class:`~textual.widgets.Footer` instead: its keys then come one frame
later.
"""

from __future__ import annotations

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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        mark_footer_bindings_ready(self)
        self._composed = False

    def compose(self) -> ComposeResult:
        line = None if self._composed else KeyLine.of(self)
        self._composed = True
        if line is not None:
            yield line
        for widget in super().compose():
            palette = widget.has_class("-command-palette")
            if line is not None and isinstance(widget, FooterKey) and not palette:
                continue  # on the line
            yield widget

    def on_mount(self) -> None:
        super().on_mount()
        if self.query(KeyLine):
            self.call_after_refresh(self.recompose)


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
        return cls([(display(binding), binding.description) for binding in first.values()])

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
