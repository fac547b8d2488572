"""Refused keys (401/403) are said as such: the header, every row unknown, polling
down to a probe until they work again (Pilot, simulator)."""

from __future__ import annotations

from tests.app_support import list_text, make_app, wait_until
from tests.monitor.steps import LONG, SIZE, all_polled, dialog_text, header_text
from tui.simulator import Simulator
from tui.store.journal import EventKind, Journal
from tui.ui.screens.confirm import ConfirmScreen


async def test_refused_keys_mark_every_row_unknown_and_polling_probes_until_they_work(
    simulator: Simulator,
) -> None:
    ids = list(range(1, 11))
    for diffid in ids:
        simulator.add_diff(diffid, state=5 if diffid % 2 else 4, duration=LONG)
    journal = Journal(None)
    app = make_app(simulator, ids, journal=journal)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: all_polled(app))
        simulator.set_keys(simulator.access_key, "rotated-secret")
        app.tracker.refresh(ids)
        await wait_until(
            pilot, lambda: "✕ keys refused (401): fix profile test" in header_text(app)
        )
        await wait_until(pilot, lambda: list_text(app).count("UNKNOWN") == 10)
        # Journaled (for whoever was away, and for [notify] on = ["keys"]).
        await wait_until(pilot, lambda: _keys_events(journal) == ["start"])
        started = next(e for e in journal.newest_first() if e.kind == EventKind.KEYS)
        assert started.reason == "401: check the profile's keys"
        text = list_text(app)
        assert "COMPLETED" not in text and "RUNNING" not in text
        assert "⚑ 10 need you" in header_text(app)
        # A probe, not a poll of every diff: one request at a time, a second apart here
        # (FAST_POLL's backoff_max; 30 s at most in use).
        await pilot.pause(0.5)
        simulator.reset_counters()
        await pilot.pause(2.0)
        assert simulator.count("status") <= 3, simulator.count("status")
        # A retry says the state is unknown, not that the first poll is awaited.
        await pilot.press("R")
        assert isinstance(app.screen, ConfirmScreen)
        assert "status unknown: 401: check the profile" in dialog_text(app)
        await pilot.press("escape")
        # The keys work again: the next probe brings every diff back.
        simulator.set_keys(simulator.access_key, simulator.secret_key)
        await wait_until(pilot, lambda: "● live" in header_text(app), limit=6)
        await wait_until(pilot, lambda: "UNKNOWN" not in list_text(app))
        assert "need you" in header_text(app)  # the Completed ones: decide
        assert "⚑ 5 need you" in header_text(app)
        await wait_until(pilot, lambda: _keys_events(journal) == ["start", "end"])


def _keys_events(journal: Journal) -> list[str | None]:
    """The phases of the journal's keys events, oldest first."""
    return [e.phase for e in journal.newest_first() if e.kind == EventKind.KEYS][::-1]
