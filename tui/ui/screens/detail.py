"""The detail screen of one diff: every field, diff_info, files, lifecycle, raw answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar, Final

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from tui.domain.jobs import DiffJob, FileEntry
from tui.domain.text import plain
from tui.domain.wording import duration
from tui.store.journal import JournalEvent, describe
from tui.ui.widgets.decision_line import decision_line, lock_held_line, retry_line

if TYPE_CHECKING:
    from tui.polling.tracker import JobView

MAX_LISTED_FILES = 5000
"""A diff can touch tens of thousands of files; the list shows this many and says so."""

NAME_WIDTH = 14
"""The overview's field-name column, shared by its tables so their values line up."""

FILE_TABS = ("added", "modified", "removed")


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(stamp))


def _eta_note(eta: int | None, now: float) -> str:
    if eta is None:
        return ""
    if eta >= now:
        return f" (in {duration(eta - now)})"
    return f" (overdue {duration(now - eta)})"


def human_size(size: int) -> str:
    """A file size in binary units with one decimal: ``512 B``, ``1.5 KiB``, ``3.2 GiB``.

    >>> human_size(1536)
    '1.5 KiB'
    """
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024:
            return f"{value:.1f} {unit}"
    return f"{value / 1024:.1f} TiB"


def pretty_json(raw: str) -> str:
    """``raw`` indented when it is JSON; anything else (an HTML error page) as it came."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:
        return raw


def _name_value_grid() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=NAME_WIDTH)
    table.add_column()
    return table


def _fields_table(view: JobView, job: DiffJob | None, now: float) -> Table:
    table = _name_value_grid()

    def row(name: str, value: object) -> None:
        table.add_row(Text(name), Text(plain(str(value), one_line=False)))

    row("diff", f"#{view.diffid}")
    row("label", view.label or "—")
    state = view.state_name or "unknown"
    row("state", state + (" (no answer yet this session)" if view.stale else ""))
    row("progress", f"{view.progress}%" if view.progress is not None else "—")
    held = lock_held_line(view)
    if held is not None:
        row("lock", held)
    if job is not None:
        if job.progress_clamped_from is not None:
            row("progress (raw)", f"{job.progress_clamped_from} (clamped to 0..100)")
        row("created", _when(job.created))
        row("started", _when(job.start))
        row("ETA", _when(job.eta) + _eta_note(job.eta, now))
        row("updated", _when(job.updated))
        row("failed", "yes" if job.failed else "no")
        row("error", job.error or "—")
        for key, value in sorted(job.extra.items()):
            row(key, json.dumps(value) if not isinstance(value, str) else value)
    row("last poll", _when(view.updated_at))
    poll_error = view.poll_error_text(now)
    if poll_error:
        row("poll error", poll_error)
    return table


def _info_table(job: DiffJob | None) -> Text | Table:
    if job is None or job.info is None:
        return Text("Loading diff_info…" if job is None else "The server sent no diff_info.")
    info = job.info
    table = _name_value_grid()
    for title, data in (("game", info.game), ("machine", info.machine), ("image", info.image)):
        summary = ", ".join(f"{key}={value}" for key, value in data.items()) or "—"
        table.add_row(Text(title), Text(plain(summary)))
    table.add_row(
        Text("files"),
        Text(
            f"{len(info.added)} added · {len(info.modified)} modified · {len(info.removed)} removed"
        ),
    )
    return table


def _matching(entries: tuple[FileEntry, ...], pattern: str) -> tuple[FileEntry, ...]:
    """The entries whose path contains ``pattern``, ignoring case (all without one)."""
    folded = pattern.casefold()
    return tuple(entry for entry in entries if folded in entry.path.casefold())


def _file_options(entries: tuple[FileEntry, ...], *, exact: bool) -> list[Option]:
    options = []
    for entry in entries[:MAX_LISTED_FILES]:
        size = ""
        if entry.size is not None:
            size = f"  {entry.size:,} B" if exact else f"  {human_size(entry.size)}"
        options.append(Option(Text(plain(entry.path) + size)))
    if len(entries) > MAX_LISTED_FILES:
        options.append(
            Option(Text(f"… {len(entries) - MAX_LISTED_FILES:,} more not listed"), disabled=True)
        )
    if not options:
        options.append(Option(Text("none"), disabled=True))
    return options


def _history_text(actions: list[JournalEvent] | None) -> Text:
    if actions is None:
        return Text("Reading the journal…")
    if not actions:
        return Text("Nothing recorded in the journal (no create, retry, accept or reject).\n")
    text = Text()
    for action in actions:
        text.append(f"{_when(action.at)}  {plain(describe(action))}\n")
    return text


def _lifecycle_now(view: JobView, now: float) -> Text:
    """The last retry's outcome while it stands (refused, not done, unknown) and the
    accept or reject of this session with the job it started, as they are now: what
    the diff's row says."""
    text = Text()
    retry = retry_line(view)
    if retry is not None:
        text.append("now: " + retry + "\n")
    line = decision_line(view, now)
    if line is not None:
        text.append("now: " + line[0] + "\n")
    return text


FOLLOW_VIEW_EVERY: Final = 0.5
"""Seconds between looks at the diff's view for changes to show."""


def _actions_signature(view: JobView) -> tuple[object, ...]:
    """What changes when an action on the diff is sent or answered."""
    last = view.retries[-1] if view.retries else None
    decision = view.decision
    return (
        len(view.retries),
        last.outcome if last is not None else None,
        decision.outcome if decision is not None else None,
        view.retry_in_flight,
        view.decision_in_flight,
    )


class DetailScreen(Screen[None]):
    """Everything known about one diff. Escape goes back to the list.

    ``fetch`` loads the status with ``diff_info``; until it answers the screen
    shows what the list already knew. ``history`` reads the diff's actions from the
    journal (oldest first), so the action history outlives the session.

    Example:
        >>> # app.push_screen(DetailScreen(view, fetch=tracker.fetch_details, now=clock.now,
        >>> #                              history=lambda: journal.actions(view.diffid)))
    """

    DEFAULT_CSS = """
    DetailScreen { background: $surface; }
    DetailScreen #title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    DetailScreen #fields, DetailScreen #info, DetailScreen #history { padding: 0 1; height: auto; }
    DetailScreen TabbedContent { height: 1fr; }
    DetailScreen OptionList { height: 1fr; }
    DetailScreen #raw { padding: 0 1; }
    DetailScreen #file-filter { dock: bottom; display: none; border: tall $accent; }
    DetailScreen #file-filter.-active { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="detail-back"),
        Binding("r", "reload", "Reload", id="detail-reload"),
        Binding("R", "act('retry')", "Retry", id="detail-retry"),
        Binding("R", "read_only('retry')", show=False, id="detail-retry-read-only"),
        Binding("V", "act('accept')", "Accept", id="detail-accept"),
        Binding("V", "read_only('accept')", show=False, id="detail-accept-read-only"),
        Binding("X", "act('reject')", "Reject", id="detail-reject"),
        Binding("X", "read_only('reject')", show=False, id="detail-reject-read-only"),
        Binding("slash", "filter_files", "Filter files", id="detail-filter"),
        Binding("b", "exact_sizes", "Exact sizes", id="detail-bytes"),
    ]

    def __init__(
        self,
        view: JobView,
        *,
        fetch: Callable[[int], Awaitable[DiffJob]],
        now: Callable[[], float],
        history: Callable[[], list[JournalEvent]],
        retry: Callable[[list[int]], None] | None = None,
        accept: Callable[[list[int]], None] | None = None,
        reject: Callable[[list[int]], None] | None = None,
    ) -> None:
        """``retry``, ``accept`` and ``reject`` ask to act on these diffs (the list's
        dialogs, the same confirmation); None in read-only."""
        super().__init__()
        self._view = view
        self._fetch = fetch
        self._now = now
        self._read_history = history
        self._history: list[JournalEvent] | None = None
        self._history_error: str | None = None
        self._actions = {
            name: act
            for name, act in (("retry", retry), ("accept", accept), ("reject", reject))
            if act is not None
        }
        self._job: DiffJob | None = view.job
        self._error: str | None = None
        self._exact_sizes = False
        self._file_filter = ""

    def compose(self) -> ComposeResult:
        title = f"Diff #{self._view.diffid}"
        if self._view.label:
            title += f" · {plain(self._view.label)}"
        yield Static(Text(title), id="title")
        with TabbedContent(initial="tab-overview"):
            with TabPane("Overview", id="tab-overview"), VerticalScroll():
                yield Static(id="fields")
                yield Static(id="info")
                yield Static(id="history")
            with TabPane("Added", id="tab-added"):
                yield OptionList(id="added")
            with TabPane("Modified", id="tab-modified"):
                yield OptionList(id="modified")
            with TabPane("Removed", id="tab-removed"):
                yield OptionList(id="removed")
            with TabPane("Raw response", id="tab-raw"), VerticalScroll():
                yield Static(id="raw")
        yield Input(placeholder="filter files by path · esc clears", id="file-filter")
        yield Footer()

    def on_mount(self) -> None:
        self._paint()
        self.action_reload()
        self._seen = (self._view.version, _actions_signature(self._view))
        # An action taken from here (or an answer) changes the view: show it, and read
        # the journal again when an action moved on (its sending, its outcome).
        self.set_interval(FOLLOW_VIEW_EVERY, self._follow_view)

    def _follow_view(self) -> None:
        version, actions = self._view.version, _actions_signature(self._view)
        if (version, actions) == self._seen:
            return
        moved = actions != self._seen[1]
        self._seen = (version, actions)
        if moved:
            self._reread_history()
        else:
            self._paint()

    @work(exclusive=True, group="detail-history")
    async def _reread_history(self) -> None:
        try:
            self._history = await asyncio.to_thread(self._read_history)
            self._history_error = None
        except Exception as exc:  # the fields still show; the history says why it is missing
            self._history_error = str(exc) or type(exc).__name__
        self._paint()

    def _paint(self) -> None:
        job = self._job
        self.query_one("#fields", Static).update(_fields_table(self._view, job, self._now()))
        info: Text | Table = _info_table(job)
        if self._error is not None:
            info = Text(f"Could not load diff_info: {plain(self._error)}")
        self.query_one("#info", Static).update(info)
        history = Text("\n")
        history.append("Lifecycle (created, retries, accepted or rejected)\n", style="bold")
        if self._history_error is not None:
            history.append(f"Could not read the journal: {plain(self._history_error)}")
        else:
            history.append_text(_history_text(self._history))
        history.append_text(_lifecycle_now(self._view, self._now()))
        self.query_one("#history", Static).update(history)
        self._paint_files()
        raw = pretty_json(job.raw_text) if job is not None and job.raw_text else "No response yet."
        self.query_one("#raw", Static).update(Text(plain(raw, one_line=False, limit=200_000)))

    def _paint_files(self) -> None:
        job = self._job
        if job is None or job.info is None:
            return
        for name in FILE_TABS:
            entries: tuple[FileEntry, ...] = getattr(job.info, name)
            shown = _matching(entries, self._file_filter)
            option_list = self.query_one(f"#{name}", OptionList)
            option_list.clear_options()
            option_list.add_options(_file_options(shown, exact=self._exact_sizes))
            count = f"{len(entries):,}"
            if self._file_filter:
                count = f"{len(shown):,} of {count}"
            tab = self.query_one(TabbedContent).get_tab(f"tab-{name}")
            tab.label = f"{name.capitalize()} ({count})"

    def action_reload(self) -> None:
        self._load()

    @work(exclusive=True, group="detail-fetch")
    async def _load(self) -> None:
        try:
            self._history = await asyncio.to_thread(self._read_history)
        except Exception as exc:  # the fields still show; the history says why it is missing
            self._history_error = str(exc) or type(exc).__name__
        self._paint()
        try:
            self._job = await self._fetch(self._view.diffid)
            self._error = None
        except Exception as exc:  # shown on the screen; the app must not fall over
            self._error = str(exc) or type(exc).__name__
        self._paint()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Each lifecycle key either acts or, when its action is not given, says why not.
        if action in ("act", "read_only") and parameters:
            return (parameters[0] in self._actions) == (action == "act")
        return True

    def action_act(self, name: str) -> None:
        act = self._actions.get(name)
        if act is not None:
            act([self._view.diffid])

    def action_read_only(self, name: str) -> None:
        self.notify(f"read-only: {name} is disabled", severity="warning")

    def action_exact_sizes(self) -> None:
        self._exact_sizes = not self._exact_sizes
        self._paint_files()

    def action_filter_files(self) -> None:
        tabs = self.query_one(TabbedContent)
        if tabs.active.removeprefix("tab-") not in FILE_TABS:
            tabs.active = "tab-added"
        box = self.query_one("#file-filter", Input)
        box.add_class("-active")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._file_filter = event.value.strip()
        self._paint_files()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._focus_files()

    def _focus_files(self) -> None:
        active = self.query_one(TabbedContent).active.removeprefix("tab-")
        if active in FILE_TABS:
            self.query_one(f"#{active}", OptionList).focus()

    def action_close(self) -> None:
        box = self.query_one("#file-filter", Input)
        if box.has_class("-active"):
            # Escape clears the filter first, as on the list; the next one goes back.
            box.value = ""
            box.remove_class("-active")
            self._focus_files()
            return
        self.dismiss(None)
