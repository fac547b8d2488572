"""What waits for the first frame (tui.ui.startup): polling, whose first request imports
httpx in a thread, and the cyclic collector, paused by the command line for the start."""

from __future__ import annotations

import gc

import pytest

from tests.app_support import make_app, run_python_in, wait_until
from tests.textual_probes import count_all_frames
from tui.simulator import Simulator
from tui.ui.app import ImageDiffApp


async def test_polling_starts_after_the_first_frame(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add_diff(1, state=5)
    frames = count_all_frames(monkeypatch)
    frames_at_start: list[int] = []
    start = ImageDiffApp._start_tracker

    def started(app: ImageDiffApp) -> None:
        frames_at_start.append(len(frames))
        start(app)

    monkeypatch.setattr(ImageDiffApp, "_start_tracker", started)
    app = make_app(simulator, [1])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: not app.tracker.views[1].stale)
    assert frames_at_start and frames_at_start[0] >= 1


async def test_the_cyclic_collector_is_back_on_after_the_first_frame(
    simulator: Simulator,
) -> None:
    # The command line turns it off for the start-up (tui.cli.main).
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1], start_polling=False)
    gc.disable()
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, gc.isenabled)
            # What the start built is kept out of later full collections, which would
            # walk it all and could land on a keystroke.
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.enable()


async def test_a_start_with_the_collector_on_freezes_nothing(simulator: Simulator) -> None:
    # Only the command line's start (collector off) freezes: an app embedded with the
    # collector on (the tests) leaves the collector as it found it.
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1], start_polling=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.pause()
        assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_start_that_ends_before_any_screen_leaves_the_collector_on(
    isolated_dirs: dict[str, str],
) -> None:
    code = (
        "import gc, sys\n"
        "from tui.cli import main\n"
        "code = main(['--theme', 'no-such-theme'])\n"
        "print('EXIT', code, 'GC', gc.isenabled(), file=sys.stderr)\n"
    )
    result = run_python_in(isolated_dirs, code)
    assert "EXIT 2 GC True" in result.stderr, result.stderr
