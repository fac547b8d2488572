"""Diff IDs as people type them: one ID, or a list pasted from anywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_DIFF_ID: Final = 2**63 - 1
"""IDs are signed 64-bit integers on the server side."""


class InvalidDiffId(ValueError):
    """A token that is not a diff ID; the message names the token."""

    def __init__(self, token: str, reason: str) -> None:
        super().__init__(f"{token!r} is not a diff ID: {reason}")
        self.token = token
        self.reason = reason


_DIGITS: Final = re.compile(r"\d+")


def parse_diff_id(token: str) -> int:
    """A diff ID from user input: a positive decimal integer below 2**63.

    >>> parse_diff_id(" 4101 ")
    4101
    """
    text = token.strip()
    if not text:
        raise InvalidDiffId(token, "it is empty")
    if not _DIGITS.fullmatch(text) or not text.isascii():
        if text.startswith("-") and _DIGITS.fullmatch(text[1:]):
            raise InvalidDiffId(token, "IDs are positive")
        raise InvalidDiffId(token, "use digits only")
    value = int(text)
    if value == 0:
        raise InvalidDiffId(token, "IDs start at 1")
    if value > MAX_DIFF_ID:
        raise InvalidDiffId(token, "it is too large")
    return value


@dataclass(frozen=True, slots=True)
class TokenError:
    """A bad token in a pasted list, by position (1-based) and text."""

    position: int
    token: str
    reason: str

    def __str__(self) -> str:
        return f"#{self.position} {self.token!r}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParsedIds:
    """The result of reading a pasted list of IDs."""

    ids: tuple[int, ...]
    errors: tuple[TokenError, ...]
    duplicates: tuple[int, ...]


_SEPARATORS: Final = re.compile(r"[\s,;]+")


def parse_id_list(text: str) -> ParsedIds:
    """Read IDs separated by whitespace, commas or newlines; ``#`` starts a comment.

    Every bad token is reported (not only the first); repeated IDs are kept once.

    >>> parse_id_list("4101, 4102 # eu\\n4101 x").errors[0].token
    'x'
    """
    ids: list[int] = []
    seen: set[int] = set()
    duplicates: list[int] = []
    errors: list[TokenError] = []
    position = 0
    for line in text.splitlines():
        content = line.split("#", 1)[0]
        for token in _SEPARATORS.split(content):
            if not token:
                continue
            position += 1
            try:
                value = parse_diff_id(token)
            except InvalidDiffId as exc:
                errors.append(TokenError(position, token, exc.reason))
                continue
            if value in seen:
                duplicates.append(value)
                continue
            seen.add(value)
            ids.append(value)
    return ParsedIds(tuple(ids), tuple(errors), tuple(duplicates))
