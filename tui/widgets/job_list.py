"""The list of watched diffs: one virtual panel per diff, drawn with the Line API.

One widget draws the whole list. Only the rows on screen are rendered, so a
watchlist of a thousand diffs costs no more to paint than a dozen; a row that
changes off screen costs nothing until it scrolls into view. Each second,
:meth:`JobList.tick` re-renders the visible lines and refreshes only the cells that
changed (an ETA's digits), which keeps the bytes sent over a slow SSH link small.

Example:
    >>> # views: a mapping diff ID -> JobView, shared with the tracker
    >>> # job_list = JobList(views, clock=SystemClock())
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Final, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.clock import Clock
from tui.formatting import age, ago_text, duration, eta_text
from tui.job_order import SORT_KEYS, SortKey, filter_haystack, sort_value
from tui.models import JobState
from tui.safetext import plain

if TYPE_CHECKING:
    from tui.tracker import JobView

RESORT_AFTER: Final = 30.0
"""Seconds at most before answers that move diffs in the sort order re-sort the list."""

StateClass = Literal["waiting", "running", "completed", "failed", "unknown"]

GLYPHS: Final[dict[JobState | None, str]] = {
    JobState.CREATED: "○",
    JobState.PENDING: "◔",
    JobState.QUEUED: "◑",
    JobState.RUNNING: "▶",
    JobState.COMPLETED: "✓",
    JobState.FAILED: "✗",
    None: "?",
}
"""Every state has a glyph and a word, so it never depends on colour alone."""

BAR_FULL: Final = "━"
BAR_EMPTY_NO_COLOR: Final = "─"
"""The empty part of a progress bar when no colour is drawn (else it is BAR_FULL in a
dim colour): a light line beside the heavy one, so the fill still shows."""


def state_class(state: JobState | None) -> StateClass:
    """The colour family of a state."""
    if state is None:
        return "unknown"
    if state.is_waiting:
        return "waiting"
    if state is JobState.RUNNING:
        return "running"
    return "completed" if state is JobState.COMPLETED else "failed"


@dataclass(frozen=True, slots=True)
class _Styles:
    base: Style
    dim: Style
    cursor: Style
    selected: Style
    mark: Style
    label: Style
    error: Style
    poll_error: Style
    stale: Style
    bar_empty: Style
    bar_empty_glyph: str
    badge: dict[str, Style]
    fg: dict[str, Style]


Piece = tuple[str, Style]


def _pieces_to_strip(pieces: Iterable[Piece], width: int, fill: Style) -> Strip:
    segments = [Segment(text, style) for text, style in pieces if text]
    strip = Strip(segments)
    return strip.adjust_cell_length(width, fill)


def _foreground_only(style: Style) -> Style:
    return Style(
        color=style.color,
        bold=style.bold,
        dim=style.dim,
        italic=style.italic,
        underline=style.underline,
        strike=style.strike,
        reverse=style.reverse,
    )


def _truncate(text: str, width: int) -> str:
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        char_width = cell_len(char)
        if used + char_width > width - 1:
            break
        out.append(char)
        used += char_width
    return "".join(out) + "…"


def _pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal cells (str.ljust counts
    characters, and a wide CJK or emoji character takes two cells)."""
    return text + " " * max(0, width - cell_len(text))


class JobList(ScrollView, can_focus=True):
    """A scrolling list of diff panels with a cursor and a multi-selection.

    Normal mode gives each diff a three-line panel (state and name; progress, ETA
    and elapsed time; the job or poll error); compact mode gives it one line.
    """

    DEFAULT_CSS = """
    JobList {
        background: $surface;
        scrollbar-gutter: stable;
    }
    JobList:focus { background-tint: $foreground 2%; }
    JobList > .job-list--dim { color: $text-muted; }
    JobList > .job-list--label { color: $foreground; text-style: bold; }
    JobList > .job-list--cursor { background: $primary 25%; }
    JobList > .job-list--selected { background: $accent 15%; }
    JobList > .job-list--mark { color: $accent; text-style: bold; }
    JobList > .job-list--error { color: $state-failed; }
    JobList > .job-list--poll-error { color: $state-poll-error; text-style: bold; }
    JobList > .job-list--stale { color: $state-stale; text-style: italic; }
    JobList > .job-list--bar-empty { color: $foreground 20%; }
    JobList > .job-list--fg-waiting { color: $state-waiting; }
    JobList > .job-list--fg-running { color: $state-running; }
    JobList > .job-list--fg-completed { color: $state-completed; }
    JobList > .job-list--fg-failed { color: $state-failed; }
    JobList > .job-list--fg-unknown { color: $state-stale; }
    JobList > .job-list--badge-waiting {
        background: $state-waiting; color: $background; text-style: bold;
    }
    JobList > .job-list--badge-running {
        background: $state-running; color: $background; text-style: bold;
    }
    JobList > .job-list--badge-completed {
        background: $state-completed; color: $background; text-style: bold;
    }
    JobList > .job-list--badge-failed {
        background: $state-failed; color: $background; text-style: bold;
    }
    JobList > .job-list--badge-unknown {
        background: $state-stale; color: $background; text-style: bold;
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "job-list--dim",
        "job-list--label",
        "job-list--cursor",
        "job-list--selected",
        "job-list--mark",
        "job-list--error",
        "job-list--poll-error",
        "job-list--stale",
        "job-list--bar-empty",
        *(f"job-list--fg-{name}" for name in ("waiting", "running", "completed", "failed")),
        "job-list--fg-unknown",
        *(f"job-list--badge-{name}" for name in ("waiting", "running", "completed", "failed")),
        "job-list--badge-unknown",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down,j", "cursor_down", "Down", show=False, id="cursor-down"),
        Binding("up,k", "cursor_up", "Up", show=False, id="cursor-up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="page-down"),
        Binding("pageup", "page_up", "Page up", show=False, id="page-up"),
        Binding("home,g", "first", "First", show=False, id="first"),
        Binding("end,G", "last", "Last", show=False, id="last"),
        # Left out of the footer, which must fit 80 columns; `?` lists them.
        Binding("space", "toggle_select", "Select", id="toggle-select", show=False),
        Binding("enter", "activate", "Details", id="details", show=False),
    ]

    cursor: reactive[int] = reactive(0, init=False, always_update=True)
    compact: reactive[bool] = reactive(False, init=False)

    class _ListMessage(Message):
        """A message from a JobList; ``control`` is the list (as OptionList's are)."""

        def __init__(self, job_list: JobList) -> None:
            super().__init__()
            self.job_list = job_list

        @property
        def control(self) -> JobList:
            """The list that sent this message."""
            return self.job_list

    class Highlighted(_ListMessage):
        """The cursor moved to another diff."""

        def __init__(self, job_list: JobList, diffid: int | None) -> None:
            super().__init__(job_list)
            self.diffid = diffid

    class SelectionChanged(_ListMessage):
        """Diffs were selected or unselected."""

        def __init__(self, job_list: JobList, count: int) -> None:
            super().__init__(job_list)
            self.count = count

    class Activated(_ListMessage):
        """Enter (or a double click) on a diff: open its details."""

        def __init__(self, job_list: JobList, diffid: int) -> None:
            super().__init__(job_list)
            self.diffid = diffid

    def __init__(
        self,
        views: Mapping[int, JobView],
        *,
        clock: Clock,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._views = views
        self._clock = clock
        self.order: list[int] = []
        self.selected: set[int] = set()
        self.filter_text = ""
        self.sort_key: SortKey = "state"
        self._index: dict[int, int] = {}
        self._painted: dict[int, Strip] = {}
        self._styles: _Styles | None = None
        self._cursor_placed = False
        """False until the user moves the cursor: until then it stays on the top row."""
        self._sort_values: dict[int, tuple[float, ...]] = {}
        """Per diff, its sort value as of the last re-sort."""
        self._resort_at: float | None = None
        """Monotonic time of the re-sort owed to answers that moved diffs; None: none owed."""
        self._unknown_placed: set[int] = set()
        """Diffs without a known state as of the last re-sort."""
        self._sorted: list[int] | None = None
        """Every diff (shown or not) in sort order as of the last re-sort; None: re-sort."""
        self._haystacks: dict[int, str] = {}
        """Per diff, the filter's text to search, until :meth:`rows_changed` says it
        changed."""
        self._frame_rows: dict[int, list[Strip]] | None = None
        """Each panel's lines while Textual draws one frame (else None)."""
        self._frame_now = 0.0
        self.empty_hint = "Nothing watched yet: press n to add diff IDs."
        """Shown when no diff is watched (the app words it with the current keys)."""
        self.rebuild()

    # -- geometry -------------------------------------------------------------

    @property
    def row_height(self) -> int:
        """Lines per diff: 3 for a panel, 1 in compact mode."""
        return 1 if self.compact else 3

    def _update_virtual_size(self) -> None:
        width = max(self.scrollable_content_region.width, 20)
        self.virtual_size = Size(width, len(self.order) * self.row_height)

    def visible_rows(self) -> range:
        """The indexes into ``order`` of the rows at least partly on screen."""
        top = int(self.scroll_offset.y)
        height = max(self.scrollable_content_region.height, 1)
        first = top // self.row_height
        last = min(len(self.order), (top + height + self.row_height - 1) // self.row_height)
        return range(first, max(first, last))

    def visible_ids(self) -> list[int]:
        """The diffs on screen, top to bottom."""
        return [self.order[row] for row in self.visible_rows()]

    @property
    def highlighted(self) -> int | None:
        """The diff under the cursor."""
        if 0 <= self.cursor < len(self.order):
            return self.order[self.cursor]
        return None

    # -- content --------------------------------------------------------------

    def rebuild(self, *, keep: int | None = None, narrow: bool = False) -> None:
        """Re-apply the filter and sort, keeping the cursor on the same diff.

        ``narrow``: the filter only got stricter, so filter the rows shown now, in their
        order, instead of the whole list (a keystroke in the filter box stays cheap),
        unless a re-sort is owed.
        """
        anchor = keep if keep is not None else (self.highlighted if self._cursor_placed else None)
        ranked = self._sorted
        if ranked is None or self._resort_at is not None or not self._sorted_is_current():
            key = self.sort_key
            values = {diffid: sort_value(view, key) for diffid, view in self._views.items()}
            ranked = sorted(values, key=values.__getitem__)
            self._sort_values, self._sorted = values, ranked
            self._unknown_placed = {d for d, view in self._views.items() if view.state is None}
            candidates = ranked
        else:
            # Only the filter changed: the order stands. When it only got stricter, the
            # rows left out now were left out before too: test only the rows shown.
            candidates = self.order if narrow else ranked
        needle = _needle(self.filter_text)
        haystack = self._haystack
        order = [d for d in candidates if needle in haystack(d)] if needle else list(candidates)
        changed = order != self.order
        self._resort_at = None
        self.order = order
        self._index = {diffid: row for row, diffid in enumerate(order)}
        self.selected &= set(self._views)
        if anchor is not None and anchor in self._index:
            self.set_reactive(JobList.cursor, self._index[anchor])
            if keep is not None:
                # Placed on purpose (e.g. on a diff just added): later re-sorts follow it.
                self._cursor_placed = True
        elif self._cursor_placed:
            self.set_reactive(JobList.cursor, min(self.cursor, max(len(order) - 1, 0)))
        else:
            self.set_reactive(JobList.cursor, 0)
        if self.is_mounted:
            self._update_virtual_size()
            if changed or not order:
                # (An empty list's hint names the filter: redraw it as the filter changes.)
                self._painted.clear()
                self.refresh()
            self._scroll_cursor_into_view()

    def empty_text(self) -> str:
        """What the list says when it shows no diff."""
        if self._views:
            return (
                f"No watched diff matches the filter “{plain(self.filter_text.strip())}” "
                "(ID, label or state): escape clears the filter."
            )
        return self.empty_hint

    def _haystack(self, diffid: int) -> str:
        """What the filter searches in a diff (kept until its row changes)."""
        text = self._haystacks.get(diffid)
        if text is None:
            text = self._haystacks[diffid] = filter_haystack(self._views[diffid])
        return text

    def _sorted_is_current(self) -> bool:
        """True when the sorted order of every diff still holds (no diff came or went,
        no answer moved one, the sort key is the same)."""
        ranked = self._sorted
        if ranked is None or len(ranked) != len(self._views):
            return False
        views = self._views
        return all(diffid in views for diffid in ranked)

    def set_filter(self, text: str) -> None:
        """Show only diffs whose ID, label or state contains ``text``."""
        before = self.filter_text.strip().lower()
        self.filter_text = text
        self.rebuild(narrow=bool(before) and before in text.strip().lower())

    def cycle_sort(self) -> SortKey:
        """Switch to the next sort order and return it."""
        position = SORT_KEYS.index(self.sort_key)
        self.sort_key = SORT_KEYS[(position + 1) % len(SORT_KEYS)]
        self._sorted = None
        self.rebuild()
        return self.sort_key

    def rows_changed(self, diffids: Iterable[int]) -> None:
        """Views changed: redraw what is on screen; re-filter at once, re-sort soon.

        A diff that now sorts elsewhere keeps its row, redrawn in place, until the list
        re-sorts at most ``RESORT_AFTER`` seconds later (sooner on any rebuild): a burst
        of completions moves the rows once, not once per answer, and a row does not jump
        away from under the reader's eyes. One that the filter now leaves out (or lets
        in) goes (or comes) at once: the filter never shows what it excludes; so does one
        placed while its state was unknown (its first answer puts it where it belongs).
        """
        changed = {d for d in diffids if d in self._views}
        for diffid in changed:
            self._haystacks.pop(diffid, None)
        needle = _needle(self.filter_text)
        key, was = self.sort_key, self._sort_values
        moved = {d for d in changed if was.get(d) != sort_value(self._views[d], key)}
        if any(
            d not in was
            or (needle in self._haystack(d)) != (d in self._index)
            or (d in moved and d in self._unknown_placed)
            for d in changed
        ):
            before = self.order
            self._sorted = None
            self.rebuild()
            if self.order != before:
                return
        elif moved and self._resort_at is None:
            self._resort_at = self._clock.monotonic() + RESORT_AFTER
        visible = self.visible_rows()
        for diffid in changed:
            row = self._index.get(diffid)
            if row is not None and row in visible:
                self._refresh_row_cells(row)

    def tick(self) -> None:
        """Once a second: re-sort when due, else refresh only the cells of visible rows
        that changed."""
        if self._resort_at is not None and self._clock.monotonic() >= self._resort_at:
            before = self.order
            self.rebuild()
            if self.order != before:
                return
        for row in self.visible_rows():
            self._refresh_row_cells(row)

    # -- selection ------------------------------------------------------------

    def toggle(self, diffid: int) -> None:
        """Select or unselect one diff."""
        if diffid in self.selected:
            self.selected.discard(diffid)
        else:
            self.selected.add(diffid)
        self._refresh_row(diffid)
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def select_all(self) -> None:
        """Select every diff that the filter shows."""
        self.selected.update(self.order)
        self._painted.clear()
        self.refresh()
        self.post_message(self.SelectionChanged(self, len(self.selected)))

    def select_none(self) -> None:
        """Clear the selection."""
        if self.selected:
            self.selected.clear()
            self._painted.clear()
            self.refresh()
        self.post_message(self.SelectionChanged(self, 0))

    def targets(self) -> list[int]:
        """What an action applies to: the selection in list order, else the cursor's diff."""
        if self.selected:
            ordered = [diffid for diffid in self.order if diffid in self.selected]
            hidden = sorted(self.selected - set(ordered))
            return ordered + hidden
        highlighted = self.highlighted
        return [highlighted] if highlighted is not None else []

    # -- actions --------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self._move_cursor(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(self.cursor - 1)

    def action_page_down(self) -> None:
        page = max(1, self.scrollable_content_region.height // self.row_height)
        self._move_cursor(self.cursor + page)

    def action_page_up(self) -> None:
        page = max(1, self.scrollable_content_region.height // self.row_height)
        self._move_cursor(self.cursor - page)

    def action_first(self) -> None:
        self._move_cursor(0)

    def action_last(self) -> None:
        self._move_cursor(len(self.order) - 1)

    def action_toggle_select(self) -> None:
        highlighted = self.highlighted
        if highlighted is not None:
            self.toggle(highlighted)
            self._move_cursor(self.cursor + 1)

    def action_activate(self) -> None:
        highlighted = self.highlighted
        if highlighted is not None:
            self.post_message(self.Activated(self, highlighted))

    def _move_cursor(self, row: int) -> None:
        if not self.order:
            return
        self.cursor = max(0, min(row, len(self.order) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._cursor_placed = True
        for row in (old, new):
            if 0 <= row < len(self.order):
                self._refresh_row(self.order[row])
        self._scroll_cursor_into_view()
        self.post_message(self.Highlighted(self, self.highlighted))

    def watch_compact(self) -> None:
        self._painted.clear()
        self._update_virtual_size()
        self.refresh()
        self._scroll_cursor_into_view()

    def _scroll_cursor_into_view(self) -> None:
        if not self.order or not self.is_mounted:
            return
        top = self.cursor * self.row_height
        region = Region(0, top, 1, self.row_height)
        self.scroll_to_region(region, animate=False, immediate=True, force=True)

    async def _on_click(self, event: events.Click) -> None:
        row = int(event.y + self.scroll_offset.y) // self.row_height
        if not 0 <= row < len(self.order):
            return
        diffid = self.order[row]
        if event.x <= 1:
            self.toggle(diffid)
        if event.chain >= 2:
            self.post_message(self.Activated(self, diffid))
        self.cursor = row

    def on_resize(self) -> None:
        self._painted.clear()
        self._update_virtual_size()

    def on_mount(self) -> None:
        self._update_virtual_size()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._painted.clear()

    # -- drawing --------------------------------------------------------------

    def _refresh_row(self, diffid: int) -> None:
        row = self._index.get(diffid)
        if row is None:
            return
        top = row * self.row_height
        for line in range(top, top + self.row_height):
            self._painted.pop(line, None)
        self.refresh_lines(top, self.row_height)

    def _refresh_row_cells(self, row: int) -> None:
        """Refresh just the cells of ``row`` whose content differs from what was painted."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        scroll_x, scroll_y = self.scroll_offset
        height = self.scrollable_content_region.height
        now = self._clock.now()
        top = row * self.row_height
        new_lines = self._row_strips(row, width, now)
        for offset, new in enumerate(new_lines):
            y = top + offset
            if not 0 <= y - scroll_y < height:
                # A panel cut by the screen edge: its hidden lines are not drawn, and a
                # refresh there would repaint whatever is below the list (the footer).
                continue
            old = self._painted.get(y)
            if old is None:
                self.refresh(Region(0, y - scroll_y, width, 1))
                continue
            span = _changed_span(old, new)
            if span is not None:
                start, end = span
                self.refresh(Region(start - scroll_x, y - scroll_y, end - start, 1))

    def _colours_dropped(self) -> bool:
        """True when nothing on screen has a colour (NO_COLOR with an ANSI theme: the
        app uses Textual's NoColor filter), so colour cannot tell bar parts apart."""
        app = self.app
        return bool(app.no_color) and app.native_ansi_color

    def _get_styles(self) -> _Styles:
        if self._styles is None:
            names = ("waiting", "running", "completed", "failed", "unknown")

            def get(name: str) -> Style:
                # Foreground only, so the row's cursor or selection tint shows behind it.
                return _foreground_only(self.get_component_rich_style(name))

            def tint(name: str) -> Style:
                # The full style has the translucent tint already blended over the base.
                return Style(bgcolor=self.get_component_rich_style(name).bgcolor)

            self._styles = _Styles(
                base=self.rich_style,
                dim=get("job-list--dim"),
                cursor=tint("job-list--cursor"),
                selected=tint("job-list--selected"),
                mark=get("job-list--mark"),
                label=get("job-list--label"),
                error=get("job-list--error"),
                poll_error=get("job-list--poll-error"),
                stale=get("job-list--stale"),
                bar_empty=get("job-list--bar-empty"),
                bar_empty_glyph=BAR_EMPTY_NO_COLOR if self._colours_dropped() else BAR_FULL,
                badge={
                    name: self.get_component_rich_style(f"job-list--badge-{name}") for name in names
                },
                fg={name: get(f"job-list--fg-{name}") for name in names},
            )
        return self._styles

    def render_lines(self, crop: Region) -> list[Strip]:
        # One frame draws up to three lines of each panel: build each panel once a frame.
        self._frame_rows = {}
        self._frame_now = self._clock.now()
        try:
            return super().render_lines(crop)
        finally:
            self._frame_rows = None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        virtual_y = y + scroll_y
        row, line = divmod(virtual_y, self.row_height)
        styles = self._get_styles()
        if not self.order and virtual_y == 1 and width > 0:
            hint = _truncate(self.empty_text(), max(0, width - 2))
            return _pieces_to_strip([("  " + hint, styles.base + styles.dim)], width, styles.base)
        if row >= len(self.order) or width <= 0:
            return Strip.blank(width, styles.base)
        frame = self._frame_rows
        strips = frame.get(row) if frame is not None else None
        if strips is None:
            now = self._frame_now if frame is not None else self._clock.now()
            strips = self._row_strips(row, width, now)
            if frame is not None:
                frame[row] = strips
        strip = strips[line]
        self._painted[virtual_y] = strip
        return strip.crop(scroll_x, scroll_x + width)

    def _row_strips(self, row: int, width: int, now: float) -> list[Strip]:
        diffid = self.order[row]
        view = self._views[diffid]
        styles = self._get_styles()
        background = styles.base
        if row == self.cursor:
            background = background + styles.cursor
        elif diffid in self.selected:
            background = background + styles.selected
        lines = render_panel(
            view,
            now=now,
            width=width,
            compact=self.compact,
            selected=diffid in self.selected,
            cursor=row == self.cursor,
            styles=styles,
        )
        return [
            _pieces_to_strip(
                ((text, background + style) for text, style in line), width, background
            )
            for line in lines
        ]


def _needle(filter_text: str) -> str:
    return filter_text.strip().lower()


def _cells(strip: Strip) -> list[tuple[str, Style | None]]:
    cells: list[tuple[str, Style | None]] = []
    for segment in strip:
        for char in segment.text:
            cells.append((char, segment.style))
            cells.extend(("", segment.style) for _ in range(cell_len(char) - 1))
    return cells


def _changed_span(old: Strip, new: Strip) -> tuple[int, int] | None:
    """The [start, end) cell range where two lines differ, or None when equal."""
    if old == new:
        return None
    old_cells, new_cells = _cells(old), _cells(new)
    length = max(len(old_cells), len(new_cells))
    old_cells += [(" ", None)] * (length - len(old_cells))
    new_cells += [(" ", None)] * (length - len(new_cells))
    start = 0
    while start < length and old_cells[start] == new_cells[start]:
        start += 1
    if start == length:
        return None
    end = length
    while end > start and old_cells[end - 1] == new_cells[end - 1]:
        end -= 1
    return start, end


def _progress_bar(progress: int, width: int, fill: Style, styles: _Styles) -> list[Piece]:
    done = round(width * progress / 100)
    empty = styles.bar_empty_glyph * (width - done)
    return [(BAR_FULL * done, fill), (empty, styles.bar_empty)]


def render_panel(
    view: JobView,
    *,
    now: float,
    width: int,
    compact: bool,
    selected: bool,
    cursor: bool,
    styles: _Styles,
) -> list[list[Piece]]:
    """The lines of one diff's panel, as (text, style) pieces.

    All remote text goes through :func:`tui.safetext.plain` and is drawn as plain
    segments, so markup or escape sequences in it are shown, never obeyed.
    """
    state = view.state
    family = state_class(state)
    fg = styles.fg[family]
    mark = ("▌" if cursor else " ") + ("●" if selected else " ")
    word = state.label.upper() if state is not None else plain(view.state_name or "unknown")[:9]
    badge = f" {GLYPHS.get(state, '?')} {word:<9} "
    ident = f" #{view.diffid} "
    label = plain(view.label) if view.label else ""
    status_note = _status_note(view, now)
    poll_error = view.poll_error_text(now)
    note_style = styles.poll_error if poll_error else styles.dim
    if view.stale:
        note_style = styles.stale

    if compact:
        bar_width = max(6, min(20, width // 8))
        right = [
            ("  ", styles.base),
            *_progress_bar(view.progress or 0, bar_width, fg, styles),
        ]
        right.append((f" {_percent(view.progress)} ", styles.dim))
        timing = eta_text(view.eta, now) if state is JobState.RUNNING else ""
        detail = poll_error or view.error or timing
        right_text = f"{detail} · {status_note}" if detail else status_note
        fixed = (
            cell_len(mark) + cell_len(badge) + cell_len(ident) + sum(cell_len(t) for t, _ in right)
        )
        room = max(0, width - fixed - 1)
        label_room = max(0, min(cell_len(label), room // 2)) if label else 0
        tail = _truncate(plain(right_text), max(0, room - label_room - 1))
        line: list[Piece] = [
            (mark, styles.mark),
            (badge, styles.badge[family]),
            (ident, styles.label),
            (_truncate(label, label_room), styles.dim),
            *right,
            (
                tail,
                styles.poll_error if poll_error else (styles.error if view.error else note_style),
            ),
        ]
        return [line]

    # Line 1: badge, ID, label; the poll health note on the right.
    note = f" {status_note} "
    room = max(0, width - cell_len(mark) - cell_len(badge) - cell_len(ident) - cell_len(note))
    first: list[Piece] = [
        (mark, styles.mark),
        (badge, styles.badge[family]),
        (ident, styles.label),
        (_pad(_truncate(label, room), room), styles.dim),
        (note, note_style),
    ]
    # Line 2: progress, percent, ETA or outcome, elapsed.
    bar_width = max(10, min(40, width - 48))
    second: list[Piece] = [(mark[0] + "   ", styles.mark)]
    second += _progress_bar(view.progress or 0, bar_width, fg, styles)
    second.append((f" {_percent(view.progress)}", fg))
    for part in _timing_parts(view, now):
        second.append(("   " + part, styles.dim))
    # Line 3: what went wrong, if anything.
    third: list[Piece] = [(mark[0] + "   ", styles.mark)]
    problem, problem_style = _problem(view, poll_error, styles)
    third.append((_truncate(problem, width - 4), problem_style))
    return [first, second, third]


def _percent(progress: int | None) -> str:
    return f"{progress:>3}%" if progress is not None else "  -%"


def _timing_parts(view: JobView, now: float) -> list[str]:
    state = view.state
    parts: list[str] = []
    if state is JobState.RUNNING or (state is not None and state.is_waiting):
        text = eta_text(view.eta, now)
        if text:
            parts.append(text)
        if view.start is not None:
            parts.append(f"elapsed {age(now - view.start)}")
    elif state is not None and state.is_terminal and view.start is not None:
        end = view.finished_at
        if end is not None and end >= view.start:
            parts.append(f"ran {duration(end - view.start)}")
    return parts


def _status_note(view: JobView, now: float) -> str:
    if view.retry_in_flight:
        return "retry sending…"
    if view.stale:
        seen = view.entry.last.seen_at if view.entry.last is not None else None
        if seen is not None:
            return "stale · last seen " + ago_text(seen, now)
        return "no answer yet" if view.poll_error else "not polled yet"
    return job_time_text(view, now)


JOB_TIME_VERBS: Final[dict[JobState | None, str]] = {
    JobState.COMPLETED: "finished",
    JobState.FAILED: "failed",
}

CLOCK_TIME_AFTER: Final = 12 * 3600
"""From this age on, a job's time reads as a date and clock time, not as hours ago."""


def job_time_text(view: JobView, now: float) -> str:
    """When the job itself last changed, by the server's ``jobupdated``: ``finished 1h
    45m ago``, ``failed 23m ago``, ``updated 10s ago``, or ``finished 28 Nov 14:05`` when
    long ago. Not when we last asked: a diff that failed an hour ago reads so however
    recently it was polled (our data's freshness is the stale mark)."""
    verb = JOB_TIME_VERBS.get(view.state, "updated")
    when = view.job.updated if view.job is not None and view.job.updated else None
    if when is None:
        return f"checked {ago_text(view.updated_at, now)}"
    if now - when >= CLOCK_TIME_AFTER:
        return f"{verb} {time.strftime('%d %b %H:%M', time.localtime(when))}"
    return f"{verb} {ago_text(when, now)}"


def _problem(view: JobView, poll_error: str | None, styles: _Styles) -> tuple[str, Style]:
    if view.outcome_unknown:
        return "? retry outcome unknown: checking status", styles.poll_error
    if poll_error:
        return "⚠ " + plain(poll_error), styles.poll_error
    last_retry = view.retries[-1] if view.retries else None
    state = view.state
    if (
        last_retry is not None
        and last_retry.outcome in ("rejected", "failed")
        and (state is None or state.is_terminal)
    ):
        # The diff is still where the refused retry left it: say why, above its old error.
        prefix = "↻ retry " if last_retry.outcome == "rejected" else "↻ "
        return prefix + plain(last_retry.message), styles.error
    if view.error and state is JobState.FAILED:
        return "✗ " + plain(view.error), styles.error
    if view.retries:
        last = view.retries[-1]
        return f"↻ last retry: {last.outcome}", styles.dim
    return "", styles.dim
