"""Typed reads of the values in the watchlist file and its status cache.

A value of the wrong type makes the whole file unreadable (:class:`Corrupt`): the store
then moves the file aside rather than guess. The status cache is only ever dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from tui.domain.ids import MAX_DIFF_ID
from tui.domain.watch_entry import LastStatus

_SURROGATES: Final = re.compile("[\ud800-\udfff]")


class Corrupt(Exception):
    """The content is unreadable; the message says why."""


def clean_label(label: str) -> str:
    """``label`` made storable: lone surrogates (undecodable argv bytes) become U+FFFD."""
    return _SURROGATES.sub("\ufffd", label)


def read_int(
    data: Mapping[str, Any], name: str, where: str, *, optional: bool = False
) -> int | None:
    """``data[name]`` as an integer (None when absent and ``optional``)."""
    value = data.get(name)
    if type(value) is int:
        return value
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise Corrupt(f"{where}: {name} must be an integer")
    return value


def read_float(data: Mapping[str, Any], name: str, where: str) -> float:
    """``data[name]`` as a number (0.0 when absent)."""
    value = data.get(name, 0.0)
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Corrupt(f"{where}: {name} must be a number")
    return float(value)


def read_str(
    data: Mapping[str, Any], name: str, where: str, *, optional: bool = False
) -> str | None:
    """``data[name]`` as a string (None when absent and ``optional``)."""
    value = data.get(name)
    if type(value) is str:
        return value
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise Corrupt(f"{where}: {name} must be a string")
    return value


def read_bool(data: Mapping[str, Any], name: str, where: str) -> bool:
    """``data[name]`` as true or false (false when absent)."""
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise Corrupt(f"{where}: {name} must be true or false")
    return value


def read_table(data: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any] | None:
    """``data[name]`` as a table (None when absent)."""
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise Corrupt(f"{where}: {name} must be a table")
    return value


def read_id(value: object, what: str, where: str) -> int:
    """A diff's (or job's) ID: a positive integer, or its decimal text (a TOML key)."""
    if type(value) is str and value.isdigit() and value.isascii():
        value = int(value)
    if type(value) is not int or not 0 < value <= MAX_DIFF_ID:
        raise Corrupt(f"{where}: {what} must be a positive integer, got {value!r}")
    return value


def read_asid(value: object, where: str) -> int:
    """An account's ASID: a positive integer."""
    if type(value) is not int or value <= 0:
        raise Corrupt(f"{where}: asid must be a positive integer, got {value!r}")
    return value


def read_last(data: object, where: str) -> LastStatus:
    """A job's last status as a ``[diff.last]`` table of an old file holds it."""
    if not isinstance(data, dict):
        raise Corrupt(f"{where}: last must be a table")
    progress = read_int(data, "progress", where, optional=True)
    return LastStatus(
        state_id=read_int(data, "state_id", where, optional=True),
        state_name=read_str(data, "state_name", where, optional=True) or "",
        progress=progress or 0,
        eta=read_int(data, "eta", where, optional=True),
        error=read_str(data, "error", where, optional=True),
        seen_at=read_float(data, "seen_at", where),
        start=read_int(data, "start", where, optional=True),
    )


def drop_none(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without its None values (TOML has no null: absent means unknown)."""
    return {key: value for key, value in data.items() if value is not None}
