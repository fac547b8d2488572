"""Just enough of a VT/xterm screen to know what a user sees.

The benchmark reads the app's raw output from a pseudo-terminal and must tell when
something is *on screen*. This is a small screen model for the sequences a Textual
app writes (cursor moves, erases, text, modes; colours are ignored), fed
incrementally, with one rule taken from real terminals: inside a synchronized
update (``CSI ? 2026 h`` ... ``CSI ? 2026 l``) nothing is shown until its end; outside
one, what has arrived is shown at once. :class:`Screen` calls ``on_display`` each time
the displayed content may have changed: at the end of a synchronized update, or at the
end of a chunk of output that is not inside one.

It also answers the one query Textual waits on (synchronized-output support,
``CSI ? 2026 $ p``) as kitty, WezTerm, iTerm2, foot and Windows Terminal do.

Example:
    >>> screen = Screen(20, 3)
    >>> screen.feed("\\x1b[2;3Hhello\\x1b[31m!\\x1b[0m")
    >>> screen.line(1)
    '  hello!'
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Final

from rich.cells import cell_len

SYNC_QUERY_REPLY: Final = "\x1b[?2026;2$y"
"""DECRPM: synchronized output is supported and currently off."""

_MAX_SEQUENCE: Final = 4096
"""Longer than this, an unfinished escape sequence is taken as garbage and skipped."""

# A complete escape sequence, a control character, or a run of printable text.
_TOKEN: Final = re.compile(
    r"""
    (?P<csi>\x1b\[(?P<params>[0-?]*)(?P<inter>[\x20-/]*)(?P<final>[@-~]))
  | (?P<osc>\x1b\][^\x07\x1b]*(?:\x07|\x1b\\))
  | (?P<dcs>\x1b[P^_][^\x1b]*\x1b\\)
  | (?P<esc>\x1b[\x20-/]*[0-OQ-Z\\`-~])
  | (?P<ctl>[\x00-\x1a\x1c-\x1f\x7f])
  | (?P<text>[^\x00-\x1f\x7f]+)
    """,
    re.VERBOSE,
)


@lru_cache(maxsize=4096)
def _width(char: str) -> int:
    return cell_len(char)


class Screen:
    """A grid of ``columns`` x ``lines`` cells, fed with terminal output as it arrives."""

    def __init__(self, columns: int, lines: int) -> None:
        self.columns = columns
        self.lines = lines
        self.rows: list[list[str]] = [[" "] * columns for _ in range(lines)]
        self.x = 0
        self.y = 0
        self.in_sync = False
        self.sync_frames = 0
        """Synchronized updates completed so far."""
        self.on_display: Callable[[], None] | None = None
        """Called whenever what a user sees may have changed."""
        self.on_reply: Callable[[str], None] | None = None
        """Called with bytes a real terminal would send back (answers to queries)."""
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    # -- reading the screen -------------------------------------------------

    def line(self, y: int) -> str:
        """The text of row ``y`` (0-based), trailing blanks removed."""
        return "".join(self.rows[y]).rstrip()

    def text(self) -> str:
        """The whole screen as lines of text."""
        return "\n".join(self.line(y) for y in range(self.lines))

    def display(self) -> list[str]:
        """Every row's text (a snapshot)."""
        return [self.line(y) for y in range(self.lines)]

    # -- feeding ------------------------------------------------------------

    def feed_bytes(self, data: bytes) -> None:
        """Feed raw output bytes (UTF-8, possibly split anywhere)."""
        self.feed(self._decoder.decode(data))

    def feed(self, data: str) -> None:
        """Feed decoded output; sequences split across calls are completed later."""
        text = self._pending + data
        self._pending = ""
        position = 0
        length = len(text)
        while position < length:
            match = _TOKEN.match(text, position)
            if match is None:
                if length - position < _MAX_SEQUENCE:
                    # An escape sequence cut by the end of this chunk: wait for the rest.
                    self._pending = text[position:]
                    break
                position += 1  # not a sequence this screen knows: skip the ESC
                continue
            position = match.end()
            kind = match.lastgroup
            if kind == "text":
                self._put_text(match.group())
            elif kind == "csi":
                self._csi(match.group("params"), match.group("inter"), match.group("final"))
            elif kind == "ctl":
                self._control(match.group())
            # OSC, DCS and other escapes change nothing that is drawn here.
        if not self.in_sync and self.on_display is not None:
            self.on_display()

    # -- effects ------------------------------------------------------------

    def _put_text(self, text: str) -> None:
        row = self.rows[self.y]
        columns = self.columns
        if text.isascii():
            end = min(columns, self.x + len(text))
            count = end - self.x
            if count > 0:
                row[self.x : end] = text[:count]
            self.x = min(columns - 1, self.x + len(text)) if len(text) > count else end
            return
        for char in text:
            width = _width(char)
            if width == 0:
                continue
            if self.x + width > columns:
                # Textual turns autowrap off: the last column is overwritten.
                self.x = columns - width
            row[self.x] = char
            if width == 2:
                row[self.x + 1] = ""
            self.x += width
        self.x = min(self.x, columns)

    def _control(self, char: str) -> None:
        if char == "\r":
            self.x = 0
        elif char == "\n":
            if self.y == self.lines - 1:
                del self.rows[0]
                self.rows.append([" "] * self.columns)
            else:
                self.y += 1
        elif char == "\b":
            self.x = max(0, self.x - 1)
        elif char == "\t":
            self.x = min(self.columns - 1, (self.x // 8 + 1) * 8)

    def _csi(self, params: str, inter: str, final: str) -> None:
        private = params.startswith("?")
        numbers = [int(p) if p.isdigit() else 0 for p in params.lstrip("?<=>").split(";")]
        first = numbers[0] if numbers and numbers[0] > 0 else 1
        if private:
            if inter == "$" and final == "p" and params == "?2026":
                if self.on_reply is not None:
                    self.on_reply(SYNC_QUERY_REPLY)
            elif final in "hl" and not inter:
                self._modes(numbers, final == "h")
            return
        if inter:
            return
        if final in "Hf":
            row = numbers[0] if numbers and numbers[0] > 0 else 1
            col = numbers[1] if len(numbers) > 1 and numbers[1] > 0 else 1
            self.y = min(self.lines, row) - 1
            self.x = min(self.columns, col) - 1
        elif final == "A":
            self.y = max(0, self.y - first)
        elif final == "B":
            self.y = min(self.lines - 1, self.y + first)
        elif final == "C":
            self.x = min(self.columns - 1, self.x + first)
        elif final == "D":
            self.x = max(0, self.x - first)
        elif final == "G":
            self.x = min(self.columns, first) - 1
        elif final == "d":
            self.y = min(self.lines, first) - 1
        elif final == "J":
            self._erase_display(numbers[0] if numbers else 0)
        elif final == "K":
            self._erase_line(numbers[0] if numbers else 0)
        elif final == "X":
            end = min(self.columns, self.x + first)
            self.rows[self.y][self.x : end] = [" "] * (end - self.x)

    def _modes(self, numbers: list[int], on: bool) -> None:
        for mode in numbers:
            if mode == 2026:
                if on:
                    self.in_sync = True
                elif self.in_sync:
                    self.in_sync = False
                    self.sync_frames += 1
                    if self.on_display is not None:
                        self.on_display()
            elif mode in (1049, 47, 1047):
                self._erase_display(2)
                if on:
                    self.x = self.y = 0

    def _erase_display(self, how: int) -> None:
        if how == 0:
            self._erase_line(0)
            for y in range(self.y + 1, self.lines):
                self.rows[y] = [" "] * self.columns
        elif how == 1:
            self._erase_line(1)
            for y in range(self.y):
                self.rows[y] = [" "] * self.columns
        else:
            self.rows = [[" "] * self.columns for _ in range(self.lines)]

    def _erase_line(self, how: int) -> None:
        row = self.rows[self.y]
        if how == 0:
            row[self.x :] = [" "] * (self.columns - self.x)
        elif how == 1:
            row[: self.x + 1] = [" "] * (self.x + 1)
        else:
            self.rows[self.y] = [" "] * self.columns
