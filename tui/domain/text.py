"""Remote text made safe to show: no escape sequence from a server reaches a terminal.

Strings such as ``joberror`` come from a remote server. On screen they are always
plain text (never Rich/Textual markup); here their control characters are made
visible, so that an escape sequence shows as ``\\x1b[2J`` instead of clearing the
screen.

Example:
    >>> plain("disk\\x1b[2J full")
    'disk\\\\x1b[2J full'
"""

from __future__ import annotations

import unicodedata
from typing import Final

MAX_DISPLAY_LENGTH: Final = 2000
"""Longer remote strings are cut: nobody reads a megabyte of error text in a panel."""


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: str, *, one_line: bool = True, limit: int = MAX_DISPLAY_LENGTH) -> str:
    """``text`` with control and format characters shown as escapes.

    With ``one_line`` (the default) newlines and tabs become spaces, so a panel row
    stays one row; otherwise they are kept.
    """
    out: list[str] = []
    for char in text[: limit + 1]:
        if char in "\n\t\r" and one_line:
            out.append(" ")
        elif char in "\n\t" and not one_line:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(_visible(char))
        else:
            out.append(char)
    result = "".join(out)
    if len(text) > limit:
        result = result[:limit] + "…"
    return result
