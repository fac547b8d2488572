"""The log file: private, rotating, and free of credentials."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.store import log_file as logsetup
from tui.store.log_file import redact, register_secret, setup_logging


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    path = tmp_path / "state" / "log" / "imagediff-tui.log"
    yield path
    for handler in list(logsetup._installed):
        root.removeHandler(handler)
        handler.close()
    logsetup._installed.clear()
    root.setLevel(level)
    for handler in handlers:
        handler.filters = [
            f for f in handler.filters if not isinstance(f, logsetup.RedactingFilter)
        ]
    logsetup._secrets.clear()


def flush() -> None:
    for handler in logsetup._installed:
        handler.flush()


def test_file_is_private_and_levels_follow_debug(log_file: Path) -> None:
    setup_logging(log_file)
    log = logging.getLogger("tui.test")
    log.debug("hidden detail")
    log.info("shown info")
    flush()
    text = log_file.read_text(encoding="utf-8")
    assert "shown info" in text and "hidden detail" not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700
    setup_logging(log_file, debug=True)
    assert len(logsetup._installed) == 1
    log.debug("now shown detail")
    flush()
    assert "now shown detail" in log_file.read_text(encoding="utf-8")


def test_secrets_and_auth_headers_are_redacted(log_file: Path) -> None:
    setup_logging(log_file)
    register_secret("sk-very-secret-value")
    register_secret("ab")  # too short to redact sensibly: ignored
    log = logging.getLogger("tui.test")
    log.info("key is %s; a tab in a cab", "sk-very-secret-value")
    log.info("headers: %r", {"Authorization": "Basic YWNjZXNzOnNlY3JldA=="})
    log.info("raw header Authorization: Bearer abc.def-ghi")
    try:
        raise RuntimeError("failed with sk-very-secret-value")
    except RuntimeError:
        log.exception("boom")
    flush()
    text = log_file.read_text(encoding="utf-8")
    for leaked in ("sk-very-secret-value", "YWNjZXNzOnNlY3JldA", "abc.def-ghi"):
        assert leaked not in text
    assert text.count("[REDACTED]") >= 4
    assert "a tab in a cab" in text  # short values are not blotted out everywhere


def test_other_handlers_get_redacted_tracebacks(
    log_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    setup_logging(log_file)
    register_secret("sk-very-secret-value")
    try:
        raise RuntimeError("failed with sk-very-secret-value")
    except RuntimeError:
        logging.getLogger("tui.test").exception("boom")
    assert "sk-very-secret-value" not in caplog.text
    assert "failed with [REDACTED]" in caplog.text


def test_redact_patterns() -> None:
    assert redact("authorization=Basic Zm9vOmJhcg==") == "authorization=[REDACTED]"
    assert redact("sent Basic Zm9vOmJhcmJheg== to x") == "sent [REDACTED] to x"
    assert redact("a basic idea") == "a basic idea"


def test_log_rotates_at_about_a_megabyte(log_file: Path) -> None:
    setup_logging(log_file)
    log = logging.getLogger("tui.test")
    line = "x" * 1000
    for _ in range(2100):
        log.info(line)
    flush()
    rotated = sorted(p.name for p in log_file.parent.iterdir())
    assert rotated == ["imagediff-tui.log", "imagediff-tui.log.1", "imagediff-tui.log.2"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in log_file.parent.iterdir())
    assert log_file.stat().st_size <= logsetup.MAX_BYTES
