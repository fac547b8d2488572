"""The log file: rotating, private (0600), and scrubbed of credentials.

Every record that reaches the log passes a redaction step: an ``Authorization``
header value, a ``Basic``/``Bearer`` token, and every secret registered with
:func:`register_secret` are replaced by ``[REDACTED]`` — in the message, its
arguments and any traceback.

Example:
    >>> register_secret("hunter2-secret")
    >>> redact("auth failed for hunter2-secret; Authorization: Basic dXNlcjpwYXNz")
    'auth failed for [REDACTED]; Authorization: [REDACTED]'
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path
from typing import Final

from tui.store.atomic_file import ensure_private_dir

MAX_BYTES: Final = 1_000_000
BACKUP_COUNT: Final = 3
REDACTED: Final = "[REDACTED]"
MIN_SECRET_LENGTH: Final = 4
"""Shorter "secrets" are not redacted: hiding every "ab" would make logs unreadable."""

_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TOKEN = r"[A-Za-z0-9+/=._~-]+"  # noqa: S105 - a pattern, not a password
_PATTERNS: Final = (
    # Authorization: Basic xxx / 'authorization': 'Bearer xxx' / authorization=xxx
    re.compile(
        r"(?i)(\bauthorization\b['\"]?\s*[:=]\s*['\"]?)(?:(?:basic|bearer|digest)\s+)?" + _TOKEN
    ),
    re.compile(r"(?i)\b(basic|bearer)\s+" + r"(?=[A-Za-z0-9+/=._~-]{8,})" + _TOKEN),
)

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str) -> None:
    """Never let ``value`` (a secret key, a password) reach the log."""
    if len(value) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with credentials replaced by ``[REDACTED]``."""
    with _secrets_lock:
        # Longest first, so a secret that contains another is hidden whole.
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _PATTERNS[0].sub(lambda m: m.group(1) + REDACTED, text)
    return _PATTERNS[1].sub(REDACTED, text)


_plain_formatter = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Redacts a record's message, arguments and traceback before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: log what there is, still redacted
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = redact(message)
        record.args = None
        # Formatters reuse a cached exc_text, so a redacted one is what every handler
        # prints, including ones whose formatter does not redact.
        if record.exc_info and not record.exc_text:
            record.exc_text = _plain_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted record, tracebacks included."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose files are created 0600 whatever the umask."""

    def _open(self) -> io.TextIOWrapper:
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        os.fchmod(fd, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


_installed: list[logging.Handler] = []


def log_to_file(log_file: Path, *, debug: bool = False) -> str | None:
    """:func:`setup_logging`, or (when the log cannot be written) why not, in one line.

    An unwritable log folder never stops the app or a command: they run without a
    log file and say so.
    """
    try:
        setup_logging(log_file, debug=debug)
    except OSError as exc:
        where = exc.filename or log_file
        reason = exc.strerror or str(exc)
        return (
            f"not logging to a file: cannot write {where} ({reason}); make {log_file.parent} "
            "a folder you can write to, or set XDG_STATE_HOME"
        )
    return None


def setup_logging(log_file: Path, *, debug: bool = False) -> None:
    """Send the root logger to ``log_file`` (rotating ~1 MB x 3, mode 0600).

    INFO and above normally, DEBUG with ``debug``. Calling it again replaces the
    handler it installed before. Every existing root handler (a ``--debug`` stderr
    handler, say) gets the redacting filter too.
    """
    ensure_private_dir(log_file.parent)
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
        old.close()
    _installed.clear()
    handler = PrivateRotatingFileHandler(
        log_file, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.setFormatter(RedactingFormatter(_FORMAT))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    _installed.append(handler)
    for other in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in other.filters):
            other.addFilter(RedactingFilter())
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    if not debug:
        # httpx logs each request at INFO; one line per poll would drown the log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        logging.getLogger("httpcore").setLevel(logging.WARNING)
