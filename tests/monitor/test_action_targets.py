"""What an action takes: never a selected diff the filter hides, never a decided diff
for a retry; the selection clears once an action is confirmed (Pilot, simulator)."""

from __future__ import annotations

from tests.app_support import wait_until
from tests.monitor.steps import completed_fleet, dialog_text, header_text, type_text
from tui.polling.job_view import AcceptOptions
from tui.simulator import Simulator
from tui.ui.screens.accept_reject import RejectScreen
from tui.ui.screens.confirm import ConfirmScreen


async def test_a_reject_leaves_out_the_selected_diffs_the_filter_hides_and_says_so(
    simulator: Simulator,
) -> None:
    async with completed_fleet(simulator, [1990, 1991, 4002, 4003]) as (app, pilot):
        job_list = app.monitor.job_list
        await pilot.press("a")  # select all four
        assert len(job_list.selected) == 4
        await pilot.press("slash")
        await type_text(pilot, "4002\n")
        assert job_list.order == [4002]
        await pilot.press("X")
        assert isinstance(app.screen, RejectScreen)
        text = dialog_text(app)
        assert "Reject 1 diff" in text, text

        will, left_out = text.split("Left out:")
        assert "#4002" in will and "#1990" not in will and "#1991" not in will
        assert "3 selected hidden by the filter" in left_out
        assert "#1990" in left_out and "#1991" in left_out and "#4003" in left_out
        await pilot.press("0", "y")
        await wait_until(pilot, lambda: simulator.count("reject") == 1)
        assert simulator.count("reject", 4002) == 1
        # Confirmed: the selection is cleared (as k9s and lazygit do).
        await wait_until(pilot, lambda: not job_list.selected)
        assert "selected" not in header_text(app)


async def test_retry_skips_decided_diffs_and_marks_a_completed_one_that_is_re_run(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1103, state=6, fail_with="boom")
    async with completed_fleet(simulator, [1101, 1102]) as (app, pilot):
        await app.tracker.accept([1101], AcceptOptions(restart=False))
        version = app.tracker.views[1101].entry.accepted
        assert version is not None
        await pilot.press("a", "R")
        assert isinstance(app.screen, ConfirmScreen)
        text = dialog_text(app)
        will, skipped = text.split("Skipped:")
        assert "#1102  Completed  (its analysis is re-run)" in will
        assert "#1101" not in will
        assert (
            f"#1101: already accepted (image version {version.imageversionid}): nothing to re-run"
            in skipped
        )
        await pilot.press("escape")
    assert simulator.count("retry") == 0
