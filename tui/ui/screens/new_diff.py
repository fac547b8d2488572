"""The dialog that starts a new diff: an image ID and a machine ID, typed or offered
from the focused diff ("diff this image on the same machine again")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Label, Static

from tui.domain.ids import InvalidDiffId, parse_diff_id
from tui.domain.jobs import DiffInfo
from tui.domain.text import plain
from tui.ui.screens.dialog import Dialog


@dataclass(frozen=True, slots=True)
class NewDiffRequest:
    """What the operator asked to create."""

    imageid: int
    machineid: int
    label: str


@dataclass(frozen=True, slots=True)
class Offer:
    """The focused diff's image and machine, offered as the new diff's."""

    diffid: int
    imageid: int
    machineid: int
    words: str
    """``image starfall-arena-live (54101) on machine build-us-01 (7101)``."""

    @classmethod
    def of(cls, diffid: int, info: DiffInfo | None) -> Offer | None:
        """The offer from a diff's ``diff_info``; None when it names no image or machine."""
        if info is None:
            return None
        imageid, machineid = info.imageid, info.machineid
        if imageid is None or machineid is None:
            return None
        words = f"image {_name(info.image, imageid)} on machine {_name(info.machine, machineid)}"
        return cls(diffid, imageid, machineid, words)


def _name(obj: dict[str, object], number: int) -> str:
    name = obj.get("name")
    return f"{plain(name, limit=40)} ({number})" if isinstance(name, str) and name else str(number)


def _unfocusable(button: Button) -> Button:
    button.can_focus = False
    return button


class NewDiffScreen(Dialog[NewDiffRequest | None]):
    """Ask for an image ID and a machine ID (both required) and an optional label.

    Example:
        >>> screen = NewDiffScreen(None)
    """

    DEFAULT_CSS = """
    NewDiffScreen > Vertical { width: 72; max-height: 95%; overflow-y: auto; }
    NewDiffScreen #problem { color: $error; height: auto; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="new-diff-cancel"),
        Binding("ctrl+s", "submit", "Create", id="new-diff-submit"),
    ]

    def __init__(self, offer: Offer | None, note: str = "") -> None:
        super().__init__()
        self._offer = offer
        self._note = note

    def compose(self) -> ComposeResult:
        offer = self._offer
        with Vertical():
            yield Static("Start a new diff (sent once when you press Create)", classes="title")
            if offer is not None:
                yield Static(
                    Text(f"From #{offer.diffid}: diff this image on the same machine again,\n")
                    + Text(offer.words),
                    classes="hint",
                )
            elif self._note:
                yield Static(Text(self._note), classes="hint")
            label = (
                Label("Label (optional)"),
                Input(placeholder="e.g. eu-west build 1.4.3", id="label", max_length=200),
            )
            if offer is not None:
                # The IDs are filled in: what is left to type comes first, where the
                # typing goes (and Tab's order follows the screen's).
                yield from label
            yield Label("Image ID")
            yield Input(str(offer.imageid) if offer else "", id="imageid", restrict=r"[0-9]*")
            yield Label("Machine ID")
            yield Input(str(offer.machineid) if offer else "", id="machineid", restrict=r"[0-9]*")
            if offer is None:
                yield from label
            yield Static("", id="typing", classes="hint")
            yield Static("", id="problem")
            with Horizontal():
                # Not in Tab's round: Tab stays among the fields, so typing never lands
                # on a button (where it was lost); ctrl+s and esc are their keys.
                yield _unfocusable(Button("Cancel (esc)", id="cancel"))
                yield _unfocusable(Button("Create (ctrl+s)", id="create", variant="primary"))
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#label" if self._offer else "#imageid", Input).focus()

    def on_descendant_focus(self) -> None:
        # Never silent about where the typing goes.
        focused = self.focused
        names = {"imageid": "Image ID", "machineid": "Machine ID", "label": "Label"}
        name = names.get(focused.id or "") if focused is not None else None
        if name is not None:
            self.query_one("#typing", Static).update(
                f"Typing goes to {name} · Tab: next field · ctrl+s: Create · esc: Cancel"
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "create":
            self.action_submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_submit()

    def action_submit(self) -> None:
        problems: list[str] = []
        ids: list[int] = []
        for field, words in (("imageid", "image ID"), ("machineid", "machine ID")):
            text = self.query_one(f"#{field}", Input).value.strip()
            try:
                ids.append(parse_diff_id(text))
            except InvalidDiffId as exc:
                problems.append(f"{words}: {exc.reason}" if text else f"{words}: required")
        if problems:
            self.query_one("#problem", Static).update(Text("; ".join(problems)))
            return
        label = self.query_one("#label", Input).value.strip()
        self.dismiss(NewDiffRequest(ids[0], ids[1], label))

    def action_cancel(self) -> None:
        self.dismiss(None)
