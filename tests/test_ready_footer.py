"""The monitor's footer lists its keys in the screen's first frame, drawn cheaply there
(one line), then as Textual's own key widgets, cell for cell the same."""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer

from tests.app_support import make_app, wait_until
from tests.textual_probes import FooterKey
from tui.simulator import Simulator
from tui.ui.startup.footer import KeyLine, ReadyFooter


def screenshot(app: App[None]) -> str:
    """The screen as SVG, without the name the export derives from its content's hash."""
    return re.sub(r"terminal-\d+", "terminal", app.export_screenshot())


def shown_keys(footer: Footer) -> list[str]:
    """The descriptions of the keys ``footer`` draws, left to right, palette last."""
    shown: list[str] = []
    for child in footer.children:
        if isinstance(child, KeyLine):
            shown += [description for _key, description in child.keys]
        elif isinstance(child, FooterKey):
            shown.append(child.description)
    return shown


class _Keys(App[None]):
    BINDINGS = [("q", "quit", "Quit"), ("r", "refresh", "Refresh")]

    def __init__(self, footer: Footer) -> None:
        super().__init__()
        self.footer = footer
        self.keys_before_first_frame: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.footer

    def on_mount(self) -> None:
        # Mounted, composed, not yet drawn: what the first frame will show.
        self.keys_before_first_frame = shown_keys(self.footer)


async def test_its_keys_are_there_before_the_first_frame() -> None:
    app = _Keys(ReadyFooter())
    async with app.run_test() as pilot:
        await pilot.pause()
        assert {"Quit", "Refresh"} <= set(app.keys_before_first_frame)
        # Then Textual's own key widgets; a later change of bindings recomposes it as
        # Textual's footer does.
        await wait_until(pilot, lambda: not app.footer.query(KeyLine))
        assert shown_keys(app.footer) == app.keys_before_first_frame


async def test_textual_footer_alone_has_none_then() -> None:
    """Why ReadyFooter exists: should Textual change this, it can go."""
    app = _Keys(Footer())
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.keys_before_first_frame == []


async def test_the_monitor_uses_it(simulator: Simulator) -> None:
    simulator.add_diff(1, state=5)
    app = make_app(simulator, [1])
    async with app.run_test(size=(120, 40)) as pilot:
        footer = app.monitor.query_one(Footer)
        assert isinstance(footer, ReadyFooter)
        await wait_until(pilot, lambda: "Quit" in {k.description for k in footer.children})


async def test_the_first_frame_draws_the_keys_as_their_widgets_then_do(
    simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulator.add_diff(1, state=5)
    first_frame: list[str] = []
    recompose = ReadyFooter.recompose

    async def swap(footer: ReadyFooter) -> None:
        if footer.query(KeyLine):  # on screen; its keys' widgets are about to replace it
            first_frame.append(screenshot(footer.app))
        await recompose(footer)

    monkeypatch.setattr(ReadyFooter, "recompose", swap)
    app = make_app(simulator, [1], start_polling=False)
    async with app.run_test(size=(120, 40)) as pilot:
        footer = app.monitor.query_one(ReadyFooter)
        await wait_until(pilot, lambda: bool(first_frame) and not footer.query(KeyLine))
        await pilot.pause()
        assert screenshot(app) == first_frame[0]
        # The keys are Textual's again: a click presses one.
        (help_key,) = [key for key in footer.query(FooterKey) if key.description == "Help"]
        await pilot.click(help_key)
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
