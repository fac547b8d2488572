"""Every use of Textual's private names, in one place to check when Textual is upgraded.

Textual is pinned (``pyproject.toml``); each name below is private to it and may move
or change in any release. Each function says what the app loses if it has to go: the
tests that cover each one fail on such an upgrade (``tests/textual_probes.py`` holds
the tests' own readers of private names).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any, cast

from textual._xterm_parser import XTermParser
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.app import App
    from textual.binding import Binding
    from textual.dom import DOMNode
    from textual.drivers.linux_driver import LinuxDriver
    from textual.geometry import Size
    from textual.screen import Screen
    from textual.widget import Widget

__all__ = [
    "FooterKey",
    "XTermParser",
    "driver_output",
    "give_result_callback",
    "keymapped_bindings",
    "mark_footer_bindings_ready",
    "replace_driver_output",
    "scroll_to_virtual_size",
    "write_to_terminal",
]


def keymapped_bindings(node: DOMNode) -> list[Binding]:
    """``node``'s own bindings with the keys the app's keymap gave them (Textual applies
    the keymap only as it looks keys up).

    Without it the command palette cannot say each command's key (``screens.actions``)."""
    bindings_map = node._bindings.copy()
    bindings_map.apply_keymap(node.app._keymap)
    return [binding for bound in bindings_map.key_to_bindings.values() for binding in bound]


def mark_footer_bindings_ready(footer: Footer) -> None:
    """Let ``footer`` compose its keys at once, not after the screen's first frame.

    Without it the first frame shows an empty footer (``startup.footer``)."""
    footer.set_reactive(Footer._bindings_ready, True)


def driver_output(driver: LinuxDriver) -> IO[str] | None:
    """The file the driver's writer thread writes frames to."""
    return cast("IO[str] | None", driver._file)


def replace_driver_output(driver: LinuxDriver, output: Any) -> None:
    """Make the writer thread write to ``output``: the only place where a failed write
    (the terminal hung up) can be caught (``terminal_driver``)."""
    driver._file = output


def give_result_callback(screen: Screen[Any]) -> None:
    """Give the app's first screen the result callback that :meth:`App.switch_screen`
    pops (Textual gives the default screen none); without it switching profile would
    have to keep the old monitor mounted."""
    screen._push_result_callback(screen, None)


def scroll_to_virtual_size(widget: Widget, size: Size) -> None:
    """Update ``widget``'s scrollbars and offset for a new virtual size without the
    whole screen's layout that setting ``virtual_size`` asks for (a filter keystroke
    then repaints the list alone)."""
    widget._scroll_update(size)


def write_to_terminal(app: App[Any], text: str) -> None:
    """Write ``text`` (an escape sequence) to the terminal between frames, through the
    driver's writer as :meth:`App.bell` does: Textual has no public way to write raw
    output, and without one a desktop notification (``desktop_notice``) cannot be sent."""
    driver = app._driver
    if driver is not None and not app.is_headless:
        driver.write(text)
