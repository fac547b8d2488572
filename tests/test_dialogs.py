"""What the dialogs and notices say is true: the keys they offer work, no dead
buttons, ctrl+c names the quit keys, read-only says why a key does nothing, and
editing a label starts where the user expects."""

from __future__ import annotations

from textual.widgets import Button, Input

from tests.app_support import make_app, wait_until
from tests.monitor.steps import SIZE, all_polled, footer_text, toasts, type_text
from tui.simulator import Simulator
from tui.ui.screens.confirm import ConfirmScreen


async def test_typing_after_e_appends_to_the_label_and_ctrl_a_selects_all(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [(1, "v2")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("e")
        await type_text(pilot, " OLD")
        assert app.screen.query_one(Input).value == "v2 OLD"
        await pilot.press("ctrl+a")
        await type_text(pilot, "new\n")
        assert app.tracker.views[1].label == "new"


async def test_q_in_the_retry_dialog_does_what_the_footer_says(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        await wait_until(pilot, lambda: "Cancel" in footer_text(app))
        footer = footer_text(app)
        assert "Quit" not in footer
        assert "q Cancel" in footer or "esc Cancel" in footer
        await pilot.press("q")
        assert app.screen is app.screen_stack[0]
        assert simulator.count("retry") == 0


async def test_nothing_to_retry_shows_no_retry_button(simulator: Simulator) -> None:
    simulator.add_diff(1, state=4, duration=10**9)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        labels = [str(button.label) for button in app.screen.query(Button)]
        assert labels == ["Close (n)"]
        await pilot.press("y")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert app.screen is app.screen_stack[0]


async def test_ctrl_c_names_q_as_the_way_to_quit(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: toasts(app))
        assert toasts(app) == ["Press q or ctrl+q to quit the app"]


async def test_read_only_says_why_retry_and_remove_do_nothing(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6)
    app = make_app(simulator, [1], read_only=True, keymap={"remove": "x"})
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("R")
        await wait_until(pilot, lambda: toasts(app))
        assert toasts(app) == ["read-only: retry is disabled"]
        app.clear_notifications()
        await pilot.press("x")  # remove, moved by the keymap
        await wait_until(pilot, lambda: toasts(app))
        assert toasts(app) == ["read-only: remove is disabled"]
        assert app.screen is app.screen_stack[0]
        assert simulator.count("retry") == 0 and set(app.tracker.views) == {1}
