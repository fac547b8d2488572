"""The two-line header: where the app is connected, and how the fleet is doing."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.safetext import plain


class StatusHeader(Widget):
    """Profile, ASID, API host, poll state and clock; then the state counts.

    The text is rebuilt only when something in it changes, so the header does not
    repaint every second.

    Example:
        >>> header = StatusHeader(profile="prod", asid=1234, host="api.multiplay.co.uk")
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
    """

    poll_state: reactive[str] = reactive("starting")
    counts: reactive[dict[str, int]] = reactive(dict, always_update=False)
    selected: reactive[int] = reactive(0)
    sort_label: reactive[str] = reactive("state")
    filter_text: reactive[str] = reactive("")
    clock_text: reactive[str] = reactive("")
    read_only: reactive[bool] = reactive(False)

    def __init__(
        self,
        *,
        profile: str,
        asid: int,
        host: str,
        name: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id)
        self._profile = plain(profile)
        self._asid = asid
        self._host = plain(host)

    def set_counts(self, counts: Mapping[str, int]) -> None:
        """New state counts (repaints only when they differ)."""
        fresh = dict(counts)
        if fresh != self.counts:
            self.counts = fresh

    def render(self) -> Text:
        poll_styles = {
            "live": "bold green",
            "paused": "bold yellow",
            "backing off": "bold red",
        }
        poll_glyph = {"live": "●", "paused": "⏸", "backing off": "◌"}.get(self.poll_state, "○")
        line1 = Text(no_wrap=True, overflow="ellipsis")
        # Most important first: a narrow terminal cuts the end of the line.
        line1.append("imagediff-tui", style="bold")
        line1.append(f"  {self._profile}", style="bold")
        line1.append("  ")
        line1.append(f"{poll_glyph} {self.poll_state}", style=poll_styles.get(self.poll_state, ""))
        if self.read_only:
            line1.append("  READ-ONLY", style="bold reverse")
        line1.append(f"  {self.clock_text}", style="dim")
        line1.append(f"  ASID {self._asid} · {self._host}")
        counts = self.counts
        line2 = Text(no_wrap=True, overflow="ellipsis")
        parts = [
            ("▶", "running"),
            ("◑", "waiting"),
            ("✓", "completed"),
            ("✗", "failed"),
            ("⚠", "erroring"),
        ]
        if self.selected:
            # First, so that a narrow terminal cuts the counts rather than the selection.
            line2.append(f"[{self.selected} selected]  ", style="bold")
        for glyph, key in parts:
            line2.append(f"{glyph} {counts.get(key, 0)} {key}  ")
        if counts.get("unknown"):
            # Until the first answer, so that the counts add up to the list.
            line2.append(f"? {counts['unknown']} not yet known  ")
        line2.append(f"sort: {self.sort_label}", style="dim")
        if self.filter_text:
            line2.append(f"  filter: {plain(self.filter_text)}", style="dim")
        return Text("\n").join([line1, line2])
