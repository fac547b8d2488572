"""Compact mode (`m`) is remembered across restarts, like the theme: config [ui] compact."""

from __future__ import annotations

import tomllib

from tests.test_themes_app import SIZE, start
from tui.store.paths import app_paths


def _saved_compact() -> object:
    path = app_paths().config_file
    if not path.exists():
        return None
    return tomllib.loads(path.read_text(encoding="utf-8")).get("ui", {}).get("compact")


async def test_compact_mode_survives_a_restart(isolated_dirs: dict[str, str]) -> None:
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        assert not app.monitor.job_list.compact
        await pilot.press("m")
        assert app.monitor.job_list.compact
    assert _saved_compact() is True
    app = start()  # a restart reads it back
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.monitor.job_list.compact
        await pilot.press("m")
    assert not _saved_compact()  # off again (the default may be left out)
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.monitor.job_list.compact
