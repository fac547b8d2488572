"""The create dialog says where the typing goes, and Tab keeps to its fields, so a label
is never typed into a button and lost (Pilot, simulator)."""

from __future__ import annotations

from textual.widgets import Input

from tests.app_support import make_app, wait_until
from tests.monitor.steps import SIZE, all_polled, dialog_text, type_text
from tui.simulator import Simulator
from tui.ui.screens.new_diff import NewDiffScreen


async def test_tab_keeps_to_the_fields_and_the_label_is_kept(simulator: Simulator) -> None:
    simulator.add_diff(51, state=6, fail_with="boom", imageid=600, machineid=70)
    app = make_app(simulator, [51])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("N")
        await wait_until(pilot, lambda: isinstance(app.screen, NewDiffScreen))
        await pilot.pause()
        assert "Typing goes to Label" in dialog_text(app)
        await pilot.press("tab", "tab")
        assert isinstance(app.screen.focused, Input), app.screen.focused
        assert "Typing goes to Machine ID" in dialog_text(app)
        await pilot.press("tab")  # round the fields: back to the label
        assert app.screen.focused is app.screen.query_one("#label")
        await type_text(pilot, "eu-west again")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: len(app.tracker.views) == 2)
        new = next(d for d in app.tracker.views if d != 51)
        assert app.tracker.views[new].label == "eu-west again"
