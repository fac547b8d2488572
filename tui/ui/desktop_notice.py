"""A desktop notification written to the terminal: OSC 9, OSC 777 where it is wanted, tmux.

The terminal turns the sequence into a notification on the operator's desktop, over
SSH too: iTerm2, WezTerm, kitty, Windows Terminal, foot and Ghostty read OSC 9
(``ESC ] 9 ; text BEL``). VTE terminals (GNOME Terminal, Tilix...: ``$VTE_VERSION`` is
set) and urxvt (``$TERM`` rxvt*) read OSC 777 (``ESC ] 777 ; notify ; title ; body
BEL``) instead, so there it is written as well. Inside tmux (``$TMUX`` set) each
sequence is wrapped for passthrough (``ESC P tmux; ... ESC \\``, every ESC inside
doubled), which tmux forwards only with ``set -g allow-passthrough on``.

Example:
    >>> desktop_sequence("✓ #7 done", {})
    '\\x1b]9;✓ #7 done\\x07'
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Final

TITLE: Final = "imagediff-tui"
"""OSC 777's title field."""

_ESC: Final = "\x1b"
_BEL: Final = "\x07"


def _inert(text: str) -> str:
    """``text`` with nothing that could end the sequence or start another: no control
    character (C0, DEL, C1 such as ST), no format character; OSC 777's fields are
    separated by ``;`` so the title keeps none."""
    return "".join(
        " " if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") else char for char in text
    )


def wants_osc_777(env: Mapping[str, str]) -> bool:
    """True in a terminal that shows OSC 777 rather than OSC 9 (VTE, urxvt)."""
    return bool(env.get("VTE_VERSION")) or env.get("TERM", "").startswith("rxvt")


def desktop_sequence(text: str, env: Mapping[str, str]) -> str:
    """What to write to the terminal for a notification saying ``text``."""
    body = _inert(text)
    # OSC 9 ";4;" begins a progress report in some terminals: never start with a digit.
    sequences = [f"{_ESC}]9;{' ' + body if body[:1].isdigit() else body}{_BEL}"]
    if wants_osc_777(env):
        sequences.append(f"{_ESC}]777;notify;{_inert(TITLE).replace(';', ' ')};{body}{_BEL}")
    if env.get("TMUX"):
        sequences = [_tmux_passthrough(sequence) for sequence in sequences]
    return "".join(sequences)


def _tmux_passthrough(sequence: str) -> str:
    return f"{_ESC}Ptmux;{sequence.replace(_ESC, _ESC + _ESC)}{_ESC}\\"
