"""The two-line header: where the app is connected, and how the fleet is doing.

The second line splits the diffs by state, each counted once, so its counts add up to
the list; how many of them fail to be read ("erroring") is a different question and
is shown apart, after a bar, only when some do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.domain.jobs import StateGroup
from tui.domain.text import plain
from tui.domain.wording import ago_text

POLL_CLASSES = {
    "live": "status-header--live",
    "paused": "status-header--paused",
    "backing off": "status-header--trouble",
    "offline": "status-header--trouble",
    "keys refused": "status-header--trouble",
}
"""The component class of each poll state's words: colours from the theme."""
POLL_GLYPHS = {
    "live": "●",
    "paused": "⏸",
    "backing off": "◌",
    "offline": "✕",
    "keys refused": "✕",
}
STATE_COUNTS = (
    ("▶", StateGroup.RUNNING),
    ("◑", StateGroup.WAITING),
    ("✓", StateGroup.COMPLETED),
    ("✗", StateGroup.FAILED),
)
"""The groups shown always, with their glyphs (the unknown ones only when there are)."""


class StatusHeader(Widget):
    """Profile, ASID, API host, poll state and clock; then the state counts.

    The text is rebuilt only when something in it changes, so the header does not
    repaint every second.

    Example:
        >>> header = StatusHeader(profile="prod", asid=1234, api_host="api.multiplay.co.uk")
    """

    DEFAULT_CSS = """
    StatusHeader {
        dock: top;
        height: 2;
        background: $panel;
        color: $foreground;
        padding: 0 1;
        /* A long first line must not wrap and push the counts out of the two rows. */
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusHeader .-title { text-style: bold; }
    StatusHeader > .status-header--live { color: $success; text-style: bold; }
    StatusHeader > .status-header--paused { color: $warning; text-style: bold; }
    StatusHeader > .status-header--trouble { color: $error; text-style: bold; }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = set(POLL_CLASSES.values())

    poll_state: reactive[str] = reactive("starting")
    last_answer: reactive[str] = reactive("")
    """When the server last answered, in words (shown while offline)."""
    counts: reactive[dict[str, int]] = reactive(dict, always_update=False)
    selected: reactive[int] = reactive(0)
    sort_label: reactive[str] = reactive("state")
    sort_arrow: reactive[str] = reactive("↑")
    shown: reactive[tuple[int, int]] = reactive((0, 0))
    """How many diffs the list shows, of how many watched."""
    attention: reactive[bool] = reactive(False)
    """The quick filter (only diffs that need attention) is on."""
    filter_text: reactive[str] = reactive("")
    clock_text: reactive[str] = reactive("")
    read_only: reactive[bool] = reactive(False)
    refused_status: reactive[int | None] = reactive(None)
    """The HTTP status of the keys' refusal (401, 403) while they are refused."""

    def __init__(
        self,
        *,
        profile: str,
        asid: int,
        api_host: str,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self._profile = plain(profile)
        self._asid = asid
        self._api_host = plain(api_host)

    def set_counts(self, counts: Mapping[str, int]) -> None:
        """New state counts (repaints only when they differ)."""
        fresh = dict(counts)
        if fresh != self.counts:
            self.counts = fresh

    def show_poll_state(
        self, state: str, last_answer_at: float | None, now: float, http_status: int | None = None
    ) -> None:
        """The tracker's poll state, and when the server last answered (wall times);
        ``http_status``: the refusal's status while the keys are refused."""
        self.refused_status = http_status
        self.poll_state = state
        # Coarse (ago_text): while offline the header repaints every ten seconds, not
        # every second.
        self.last_answer = (
            f"last answer {ago_text(last_answer_at, now)}"
            if last_answer_at is not None
            else "no answer yet"
        )

    def poll_words(self) -> str:
        """The poll state in words: ``live``, ``offline, last answer 40s ago``..."""
        if self.poll_state == "offline" and self.last_answer:
            return f"offline, {self.last_answer}"
        if self.poll_state == "keys refused":
            status = f" ({self.refused_status})" if self.refused_status else ""
            return f"keys refused{status}: fix profile {self._profile}"
        return self.poll_state

    def render(self) -> Text:
        poll_glyph = POLL_GLYPHS.get(self.poll_state, "○")
        line1 = Text(no_wrap=True, overflow="ellipsis")
        # Most important first: a narrow terminal cuts the end of the line.
        line1.append("imagediff-tui", style="bold")
        line1.append(f"  {self._profile}", style="bold")
        line1.append("  ")
        component = POLL_CLASSES.get(self.poll_state)
        poll_style = self.get_component_rich_style(component) if component else ""
        line1.append(f"{poll_glyph} {self.poll_words()}", style=poll_style)
        if self.read_only:
            line1.append("  READ-ONLY", style="bold reverse")
        line1.append(f"  {self.clock_text}", style="dim")
        line1.append(f"  ASID {self._asid} · {self._api_host}")
        # Narrow: the sort goes first (the column header marks it too), then the
        # counts lose their words, before anything is cut.
        for words, sort in ((True, True), (True, False), (False, False)):
            line2 = self._fleet_line(words=words, sort=sort)
            if line2.cell_len <= self.content_size.width:
                break
        return Text("\n").join([line1, line2])

    def _fleet_line(self, *, words: bool, sort: bool) -> Text:
        """The second line: selection, what hides diffs, state counts, erroring, sort."""
        counts = self.counts
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.selected:
            # First, so that a narrow terminal cuts the counts rather than the selection.
            line.append(f"[{self.selected} selected]  ", style="bold")
        shown, total = self.shown
        # First too: they say why the list is shorter than the counts.
        todo = counts.get("todo", 0)
        if self.attention:
            # First, as the filter (f) shows just these: the count names the filter.
            line.append(f"⚑ {todo} need you (f)  ", style="bold")
        if shown < total:
            line.append(f"{shown} of {total} shown  ", style="bold")
        gap = "  " if words else " "
        for glyph, key in STATE_COUNTS:
            named = f" {key}" if words else ""
            line.append(f"{glyph} {counts.get(key, 0)}{named}{gap}")
        if counts.get(StateGroup.UNKNOWN):
            # Until the first answer, so that the counts add up to the list.
            named = " not yet known" if words else ""
            line.append(f"? {counts[StateGroup.UNKNOWN]}{named}{gap}")
        if todo and not self.attention:
            named = " need you" if words else ""
            line.append(f"⚑ {todo}{named}{gap}", style="bold")
        if counts.get("erroring"):
            partitioned = sum(counts.get(group, 0) for group in StateGroup)
            erroring = counts["erroring"]
            of = f" of {partitioned}" if words else ""
            line.append(f"│ ⚠ {erroring}{of} erroring  ")
        if sort:
            line.append(f"sort: {self.sort_label} {self.sort_arrow}  ", style="dim")
        if self.filter_text:
            line.append(f"filter: {plain(self.filter_text)}", style="dim")
        line.rstrip()
        return line
