"""The accept and reject dialogs: what will be sent, and a choice the operator must make.

Accepting a diff (creating an image version) needs ``restart`` and rejecting one needs
``reinstall``, each 0 or 1. Neither is ever defaulted: the dialog opens with nothing
chosen and ``y`` does nothing (and says so) until ``0`` or ``1`` is pressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Input, RadioButton, RadioSet, Static

from tui.polling.tracker import AcceptOptions
from tui.ui.screens.dialog import Dialog
from tui.ui.screens.plan_text import SendAgain
from tui.ui.widgets.marked_toggles import MarkedCheckbox, MarkedRadioButton


@dataclass(frozen=True, slots=True)
class RejectChoice:
    """How to reject the diffs, as the operator chose it."""

    reinstall: bool


@dataclass(frozen=True, slots=True)
class BinaryChoice:
    """A required 0/1 parameter and what each value does, in the operator's words."""

    name: str
    zero: str
    one: str


RESTART_CHOICE = BinaryChoice(
    "restart",
    "game servers pick the new version up when they next exit",
    "stop and restart every game server using the image",
)
REINSTALL_CHOICE = BinaryChoice(
    "reinstall",
    "only unlock the image (the build machine keeps its files)",
    "also reinstall the build machine to the last good image",
)

_T = TypeVar("_T")

_CHOOSE = Binding.Group("Choose")

PLAN_ROWS = 10
"""The plan's rows at most, on a terminal tall enough."""


class _ChoiceDialog(Dialog[_T | None], Generic[_T]):
    """A plan, a required 0/1 choice, optional extras; dismisses with the choice or None."""

    DEFAULT_CSS = """
    /* The plan scrolls (fit_scroll): the choices and buttons stay on a 24-line terminal. */
    _ChoiceDialog > Vertical { width: 80; max-height: 100%; padding: 0 1; }
    _ChoiceDialog .title { margin-bottom: 1; }
    _ChoiceDialog #plan { height: auto; max-height: 10; }
    _ChoiceDialog #ask { margin-top: 1; }
    _ChoiceDialog .heading { text-style: bold; margin-top: 1; }
    _ChoiceDialog RadioSet { width: 100%; border: none; padding: 0; }
    _ChoiceDialog Checkbox { border: none; padding: 0; }
    _ChoiceDialog Input { width: 100%; }
    _ChoiceDialog #hint { color: $warning; height: auto; }
    _ChoiceDialog #again-warning { color: $warning; height: auto; margin-top: 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n,q", "cancel", "Cancel", id="dialog-cancel"),
        Binding("y", "confirm", "Confirm", id="dialog-confirm"),
        # One footer entry for both ("0 1 Choose"): a 80-column footer keeps every key.
        Binding("0", "choose(False)", "Choose 0", id="dialog-choose-0", group=_CHOOSE),
        Binding("1", "choose(True)", "Choose 1", id="dialog-choose-1", group=_CHOOSE),
        Binding("A", "send_again", "Send again anyway", id="dialog-send-again"),
    ]

    def __init__(
        self,
        title: str,
        plan: Text,
        choice: BinaryChoice,
        *,
        confirm: str,
        can_send: bool,
        send_again: SendAgain | None = None,
    ) -> None:
        super().__init__()
        self._send_again = send_again
        self._title = title
        self._plan = plan
        self._choice = choice
        self._confirm_label = confirm
        self._can_send = can_send
        self.chosen: bool | None = None
        """The required choice: None until the operator presses 0 or 1."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self._title), classes="title")
            with VerticalScroll(id="plan"):
                yield Static(self._plan)
            if self._can_send:
                name = self._choice.name
                yield Static(f"{name} (required, nothing chosen yet): press 0 or 1", id="ask")
                with RadioSet(id="choice"):
                    yield MarkedRadioButton(f"0: {self._choice.zero}", id="choice-0")
                    yield MarkedRadioButton(f"1: {self._choice.one}", id="choice-1")
                yield from self.compose_options()
                yield Static("", id="hint")
            if self._send_again is not None:
                yield Static(Text(self._send_again.warning), id="again-warning")
            with Horizontal():
                if self._send_again is not None:
                    yield Button("Send again anyway (A)", id="send-again", variant="warning")
                if self._can_send:
                    yield Button("Cancel (n)", id="cancel", compact=True)
                    yield Button(
                        f"{self._confirm_label} (y)",
                        id="confirm",
                        variant="primary",
                        disabled=True,
                        compact=True,
                    )
                else:
                    yield Button("Close (n)", id="cancel", compact=True)
        yield Footer()

    def compose_options(self) -> ComposeResult:
        """Optional extras below the required choice (none by default)."""
        yield from ()

    def on_mount(self) -> None:
        # Not scrolled to the button: on a small terminal the plan must show first.
        self.set_focus(self.query_one("#cancel", Button), scroll_visible=False)
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit)

    def _fit(self) -> None:
        self.fit_scroll(self.query_one("#plan", VerticalScroll), PLAN_ROWS)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("confirm", "choose"):
            return self._can_send
        if action == "send_again":
            return self._send_again is not None
        return True

    def action_send_again(self) -> None:
        """Close this dialog and open one that sends the unknown ones again too."""
        if self._send_again is not None:
            self.dismiss(None)
            self._send_again.choose()

    def action_choose(self, value: bool) -> None:
        self.query_one(f"#choice-{int(value)}", RadioButton).value = True

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.chosen = event.pressed.id == "choice-1"
        ask = self.query_one("#ask", Static)
        ask.update(f"{self._choice.name}: {int(self.chosen)} chosen (0 or 1 to change)")
        self.query_one("#hint", Static).update("")
        self.query_one("#confirm", Button).disabled = False

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self.action_confirm()
        elif event.button.id == "send-again":
            self.action_send_again()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # Enter leaves the text field, so that y, 0 and 1 are keys again.
        self.query_one("#cancel", Button).focus()

    def action_confirm(self) -> None:
        if self.chosen is None:
            hint = self.query_one("#hint", Static)
            hint.update(f"Choose {self._choice.name} first: press 0 or 1. Nothing was sent.")
            hint.scroll_visible()
            return
        self.dismiss(self.result(self.chosen))

    def result(self, chosen: bool) -> _T:
        """The dialog's answer once the required choice is made."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)


class AcceptScreen(_ChoiceDialog[AcceptOptions]):
    """Accept diffs (create image versions): restart chosen explicitly, three options.

    Example:
        >>> screen = AcceptScreen("Accept 1 diff?", Text("#4101 Completed"), can_send=True)
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_option('full')", "Full", id="accept-full"),
        # Not o: on the list o goes to the diff that holds a lock (one key, one meaning).
        Binding("exclamation_mark", "toggle_option('force')", "Force", id="accept-force"),
        Binding("b", "game_build", "Build", id="accept-game-build"),
    ]

    def __init__(
        self, title: str, plan: Text, *, can_send: bool, send_again: SendAgain | None = None
    ) -> None:
        super().__init__(
            title, plan, RESTART_CHOICE, confirm="Accept", can_send=can_send, send_again=send_again
        )

    def compose_options(self) -> ComposeResult:
        yield Static("Options (each off unless chosen)", classes="heading")
        yield MarkedCheckbox(
            "full (f): a full image, not differential (needed if no changes)", id="full"
        )
        yield MarkedCheckbox(
            "force (!): create it even while game servers are allocated", id="force"
        )
        yield Input(
            placeholder="game build (b): the game's build string, shown as its version",
            id="game-build",
            compact=True,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_option", "game_build"):
            return self._can_send
        return super().check_action(action, parameters)

    def action_toggle_option(self, name: str) -> None:
        self.query_one(f"#{name}", Checkbox).toggle()

    def action_game_build(self) -> None:
        self.query_one("#game-build", Input).focus()

    def result(self, chosen: bool) -> AcceptOptions:
        build = self.query_one("#game-build", Input).value.strip()
        return AcceptOptions(
            restart=chosen,
            full=self.query_one("#full", Checkbox).value,
            game_build=build or None,
            force=self.query_one("#force", Checkbox).value,
        )


class RejectScreen(_ChoiceDialog[RejectChoice]):
    """Reject diffs (unlocking their images): reinstall chosen explicitly.

    Example:
        >>> screen = RejectScreen("Reject 1 diff?", Text("#4101 Completed"), can_send=True)
    """

    def __init__(
        self, title: str, plan: Text, *, can_send: bool, send_again: SendAgain | None = None
    ) -> None:
        super().__init__(
            title,
            plan,
            REINSTALL_CHOICE,
            confirm="Reject",
            can_send=can_send,
            send_again=send_again,
        )

    def result(self, chosen: bool) -> RejectChoice:
        return RejectChoice(reinstall=chosen)
