"""One diff's panel: three lines (or one, compact) of state, progress, times, problems.

Pure rendering: a :class:`~tui.tracker.JobView` and the time in, styled pieces
out. :class:`~tui.widgets.job_list.JobList` paints them; its CSS and component
classes (the colours, from the theme) are defined here, beside what reads them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tui.formatting import age, ago_text, duration, eta_text
from tui.models import JobState
from tui.safetext import plain
from tui.widgets.decision_line import Tone, decision_line, lock_line

if TYPE_CHECKING:
    from tui.tracker import JobView

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
    *(f"job-list--fg-{name}" for name in ("waiting", "running", "completed", "failed")),
    "job-list--fg-unknown",
    *(f"job-list--badge-{name}" for name in ("waiting", "running", "completed", "failed")),
    "job-list--badge-unknown",
}

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
    badge: dict[str, Style]
    fg: dict[str, Style]


Piece = tuple[str, Style]


def pieces_to_strip(pieces: Iterable[Piece], width: int, fill: Style) -> Strip:
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
    names = ("waiting", "running", "completed", "failed", "unknown")

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
        badge={name: component(f"job-list--badge-{name}") for name in names},
        fg={name: get(f"job-list--fg-{name}") for name in names},
    )


def panel_strips(
    view: JobView,
    *,
    now: float,
    width: int,
    compact: bool,
    selected: bool,
    cursor: bool,
    styles: PanelStyles,
) -> list[Strip]:
    """The panel's lines as strips ``width`` cells wide, on the cursor's or the
    selection's tint."""
    background = styles.base
    if cursor:
        background = background + styles.cursor
    elif selected:
        background = background + styles.selected
    lines = render_panel(
        view,
        now=now,
        width=width,
        compact=compact,
        selected=selected,
        cursor=cursor,
        styles=styles,
    )
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
    width: int,
    compact: bool,
    selected: bool,
    cursor: bool,
    styles: PanelStyles,
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
        tail = truncate(plain(right_text), max(0, room - label_room - 1))
        line: list[Piece] = [
            (mark, styles.mark),
            (badge, styles.badge[family]),
            (ident, styles.label),
            (truncate(label, label_room), styles.dim),
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
        (_pad(truncate(label, room), room), styles.dim),
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
    problem, problem_style = _problem(view, poll_error, styles, now)
    third.append((truncate(problem, width - 4), problem_style))
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


LOCK_KEY: Final = "o"
"""The monitor's key that goes to the diff holding a lock (``go-to-lock`` in the table)."""


def _tone_style(tone: Tone, styles: PanelStyles) -> Style:
    if tone == "error":
        return styles.error
    if tone == "unknown":
        return styles.poll_error
    if tone == "done":
        return styles.fg["completed"]
    if tone == "busy":
        return styles.fg["running"]
    return styles.dim


def _problem(
    view: JobView, poll_error: str | None, styles: PanelStyles, now: float
) -> tuple[str, Style]:
    if view.outcome_unknown:
        return "? retry outcome unknown: checking status", styles.poll_error
    if poll_error:
        return "⚠ " + plain(poll_error), styles.poll_error
    decision = decision_line(view, now)
    if decision is not None:
        text, tone = decision
        return text, _tone_style(tone, styles)
    lock = lock_line(view, LOCK_KEY)
    if lock is not None:
        return lock, styles.error
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
