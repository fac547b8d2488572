"""Every dialog fits 80x24: its choices, its buttons and its confirm key on screen, even
with a plan longer than the screen (Pilot, simulator)."""

from __future__ import annotations

import pytest
from textual.widget import Widget
from textual.widgets import Button

from tests.app_support import make_app, screen_text, wait_until
from tests.monitor.steps import all_polled, footer_text
from tui.simulator import Simulator
from tui.ui.app import ImageDiffApp

SMALL = (80, 24)


def on_screen(app: ImageDiffApp, widget: Widget) -> bool:
    """True when the whole of ``widget`` is drawn on the screen, above the footer."""
    region = widget.region
    visible = app.screen.find_widget(widget).region if widget.region else region
    return (
        region.height > 0
        and visible == region
        and region.y >= 0
        and region.bottom <= SMALL[1] - 1
        and app.screen.get_widget_at(region.x + 1, region.y)[0] is widget
    )


@pytest.mark.parametrize(
    ("keys", "confirm", "footer", "choices"),
    [
        (("a", "V"), "Accept (y)", "y Confirm", ("#choice-0", "#choice-1", "#full", "#force")),
        (("a", "X"), "Reject (y)", "y Confirm", ("#choice-0", "#choice-1")),
        (("a", "R"), "Retry (y)", "y Confirm", ()),
        (("a", "d"), "Remove (y)", "y Confirm", ()),
        (("N",), "Create (ctrl+s)", "^s Create", ()),
    ],
)
async def test_a_dialog_with_a_long_plan_fits_80x24(
    simulator: Simulator,
    keys: tuple[str, ...],
    confirm: str,
    footer: str,
    choices: tuple[str, ...],
) -> None:
    ids = list(range(1, 30))
    for diffid in ids:
        simulator.add_diff(diffid, state=5 if diffid > 1 else 6)
    app = make_app(simulator, ids)
    async with app.run_test(size=SMALL) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press(*keys)
        await pilot.pause(0.3)
        buttons = [b for b in app.screen.query(Button) if str(b.label) == confirm]
        assert buttons, screen_text(app)
        assert on_screen(app, buttons[0]), screen_text(app)
        for selector in choices:
            assert on_screen(app, app.screen.query_one(selector)), (selector, screen_text(app))
        assert footer in footer_text(app), footer_text(app)
