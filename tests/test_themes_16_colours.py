"""Every built-in theme stays legible in 16 colours (TERM=screen): each state badge's
text and background fall on different colours of the 16 once downgraded."""

from __future__ import annotations

import pytest
from rich.color import Color, ColorSystem, ColorType

from tests.app_support import make_app
from tui.domain.jobs import StateGroup
from tui.simulator import Simulator
from tui.ui.themes import load_catalog


def _in_16(color: Color | None) -> int | None:
    """The colour a 16-colour terminal shows (None: the terminal's own default)."""
    if color is None or color.type is ColorType.DEFAULT:
        return None
    return color.downgrade(ColorSystem.STANDARD).number


@pytest.mark.parametrize("theme", load_catalog(None).names())
async def test_every_badge_is_legible_in_16_colours(simulator: Simulator, theme: str) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1], theme=theme, start_polling=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        job_list = app.monitor.job_list
        for group in StateGroup:
            style = job_list.get_component_rich_style(f"job-list--badge-{group}")
            text, background = _in_16(style.color), _in_16(style.bgcolor)
            assert text is None or text != background, (theme, group, style)
