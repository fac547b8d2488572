"""ThemePicker: live preview on highlight, Enter keeps, Escape restores."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import OptionList

from tui.ui.screens.theme_picker import ThemePicker
from tui.ui.themes import load_catalog

NAMES = ["imagediff-dark", "imagediff-light", "high-contrast"]


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


class PickerApp(App[None]):
    """Registers the built-in themes, starts on imagediff-dark, records the result."""

    def __init__(self, names: list[str] | None = None) -> None:
        super().__init__()
        self.names = NAMES if names is None else names
        self.results: list[str | None] = []

    def on_mount(self) -> None:
        for source in load_catalog(None).themes.values():
            self.register_theme(source.theme)
        self.theme = "imagediff-dark"
        self.push_screen(ThemePicker(self.names, self.theme), self.results.append)


async def test_opens_on_current_theme() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        assert options.highlighted == 0
        assert options.has_focus
        assert app.theme == "imagediff-dark"


async def test_moving_previews_and_escape_restores() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("down")
        assert app.theme == "imagediff-light"
        await pilot.press("down")
        assert app.theme == "high-contrast"
        await pilot.press("escape")
        await pilot.pause()
        assert app.theme == "imagediff-dark"
        assert app.results == [None]
        assert not isinstance(app.screen, ThemePicker)


async def test_enter_returns_choice_and_keeps_it() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("down", "down", "up", "enter")
        await pilot.pause()
        assert app.results == ["imagediff-light"]
        assert app.theme == "imagediff-light"
        assert not isinstance(app.screen, ThemePicker)


async def test_enter_without_moving_returns_current() -> None:
    app = PickerApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == ["imagediff-dark"]


async def test_unregistered_name_is_listed_but_not_previewed() -> None:
    app = PickerApp(["imagediff-dark", "not-registered", "imagediff-dark"])
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.screen.query_one(OptionList).option_count == 2  # duplicate dropped
        await pilot.press("down")
        assert app.theme == "imagediff-dark"
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
