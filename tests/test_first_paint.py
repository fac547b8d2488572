"""What waits for the first frame: polling (its first request imports httpx in a thread)."""

from __future__ import annotations

import pytest
from textual.screen import Screen

from tests.app_support import make_app, wait_until
from tui.app import ImageDiffApp
from tui.simulator import Simulator


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
