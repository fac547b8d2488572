"""The accept and reject dialogs: nothing is chosen at first, y does nothing (and says
so) until 0 or 1 is pressed, the options come back as chosen, and a dialog with
nothing to send offers no choice."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Button, Checkbox, RadioButton, Static

from tests.dialog_host import UNSET, DialogApp
from tui.polling.tracker import AcceptOptions
from tui.ui.screens.accept_reject import AcceptScreen, RejectChoice, RejectScreen


def _accept(can_send: bool = True) -> AcceptScreen:
    return AcceptScreen(
        "Accept 1 diff?", Text("Will accept:\n  #1  Completed\n"), can_send=can_send
    )


def _hint(app: DialogApp) -> str:
    return str(app.dialog.query_one("#hint", Static).render())


async def test_y_does_nothing_until_restart_is_chosen_and_says_so() -> None:
    app = DialogApp(_accept())
    async with app.run_test(size=(100, 40)) as pilot:
        assert app.dialog.chosen is None
        assert app.dialog.query_one("#confirm", Button).disabled
        await pilot.press("y")
        assert app.result is UNSET
        assert app.screen is app.dialog
        assert "Choose restart first: press 0 or 1" in _hint(app)
        await pilot.press("0")
        assert not app.dialog.query_one("#confirm", Button).disabled
        assert _hint(app) == ""
        await pilot.press("y")
    assert app.result == AcceptOptions(restart=False)


async def test_accept_options_come_back_as_chosen() -> None:
    app = DialogApp(_accept())
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("o")  # o is the list's "go to lock": nothing here
        assert not app.dialog.query_one("#force", Checkbox).value
        await pilot.press("1", "f", "exclamation_mark", "b")
        await pilot.press(*"1.4.2-rc y0")  # typed into the field: not keys of the dialog
        assert app.result is UNSET
        await pilot.press("enter", "y")
    assert app.result == AcceptOptions(
        restart=True, full=True, game_build="1.4.2-rc y0", force=True
    )


async def test_changing_the_choice_keeps_the_last_one() -> None:
    app = DialogApp(_accept())
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("1", "0", "y")
    assert app.result == AcceptOptions(restart=False)


async def test_cancel_sends_nothing_even_after_a_choice() -> None:
    for key in ("n", "escape", "q"):
        app = DialogApp(_accept())
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press("1", key)
        assert app.result is None, key


async def test_reject_needs_reinstall_chosen() -> None:
    app = DialogApp(RejectScreen("Reject 1 diff?", Text("#1"), can_send=True))
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("y")
        assert app.result is UNSET
        assert "Choose reinstall first" in _hint(app)
        await pilot.press("1", "y")
    assert app.result == RejectChoice(reinstall=True)


async def test_nothing_to_send_offers_only_close() -> None:
    app = DialogApp(_accept(can_send=False))
    async with app.run_test(size=(100, 40)) as pilot:
        labels = [str(button.label) for button in app.dialog.query(Button)]
        assert labels == ["Close (n)"]
        await pilot.press("1", "y")
        assert app.result is UNSET
        await pilot.press("n")
    assert app.result is None


async def test_choices_and_options_show_their_state_without_colour() -> None:
    """On a terminal without colour (NO_COLOR, a screen reader) on and off must differ
    in their characters, not only in their colours."""
    app = DialogApp(_accept())
    async with app.run_test(size=(100, 40)) as pilot:
        full, force = (
            app.dialog.query_one("#full", Checkbox),
            app.dialog.query_one("#force", Checkbox),
        )
        zero, one = (app.dialog.query_one(f"#choice-{n}", RadioButton) for n in (0, 1))

        def mark(toggle: Checkbox | RadioButton) -> str:
            return toggle.render().plain[:3]

        off_box, off_radio = mark(full), mark(zero)
        await pilot.press("f", "1")
        assert full.value and one.value
        assert mark(full) != off_box and mark(force) == off_box
        assert mark(one) != off_radio and mark(zero) == off_radio
