"""What the tests observe of Textual that it keeps to itself: frames drawn, screen
layouts, toasts, the screen as drawn, the footer's key widget (``FooterKey``). Its
private names are read here only, so a Textual upgrade that renames one costs one
edit."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.app import App
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets._footer import FooterKey

__all__ = [
    "FooterKey",
    "count_all_frames",
    "count_layouts",
    "drawn_strips",
    "on_every_frame",
    "toasts",
]


def on_every_frame(screen: Screen[object], seen: Callable[[set[Widget]], None]) -> None:
    """Call ``seen`` with the widgets each frame of ``screen`` repaints, before it is
    drawn, from now on."""
    compositor_refresh = screen._compositor_refresh

    def counted() -> None:
        seen(set(screen._dirty_widgets))
        compositor_refresh()

    screen._compositor_refresh = counted  # type: ignore[method-assign]


def count_all_frames(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one each time any screen draws a frame from now on."""
    frames: list[int] = []
    draw = Screen._compositor_refresh

    def drawn(screen: Screen[object]) -> None:
        frames.append(1)
        draw(screen)

    monkeypatch.setattr(Screen, "_compositor_refresh", drawn)
    return frames


def count_layouts(screen: Screen[object]) -> list[int]:
    """A list that grows by one each time Textual lays ``screen`` out from now on."""
    layouts: list[int] = []
    refresh_layout = screen._refresh_layout

    def counted(*args: object, **kwargs: object) -> None:
        layouts.append(1)
        refresh_layout(*args, **kwargs)  # type: ignore[arg-type]

    screen._refresh_layout = counted  # type: ignore[method-assign]
    return layouts


def toasts(app: App[object]) -> list[str]:
    """The messages of the toasts (``notify``) ``app`` shows now."""
    return [str(notification.message) for notification in app._notifications]


def drawn_strips(screen: Screen[object]) -> list[Strip]:
    """``screen``'s lines as the terminal shows them."""
    return list(screen._compositor.render_strips())
