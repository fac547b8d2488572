"""A fixed fleet of diffs in every state, painted without polling.

:func:`build_app` returns an :class:`~tui.ui.app.ImageDiffApp` that never polls
(``start_polling=False``), reads a :class:`~tui.domain.clock.FakeClock` that stands
still at :data:`NOW`, shows a fixed host, and whose panels paint from views set
up here: live answers, a poll error with its countdown, a saved status that is
stale. The only network call it can make is the detail screen's ``diff_info``
fetch, which :class:`FakeClient` answers from memory.

What the screenshots still take from the process: the local time zone (the
header clock and the detail screen's times), which the tests pin to UTC, and
``NO_COLOR``, which Textual reads when the app is built.

Example::

    def test_main(snap_compare):
        assert snap_compare(build_app(), terminal_size=(80, 24), run_before=settle)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from textual.pilot import Pilot

from tests.app_support import MemoryWatchlist
from tui.api.errors import BadRequest, ServerError
from tui.domain.clock import FakeClock
from tui.domain.jobs import DiffJob, parse_job
from tui.domain.watch_entry import LastStatus, WatchEntry
from tui.polling.tracker import JobView, PollFailure
from tui.ui.app import AppOptions, ImageDiffApp

NOW = 1_767_270_000.0
"""2026-01-01 12:20:00 UTC: the fake clock's time for every snapshot."""

ASID = 1234
PROFILE = "prod"
HOST = "api.multiplay.example"
"""A fixed host: the header shows it, so it must not be a random loopback port."""

RUNNING = 4101
QUEUED = 4102
COMPLETED = 4103
FAILED = 4104
POLL_ERROR = 4105
STALE = 4106
PENDING = 4107
CREATED = 4108

_NOW = int(NOW)

_ANSWERS: dict[int, dict[str, Any]] = {
    RUNNING: {
        "jobstateid": 4,
        "jobstatename": "Running",
        "jobprogress": 62,
        "jobcreated": _NOW - 1500,
        "jobstart": _NOW - 1240,
        "jobeta": _NOW + 754,
        "jobupdated": _NOW - 3,
        "jobfailed": 0,
    },
    QUEUED: {
        "jobstateid": 3,
        "jobstatename": "Queued",
        "jobprogress": 0,
        "jobcreated": _NOW - 90,
        "jobupdated": _NOW - 90,
        "jobfailed": 0,
    },
    COMPLETED: {
        "jobstateid": 5,
        "jobstatename": "Completed",
        "jobprogress": 100,
        "jobcreated": _NOW - 4000,
        "jobstart": _NOW - 3900,
        "jobupdated": _NOW - 3058,
        "jobfailed": 0,
    },
    FAILED: {
        "jobstateid": 6,
        "jobstatename": "Failed",
        "jobprogress": 37,
        "jobcreated": _NOW - 2500,
        "jobstart": _NOW - 2400,
        "jobupdated": _NOW - 1900,
        "jobfailed": 1,
        "joberror": "Checksum mismatch on data/server.pak (expected 9f2c41e0, got 71aa03b2)",
    },
    POLL_ERROR: {
        "jobstateid": 4,
        "jobstatename": "Running",
        "jobprogress": 18,
        "jobcreated": _NOW - 700,
        "jobstart": _NOW - 600,
        "jobeta": _NOW + 2100,
        "jobupdated": _NOW - 75,
        "jobfailed": 0,
    },
    PENDING: {
        "jobstateid": 2,
        "jobstatename": "Pending",
        "jobprogress": 0,
        "jobcreated": _NOW - 20,
        "jobupdated": _NOW - 20,
        "jobfailed": 0,
    },
    CREATED: {
        "jobstateid": 1,
        "jobstatename": "Created",
        "jobprogress": 0,
        "jobcreated": _NOW - 4,
        "jobupdated": _NOW - 4,
        "jobfailed": 0,
    },
}
"""The last status answer of each live diff, as the API sends it (without ``diffid``)."""

_SEEN_AGO: dict[int, int] = {
    RUNNING: 3,
    QUEUED: 5,
    COMPLETED: 42,
    FAILED: 12,
    POLL_ERROR: 75,
    PENDING: 8,
    CREATED: 4,
}
"""Seconds since each live diff's last good answer ("updated 3s ago")."""

_LABELS: dict[int, str] = {
    RUNNING: "eu-west build 1.4.2",
    QUEUED: "us-east hotfix",
    COMPLETED: "asia nightly",
    FAILED: "eu-central 1.4.1",
    POLL_ERROR: "staging",
    STALE: "legacy image",
    # Wide characters: cut to the label column by cells, not characters.
    PENDING: "東京 load test 🚀 nightly soak",
    CREATED: "",
}

DIFF_INFO: dict[str, Any] = {
    "game": {"gameid": 881, "name": "Starfall"},
    "machine": {"machineid": 52011, "name": "fra-img-07"},
    "image": {"imageid": 3301, "version": "1.4.1"},
    "added": {
        "data/maps/harbor.bsp": {"size": 18_874_368},
        "data/maps/harbor.nav": {"size": 262_144},
    },
    "modified": {
        "bin/server": {"size": 48_234_496},
        "data/server.pak": {"size": 1_073_741_824},
        "config/server.cfg": {"size": 4_096},
    },
    "removed": {"data/maps/old_harbor.bsp": {"size": 17_301_504}},
}
"""The ``diff_info`` the detail screen loads for :data:`FAILED`."""


def _job(diffid: int, data: dict[str, Any]) -> DiffJob:
    body = {"diffid": diffid, **data}
    return replace(parse_job(body), raw_text=json.dumps(body, indent=2))


class FakeClient:
    """A ``StatusClient`` that answers from memory: the fleet's jobs, with ``diff_info``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def status(self, diffid: int, diff_info: bool = False) -> DiffJob:
        self.calls.append(("status", diffid))
        data = dict(_ANSWERS.get(diffid, _ANSWERS[QUEUED]))
        if diff_info:
            data.update(DIFF_INFO)
        return _job(diffid, data)

    async def retry(self, diffid: int) -> DiffJob:
        self.calls.append(("retry", diffid))
        raise BadRequest("snapshot apps never retry", http_status=400)


def _entries() -> list[WatchEntry]:
    entries = []
    for diffid, label in _LABELS.items():
        last = None
        if diffid == STALE:
            # Known only from the watchlist file: last seen three hours ago.
            last = LastStatus(
                state_id=4,
                state_name="Running",
                progress=81,
                eta=_NOW - 9000,
                error=None,
                seen_at=NOW - 3 * 3600 - 300,
                start=_NOW - 16000,
            )
        entries.append(
            WatchEntry(
                diffid=diffid,
                asid=ASID,
                api_url=HOST,
                label=label,
                added_at=NOW - 86400,
                last=last,
            )
        )
    return entries


def _answered(view: JobView, job: DiffJob, seen_at: float) -> None:
    """What the tracker sets on a good answer (see ``Tracker._poll_answered``)."""
    view.job = job
    view.stale = False
    view.updated_at = seen_at
    view.poll_failure = None


def _poll_failed(view: JobView, error: ServerError, retry_at: float) -> None:
    """What the tracker sets on a failed poll, with a fixed (not jittered) next try."""
    view.poll_failure = PollFailure.of(error, retry_at - NOW, view.entry.asid)
    view.next_poll_at = retry_at


def build_app(
    *,
    theme: str | None = None,
    compact: bool = False,
    diffs: Iterable[int] | None = None,
) -> ImageDiffApp:
    """The app on the fixed fleet (or the ``diffs`` of it), frozen at :data:`NOW`."""
    wanted = set(_LABELS) if diffs is None else set(diffs)
    entries = [entry for entry in _entries() if entry.diffid in wanted]
    clock = FakeClock(NOW)
    options = AppOptions(profile=PROFILE, asid=ASID, api_host=HOST, compact=compact, theme=theme)
    app = ImageDiffApp(
        FakeClient(),
        entries,
        watchlist=MemoryWatchlist(entries, asid=ASID),
        clock=clock,
        options=options,
        start_polling=False,
    )
    views = app.tracker.views
    for diffid, data in _ANSWERS.items():
        if diffid in views:
            _answered(views[diffid], _job(diffid, data), NOW - _SEEN_AGO[diffid])
    if POLL_ERROR in views:
        _poll_failed(
            views[POLL_ERROR], ServerError("Service Unavailable", http_status=502), NOW + 12
        )
    return app


async def settle(pilot: Pilot[Any]) -> None:
    """Let the app finish starting; show the poll state the first tick would show.

    The header says "starting" until the app's 1 s tick; a screenshot must not
    depend on whether that tick came before it.
    """
    app = pilot.app
    assert isinstance(app, ImageDiffApp)
    await pilot.pause()
    app.monitor.header.poll_state = app.tracker.poll_state
    await pilot.pause()
