"""The header's poll-state words take their colours from the theme."""

from __future__ import annotations

import pytest
from rich.color import Color
from textual.app import App, ComposeResult

from tui.themes import load_catalog
from tui.widgets.status_header import StatusHeader


class HeaderApp(App[None]):
    def __init__(self, theme: str) -> None:
        super().__init__()
        for source in load_catalog(None).themes.values():
            self.register_theme(source.theme)
        self.theme = theme

    def compose(self) -> ComposeResult:
        yield StatusHeader(profile="prod", asid=1, host="api.example")


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
