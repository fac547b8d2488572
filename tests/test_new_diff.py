"""Starting a new diff: the dialog (offered from the focused diff's diff_info, both IDs
required, bad ones named), and the tracker's create (sent once, journaled, a lock
refusal carrying the server's words)."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from tests.dialog_host import UNSET, DialogApp
from tests.test_tracker_lifecycle import tracked
from tui.api.errors import BadRequest
from tui.domain.jobs import DiffInfo
from tui.simulator import Simulator
from tui.ui.screens.new_diff import NewDiffRequest, NewDiffScreen, Offer

INFO = DiffInfo(
    machine={"machineid": 7101, "name": "build-us-01"},
    image={"imageid": 54101, "name": "starfall[bold]"},
)


def test_the_offer_names_image_and_machine_as_plain_text() -> None:
    offer = Offer.of(4101, INFO)
    assert offer is not None
    assert (offer.imageid, offer.machineid) == (54101, 7101)
    assert offer.words == "image starfall[bold] (54101) on machine build-us-01 (7101)"
    assert Offer.of(4101, DiffInfo()) is None
    assert Offer.of(4101, None) is None


async def test_the_offered_ids_are_filled_in_and_a_label_is_typed() -> None:
    app = DialogApp(NewDiffScreen(Offer.of(4101, INFO)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"again", "enter")
    assert app.result == NewDiffRequest(54101, 7101, "again")


async def test_both_ids_are_required_and_nothing_is_returned_until_they_are() -> None:
    app = DialogApp(NewDiffScreen(None))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("x", "1", "2", "enter")  # x is refused by the field
        assert app.result is UNSET
        problem = str(app.dialog.query_one("#problem", Static).render())
        assert problem == "machine ID: required"
        assert app.dialog.query_one("#imageid", Input).value == "12"
        app.dialog.query_one("#machineid", Input).value = "0"
        await pilot.press("ctrl+s")
        assert app.result is UNSET
        assert "machine ID:" in str(app.dialog.query_one("#problem", Static).render())
        app.dialog.query_one("#machineid", Input).value = "7"
        await pilot.press("ctrl+s")
    assert app.result == NewDiffRequest(12, 7, "")


async def test_escape_creates_nothing() -> None:
    app = DialogApp(NewDiffScreen(Offer.of(1, INFO)))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("escape")
    assert app.result is None


async def test_create_is_sent_once_and_journaled(simulator: Simulator) -> None:
    simulator.add_diff(1, state=6, fail_with="x", imageid=9, machineid=3)
    async with tracked(simulator, 1) as (tracker, seen):
        job = await tracker.create(9, 3)
        assert simulator.count("create") == 1
        assert job.diffid not in (0, 1)
        created = [e for e in seen.events if e.action == "create"]
        assert [(e.diffid, e.outcome) for e in created] == [(job.diffid, "accepted")]


async def test_a_create_refused_for_a_lock_names_the_holder(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5, imageid=9)
    async with tracked(simulator, 1) as (tracker, seen):
        with pytest.raises(BadRequest, match="Image locked by diffid 1"):
            await tracker.create(9, 3)
        assert simulator.count("create") == 1
        refused = [e for e in seen.events if e.action == "create"]
        assert refused[0].outcome == "refused"
        assert refused[0].reason is not None and "Image locked by diffid 1" in refused[0].reason
