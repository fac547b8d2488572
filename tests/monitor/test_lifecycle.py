"""Accept, reject, locks and new diffs in the monitor, with Pilot against the simulator:
nothing is sent without the explicit choice, exactly one request per confirmed diff,
the version job followed to its end on the panel, the lock jump, a new diff watched.
"""

from __future__ import annotations

from tests.app_support import list_text, make_app, wait_until
from tests.monitor.steps import LONG, SIZE, all_polled, dialog_text, toasts, type_text
from tui.domain.jobs import JobState
from tui.simulator import Simulator
from tui.ui.screens.accept_reject import AcceptScreen, RejectScreen
from tui.ui.screens.new_diff import NewDiffScreen


def _panel_has(app: object, text: str) -> bool:
    return text in list_text(app)  # type: ignore[arg-type]


async def test_accept_sends_nothing_until_restart_is_chosen_then_once_per_diff(
    simulator: Simulator,
) -> None:
    simulator.add_diff(21, state=5)
    simulator.add_diff(22, state=5)
    simulator.add_diff(23, state=4, duration=LONG)
    app = make_app(simulator, [(21, "eu"), (22, "us"), (23, "busy")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("a", "V")
        assert isinstance(app.screen, AcceptScreen)
        text = dialog_text(app)
        assert "Accept 2 diffs (create image versions)?" in text
        will, skipped = text.split("Skipped:")
        assert "#21 eu" in will and "#22 us" in will
        assert "#23 busy: Running: only Completed diffs can be accepted" in skipped
        await pilot.press("y", "y")
        assert isinstance(app.screen, AcceptScreen)
        assert "Choose restart first: press 0 or 1. Nothing was sent." in dialog_text(app)
        assert simulator.count("accept") == 0
        await pilot.press("1", "y")
        await wait_until(pilot, lambda: simulator.count("accept") == 2)
        await wait_until(pilot, lambda: all(app.tracker.views[d].followed for d in (21, 22)))
        assert simulator.count("accept", 21) == simulator.count("accept", 22) == 1
        # Again on the same diffs: skipped as already accepted, nothing sent.
        await pilot.press("V")
        assert "Nothing can be accepted" in dialog_text(app)
        await pilot.press("1", "y", "n")
    assert simulator.count("accept") == 2


async def test_cancelling_the_reject_dialog_sends_nothing_and_y_then_sends_once(
    simulator: Simulator,
) -> None:
    simulator.add_diff(31, state=6, fail_with="boom")
    app = make_app(simulator, [31])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("X", "0", "escape")
        assert simulator.count("reject") == 0
        await pilot.press("X")
        assert isinstance(app.screen, RejectScreen)
        await pilot.press("y")
        assert simulator.count("reject") == 0
        await pilot.press("0", "y")
        await wait_until(pilot, lambda: _panel_has(app, "⊘ rejected (reinstall=0)"))
        assert simulator.count("reject") == 1
        assert simulator.decision(31) == ("rejected", None)
        assert ("record_decision", app.tracker.views[31].entry) in app.watchlist.calls  # type: ignore[attr-defined]


async def test_read_only_says_accept_reject_and_new_diff_are_disabled(
    simulator: Simulator,
) -> None:
    simulator.add_diff(41, state=5)
    app = make_app(simulator, [41], read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        for key, what in (("V", "accept"), ("X", "reject"), ("N", "new_diff")):
            app.clear_notifications()
            await pilot.press(key)
            await wait_until(pilot, lambda: toasts(app))
            assert toasts(app) == [f"read-only: {what} is disabled"]
            assert app.screen is app.screen_stack[0]
    assert simulator.count("accept") == simulator.count("reject") == 0
    assert simulator.count("create") == 0


async def test_the_demos_locked_diff_is_resolved_from_the_keyboard() -> None:
    """Done-when of issue 13, on the demo's seeded lock chain (4108 failed, locked by
    4113): go to the locking diff, accept it with an explicit restart choice, watch the
    version job finish, retry the diff that was locked."""
    with Simulator(speed=150.0, seed_demo=True) as simulator:
        await _resolve_the_lock(simulator)


async def _resolve_the_lock(simulator: Simulator) -> None:
    app = make_app(simulator, [(4108, "rollback")])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await wait_until(
            pilot, lambda: _panel_has(app, "Image locked by diffid 4113 · o: go to #4113")
        )
        # o: the holder is not watched yet, so it is added, labelled, and focused.
        await pilot.press("o")
        await wait_until(pilot, lambda: app.monitor.job_list.highlighted == 4113)
        assert app.tracker.views[4113].label == "locks image 58108"
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("V", "0", "y")
        await wait_until(pilot, lambda: app.tracker.views[4113].followed is not None)
        followed = app.tracker.views[4113].followed
        assert followed is not None
        await wait_until(
            pilot, lambda: _panel_has(app, f"accepted: image version {followed.jobid}")
        )
        await wait_until(
            pilot,
            lambda: followed.job.known_state is JobState.COMPLETED,
            limit=15.0,
        )
        await wait_until(pilot, lambda: _panel_has(app, "✓ accepted: image version"))
        # Back to the locked diff: retry it; it now runs instead of failing on the lock.
        app.monitor.show_diff(4108)
        await pilot.press("R", "y")
        await wait_until(pilot, lambda: simulator.count("retry", 4108) == 1)
        # Unlocked, the new run completes (while locked, it would fail on the lock again).
        await wait_until(
            pilot, lambda: app.tracker.views[4108].state is JobState.COMPLETED, limit=15.0
        )
        assert app.tracker.views[4108].locked_by is None
    assert simulator.count("accept") == 1


async def test_a_new_diff_of_the_focused_diffs_image_is_created_and_watched(
    simulator: Simulator,
) -> None:
    simulator.add_diff(51, state=6, fail_with="boom", imageid=600, machineid=70)
    app = make_app(simulator, [51])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("N")
        await wait_until(pilot, lambda: isinstance(app.screen, NewDiffScreen))
        assert "From #51: diff this image on the same machine again" in dialog_text(app)
        await type_text(pilot, "again\n")
        await wait_until(pilot, lambda: len(app.tracker.views) == 2)
        new = next(d for d in app.tracker.views if d != 51)
        assert simulator.count("create") == 1
        assert app.tracker.views[new].label == "again"
        assert app.monitor.job_list.highlighted == new


async def test_a_new_diff_refused_for_a_lock_goes_to_the_diff_that_holds_it(
    simulator: Simulator,
) -> None:
    simulator.add_diff(61, state=6, fail_with="boom", imageid=900, machineid=80)
    simulator.add_diff(62, state=5, imageid=900)  # Completed, undecided: locks image 900
    app = make_app(simulator, [61])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("N")
        await wait_until(pilot, lambda: isinstance(app.screen, NewDiffScreen))
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.monitor.job_list.highlighted == 62)
        assert simulator.count("create") == 1
        assert app.tracker.views[62].label == "locks image 900"
        assert any("refused: Image locked by diffid 62; going to #62" in t for t in toasts(app))


async def test_the_add_dialog_offers_a_new_diff_but_not_in_read_only(
    simulator: Simulator,
) -> None:
    simulator.add_diff(71, state=5, imageid=910, machineid=81)
    app = make_app(simulator, [71])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.press("n")
        assert "ctrl+n: start a new diff instead" in dialog_text(app)
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewDiffScreen))
        assert "From #71: diff this image on the same machine again" in dialog_text(app)
        await pilot.press("escape")
    assert simulator.count("create") == 0
    app = make_app(simulator, [71], read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        assert "new diff" not in dialog_text(app)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not isinstance(app.screen, NewDiffScreen)


async def test_the_lock_hint_names_the_key_the_keymap_gave_go_to_lock() -> None:
    # `[keymap] go-to-lock = "w"`: the panel's hint must say the key that works, and
    # that key must go there.
    with Simulator(speed=150.0, seed_demo=True) as simulator:
        app = make_app(simulator, [(4108, "rollback")], keymap={"go-to-lock": "w"})
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: all_polled(app))
            await wait_until(
                pilot, lambda: _panel_has(app, "Image locked by diffid 4113 · w: go to #4113")
            )
            assert "o: go to" not in list_text(app)
            await pilot.press("w")
            await wait_until(pilot, lambda: app.monitor.job_list.highlighted == 4113)
