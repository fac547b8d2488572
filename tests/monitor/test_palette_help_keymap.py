"""Every action by name (palette), every key (help), read-only, the keymap, themes.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

from textual.widgets import Static

from tests.app_support import make_app, screen_text, wait_until
from tests.monitor.steps import (
    SIZE,
    all_polled,
    footer_text,
    header_text,
    rich_text,
    type_text,
)
from tui.simulator import Simulator
from tui.ui.screens.confirm import ConfirmScreen


async def test_help_lists_every_key_the_list_answers_to_in_table_order(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        text = rich_text(app.screen.query(Static).last())
        for key, words in (
            ("R", "Retry"),
            ("n", "Add"),
            ("d", "Remove"),
            ("p", "Pause"),
            ("q", "Quit"),
            ("/", "Filter"),
            ("l", "Events"),
            ("S", "Reverse sort"),
            ("ctrl+p", "Command palette"),
        ):
            assert any(key in line and words in line for line in text.split("\n")), key
        lines = [line.split() for line in text.strip().split("\n")]
        # The app's own actions come first; the scroll keys the list inherits are left out.
        assert lines[0][:2] == ["R", "Retry"], lines[:4]
        assert ["↓", "j", "Down"] in lines  # aliases share a row
        assert ["f", "^z", "To-do"] in lines
        assert "Scroll" not in text
        assert "Select all" in text
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_the_palette_offers_the_list_actions_only_on_the_list(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Retry selected diffs" in titles and "Add diffs" in titles
        assert "Reverse sort" in titles and "Toggle needs attention" in titles
        assert "Quit" in titles  # Textual's own
        assert titles.count("Keys") == 1 and "Key bindings" in titles  # no two "Keys"
        await pilot.press("ctrl+p")
        await type_text(pilot, "retry sel")
        await wait_until(pilot, lambda: "Retry selected diffs" in screen_text(app))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape", "enter")  # the detail screen
        from tui.ui.screens.detail import DetailScreen

        assert isinstance(app.screen, DetailScreen)
        on_details = [command.title for command in app.get_system_commands(app.screen)]
        assert "Remove diffs" not in on_details and "Filter" not in on_details
        assert "Pause / resume polling" in on_details and "Key bindings" in on_details


async def test_read_only_hides_retry_and_remove(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6)
    app = make_app(simulator, [1], read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        assert "READ-ONLY" in header_text(app)
        await wait_until(pilot, lambda: "Pause" in footer_text(app))
        footer = footer_text(app)
        assert "Retry" not in footer and "Remove" not in footer
        assert "Pause" in footer
        await pilot.press("R")
        await pilot.press("d")
        assert app.screen is app.screen_stack[0]
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Retry selected diffs" not in titles and "Remove diffs" not in titles
        await pilot.pause(0.2)
        assert simulator.count("retry") == 0
        assert set(app.tracker.views) == {1}
        await pilot.press("question_mark")
        keys = rich_text(app.screen.query(Static).last())
        assert "Pause" in keys and "Retry" not in keys and "Remove" not in keys


async def test_the_keymap_rebinds_a_key(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1], keymap={"pause": "x"})
    # Wide: a narrower footer drops Pause, its least used key.
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await pilot.press("p")
        assert not app.tracker.paused
        await pilot.press("x")
        assert app.tracker.paused
        await wait_until(pilot, lambda: "x Pause" in footer_text(app))
        await wait_until(pilot, lambda: "Polling paused: press x to resume" in screen_text(app))


async def test_notices_and_unknown_keymap_ids_are_shown(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(
        simulator, [1], notices=["watchlist [b]moved[/b] aside"], keymap={"no-such": "x"}
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: "watchlist [b]moved[/b] aside" in screen_text(app))
        await wait_until(pilot, lambda: "unknown binding ids: no-such" in screen_text(app))


async def test_theme_picker_applies_and_saves(simulator: Simulator) -> None:
    from tui.ui.screens.theme_picker import ThemePicker

    simulator.add_diff(1, state=5)
    saved: list[str] = []
    app = make_app(simulator, [1], save_theme=saved.append)
    async with app.run_test(size=SIZE) as pilot:
        original = app.theme
        await pilot.press("t")
        assert isinstance(app.screen, ThemePicker)
        await pilot.press("down", "enter")
        assert not isinstance(app.screen, ThemePicker)
        assert app.theme != original
        assert saved == [app.theme]
        await pilot.press("t", "down", "escape")
        assert saved == [app.theme]
