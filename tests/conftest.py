"""Shared fixtures: a real simulator on loopback, and an isolated environment for the CLI."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

# Property tests check what is true, not how fast: a loaded 2-core machine (the suite runs
# on two workers) must not fail an example for taking longer than Hypothesis's default 200 ms.
settings.register_profile("imagediff", deadline=None)
settings.load_profile("imagediff")
# A longer search before a change to a parser or the watchlist's format lands:
# `pytest --hypothesis-profile=thorough`.
settings.register_profile("thorough", parent=settings.get_profile("imagediff"), max_examples=2000)

if TYPE_CHECKING:
    from tui.api.client import ClanforgeClient
    from tui.simulator import Simulator


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    """A running simulator with no demo diffs; add what a test needs with ``add_diff``."""
    from tui.simulator import Simulator

    with Simulator(speed=50.0, seed_demo=False) as sim:
        yield sim


@pytest.fixture
def connect(simulator: Simulator) -> Callable[..., ClanforgeClient]:
    """Makes a client of ``simulator`` with its credentials; keywords go to the client."""
    from tui.api.client import ClanforgeClient

    def make(**options: Any) -> ClanforgeClient:
        return ClanforgeClient(
            simulator.url, simulator.asid, simulator.access_key, simulator.secret_key, **options
        )

    return make


@pytest.fixture
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """XDG folders in tmp_path (never the real home); returned for subprocess envs too."""
    dirs = {}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
        dirs[name] = str(folder)
    return dirs


@pytest.fixture
def cli_env(simulator: Simulator, isolated_dirs: dict[str, str]) -> dict[str, str]:
    """An environment for ``python -m tui`` subprocesses, pointed at ``simulator``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CLANFORGE_") and not key.startswith("IMAGEDIFF")
    }
    env.update(isolated_dirs)
    env.update(
        {
            "CLANFORGE_API_URL": simulator.url,
            "CLANFORGE_ASID": str(simulator.asid),
            "CLANFORGE_ACCESS_KEY": simulator.access_key,
            "CLANFORGE_SECRET_KEY": simulator.secret_key,
            "NO_COLOR": "1",
            "PYTHONUTF8": "1",
        }
    )
    return env
