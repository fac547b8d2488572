"""The header's poll-state words take their colours from the theme."""

from __future__ import annotations

import pytest
from rich.color import Color
from textual.app import App, ComposeResult

from tui.ui.themes import load_catalog
from tui.ui.widgets.status_header import StatusHeader


class HeaderApp(App[None]):
    def __init__(self, theme: str) -> None:
        super().__init__()
        for source in load_catalog(None).themes.values():
            self.register_theme(source.theme)
        self.theme = theme

    def compose(self) -> ComposeResult:
        yield StatusHeader(profile="prod", asid=1, api_host="api.example")


@pytest.mark.parametrize(
    ("state", "variable"),
    [("live", "success"), ("paused", "warning"), ("offline", "error")],
)
@pytest.mark.parametrize("theme", ["high-contrast", "imagediff-light"])
async def test_the_poll_state_is_drawn_in_the_themes_colour(
    theme: str, state: str, variable: str
) -> None:
    app = HeaderApp(theme)
    async with app.run_test(size=(100, 4)) as pilot:
        header = app.query_one(StatusHeader)
        header.poll_state = state
        await pilot.pause()
        text = header.render()
        start = text.plain.index(header.poll_words())
        styles = [span.style for span in text.spans if span.start <= start < span.end]
        colours = [style.color for style in styles if not isinstance(style, str) and style.color]
        expected = Color.parse(app.get_css_variables()[variable])
        assert colours and colours[-1].get_truecolor() == expected.get_truecolor()


async def _second_line(width: int, counts: dict[str, int], **shown: object) -> str:
    """The header's second line at ``width`` columns, with these counts and attributes."""
    app = HeaderApp("imagediff-dark")
    async with app.run_test(size=(width, 4)) as pilot:
        header = app.query_one(StatusHeader)
        header.counts = counts
        for name, value in shown.items():
            setattr(header, name, value)
        await pilot.pause()
        return header.render().plain.splitlines()[1]


async def test_at_80_columns_the_second_line_shortens_before_anything_is_cut() -> None:
    counts = {"running": 3, "waiting": 3, "completed": 3, "failed": 4, "erroring": 2, "todo": 4}
    line2 = await _second_line(80, counts, shown=(4, 13), attention=True, sort_arrow="↓")
    for part in ("⚑ 4 need you (f)", "4 of 13 shown", "▶ 3", "✗ 4", "⚠ 2 erroring"):
        assert part in line2, (part, line2)
    assert not line2.endswith("…")
    assert len(line2) <= 80 - 2  # the padding


async def test_at_120_columns_the_counts_keep_their_words() -> None:
    counts = {"running": 3, "waiting": 3, "completed": 3, "failed": 4, "erroring": 2}
    line2 = await _second_line(120, counts)
    assert "▶ 3 running  ◑ 3 waiting  ✓ 3 completed  ✗ 4 failed" in line2
    assert "⚠ 2 of 13 erroring" in line2
    assert line2.endswith("sort: state ↑")


async def test_at_80_columns_the_sort_goes_before_the_counts_lose_their_words() -> None:
    counts = {"running": 3, "waiting": 3, "completed": 1, "failed": 1, "erroring": 1}
    line2 = await _second_line(80, counts)
    assert line2 == "▶ 3 running  ◑ 3 waiting  ✓ 1 completed  ✗ 1 failed  │ ⚠ 1 of 8 erroring"


async def test_the_to_do_is_counted_after_the_states() -> None:
    counts = {"running": 1, "waiting": 0, "completed": 4, "failed": 1, "todo": 5}
    assert "✗ 1 failed  ⚑ 5 need you" in await _second_line(120, counts)
    assert "✗ 1 ⚑ 5" in await _second_line(40, counts)
    counts["todo"] = 0
    assert "need you" not in await _second_line(120, counts)
