"""The `l` screen: the journal, newest first, filterable; enter jumps to the diff."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ClassVar, Final

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from tui.journal import JournalEvent, columns
from tui.safetext import plain

MAX_SHOWN: Final = 1000
"""Lines in the list at once; the filter searches every event loaded."""

LABEL_WIDTH: Final = 16


def event_line(event: JournalEvent) -> str:
    """One line of the view: time, diff, label, what happened (plain text)."""
    when, diff, label, what = columns(event)
    shown = plain(label)
    if len(shown) > LABEL_WIDTH:
        shown = shown[: LABEL_WIDTH - 1] + "…"
    return f"{when}  {diff:<9} {shown:<{LABEL_WIDTH}}  {plain(what)}"


def _matches(line: str, terms: list[str]) -> bool:
    lowered = line.lower()
    return all(term in lowered for term in terms)


class EventsScreen(Screen[int | None]):
    """What happened, newest first. Dismissed with the diff ID to jump to, or None.

    ``load`` reads the events (newest first); it runs in a thread, as the journal
    is files on disk.

    Example:
        >>> # app.push_screen(EventsScreen(lambda: journal.read(limit=5000)), jump_to)
    """

    DEFAULT_CSS = """
    EventsScreen { background: $surface; }
    EventsScreen #events-title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    EventsScreen #events-filter { display: none; border: tall $accent; }
    EventsScreen #events-filter.-active { display: block; }
    EventsScreen #events-list, EventsScreen #events-list:focus {
        height: 1fr; border: none; text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="events-back"),
        Binding("slash", "filter", "Filter", id="events-filter"),
    ]

    def __init__(self, load: Callable[[], list[JournalEvent]]) -> None:
        super().__init__()
        self._load_events = load
        self._events: list[JournalEvent] = []
        self._lines: list[str] = []
        self._shown: list[JournalEvent] = []

    def compose(self) -> ComposeResult:
        yield Static("Events, newest first", id="events-title", markup=False)
        yield Input(
            placeholder="filter: diff, label, state, outcome · esc clears", id="events-filter"
        )
        yield OptionList(Option(Text("Reading the journal…"), disabled=True), id="events-list")
        yield Footer()

    @property
    def event_list(self) -> OptionList:
        """The list of lines."""
        return self.query_one("#events-list", OptionList)

    def on_mount(self) -> None:
        self.event_list.focus()
        self._read()

    @work(exclusive=True, group="events-read")
    async def _read(self) -> None:
        try:
            loaded = await asyncio.to_thread(self._load_events)
        except Exception as exc:  # shown on the screen; the app must not fall over
            self._show_message(f"Could not read the journal: {plain(str(exc))}")
            return
        self._events = loaded
        self._lines = [event_line(event) for event in loaded]
        self._apply_filter(self.query_one("#events-filter", Input).value)

    def _show_message(self, text: str) -> None:
        self.event_list.set_options([Option(Text(text), disabled=True)])

    def _apply_filter(self, text: str) -> None:
        terms = text.lower().split()
        shown: list[JournalEvent] = []
        options: list[Option] = []
        more = 0
        for event, line in zip(self._events, self._lines, strict=True):
            if terms and not _matches(line, terms):
                continue
            if len(shown) >= MAX_SHOWN:
                more += 1
                continue
            shown.append(event)
            # One row per event, cut at the edge: a wrapped line reads as two events.
            options.append(Option(Text(line, no_wrap=True, overflow="ellipsis")))
        self._shown = shown
        if more:
            options.append(
                Option(
                    Text(
                        f"… {more:,} older: narrow the filter, or run `imagediff-tui events`",
                        style="italic",
                    ),
                    disabled=True,
                )
            )
        if not shown:
            words = "No event matches the filter." if terms else "Nothing recorded yet."
            options = [Option(Text(words), disabled=True)]
        option_list = self.event_list
        option_list.set_options(options)
        if shown:
            option_list.highlighted = 0

    @on(Input.Changed, "#events-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._apply_filter(event.value)

    @on(Input.Submitted, "#events-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.remove_class("-active")
        self.event_list.focus()

    @on(OptionList.OptionSelected, "#events-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_index >= len(self._shown):
            return
        chosen = self._shown[event.option_index]
        if chosen.diffid is None:
            self.notify("This event is not about one diff.", severity="warning")
            return
        self.dismiss(chosen.diffid)

    def action_filter(self) -> None:
        box = self.query_one("#events-filter", Input)
        box.add_class("-active")
        box.focus()

    def action_close(self) -> None:
        box = self.query_one("#events-filter", Input)
        if box.has_focus:
            # Escape in the box clears the filter; a second one leaves the screen.
            box.value = ""
            box.remove_class("-active")
            self.event_list.focus()
            return
        self.dismiss(None)
