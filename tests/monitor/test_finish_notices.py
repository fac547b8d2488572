"""A diff that finishes during the session: a notice in plain text, the bell if asked.

Driven with Textual's Pilot against the real simulator on loopback.
"""

from __future__ import annotations

import re

from tests.app_support import list_text, make_app, screen_text, wait_until
from tests.monitor.steps import (
    LONG,
    SIZE,
    header_text,
)
from tests.textual_probes import drawn_strips
from tui.domain.jobs import JobState
from tui.simulator import Simulator


async def test_a_diff_that_fails_during_the_session_raises_a_plain_text_toast(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=4, progress=50, duration=LONG)
    app = make_app(simulator, [(1, "[i]eu[/i]")])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.tracker.views[1].state is JobState.RUNNING)
        # Now it fails (seen running first: a finish this session raises a toast).
        simulator.add_diff(1, state=6, fail_with="[b]disk[/b] \x1b[2J gone")
        app.tracker.refresh([1])
        await wait_until(pilot, lambda: app.tracker.views[1].state is JobState.FAILED)
        await wait_until(pilot, lambda: "failed: [b]disk" in screen_text(app))  # the toast
        toast = next(line for line in screen_text(app).split("\n") if "failed:" in line)
        assert "#1 ([i]eu[/i]) failed: [b]disk[/b] \\x1b[2J gone" in toast
        await wait_until(pilot, lambda: "✗ 1 failed" in header_text(app))


async def test_compact_from_the_options_and_a_bell_when_a_diff_completes(
    simulator: Simulator,
) -> None:
    simulator.add_diff(1, state=4, progress=60, duration=LONG)
    simulator.add_diff(2, state=5)
    app = make_app(simulator, [(1, "eu"), 2], compact=True, bell=True)
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_until(
            pilot, lambda: re.search(r"#1 +eu .*RUNNING", list_text(app).split("\n")[0]) is not None
        )
        assert "#2" in list_text(app).split("\n")[1]
        simulator.add_diff(1, state=5)  # it completes (seen running first)
        app.tracker.refresh([1])
        await wait_until(pilot, lambda: "#1 (eu) completed" in screen_text(app))
        assert bells == [1]
        await wait_until(
            pilot,
            lambda: re.search(r"#1 +eu .*COMPLETED", list_text(app).split("\n")[0]) is not None,
        )
        assert re.search(r"#2 .*COMPLETED", list_text(app).split("\n")[1])


async def test_markup_and_escapes_in_remote_text_are_shown_literally(
    simulator: Simulator,
) -> None:
    simulator.add_diff(61, state=6, fail_with="[red]x[/red] \x1b[31mboom [bold]")
    simulator.add_diff(62, state=6)
    simulator.inject("hostile", diffid=62, count=20)  # escapes in jobstatename and joberror
    app = make_app(simulator, [(61, "[b]mine[/b]"), 62])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "boom" in list_text(app))
        await wait_until(pilot, lambda: "pwned" in list_text(app))
        text = list_text(app)
        assert "[bold red]x[/] \\x1b[2J\\x1b[31m[bold red]x[/]" in text
        assert "\\x1b]0;pwned\\x07" in text
        assert "[red]x[/red] \\x1b[31mboom [bold]" in text
        assert "[b]mine[/b]" in text
        assert "\x1b" not in text
        # No style from the remote text: "x" has the same style as the text around it.
        strips = drawn_strips(app.screen)
        line = next(s for s in strips if "boom" in s.text)
        styles = {seg.style for seg in line if "boom" in seg.text or "[red]" in seg.text}
        assert len(styles) == 1
