"""The dialog that adds diffs to the watchlist: paste many IDs at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, TextArea

from tui.domain.ids import parse_id_list
from tui.domain.wording import count_noun
from tui.ui.screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class AddRequest:
    """What the user asked to add."""

    ids: tuple[int, ...]
    label: str


class AddDiffsScreen(Dialog[AddRequest | None]):
    """Paste IDs separated by spaces, commas or newlines; give them an optional label.

    Every bad token is listed inline with its position; nothing is added until the
    list is clean.

    Example:
        >>> screen = AddDiffsScreen()
    """

    DEFAULT_CSS = """
    AddDiffsScreen > Vertical { width: 72; max-height: 95%; }
    AddDiffsScreen TextArea { height: 6; }
    AddDiffsScreen #problems { color: $error; height: auto; max-height: 6; }
    AddDiffsScreen #summary { color: $text-muted; height: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="add-cancel"),
        Binding("ctrl+s", "submit", "Add", id="add-submit"),
        Binding("ctrl+n", "new_diff", "New diff", id="add-new-diff"),
    ]

    def __init__(self, new_diff: Callable[[], None] | None = None) -> None:
        """``new_diff`` opens the new-diff dialog instead (None: not offered)."""
        super().__init__()
        self._new_diff = new_diff

    def compose(self) -> ComposeResult:
        with Vertical():
            title = Text("Add diffs to the watchlist")
            if self._new_diff is not None:
                # On the title line: the dialog must keep its height on a 24-line terminal.
                title.append("   ctrl+n: start a new diff instead", style="not bold dim")
            yield Static(title, classes="title")
            yield Label("Diff IDs (spaces, commas or new lines; # starts a comment)")
            yield TextArea(id="ids", soft_wrap=True, show_line_numbers=False)
            yield Static("", id="summary")
            yield Static("", id="problems")
            yield Label("Label (optional)")
            yield Input(placeholder="e.g. eu-west build 1.4.2", id="label", max_length=200)
            with Horizontal():
                yield Button("Cancel (esc)", id="cancel")
                yield Button("Add (ctrl+s)", id="add", variant="primary", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#ids", TextArea).focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._validate()

    def _validate(self) -> tuple[int, ...] | None:
        parsed = parse_id_list(self.query_one("#ids", TextArea).text)
        problems = self.query_one("#problems", Static)
        summary = self.query_one("#summary", Static)
        button = self.query_one("#add", Button)
        if parsed.errors:
            lines = [f"✗ token {error}" for error in parsed.errors[:20]]
            if len(parsed.errors) > 20:
                lines.append(f"… and {len(parsed.errors) - 20} more")
            problems.update(Text("\n".join(lines)))
        else:
            problems.update("")
        count = len(parsed.ids)
        note = count_noun(count, "ID")
        if parsed.duplicates:
            note += f", {len(parsed.duplicates)} repeated (kept once)"
        if parsed.errors:
            note += f", {len(parsed.errors)} to fix"
        summary.update(Text(note))
        ok = bool(parsed.ids) and not parsed.errors
        button.disabled = not ok
        return parsed.ids if ok else None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_submit(self) -> None:
        ids = self._validate()
        if ids is None:
            self.notify("Fix or remove the tokens marked in red first.", severity="warning")
            return
        label = self.query_one("#label", Input).value.strip()
        self.dismiss(AddRequest(ids, label))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "new_diff" or self._new_diff is not None

    def action_new_diff(self) -> None:
        new_diff = self._new_diff
        self.dismiss(None)
        if new_diff is not None:
            new_diff()

    def action_cancel(self) -> None:
        self.dismiss(None)
