"""Today's release's watchlist writer (schema 2), kept to make old files for migration tests.

A trimmed copy of the writer that shipped before the file held only what the user said:
one ``[[diff]]`` table per diff with its last statuses. ``test_watchlist_migration``
checks that it writes the committed fixture (made by the shipped writer) byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from tui.domain.watch_entry import LastStatus, WatchEntry


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _last(last: LastStatus) -> dict[str, Any]:
    return _drop_none(
        {
            "state_id": last.state_id,
            "state_name": last.state_name,
            "progress": last.progress,
            "eta": last.eta,
            "error": last.error,
            "seen_at": float(last.seen_at),
            "start": last.start,
        }
    )


def _tables(entry: WatchEntry) -> list[tuple[str, dict[str, Any]]]:
    diff = {
        "diffid": entry.diffid,
        "asid": entry.asid,
        "api_url": entry.api_url,
        "label": entry.label,
        "added_at": float(entry.added_at),
    }
    tables = [("[[diff]]", diff)]
    if entry.last is not None:
        tables.append(("[diff.last]", _last(entry.last)))
    if (accepted := entry.accepted) is not None:
        table = {
            "imageversionid": accepted.imageversionid,
            "restart": accepted.restart,
            "full": accepted.full,
            "force": accepted.force,
            "game_build": accepted.game_build,
            "at": float(accepted.at),
        }
        tables.append(("[diff.accepted]", _drop_none(table)))
        if accepted.last is not None:
            tables.append(("[diff.accepted.last]", _last(accepted.last)))
    if (rejected := entry.rejected) is not None:
        table = {
            "reinstall": rejected.reinstall,
            "uninstalljobid": rejected.uninstalljobid,
            "at": float(rejected.at),
        }
        tables.append(("[diff.rejected]", _drop_none(table)))
        if rejected.last is not None:
            tables.append(("[diff.rejected.last]", _last(rejected.last)))
    return tables


def _value(value: str | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return repr(value)


def schema2_text(entries: Iterable[WatchEntry]) -> str:
    """The file today's release writes for ``entries``."""
    out = ["schema = 2\n"]
    for entry in entries:
        for header, table in _tables(entry):
            out.append(f"\n{header}\n")
            out.extend(f"{key} = {_value(value)}\n" for key, value in table.items())
    return "".join(out)
