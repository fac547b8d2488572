"""Textual's footer, with its keys drawn in the screen's first frame."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class ReadyFooter(Footer):
    """A :class:`~textual.widgets.Footer` that lists its keys from its first compose.

    Textual's footer composes no keys until the screen first announces its bindings,
    which happens after the first frame: the first paint showed an empty footer, and
    the keys came one recompose, layout and frame later (about a tenth of the first
    paint). The screen's own bindings are known when it composes; a later change of
    bindings recomposes the footer as usual.

    Example:
        >>> ReadyFooter()._bindings_ready
        True
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Footer's own flag (textual is pinned): compose the keys at once.
        self.set_reactive(Footer._bindings_ready, True)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                # Once mounted, a key set its compact class (restyled), then took the
                # footer's state (restyled again): 17 restyles before the first frame.
                # Born in its state, it is styled once; later changes still reach it
                # (the palette's key is not bound to the footer: always compact).
                compact = widget.has_class("-command-palette") or self.compact
                widget.set_reactive(FooterKey.compact, compact)
                widget.set_class(compact, "-compact", update=False)
            yield widget
