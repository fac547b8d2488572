"""The watchlist as text: what ``watchlist export`` writes and ``import`` reads back.

Both formats keep one diff to a line, so a mistake is named by its line number:

- plain: ``4101  # eu build``; the comment after the IDs on a line is their label,
  a line that is only a comment is skipped;
- JSON Lines: ``{"diffid": 4101, "label": "eu build"}``, one object a line (the
  objects of ``watchlist list --json`` read back too: other keys are ignored);
  blank lines and ``#`` lines are skipped in both.

No I/O here: the CLI reads the file and writes the watchlist.

Example:
    >>> parsed = parse_import("4101, 4102  # eu build\\n")
    >>> parsed.ids, parsed.labels[4102]
    ((4101, 4102), 'eu build')
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from tui.domain.ids import InvalidDiffId, parse_diff_id, parse_id_list
from tui.domain.text import plain

QUOTED_LIMIT = 60
"""A bad line is quoted in its error up to this many characters."""


@dataclass(frozen=True, slots=True)
class LineError:
    """A bad part of an imported file, by line number (1-based)."""

    line: int
    text: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line} {plain(self.text, limit=QUOTED_LIMIT)!r}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportedIds:
    """The diffs of an imported file, in file order, each once."""

    ids: tuple[int, ...]
    labels: Mapping[int, str] = field(default_factory=dict)
    """The label each diff had in the file; a diff without one is absent."""
    errors: tuple[LineError, ...] = ()
    duplicates: tuple[int, ...] = ()


def export_plain(entries: Iterable[tuple[int, str]]) -> Iterator[str]:
    """``4101  # label`` lines (a bare ID without a label) for ``(diffid, label)`` pairs."""
    for diffid, label in entries:
        # plain() keeps the label on one line, so it stays inside its comment.
        yield f"{diffid}  # {plain(label)}" if label else str(diffid)


def export_json_lines(entries: Iterable[tuple[int, str]]) -> Iterator[str]:
    """One ``{"diffid": ..., "label": ...}`` object a line for ``(diffid, label)`` pairs."""
    for diffid, label in entries:
        yield json.dumps({"diffid": diffid, "label": label}, ensure_ascii=True)


def _is_json_lines(lines: list[str]) -> bool:
    for line in lines:
        text = line.strip()
        if text and not text.startswith("#"):
            return text.startswith("{")
    return False


def _plain_line(number: int, line: str) -> tuple[list[tuple[int, str]], list[LineError]]:
    content, _, comment = line.partition("#")
    parsed = parse_id_list(content)
    errors = [LineError(number, error.token, error.reason) for error in parsed.errors]
    label = comment.strip()
    return [(diffid, label) for diffid in (*parsed.ids, *parsed.duplicates)], errors


def _json_line(number: int, line: str) -> tuple[list[tuple[int, str]], list[LineError]]:
    if not line.strip() or line.lstrip().startswith("#"):
        return [], []
    try:
        item = json.loads(line)
    except ValueError:
        return [], [LineError(number, line, "not a JSON object")]
    if not isinstance(item, dict):
        return [], [LineError(number, line, "not a JSON object")]
    value = item.get("diffid")
    label = item.get("label") or ""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return [], [LineError(number, line, 'no "diffid" number')]
    if not isinstance(label, str):
        return [], [LineError(number, line, '"label" is not text')]
    try:
        diffid = parse_diff_id(str(value))
    except InvalidDiffId as exc:
        return [], [LineError(number, str(value), exc.reason)]
    return [(diffid, label.strip())], []


def parse_import(text: str) -> ImportedIds:
    """Read an exported watchlist (either format; JSON Lines when the first entry is ``{``).

    Every bad part is reported, each with its line; an ID seen again is kept once,
    with the label it had first.
    """
    lines = text.splitlines()
    read_line = _json_line if _is_json_lines(lines) else _plain_line
    ids: list[int] = []
    labels: dict[int, str] = {}
    duplicates: list[int] = []
    errors: list[LineError] = []
    for number, line in enumerate(lines, start=1):
        found, bad = read_line(number, line)
        errors += bad
        for diffid, label in found:
            if diffid in labels:
                duplicates.append(diffid)
                continue
            ids.append(diffid)
            labels[diffid] = label
    return ImportedIds(
        tuple(ids),
        {diffid: label for diffid, label in labels.items() if label},
        tuple(errors),
        tuple(duplicates),
    )
