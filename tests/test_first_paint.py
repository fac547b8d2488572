"""What waits for the first frame: polling (its first request imports httpx in a thread)."""

from __future__ import annotations

import gc
import sys

import pytest
from textual.screen import Screen

from tests.app_support import make_app, run_python_in, wait_until
from tui.simulator import Simulator
from tui.ui.app import START_SWITCH_INTERVAL, ImageDiffApp


async def test_polling_starts_after_the_first_frame(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add_diff(1, state=5)
    frames: list[int] = []
    frames_at_start: list[int] = []
    draw = Screen._compositor_refresh
    start = ImageDiffApp._start_tracker

    def drawn(screen: Screen[object]) -> None:
        frames.append(1)
        draw(screen)

    def started(app: ImageDiffApp) -> None:
        frames_at_start.append(len(frames))
        start(app)

    monkeypatch.setattr(Screen, "_compositor_refresh", drawn)
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
            # What the start built is kept out of later full collections (at 10,000
            # diffs one took up to 71 ms, long enough to delay a keystroke's frame).
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


async def test_threads_take_turns_faster_until_the_first_frame_is_out(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Textual's writer thread sends a frame in partial writes, each waiting for the
    # interpreter lock while the event loop works (5 ms turns by default).
    simulator.add_diff(1, state=5)
    before = sys.getswitchinterval()
    during: list[float] = []
    out = ImageDiffApp._first_frame_out

    def frame_out(app: ImageDiffApp) -> None:
        during.append(sys.getswitchinterval())
        out(app)

    monkeypatch.setattr(ImageDiffApp, "_first_frame_out", frame_out)
    app = make_app(simulator, [1], start_polling=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: bool(during))
        assert during[0] == min(before, START_SWITCH_INTERVAL) < 0.005
        assert sys.getswitchinterval() == before
    assert sys.getswitchinterval() == before


async def test_the_interpreter_s_turns_are_restored_however_the_app_ends(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An app that ends before its first frame is out (no `q`: the frame never left, the
    # app is told to exit) must not leave the process with 1 ms turns.
    simulator.add_diff(1, state=5)
    before = sys.getswitchinterval()
    monkeypatch.setattr(ImageDiffApp, "_first_frame_out", lambda app: None)
    app = make_app(simulator, [1], start_polling=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert sys.getswitchinterval() < before
        app.exit()
    assert sys.getswitchinterval() == before
