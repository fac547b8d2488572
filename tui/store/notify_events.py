"""Which journal events reach a person (``[notify] on``), and the line that tells them.

Every notification is a journal event: the app's journal and ``watch``'s tracker hand
each one to :func:`notify_name`, and the names the user listed in ``on`` are sent
(a desktop notification, the ``command`` hook).

Example:
    >>> from tui.store.journal import EventKind, JournalEvent
    >>> failed = JournalEvent(at=0, kind=EventKind.STATE, diffid=4101, label="eu-west",
    ...                       old="Running", new="Failed", reason="checksum mismatch")
    >>> notify_name(failed), notify_line(failed)
    ('failed', '✗ #4101 eu-west failed: checksum mismatch')
"""

from __future__ import annotations

from typing import Final

from tui.domain.actions import ActionOutcome
from tui.domain.jobs import JobKind, JobState
from tui.store.journal import EventKind, JournalEvent

NOTIFY_NAMES: Final = (
    "failed",
    "completed",
    "refused",
    "unknown",
    "version-failed",
    "outage",
    "keys",
)
"""Every name ``[notify] on`` accepts."""

DEFAULT_ON: Final = ("failed", "refused", "unknown", "version-failed", "outage", "keys")
"""The events that need a person; ``completed`` is opt-in."""

_VERSION_PREFIX: Final = f"{JobKind.VERSION.noun} "
"""How a followed image version's state events begin (``image version 7001: Failed``)."""


def notify_name(event: JournalEvent) -> str | None:
    """The ``on`` name of ``event``, or None when no notification is about it.

    * ``failed`` / ``completed``: a diff's state became Failed / Completed.
    * ``version-failed``: an image version (an accepted diff's job) became Failed.
    * ``refused`` / ``unknown``: an action's outcome (the server said no / no answer
      tells whether it happened).
    * ``outage``: the connection was lost (its end is not news that needs a person).
    * ``keys``: the server began refusing the account's keys (401/403).
    """
    if event.kind == EventKind.STATE:
        new = event.new or ""
        if new.startswith(_VERSION_PREFIX):
            return "version-failed" if new.endswith(f": {JobState.FAILED.label}") else None
        if new == JobState.FAILED.label:
            return "failed"
        if new == JobState.COMPLETED.label:
            return "completed"
        return None
    if event.kind == EventKind.ACTION:
        if event.outcome == ActionOutcome.REFUSED:
            return "refused"
        if event.outcome == ActionOutcome.UNKNOWN:
            return "unknown"
        return None
    if event.phase != "start":
        return None
    return "keys" if event.kind == EventKind.KEYS else "outage"


_MARK: Final = {"completed": "✓", "unknown": "?"}
"""The line's first character by name; every other name is a failure (``✗``)."""


def notify_line(event: JournalEvent) -> str:
    """One line that says what happened, as data (remote text in it is not yet plain)."""
    name = notify_name(event) or ""
    mark = _MARK.get(name, "✗")
    subject = " ".join(
        part for part in (f"#{event.diffid}" if event.diffid else "", event.label) if part
    )
    if event.kind == EventKind.STATE:
        new = event.new or ""
        what = new.lower() if not new.startswith(_VERSION_PREFIX) else new.replace(":", "")
        what = what.replace(JobState.FAILED.label, "failed")
    elif event.kind == EventKind.ACTION:
        what = f"{event.action or 'action'} {event.outcome or 'sent'}"
    elif event.kind == EventKind.KEYS:
        what = "keys refused"
    else:
        what = "connection lost"
    text = f"{mark} {subject} {what}" if subject else f"{mark} {what}"
    return f"{text}: {event.reason}" if event.reason else text
