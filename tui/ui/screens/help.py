"""The `?` screen: every key binding, as the keymap currently sets it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar, Final

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui.ui.screens.dialog import Dialog

_SKIPS: Final = frozenset({"page_left", "page_right", "command_palette", "read_only"})
"""Bindings help leaves out: sideways paging, the palette's (own row), read-only notices."""

_TEXTUAL_SCREEN_ACTIONS: Final = frozenset(
    binding.action for binding in Screen.BINDINGS if isinstance(binding, Binding)
)
"""The keys every Textual screen has (focus, copy): ranked with Textual's own."""


def help_rows(
    screen: Screen[object], order: Sequence[str], key_display: Callable[[Binding], str]
) -> list[tuple[str, str]]:
    """(keys, what they do) for every key active on ``screen``.

    Bindings whose id is in ``order`` come in that order; a dialog's own keys (not in
    ``order``) come first, Textual's own (scrolling, focus) last. Aliases share a row.
    """
    rank_of = {binding_id: index for index, binding_id in enumerate(order)}
    keys: dict[tuple[str, str], list[str]] = {}
    rank: dict[tuple[str, str], int] = {}
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.action.startswith("scroll_") or binding.action in _SKIPS:
            continue  # the list's cursor keys scroll it; the palette has its own row
        description = binding.description or binding.action.replace("_", " ")
        row = (binding.action, description)
        keys.setdefault(row, []).append(key_display(binding))
        own = active.node is screen and binding.action not in _TEXTUAL_SCREEN_ACTIONS
        if own and binding.id not in rank_of:
            rank.setdefault(row, -1)
        rank.setdefault(row, rank_of.get(binding.id or "", len(rank_of)))
    rows = [(" ".join(keys[row]), row[1]) for row in sorted(keys, key=rank.__getitem__)]
    rows.append(("ctrl+p", "Command palette: every action by name"))
    return rows


class HelpScreen(Dialog[None]):
    """A scrollable table of (keys, what they do).

    Example:
        >>> screen = HelpScreen([("R", "Retry the selected diffs")])
    """

    DEFAULT_CSS = """
    HelpScreen > Vertical { width: 76; height: 90%; padding: 0 1; }
    HelpScreen .title { padding: 1 1 0 1; }
    HelpScreen .hint { padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", id="help-close")
    ]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self._rows = rows

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, description in self._rows:
            table.add_row(Text(keys), Text(description))
        with Vertical():
            yield Static("Keys", classes="title")
            yield Static(
                "Every action is also in the command palette (ctrl+p). "
                "Rebind keys in the [keymap] table of config.toml.",
                classes="hint",
                markup=False,
            )
            with VerticalScroll():
                yield Static(table)

    def action_close(self) -> None:
        self.dismiss(None)
