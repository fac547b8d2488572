"""The persisted watchlist: ``watchlist.toml`` in the user's data folder, and beside it
(in the user's cache folder) the status cache of what the app learned.

The file holds what the user said and did (see :mod:`.layout`); the cache, the last
statuses and outcomes (see :mod:`.status_cache`). Files of earlier releases (schema 1
and 2, statuses inside) are read once and written anew: the user's part in today's
layout, the statuses into the cache (see :mod:`.legacy`).

Entries belong to an account, the API URL and ASID, whichever profile (or the
``CLANFORGE_*`` variables) reaches it.

The list is never lost: every change is a read-modify-write under a lock that
merges with what is on disk now (another instance may have changed it), then an
atomic replace. A file that cannot be read is moved aside, never overwritten, and
the caller is told where it went.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, TypeVar

from tui.domain.actions import ActionOutcome
from tui.domain.watch_entry import LastOutcome, LastStatus, SentAction, WatchEntry
from tui.store.atomic_file import (
    LockTimeout,
    atomic_write_text,
    ensure_private_dir,
    file_lock,
    sweep_temp_files,
)
from tui.store.config import DEFAULT_API_URL
from tui.store.watchlist.fields import Corrupt, clean_label
from tui.store.watchlist.layout import SCHEMA, layout_entries, layout_text
from tui.store.watchlist.legacy import LEGACY_SCHEMAS, LegacyUrl, legacy_entries
from tui.store.watchlist.status_cache import Learned, StatusCache

__all__ = [
    "SCHEMA",
    "Account",
    "AddResult",
    "Key",
    "LegacyUrl",
    "WatchlistError",
    "WatchlistLoad",
    "WatchlistStore",
    "account_entries",
    "clean_label",
    "default_legacy_url",
    "entries_by_account",
    "parse_watchlist",
]

log = logging.getLogger(__name__)

Key = tuple[str, int, int]
"""(api_url, asid, diffid): :attr:`WatchEntry.key`."""
Account = tuple[str, int]
"""(api_url, asid): whose diffs an entry watches."""

_T = TypeVar("_T")
_Stamp = tuple[int, int, int]
"""A file's inode, modification time (ns) and size: changes when anyone writes it."""
CACHE_SUFFIX: Final = ".status.json"


class WatchlistError(Exception):
    """The watchlist cannot be used (for example, written by a newer version)."""


@dataclass(frozen=True)
class _MovedAside:
    """An unreadable file, moved aside: why, and where it went."""

    reason: str
    target: Path


@dataclass(frozen=True)
class WatchlistLoad:
    """What :meth:`WatchlistStore.load` found."""

    entries: list[WatchEntry]
    notice: str | None = None
    """Set when the file was unreadable and moved aside: says why and where it went."""


@dataclass(frozen=True)
class AddResult:
    """What :meth:`WatchlistStore.add` did."""

    added: list[WatchEntry] = field(default_factory=list)
    duplicates: list[WatchEntry] = field(default_factory=list)
    """Entries already watched (or given twice); skipped."""


@dataclass(frozen=True)
class _Read:
    """The file as read: its entries (statuses only from an old file), and what else."""

    entries: list[WatchEntry]
    moved: _MovedAside | None = None
    legacy: bool = False
    """An earlier release's file: to be written anew, its statuses into the cache."""
    missing: bool = False


def account_entries(entries: Iterable[WatchEntry], api_url: str, asid: int) -> list[WatchEntry]:
    """One account's entries, in file order (``api_url`` as :func:`~tui.store.config.account_url`
    writes it)."""
    return [e for e in entries if e.asid == asid and e.api_url == api_url]


def entries_by_account(entries: Iterable[WatchEntry]) -> dict[Account, list[WatchEntry]]:
    """Every account's entries, accounts in order of their first entry, entries in file order."""
    grouped: dict[Account, list[WatchEntry]] = {}
    for entry in entries:
        grouped.setdefault((entry.api_url, entry.asid), []).append(entry)
    return grouped


def default_legacy_url(profile: str, asid: int) -> str:
    """With no config to ask, a schema 1 profile's entries belong to the default API."""
    return DEFAULT_API_URL


def _parse(
    text: str, legacy_url: LegacyUrl, learned: Learned | None = None
) -> tuple[list[WatchEntry], bool]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Corrupt(f"not valid TOML: {exc}") from None
    schema = data.get("schema")
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
        # Moving a newer version's file aside would lose it for that version.
        raise WatchlistError(
            f"the watchlist was written by a newer imagediff-tui (schema {schema}); "
            "upgrade imagediff-tui to use it (the file is left as it is)"
        )
    if schema == SCHEMA and not isinstance(schema, bool):
        return layout_entries(data, learned), False
    if schema in LEGACY_SCHEMAS and not isinstance(schema, bool):
        assert isinstance(schema, int)
        return legacy_entries(data, schema, legacy_url), True
    raise Corrupt(f"schema must be {SCHEMA}, got {schema!r}")


def parse_watchlist(text: str, legacy_url: LegacyUrl = default_legacy_url) -> list[WatchEntry]:
    """The entries of a watchlist file's text, of any schema (an old file's with the
    statuses it held); raises ``Corrupt`` or :class:`WatchlistError`."""
    return _parse(text, legacy_url)[0]


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return "a file is where a folder should be"
    return exc.strerror or str(exc)


def _only_said(entry: WatchEntry) -> WatchEntry:
    """``entry`` without what the app noted or learned (as the file holds it)."""
    accepted, rejected = entry.accepted, entry.rejected
    return replace(
        entry,
        added_at=0.0,
        last=None,
        outcome=None,
        accepted=None if accepted is None else replace(accepted, last=None),
        rejected=None if rejected is None else replace(rejected, last=None),
    )


class WatchlistStore:
    """The watchlist file and its status cache, shared safely between instances of the
    app and the CLI.

    ``cache``: where the status cache lives (the app passes the user's cache folder;
    None: beside the file, as tests and tools use it).
    """

    def __init__(self, path: Path, cache: Path | None = None) -> None:
        self.path = path
        self.cache = StatusCache(
            cache if cache is not None else path.with_name(path.name + CACHE_SUFFIX)
        )
        self.notices: list[str] = []
        """Every "moved aside" notice this store produced, for callers of the mutations."""
        self.recover: Callable[[], list[WatchEntry]] | None = None
        """The list to write when a change finds the file unreadable (None: start empty).

        Set by an app that holds the list on screen: its list is not lost with the file.
        """
        self._on_lock_wait: Callable[[Path], None] | None = None
        self.legacy_url: LegacyUrl = default_legacy_url
        """The account URL of a schema 1 file's profile (see :func:`parse_watchlist`)."""
        self.seen: _Stamp | None = None
        """The file as this store last read or wrote it (None: missing)."""
        self.changed_elsewhere = False
        """Set when a read found the file not as this store left it (another writer);
        cleared by whoever shows what changed (see :meth:`changed_on_disk`)."""

    @property
    def on_lock_wait(self) -> Callable[[Path], None] | None:
        """Told the lock file when another process keeps this store waiting (see file_lock)."""
        return self._on_lock_wait

    @on_lock_wait.setter
    def on_lock_wait(self, told: Callable[[Path], None] | None) -> None:
        self._on_lock_wait = told
        self.cache.on_lock_wait = told

    def _move_aside(self, reason: str) -> _MovedAside:
        # A symlinked file (a dotfile setup) is moved aside beside its target, and the
        # link kept: the next write goes to the target again.
        source = Path(os.path.realpath(self.path)) if self.path.is_symlink() else self.path
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        base = source.with_name(f"{source.name}.corrupt-{stamp}")
        target = base
        for attempt in range(1, 1000):
            try:
                # link + unlink instead of rename: link refuses to replace an existing
                # file, so an earlier corrupt copy is never overwritten either.
                os.link(source, target)
                break
            except FileExistsError:
                target = base.with_name(f"{base.name}-{attempt}")
        else:  # pragma: no cover - a thousand corrupt files in one second
            raise WatchlistError(f"cannot move the unreadable {self.path} aside")
        os.unlink(source)
        return _MovedAside(reason, target)

    def _report(self, moved: _MovedAside, outcome: str) -> str:
        return self._tell(
            f"The watchlist {self.path} could not be read ({moved.reason}); it was moved to "
            f"{moved.target} and {outcome}."
        )

    def _tell(self, notice: str) -> str:
        log.warning("%s", notice)
        self.notices.append(notice)
        return notice

    def _read_locked(self, learned: Learned | None = None) -> _Read:
        """The entries on disk (with ``learned`` applied, for today's layout); the caller
        holds the lock."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            if self.seen is not None:
                self.changed_elsewhere = True
            self.seen = None
            return _Read([], missing=True)
        except IsADirectoryError:
            raise WatchlistError(
                f"{self.path} is a folder, not a watchlist file; move it away and try again"
            ) from None
        except OSError as exc:
            raise WatchlistError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        stamp = self._stamp()
        if stamp != self.seen:
            self.changed_elsewhere = True
        self.seen = stamp
        try:
            entries, legacy = _parse(raw.decode("utf-8"), self.legacy_url, learned)
        except UnicodeDecodeError as exc:
            return _Read([], self._move_aside(f"not UTF-8 text at byte {exc.start}"))
        except Corrupt as exc:
            return _Read([], self._move_aside(str(exc)))
        except WatchlistError as exc:
            raise WatchlistError(f"{self.path}: {exc}") from None
        return _Read(entries, legacy=legacy)

    def _migrate_locked(self, entries: list[WatchEntry]) -> list[WatchEntry]:
        """Write an old file's entries anew: statuses into the cache first (a crash in
        between leaves the old file, read again next time), then the file."""
        self.cache.merge(entries)
        said = [_only_said(entry) for entry in entries]
        self._write_locked(said)
        log.info("the watchlist %s was rewritten in the layout of schema %d", self.path, SCHEMA)
        return said

    def _write_locked(self, entries: list[WatchEntry]) -> None:
        atomic_write_text(self.path, layout_text(entries), 0o600)
        self.seen = self._stamp()

    def _stamp(self) -> _Stamp | None:
        try:
            info = os.stat(self.path)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def changed_on_disk(self) -> bool:
        """Whether another writer changed, replaced or deleted the file since this store
        last read or wrote it, or a change of this store's found it so. A stat, no read."""
        return self.changed_elsewhere or self._stamp() != self.seen

    def reread(self) -> list[WatchEntry]:
        """The entries as the file holds them now (no statuses), read under the lock; a
        missing or unreadable file is handled as by a change (see :meth:`_mutate`)."""
        return self._mutate(lambda current: (None, list(current)))

    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.path, on_wait=self._on_lock_wait)

    @contextlib.contextmanager
    def _file_errors(self) -> Iterator[None]:
        """The folder made if missing; an OSError (not a lock wait) said in words."""
        try:
            ensure_private_dir(self.path.parent)
            yield
        except LockTimeout:
            raise
        except OSError as exc:
            where = exc.filename or self.path
            reason = _os_reason(exc)
            raise WatchlistError(
                f"cannot use the watchlist {self.path}: {where}: {reason}; make "
                f"{self.path.parent} a folder you can write to, or set XDG_DATA_HOME"
            ) from None

    def _mutate(
        self, change: Callable[[list[WatchEntry]], tuple[list[WatchEntry] | None, _T]]
    ) -> _T:
        """Read, ``change`` and write back under the lock; ``None`` entries means unchanged.

        ``change`` is given the entries as the file holds them (no statuses). A file found
        unreadable is moved aside; with :attr:`recover` set, the list it gives is changed
        and written in its place.
        """
        with self._file_errors(), self._lock():
            sweep_temp_files(self.path)
            read = self._read_locked()
            current = read.entries
            if read.legacy:
                current = self._migrate_locked(current)
            held = self.recover() if self.recover is not None else []
            if read.moved is not None and self.recover is not None:
                current = [_only_said(entry) for entry in held]
                updated, result = change(current)
                self._write_locked(current if updated is None else updated)
                self._report(
                    read.moved, f"the list this instance holds was written back to {self.path}"
                )
                return result
            if read.missing and held:
                # Deleted while this instance holds a list: the list on screen is not lost.
                current = [_only_said(entry) for entry in held]
                updated, result = change(current)
                self._write_locked(current if updated is None else updated)
                self._tell(
                    f"The watchlist {self.path} was missing; the list this instance holds "
                    "was written back."
                )
                return result
            if read.moved is not None:
                self._report(read.moved, "the list starts empty")
            updated, result = change(current)
            if updated is not None:
                self._write_locked(updated)
        return result

    def load(self) -> WatchlistLoad:
        """All entries, with what the cache knows of them; an unreadable file is moved
        aside and reported in ``notice``; an old file is written anew."""
        if not self.path.exists():
            return WatchlistLoad([])
        learned = self.cache.read()
        with self._file_errors(), self._lock():
            read = self._read_locked(learned)
            self.changed_elsewhere = False  # the caller holds what is read now
            entries = read.entries
            if read.legacy:
                self._migrate_locked(entries)  # what the file held, statuses included
        notice = None if read.moved is None else self._report(read.moved, "the list starts empty")
        return WatchlistLoad(entries, notice)

    def entries_for(self, api_url: str, asid: int) -> list[WatchEntry]:
        """One account's entries, in file order."""
        return account_entries(self.load().entries, api_url, asid)

    def add(self, entries: Iterable[WatchEntry]) -> AddResult:
        """Append entries not already watched; the others are returned as duplicates."""
        wanted = [replace(entry, label=clean_label(entry.label)) for entry in entries]

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, AddResult]:
            keys = {entry.key for entry in current}
            result = AddResult()
            for entry in wanted:
                if entry.key in keys:
                    result.duplicates.append(entry)
                else:
                    keys.add(entry.key)
                    result.added.append(entry)
            return (current + result.added if result.added else None), result

        result = self._mutate(change)
        self.cache.merge(result.added)
        return result

    def remove(self, keys: Iterable[Key]) -> int:
        """Stop watching these keys; returns how many were removed."""
        doomed = set(keys)

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, int]:
            kept = [entry for entry in current if entry.key not in doomed]
            removed = len(current) - len(kept)
            return (kept if removed else None), removed

        removed = self._mutate(change)
        self.cache.forget(doomed)
        return removed

    def set_label(self, key: Key, label: str) -> bool:
        """Set one entry's label; False (nothing written) when another writer removed it."""
        text = clean_label(label)

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, bool]:
            if not any(entry.key == key for entry in current):
                return None, False
            return [replace(e, label=text) if e.key == key else e for e in current], True

        return self._mutate(change)

    def update_status(self, statuses: Mapping[Key, LastStatus]) -> None:
        """Remember the last status of these diffs (in the cache only)."""
        self.cache.set_statuses("last", statuses)

    def update_version_status(self, statuses: Mapping[Key, LastStatus]) -> None:
        """Remember the last status of the image versions of these (accepted) diffs."""
        self.cache.set_statuses("version", statuses)

    def record_decision(self, entry: WatchEntry) -> None:
        """Note that ``entry``'s diff was accepted or rejected (its ``accepted`` or
        ``rejected``, with the job it started as last seen); a diff not on the list is
        added with it. The file is written only when the decision is new."""
        said = _only_said(replace(entry, label=clean_label(entry.label)))

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, bool]:
            found = next((e for e in current if e.key == entry.key), None)
            if found is None:
                return [*current, said], True
            if (found.accepted, found.rejected) == (said.accepted, said.rejected):
                return None, False
            return [
                replace(e, accepted=said.accepted, rejected=said.rejected)
                if e.key == entry.key
                else e
                for e in current
            ], False

        if self._mutate(change):
            self.cache.merge([entry])
        if entry.accepted is not None and entry.accepted.last is not None:
            self.cache.set_statuses("version", {entry.key: entry.accepted.last})
        if entry.rejected is not None and entry.rejected.last is not None:
            self.cache.set_statuses("uninstall", {entry.key: entry.rejected.last})

    def note_sent(self, key: Key, sent: SentAction) -> bool:
        """Keep ``sent`` (an action about to go out) with the diff until its outcome is
        known; False (nothing kept) when the diff is not watched."""

        def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, bool]:
            if not any(entry.key == key for entry in current):
                return None, False
            return [
                replace(e, sent=(*(s for s in e.sent if s.action != sent.action), sent))
                if e.key == key
                else e
                for e in current
            ], True

        return self._mutate(change)

    def note_outcome(self, key: Key, action: str, outcome: LastOutcome | None) -> None:
        """The outcome of ``action`` on a diff is known (None: it succeeded): the sent
        action is dropped from the file, and ``outcome`` kept in the cache. An unknown
        outcome keeps the sent action: it may have happened."""
        if outcome is None or outcome.outcome is not ActionOutcome.UNKNOWN:

            def change(current: list[WatchEntry]) -> tuple[list[WatchEntry] | None, None]:
                touched = [e for e in current if e.key == key and e.sent]
                if not touched:
                    return None, None
                return [
                    replace(e, sent=tuple(s for s in e.sent if s.action != action))
                    if e.key == key
                    else e
                    for e in current
                ], None

            self._mutate(change)
        self.cache.set_outcome(key, outcome)
