"""The `l` screen: the journal, newest first, filterable; enter jumps to the diff."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import ClassVar, Final

from rich.cells import cell_len
from rich.segment import Segment
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Input, Static

from tui.domain.text import plain
from tui.store.journal import JournalEvent, columns
from tui.ui.widgets.panel import truncate

MAX_LOADED: Final = 5000
"""The newest events the view reads (and its filter searches); the CLI shows all."""

LABEL_WIDTH: Final = 16


class EventLines(ScrollView, can_focus=True):
    """A cursor over many one-row lines; only the rows on screen are drawn.

    Example:
        >>> lines = EventLines()  # then lines.set_lines(["a", "b"]) once mounted
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"event-lines--cursor", "event-lines--note"}
    DEFAULT_CSS = """
    EventLines { height: 1fr; }
    EventLines > .event-lines--cursor {
        background: $block-cursor-blurred-background; text-style: bold;
    }
    EventLines:focus > .event-lines--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    EventLines > .event-lines--note { color: $text-muted; text-style: italic; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "choose", "Go to the diff"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Chosen(Message):
        """Enter on line ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[str] = []
        self._choosable = 0
        self._note: str | None = None

    def set_lines(self, lines: list[str], *, note: str | None = None) -> None:
        """Show ``lines`` (all can be chosen) and, below them, ``note`` if any."""
        self._lines = lines
        self._choosable = len(lines)
        self._note = note
        rows = len(lines) + (1 if note else 0)
        self.virtual_size = Size(self.size.width, rows)
        self.cursor = 0
        self.scroll_home(animate=False)
        self.refresh()

    def _move(self, row: int) -> None:
        if self._choosable:
            self.cursor = max(0, min(row, self._choosable - 1))

    def watch_cursor(self) -> None:
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, force=True)
        self.refresh()

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.size.height - 1))

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.size.height - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(self._choosable - 1)

    def action_choose(self) -> None:
        if 0 <= self.cursor < self._choosable:
            self.post_message(self.Chosen(self.cursor))

    async def _on_click(self, event: events.Click) -> None:
        row = int(event.y + self.scroll_offset.y)
        self._move(row)
        if event.chain >= 2:
            self.action_choose()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        row = y + self.scroll_offset.y
        base = self.rich_style
        if row < self._choosable:
            text = self._lines[row]
            style = base
            if row == self.cursor:
                style = base + self.get_component_rich_style("event-lines--cursor")
        elif row == self._choosable and self._note:
            text, style = self._note, base + self.get_component_rich_style("event-lines--note")
        else:
            return Strip.blank(width, base)
        # One row per event, cut at the edge: a wrapped line would read as two events.
        return Strip([Segment(truncate(" " + text, width), style)]).adjust_cell_length(width, style)


def event_line(event: JournalEvent, todo: str | None = None) -> str:
    """One line of the view: time, diff, label, what happened (plain text); ``todo``,
    what the diff needs of the operator now (on its newest line)."""
    when, diff, label, what = columns(event)
    # Cut and padded by cells: a wide (CJK) character takes two, and columns must align.
    shown = truncate(plain(label), LABEL_WIDTH)
    shown += " " * (LABEL_WIDTH - cell_len(shown))
    # Before what happened, not after: a long line is cut at the screen's edge.
    now = f"⚑ {todo} now · " if todo else ""
    return f"{when}  {diff:<9} {shown}  {now}{plain(what)}"


def event_lines(events: list[JournalEvent], todo: Mapping[int, str]) -> list[str]:
    """The view's lines, newest first; the newest line of each diff in ``todo`` (the
    to-do: diff ID to its reason) says what it needs now."""
    marked: set[int] = set()
    lines = []
    for event in events:
        reason = None
        diffid = event.diffid
        if diffid is not None and diffid in todo and diffid not in marked:
            marked.add(diffid)
            reason = todo[diffid]
        lines.append(event_line(event, reason))
    return lines


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
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="events-back"),
        Binding("slash", "filter", "Filter", id="events-filter"),
    ]

    def __init__(
        self, load: Callable[[int], list[JournalEvent]], todo: Mapping[int, str] | None = None
    ) -> None:
        super().__init__()
        self._load_events = load
        self._todo = dict(todo or {})
        """What each diff of the to-do needs now (see :func:`tui.polling.todo.todo_reason`)."""
        self._events: list[JournalEvent] = []
        self._lines: list[str] = []
        self._lowered: list[str] = []
        self._shown: list[JournalEvent] = []
        self._more = False
        """The journal holds older events than were read."""

    def compose(self) -> ComposeResult:
        title = "Events, newest first"
        if self._todo:
            title += f" · ⚑ {len(self._todo)} need you (“⚑ … now” on their newest line)"
        yield Static(title, id="events-title", markup=False)
        yield Input(
            placeholder="filter: diff, label, state, outcome · esc clears", id="events-filter"
        )
        yield EventLines(id="events-list")
        yield Footer()

    @property
    def event_list(self) -> EventLines:
        """The list of lines."""
        return self.query_one("#events-list", EventLines)

    def on_mount(self) -> None:
        self.event_list.focus()
        self.event_list.set_lines([], note="Reading the journal…")
        self._read()

    @work(exclusive=True, group="events-read")
    async def _read(self) -> None:
        def load() -> tuple[list[JournalEvent], list[str]]:
            # Off the event loop: reading and formatting thousands of lines takes a while.
            loaded = self._load_events(MAX_LOADED)
            return loaded, event_lines(loaded, self._todo)

        try:
            self._events, self._lines = await asyncio.to_thread(load)
        except Exception as exc:  # shown on the screen; the app must not fall over
            self._show_message(f"Could not read the journal: {plain(str(exc))}")
            return
        self._lowered = [line.lower() for line in self._lines]
        self._more = len(self._events) >= MAX_LOADED
        self._apply_filter(self.query_one("#events-filter", Input).value)

    def _show_message(self, text: str) -> None:
        self.event_list.set_lines([], note=text)

    def _apply_filter(self, text: str) -> None:
        terms = text.lower().split()
        picked = [
            (event, line)
            for event, line, lowered in zip(self._events, self._lines, self._lowered, strict=True)
            if all(term in lowered for term in terms)
        ]
        self._shown = [event for event, _ in picked]
        note = None
        if self._more:
            note = f"… only the newest {MAX_LOADED:,} are read here: `imagediff-tui events` has all"
        if not picked:
            note = "No event matches the filter." if terms else "Nothing recorded yet."
        self.event_list.set_lines([line for _, line in picked], note=note)

    @on(Input.Changed, "#events-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._apply_filter(event.value)

    @on(Input.Submitted, "#events-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            event.input.remove_class("-active")
        self.event_list.focus()

    @on(EventLines.Chosen)
    def _chosen(self, event: EventLines.Chosen) -> None:
        chosen = self._shown[event.index]
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
