"""One diff's panel: three lines (or one, compact) of state, progress, times, problems.

Pure rendering: a :class:`~tui.polling.tracker.JobView` and the time in, styled pieces
out. :class:`~tui.ui.widgets.job_list.JobList` paints them; its CSS and component
classes (the colours, from the theme) are defined here, beside what reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.domain.jobs import JobState, StateGroup
from tui.domain.text import plain
from tui.domain.wording import age, ago_text, duration, eta_text
from tui.polling.todo import todo_reason
from tui.ui.widgets.decision_line import (
    Tone,
    decision_line,
    lock_held_line,
    lock_line,
    retry_line,
)

if TYPE_CHECKING:
    from tui.polling.tracker import JobView

PANEL_CSS: Final = """
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
"""The list's look: every colour a theme variable, so every theme applies."""

PANEL_COMPONENT_CLASSES: Final[set[str]] = {
    "job-list--dim",
    "job-list--label",
    "job-list--cursor",
    "job-list--selected",
    "job-list--mark",
    "job-list--error",
    "job-list--poll-error",
    "job-list--stale",
    "job-list--bar-empty",
    *(f"job-list--fg-{group}" for group in StateGroup),
    *(f"job-list--badge-{group}" for group in StateGroup),
}

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


LOCK_KEY: Final = "o"
"""The monitor's key that goes to the diff holding a lock (``go-to-lock`` in the table),
until the keymap gives it another (the list then passes that one)."""


@dataclass(frozen=True, slots=True)
class PanelStyles:
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
    badge: dict[StateGroup, Style]
    fg: dict[StateGroup, Style]


Piece = tuple[str, Style]


def pieces_to_strip(pieces: Iterable[Piece], width: int, fill: Style) -> Strip:
    segments = [Segment(text, style) for text, style in pieces if text]
    strip = Strip(segments)
    return strip.adjust_cell_length(width, fill)


def _foreground_only(style: Style) -> Style:
    """``style`` without its background (its colour and text attributes kept)."""
    return Style(color=style.color) + style.without_color


def truncate(text: str, width: int) -> str:
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


def panel_styles(
    component: Callable[[str], Style], base: Style, *, colours_dropped: bool
) -> PanelStyles:
    """The panel's styles from the list's component classes (``component(name)``)."""

    def get(name: str) -> Style:
        # Foreground only, so the row's cursor or selection tint shows behind it.
        return _foreground_only(component(name))

    def tint(name: str) -> Style:
        # The full style has the translucent tint already blended over the base.
        return Style(bgcolor=component(name).bgcolor)

    return PanelStyles(
        base=base,
        dim=get("job-list--dim"),
        cursor=tint("job-list--cursor"),
        selected=tint("job-list--selected"),
        mark=get("job-list--mark"),
        label=get("job-list--label"),
        error=get("job-list--error"),
        poll_error=get("job-list--poll-error"),
        stale=get("job-list--stale"),
        bar_empty=get("job-list--bar-empty"),
        bar_empty_glyph=BAR_EMPTY_NO_COLOR if colours_dropped else BAR_FULL,
        badge={group: component(f"job-list--badge-{group}") for group in StateGroup},
        fg={group: get(f"job-list--fg-{group}") for group in StateGroup},
    )


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each column of the list starts and how wide it is, for one width.

    Every row (and the header line above the list) is cut to these widths, so the
    columns line up whatever the labels. Narrow: the label shrinks first (down to
    :data:`LABEL_MIN`), then the progress bar goes (its percent stays), then the
    time.

    Example:
        >>> Columns.fit(78, compact=True, id_digits=4).label
        14
    """

    width: int
    compact: bool
    id: int
    label: int
    bar: int
    time: int

    @classmethod
    def fit(cls, width: int, *, compact: bool, id_digits: int) -> Columns:
        """The columns of a list ``width`` cells wide whose longest ID has ``id_digits``."""
        id_width = id_digits + 3  # a space after the selection's dot, "#", the digits, a space
        bar = max(6, min(20, width // 10))
        time_width = TIME_WIDTH
        for drop in ("", "bar", "time"):
            if drop == "bar":
                bar = 0
            elif drop == "time":
                time_width = 0
            fixed = MARK_WIDTH + id_width + STATE_WIDTH + _progress_width(bar) + time_width
            room = width - fixed - ERROR_MIN
            if room >= LABEL_MIN:
                break
        label = max(0, min(LABEL_WIDTH, room))
        return cls(width, compact, id_width, label, bar, time_width)

    @property
    def error_start(self) -> int:
        """The cell where the error column starts (the detail lines' indent too)."""
        return (
            MARK_WIDTH + self.id + self.label + STATE_WIDTH + _progress_width(self.bar) + self.time
        )

    @property
    def error(self) -> int:
        """The error column's width: what is left."""
        return max(0, self.width - self.error_start)

    def heading(self, sorted_by: str = "", arrow: str = "") -> str:
        """The header line: each column's name over it; the column named ``sorted_by``
        (as :data:`SORT_COLUMNS` names them) followed by ``arrow``."""
        names = {name: f"{name} {arrow}" if name == sorted_by else name for name in _NAMES}
        cells = [
            " " * MARK_WIDTH,
            _fit(" " + names["ID"], self.id),
            _fit(names["label"], self.label),
            # Over the glyph: the badge starts with a space.
            _fit(" " + names["state"], STATE_WIDTH),
            _fit(names["progress"], _progress_width(self.bar)),
            _fit(names["ETA / time"], self.time),
            _fit(names["error"], self.error),
        ]
        return "".join(cells)


_NAMES: Final = ("ID", "label", "state", "progress", "ETA / time", "error")
SORT_COLUMNS: Final[dict[str, str]] = {
    "state": "state",
    "id": "ID",
    "eta": "ETA / time",
    "updated": "ETA / time",
}
"""The column each sort key orders by, for the header line's arrow."""


MARK_WIDTH: Final = 2
"""The cursor's bar and the selection's dot."""
STATE_WIDTH: Final = 14
"""The state badge (glyph, word of up to nine letters) and a space."""
LABEL_WIDTH: Final = 24
"""The label column's width when there is room; longer labels end in "…"."""
LABEL_MIN: Final = 12
TIME_WIDTH: Final = 15
"""``overdue 10h 05m``, ``ETA 2h 05m``, ``28 Nov 14:05`` and a space."""
ERROR_MIN: Final = 14
TODO_WIDTH: Final = 17
"""``⚑ version failed`` and a space: a to-do's reason, ahead of the error column."""
PERCENT_WIDTH: Final = 5
"""`` 100%`` after the bar."""


def _progress_width(bar: int) -> int:
    """The progress column: the bar (if any), the percent and a space."""
    return bar + PERCENT_WIDTH + 1


def _fit(text: str, width: int) -> str:
    """``text`` cut (by cells, "…" where cut) and padded to ``width`` cells."""
    return _pad(truncate(text, width), width)


def panel_strips(
    view: JobView,
    *,
    now: float,
    columns: Columns,
    selected: bool,
    cursor: bool,
    styles: PanelStyles,
    lock_key: str = LOCK_KEY,
) -> list[Strip]:
    """The panel's lines as strips ``columns.width`` cells wide, on the cursor's or
    the selection's tint."""
    background = styles.base
    if cursor:
        background = background + styles.cursor
    elif selected:
        background = background + styles.selected
    mark = ("▌" if cursor else " ") + ("●" if selected else " ")
    lines = render_panel(
        view, now=now, columns=columns, mark=mark, styles=styles, lock_key=lock_key
    )
    width = columns.width
    return [
        pieces_to_strip(((text, background + style) for text, style in line), width, background)
        for line in lines
    ]


def _progress_bar(progress: int, width: int, fill: Style, styles: PanelStyles) -> list[Piece]:
    done = round(width * progress / 100)
    empty = styles.bar_empty_glyph * (width - done)
    return [(BAR_FULL * done, fill), (empty, styles.bar_empty)]


def render_panel(
    view: JobView,
    *,
    now: float,
    columns: Columns,
    mark: str,
    styles: PanelStyles,
    lock_key: str = LOCK_KEY,
) -> list[list[Piece]]:
    """The lines of one diff's panel, as (text, style) pieces: one row of columns;
    in normal mode two more below the label (times and poll health; the whole
    problem when its column cut it).

    All remote text goes through :func:`tui.domain.text.plain` and is drawn as plain
    segments, so markup or escape sequences in it are shown, never obeyed.
    """
    state = view.state
    family = StateGroup.of(state)
    fg = styles.fg[family]
    if view.keys_refused:
        # Not the last state seen, as if it still held: nothing can be read now.
        word = "UNKNOWN"
    elif state is not None:
        word = state.label.upper()
    else:
        word = plain(view.state_name or "unknown")[:9]
    badge = _fit(f" {GLYPHS.get(state, '?')} {word}", STATE_WIDTH - 1)
    label = plain(view.label) if view.label else ""
    health = _health_note(view, now)
    poll_error = view.poll_error_text(now)
    note_style = styles.poll_error if poll_error else styles.dim
    stale = view.stale or view.late(now)
    if stale:
        note_style = styles.stale
    problem, problem_style = _problem(view, poll_error, styles, now, lock_key)
    row_problem = problem
    if not columns.compact and view.poll_failure is not None:
        # The countdown to the next try changes every second: the row says what failed,
        # the detail line below (near the left edge, cheap to resend: issue 15) when.
        row_problem = _problem(view, view.poll_failure.head, styles, now, lock_key)[0]
    if not problem and health:
        # Our data's health, when nothing went wrong with the job: in the error column.
        problem = row_problem = health
        problem_style = note_style

    row: list[Piece] = [
        (mark, styles.mark),
        (_fit(f" #{view.diffid}", columns.id), styles.label),
        (_fit(label, columns.label), styles.dim),
        (badge, styles.badge[family]),
        (" ", styles.base),
    ]
    if columns.bar:
        row += _progress_bar(view.progress or 0, columns.bar, fg, styles)
    row.append((f"{_percent(view.progress):>{PERCENT_WIDTH}} ", fg))
    if columns.time:
        row.append((_fit(_time_cell(view, now), columns.time), styles.dim))
    error_room = columns.error
    reason = todo_reason(view)
    if reason is not None:
        # What the operator has to do, in a word, before what went wrong: `f` lists it.
        flag = _fit(f"⚑ {reason}", min(error_room, TODO_WIDTH))
        row.append((flag, styles.mark))
        error_room -= cell_len(flag)
    row.append((truncate(row_problem, error_room), problem_style))
    if columns.compact:
        return [row]

    # Under the label: near the left edge, as a line that changes is resent from
    # there (issue 15), so the elapsed time and the poll countdown stay cheap.
    indent = (mark[0] + " " * (MARK_WIDTH + columns.id - 1), styles.mark)
    # Not the job's "updated 10s ago": the time column has the ETA, and what ticks
    # every ten seconds costs bytes (issue 15); the stale mark says when data is old.
    details = " · ".join(
        [*_timing_parts(view, now), *([health] if health and health != problem else [])]
    )
    second: list[Piece] = [indent, (details, note_style if stale else styles.dim)]
    third: list[Piece] = [indent]
    if problem != row_problem or cell_len(problem) > error_room:
        third.append((truncate(problem, columns.width - cell_len(indent[0])), problem_style))
    return [row, second, third]


def _time_cell(view: JobView, now: float) -> str:
    """The ETA / time column: the ETA while in flight, when the job ended after."""
    state = view.state
    if state is None:
        return ""
    if state is JobState.RUNNING or state.is_waiting:
        return eta_text(view.eta, now)
    return job_time_text(view, now)


def _percent(progress: int | None) -> str:
    return f"{progress:>3}%" if progress is not None else "  -%"


def _timing_parts(view: JobView, now: float) -> list[str]:
    state = view.state
    parts: list[str] = []
    if state is JobState.RUNNING or (state is not None and state.is_waiting):
        if view.start is not None:
            parts.append(f"elapsed {age(now - view.start)}")
    elif state is not None and state.is_terminal and view.start is not None:
        end = view.finished_at
        if end is not None and end >= view.start:
            parts.append(f"ran {duration(end - view.start)}")
    return parts


def _health_note(view: JobView, now: float) -> str | None:
    """What our data's health says, when it is not simply fresh: a retry on its way,
    or a stale status (saved, or older than its cadence) and when we last had one."""
    if view.retry_in_flight:
        return "retry sending…"
    if view.late(now) and view.updated_at is not None:
        return "stale · last seen " + ago_text(view.updated_at, now)
    if view.stale:
        seen = view.entry.last.seen_at if view.entry.last is not None else None
        if seen is not None:
            return "stale · last seen " + ago_text(seen, now)
        return "no answer yet" if view.poll_error else "not polled yet"
    return None


CLOCK_TIME_AFTER: Final = 12 * 3600
"""From this age on, a job's time reads as a date and clock time, not as hours ago."""


def job_time_text(view: JobView, now: float) -> str:
    """When the job itself last changed, by the server's ``jobupdated``: ``1h 45m ago``,
    ``23m ago``, or ``28 Nov 14:05`` when long ago; ``""`` without one. Not when we last
    asked: a diff that failed an hour ago reads so however recently it was polled (our
    data's freshness is the stale mark)."""
    when = view.job.updated if view.job is not None and view.job.updated else None
    if when is None:
        return ""
    if now - when >= CLOCK_TIME_AFTER:
        return time.strftime("%d %b %H:%M", time.localtime(when))
    return ago_text(when, now)


def _tone_style(tone: Tone, styles: PanelStyles) -> Style:
    if tone == "error":
        return styles.error
    if tone == "unknown":
        return styles.poll_error
    if tone == "done":
        return styles.fg[StateGroup.COMPLETED]
    if tone == "busy":
        return styles.fg[StateGroup.RUNNING]
    return styles.dim


def _problem(
    view: JobView, poll_error: str | None, styles: PanelStyles, now: float, lock_key: str
) -> tuple[str, Style]:
    retry = retry_line(view)
    if view.retry_outcome_unknown and retry is not None:
        return retry, styles.poll_error
    if poll_error:
        return "⚠ " + plain(poll_error), styles.poll_error
    decision = decision_line(view, now)
    if decision is not None:
        text, tone = decision
        return text, _tone_style(tone, styles)
    lock = lock_line(view, lock_key)
    if lock is not None:
        return lock, styles.error
    state = view.state
    if retry is not None:
        # The diff is still where the refused retry left it: say why, above its old error.
        return retry, styles.error
    if view.error and state is JobState.FAILED:
        return "✗ " + plain(view.error), styles.error
    held = lock_held_line(view)
    if held is not None:
        return held, styles.dim
    if view.retries:
        last = view.retries[-1]
        return f"↻ last retry: {last.outcome}", styles.dim
    return "", styles.dim
