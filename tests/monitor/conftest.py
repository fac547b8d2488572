"""Every monitor test: the app and the tracker log no error (no swallowed crash)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a test does, the app and the tracker log no error (no swallowed crash)."""
    caplog.set_level(logging.WARNING, logger="tui")
    yield
    errors = [r for r in caplog.records if r.name.startswith("tui") and r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
