"""The journal: what happened to the watched diffs, kept across restarts.

One JSON object per line (JSON Lines) in ``journal.jsonl`` in the data folder:
every state change of a watched job, every action sent (create, retry, accept,
reject) with its outcome, and connection outages. The tracker produces the
events (it is the one source of truth); the app, the ``events`` command and the
detail screen's action history read them back.

Two instances (two SSH sessions) may append at once: each line is one
``write()`` on a file opened with ``O_APPEND``, under the same sidecar lock that
guards rotation. The file is capped (:data:`MAX_BYTES`); when a line would push
it over, it becomes ``journal.jsonl.1`` (the older ones shift up to
:data:`KEEP_ROTATED`, the oldest is dropped) and a new file starts. Readers span
the rotated files. A torn or corrupt line is skipped on read, never fatal.

Remote text (a server's reason) is stored as data and made plain text only when
shown. Nothing secret is written: an event holds IDs, labels, state names, times
and human words, and the words pass through :func:`tui.store.log_file.redact`.

Example:
    >>> journal = Journal(None)  # in memory: tests, or a run with no data folder
    >>> journal.append(
    ...     JournalEvent(at=10.0, kind=EventKind.STATE, diffid=7, old="Running", new="Failed")
    ... )
    >>> describe(journal.read()[0])
    'Failed (was Running)'
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from tui.domain.wording import duration
from tui.store.atomic_file import ensure_private_dir, file_lock
from tui.store.log_file import redact

logger = logging.getLogger(__name__)

MAX_BYTES: Final = 1024 * 1024
"""The current file is rotated before it grows past this (1 MiB)."""

KEEP_ROTATED: Final = 3
"""Rotated files kept (``.1`` newest .. ``.3`` oldest): at most 4 MiB in all."""


class EventKind(StrEnum):
    """What a :class:`JournalEvent` is about; its value is the file's ``kind``."""

    STATE = "state"
    """A diff's state changed."""
    ACTION = "action"
    """An action on a diff was sent, or its outcome came."""
    OUTAGE = "outage"
    """The connection was lost, or came back."""
    KEYS = "keys"
    """The server refused the account's keys (401/403), or took them again."""


_FIELDS: Final = {
    # dataclass field -> JSON key (the file format; stable)
    "at": "at",
    "kind": "kind",
    "diffid": "diffid",
    "asid": "asid",
    "label": "label",
    "old": "from",
    "new": "to",
    "job_time": "jobupdated",
    "action": "action",
    "outcome": "outcome",
    "reason": "reason",
    "ref": "ref",
    "phase": "phase",
}


@dataclass(frozen=True, slots=True)
class JournalEvent:
    """One thing that happened. Which fields are set depends on ``kind``.

    * ``state``: ``diffid``, ``label``, ``old`` -> ``new`` (state names; ``old`` is
      None when nothing was known before), ``job_time`` (the job's own ``jobupdated``),
      ``reason`` (the job's error, when it failed with one).
    * ``action``: ``diffid``, ``label``, ``action`` (``"retry"``, ``"accept"``,
      ``"reject"``, ``"create"``), ``outcome`` (a
      :class:`~tui.domain.actions.ActionOutcome`'s value), ``reason`` (words, the
      server's when it gave any),
      ``ref`` (the same for every event of one action: its sending and its outcome).
    * ``outage``: ``phase`` (``"start"`` or ``"end"``), ``reason``.

    ``at`` is our wall time (Unix seconds) for every kind.
    """

    at: float
    kind: EventKind
    diffid: int | None = None
    asid: int | None = None
    label: str = ""
    old: str | None = None
    new: str | None = None
    job_time: int | None = None
    action: str | None = None
    outcome: str | None = None
    reason: str | None = None
    ref: str | None = None
    phase: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as stored: the file's key names, unset fields left out."""
        out: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is None or (name == "label" and not value):
                continue
            out[_FIELDS[name]] = value
        return out

    @classmethod
    def from_json(cls, data: object) -> JournalEvent:
        """Parse a stored line's object; :class:`ValueError` when it is not an event."""
        if not isinstance(data, dict):
            raise ValueError("not an object")
        at = data.get("at")
        try:
            kind = EventKind(str(data.get("kind")))
        except ValueError:
            raise ValueError(f"unknown kind {data.get('kind')!r}") from None
        if not isinstance(at, int | float) or isinstance(at, bool):
            raise ValueError("no time")
        values: dict[str, Any] = {"at": float(at), "kind": kind}
        for name, key in _FIELDS.items():
            if name in values or key not in data:
                continue
            values[name] = _checked(name, data[key])
        return cls(**values)


def _checked(name: str, value: object) -> object:
    """``value`` if it has the type field ``name`` needs, else :class:`ValueError`."""
    if name in ("diffid", "asid", "job_time"):
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
    elif name == "label":
        if isinstance(value, str):
            return value
    elif value is None or isinstance(value, str):
        return value
    raise ValueError(f"bad {name}: {value!r}")


def describe(event: JournalEvent) -> str:
    """What happened, in words, as plain data (the caller makes it safe to show).

    >>> describe(JournalEvent(at=0, kind=EventKind.ACTION, action="retry", outcome="refused",
    ...                       reason="diff is running"))
    'retry refused: diff is running'
    >>> describe(JournalEvent(at=0, kind=EventKind.OUTAGE, phase="start"))
    'connection lost'
    """
    if event.kind == EventKind.STATE:
        # The new state first: a line cut at the screen's edge loses the old one.
        new = event.new or "not known"
        before = event.old or "not known"
        # A followed job names itself in both ("image version 7: Running"): say it once.
        job, said, _state = new.rpartition(": ")
        if said and before.startswith(job + said):
            before = before[len(job + said) :]
        text = f"{new} (was {before}"
        if event.job_time is not None:
            text += f", job updated {_short_time(event.job_time, event.at)}"
        return text + ")"
    if event.kind == EventKind.ACTION:
        return _action_words(event)
    if event.kind == EventKind.KEYS:
        text = "keys refused" if event.phase == "start" else "keys accepted again"
        return f"{text}: {event.reason}" if event.reason else text
    text = "connection lost" if event.phase == "start" else "connection back"
    return f"{text}: {event.reason}" if event.reason else text


_OPTIONS: Final = ("restart=", "reinstall=")
"""How the options an accept or reject was sent with begin, ahead of its reason."""


def _action_words(event: JournalEvent) -> str:
    """An action's event, each thing said once: ``accepted: image version 7 (restart=0)``,
    ``rejected, no reinstall``, ``retry refused: Image locked by diffid 5``.

    >>> _action_words(JournalEvent(at=0, kind=EventKind.ACTION, action="reject",
    ...                            outcome="accepted", reason="reinstall=0; rejected"))
    'rejected, no reinstall'
    """
    action, outcome = event.action or "action", event.outcome or "sent"
    reason, options = event.reason or "", ""
    if reason.startswith(_OPTIONS):
        options, _, reason = reason.partition("; ")
    if outcome == "accepted" and action == "accept":
        text = f"accepted: {reason}" if reason else "accepted"
        return f"{text} ({options})" if options else text
    if outcome == "accepted" and action == "reject":
        text = "rejected, reinstalling" if options == "reinstall=1" else "rejected, no reinstall"
        rest = reason.removeprefix("rejected").removeprefix("; ")
        return f"{text}: {rest}" if rest else text
    text = f"{action} {outcome}"
    if reason:
        text += f": {reason}"
    return f"{text} ({options})" if options else text


def clock_time(stamp: float) -> str:
    """A local date and time to the second, as every journal line shows it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _short_time(stamp: float, beside: float) -> str:
    """``stamp`` as a clock time, with its date only when it is not ``beside``'s day."""
    if time.localtime(stamp)[:3] == time.localtime(beside)[:3]:
        return time.strftime("%H:%M:%S", time.localtime(stamp))
    return clock_time(stamp)


def columns(event: JournalEvent) -> tuple[str, str, str, str]:
    """(time, diff, label, what happened) of one line, as data: make it plain to show.

    >>> columns(JournalEvent(at=0, kind=EventKind.OUTAGE, phase="start"))[1:]
    ('—', '', 'connection lost')
    """
    diff = f"#{event.diffid}" if event.diffid is not None else "—"
    return clock_time(event.at), diff, event.label, describe(event)


def new_ref() -> str:
    """A short random ID tying an action's later outcome to its sending."""
    return os.urandom(6).hex()


def parse_line(line: bytes) -> JournalEvent | None:
    """The event on one stored line, or None for a torn or corrupt line."""
    try:
        return JournalEvent.from_json(json.loads(line))
    except (ValueError, TypeError, RecursionError):
        return None


class Journal:
    """Append events to the journal files and read them back, newest first.

    ``path`` None keeps the events in memory only (tests; an app built without a
    data folder). Appending never raises: a journal that cannot be written is
    logged once per failure streak, and the app goes on.
    """

    def __init__(
        self, path: Path | None, *, max_bytes: int = MAX_BYTES, keep: int = KEEP_ROTATED
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self._memory: list[JournalEvent] = []
        self._failing = False
        self.listeners: list[Callable[[JournalEvent], None]] = []
        """Called with every event appended, as stored, after it is written (the
        notifier); one that raises is logged, never fatal."""

    # -- writing ------------------------------------------------------------------

    def append(self, event: JournalEvent) -> None:
        """Add one event (its free text redacted) and tell the :attr:`listeners`;
        errors are logged, never raised."""
        event = stored(event)
        self._store(event)
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("a journal listener failed")

    def _store(self, event: JournalEvent) -> None:
        if self.path is None:
            self._memory.append(event)
            return
        line = (json.dumps(event.to_json(), separators=(",", ":")) + "\n").encode()
        try:
            self._write(self.path, line)
        except OSError as exc:
            if not self._failing:
                logger.warning("cannot write the journal %s: %s", self.path, exc)
            self._failing = True
        else:
            self._failing = False

    def _write(self, path: Path, line: bytes) -> None:
        ensure_private_dir(path.parent)
        with file_lock(path):
            with contextlib.suppress(FileNotFoundError):
                size = path.stat().st_size
                if size and size + len(line) > self.max_bytes:
                    self._rotate(path)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                # One write per line: O_APPEND puts it whole at the end.
                os.write(fd, line)
            finally:
                os.close(fd)

    def _rotate(self, path: Path) -> None:
        """Shift ``.1``..``.keep-1`` up one, the current file to ``.1``; drop the oldest."""
        if self.keep < 1:
            path.unlink()
            return
        with contextlib.suppress(FileNotFoundError):
            _rotated(path, self.keep).unlink()
        for number in range(self.keep - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                _rotated(path, number).replace(_rotated(path, number + 1))
        path.replace(_rotated(path, 1))

    # -- reading ------------------------------------------------------------------

    def files(self) -> list[Path]:
        """The journal files that exist, newest first."""
        if self.path is None:
            return []
        candidates = [self.path, *(_rotated(self.path, n) for n in range(1, self.keep + 1))]
        return [candidate for candidate in candidates if candidate.exists()]

    def newest_first(self, *, containing: bytes = b"") -> Iterator[JournalEvent]:
        """Every readable event, newest first; stop iterating to read no further.

        ``containing``: only lines with these bytes are parsed (a cheap first cut; the
        caller still checks the events it gets).

        Each file is read whole (it is capped at ``max_bytes``) under the lock, so a
        rotation by another instance never shows half a file; older files are read
        only when the iteration gets that far.
        """
        if self.path is None:
            yield from reversed(self._memory)
            return
        for number in range(self.keep + 1):
            data = self._read_file(self.path, number)
            if data is None:
                # Rotation fills the numbers in order: a gap means nothing older.
                if number == 0:
                    continue
                return
            for line in reversed(data.splitlines()):
                if containing not in line:
                    continue
                event = parse_line(line)
                if event is not None:
                    yield event

    def _read_file(self, path: Path, number: int) -> bytes | None:
        target = path if number == 0 else _rotated(path, number)
        try:
            if number == 0:
                with file_lock(path):
                    return target.read_bytes()
            return target.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("cannot read the journal %s: %s", target, exc)
            return None

    def read(
        self,
        *,
        since: float | None = None,
        diffid: int | None = None,
        asid: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEvent]:
        """Events newest first, filtered; reading stops at ``limit`` or before ``since``.

        ``asid`` keeps the events of that account and those of no account.
        """
        out: list[JournalEvent] = []
        # Lines are written compact, so a diff's own lines hold this; 41 matches 4101
        # too, which the check below sorts out.
        needle = f'"diffid":{diffid}'.encode() if diffid is not None else b""
        for event in self.newest_first(containing=needle):
            if since is not None and event.at < since:
                if event.at < since - _ORDER_SLACK:
                    break
                continue
            if diffid is not None and event.diffid != diffid:
                continue
            if asid is not None and event.asid not in (None, asid):
                continue
            out.append(event)
            if limit is not None and len(out) >= limit:
                break
        return out

    def actions(self, diffid: int, asid: int | None = None) -> list[JournalEvent]:
        """The actions sent for one diff, oldest first, each at its latest outcome.

        The events of one action share a ``ref``; the last one written wins, at the
        time the action was sent.
        """
        latest: dict[str, JournalEvent] = {}
        sent_at: dict[str, float] = {}
        for event in self.read(diffid=diffid, asid=asid):
            if event.kind != EventKind.ACTION:
                continue
            ref = event.ref or f"@{event.at}"
            latest.setdefault(ref, event)
            sent_at[ref] = event.at
        merged = [_with_time(event, sent_at[ref]) for ref, event in latest.items()]
        return sorted(merged, key=lambda event: event.at)


_ORDER_SLACK: Final = 60.0
"""Two instances append in nearly, not exactly, time order: read this far past ``since``."""


def stored(event: JournalEvent) -> JournalEvent:
    """``event`` as the journal stores it: its free text redacted."""
    return _with_reason(event, redact(event.reason)) if event.reason else event


def _rotated(path: Path, number: int) -> Path:
    return path.with_name(f"{path.name}.{number}")


def _with_reason(event: JournalEvent, reason: str) -> JournalEvent:
    values = asdict(event)
    values["reason"] = reason
    return JournalEvent(**values)


def _with_time(event: JournalEvent, at: float) -> JournalEvent:
    values = asdict(event)
    values["at"] = at
    return JournalEvent(**values)


# -- outages ------------------------------------------------------------------------

OFFLINE: Final = "offline"
"""The tracker's ``poll_state`` while no request gets through."""
KEYS_REFUSED: Final = "keys refused"
"""The tracker's ``poll_state`` while the server refuses the account's keys."""
PAUSED: Final = "paused"
"""The tracker's ``poll_state`` while the user has paused polling."""


class OutageWatch:
    """Turns the tracker's ``poll_state`` into the start and end events of outages
    (``"offline"``) and of refused keys (``"keys refused"``).

    Feed it every reading (a timer tick, a redraw); it returns an event only on a
    transition into or out of either (one a reading: a second transition at the same
    moment comes with the next reading).

    >>> watch = OutageWatch()
    >>> watch.observe("live", now=1.0) is None
    True
    >>> watch.observe("offline", now=2.0, last_answer_at=1.0).phase
    'start'
    >>> watch.observe("live", now=47.0).reason
    'offline for 46s'
    >>> watch.observe("keys refused", now=50.0, keys_reason="401: check the keys").kind
    <EventKind.KEYS: 'keys'>
    """

    def __init__(self, asid: int | None = None) -> None:
        self._outage_spell = _Spell(EventKind.OUTAGE, asid)
        self._keys_spell = _Spell(EventKind.KEYS, asid)

    @property
    def offline(self) -> bool:
        """True between a start and its end."""
        return self._outage_spell.since is not None

    def observe(
        self,
        poll_state: str,
        *,
        now: float,
        last_answer_at: float | None = None,
        keys_reason: str | None = None,
    ) -> JournalEvent | None:
        """The event this reading starts or ends, if any; ``keys_reason`` says why the
        keys were refused (``"401: check the profile's keys"``)."""
        if poll_state == PAUSED:
            # Paused: no request goes out, so nothing tells whether the link is back.
            return None
        return self._outage(poll_state, now, last_answer_at) or self._keys(
            poll_state, now, keys_reason
        )

    def _keys(self, poll_state: str, now: float, reason: str | None) -> JournalEvent | None:
        if poll_state == OFFLINE:
            # Offline tells nothing of the keys: a refusal lasts until an answer says so.
            return None
        return self._keys_spell.event(poll_state == KEYS_REFUSED, now, now, reason, "refused")

    def _outage(
        self, poll_state: str, now: float, last_answer_at: float | None
    ) -> JournalEvent | None:
        # The outage began when the answers stopped, not when we noticed.
        began = last_answer_at if last_answer_at is not None else now
        reason = None
        if last_answer_at is not None:
            reason = f"last answer at {_short_time(last_answer_at, now)}"
        return self._outage_spell.event(poll_state == OFFLINE, now, began, reason, "offline")


class _Spell:
    """One kind of trouble that starts and ends (an outage, refused keys): the journal
    event of each transition, and how long it lasted at its end."""

    def __init__(self, kind: EventKind, asid: int | None) -> None:
        self._kind = kind
        self._asid = asid
        self.since: float | None = None

    def event(
        self, inside: bool, now: float, began: float, reason: str | None, words: str
    ) -> JournalEvent | None:
        """The start or end event this reading makes, if any (``words``: "offline" ends
        as "offline for 2m")."""
        if inside and self.since is None:
            self.since = began
            return JournalEvent(
                at=now, kind=self._kind, asid=self._asid, phase="start", reason=reason
            )
        if not inside and self.since is not None:
            lasted = duration(max(0.0, now - self.since))
            self.since = None
            return JournalEvent(
                at=now,
                kind=self._kind,
                asid=self._asid,
                phase="end",
                reason=f"{words} for {lasted}",
            )
        return None


# -- --since ------------------------------------------------------------------------

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float) -> float:
    """``30m``, ``2h``, ``1d`` (before ``now``) or an ISO time, as Unix time.

    An ISO time without a zone is local time. :class:`ValueError` says what is wrong.

    >>> parse_since("2h", now=10_000.0)
    2800.0
    >>> parse_since("1970-01-01T00:00:10+00:00", now=0.0)
    10.0
    """
    match = _AGO.match(text)
    if match:
        return now - float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use 30m, 2h, 1d or an ISO time like 2026-01-01T12:00"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()
    return when.timestamp()
