"""The footer teaches the lifecycle keys when there is room, and the palette says each
command's key (Pilot, simulator)."""

from __future__ import annotations

from tests.app_support import make_app, wait_until
from tests.monitor.steps import all_polled, footer_text


async def _footer_at(simulator: object, width: int) -> str:
    app = make_app(simulator, [1])  # type: ignore[arg-type]
    async with app.run_test(size=(width, 30)) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        await pilot.pause(0.2)
        return footer_text(app)


async def test_a_wide_footer_has_the_lifecycle_keys_and_a_narrow_one_drops_the_least_used(
    simulator: object,
) -> None:
    simulator.add_diff(1, state=5)  # type: ignore[attr-defined]
    wide = await _footer_at(simulator, 160)
    for key in ("V Accept", "X Reject", "N New diff", "l Events", "f To-do", "R Retry", "q Quit"):
        assert key in wide, (key, wide)
    narrow = await _footer_at(simulator, 80)
    for key in ("R Retry", "V Accept", "X Reject", "q Quit", "? Help"):
        assert key in narrow, (key, narrow)
    assert "p Pause" not in narrow and "s Sort" not in narrow
    assert "palette" in narrow  # the palette's key stays at the end


async def test_the_palette_says_each_commands_key(simulator: object) -> None:
    simulator.add_diff(1, state=5)  # type: ignore[attr-defined]
    app = make_app(simulator, [1], keymap={"accept": "A"})  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)):
        commands = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert commands["Retry selected diffs"].startswith("key R · ")
        assert commands["Accept selected diffs"].startswith("key A · ")  # as remapped
        assert commands["Pause / resume polling"].startswith("key p · ")
