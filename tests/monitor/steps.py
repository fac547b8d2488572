"""Helpers for the monitor's Pilot tests (tests/monitor/): read the screen, type."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from tests import textual_probes
from tests.app_support import make_app, screen_text, wait_until
from tui.simulator import Simulator
from tui.ui.app import ImageDiffApp

SIZE = (120, 40)
LONG = 1e7
"""A duration (simulated seconds) that keeps a diff in its state for the whole test."""


def all_polled(app: ImageDiffApp) -> bool:
    return all(not view.stale for view in app.tracker.views.values())


@asynccontextmanager
async def completed_fleet(
    simulator: Simulator, diffs: Sequence[int | tuple[int, str]]
) -> AsyncIterator[tuple[ImageDiffApp, Pilot[None]]]:
    """The app watching ``diffs`` (IDs, or ``(id, label)``), each a Completed diff on
    ``simulator``, running at :data:`SIZE` with every diff polled once."""
    for diff in diffs:
        simulator.add_diff(diff if isinstance(diff, int) else diff[0], state=5)
    app = make_app(simulator, diffs)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        yield app, pilot


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
    return textual_probes.toasts(app)


def footer_text(app: ImageDiffApp) -> str:
    return screen_text(app).split("\n")[-1]


async def type_text(pilot: object, text: str) -> None:
    keys = ["enter" if char == "\n" else char for char in text]
    await pilot.press(*keys)  # type: ignore[attr-defined]
