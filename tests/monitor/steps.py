"""Helpers for the monitor's Pilot tests (tests/monitor/): read the screen, type."""

from __future__ import annotations

import io

from rich.console import Console
from textual.widgets import Static

from tests.app_support import screen_text
from tui.app import ImageDiffApp

SIZE = (120, 40)
LONG = 1e7
"""A duration (simulated seconds) that keeps a diff in its state for the whole test."""


def all_polled(app: ImageDiffApp) -> bool:
    return all(not view.stale for view in app.tracker.views.values())


def header_text(app: ImageDiffApp) -> str:
    return str(app.monitor.header.render())


def rich_text(static: Static) -> str:
    """The whole content of a Static as plain text (also the part scrolled out of view)."""
    console = Console(width=100, file=io.StringIO(), record=True, color_system=None)
    console.print(static.content)
    return console.export_text()


def dialog_text(app: ImageDiffApp) -> str:
    return "\n".join(rich_text(static) for static in app.screen.query(Static))


def toasts(app: ImageDiffApp) -> list[str]:
    """The messages of the notifications on show (a long one wraps on screen)."""
    return [notification.message for notification in app._notifications]


def footer_text(app: ImageDiffApp) -> str:
    return screen_text(app).split("\n")[-1]


async def type_text(pilot: object, text: str) -> None:
    keys = ["enter" if char == "\n" else char for char in text]
    await pilot.press(*keys)  # type: ignore[attr-defined]
