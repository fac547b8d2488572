"""The detail screen of one diff: every field, diff_info, files, retry history, raw answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from tui.formatting import duration
from tui.journal import JournalEvent, describe
from tui.models import DiffJob, FileEntry
from tui.safetext import plain

if TYPE_CHECKING:
    from tui.tracker import JobView

MAX_LISTED_FILES = 5000
"""A diff can touch tens of thousands of files; the list shows this many and says so."""


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


def _fields_table(view: JobView, job: DiffJob | None, now: float) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()

    def row(name: str, value: object) -> None:
        table.add_row(Text(name), Text(plain(str(value), one_line=False)))

    row("diff", f"#{view.diffid}")
    row("label", view.label or "—")
    state = view.state_name or "unknown"
    row("state", state + (" (no answer yet this session)" if view.stale else ""))
    row("progress", f"{view.progress}%" if view.progress is not None else "—")
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
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
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


def _file_options(entries: tuple[FileEntry, ...]) -> list[Option]:
    options = []
    for entry in entries[:MAX_LISTED_FILES]:
        size = f"  {entry.size:,} B" if entry.size is not None else ""
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
        return Text("No retry recorded in the journal.")
    text = Text()
    for action in actions:
        text.append(f"{_when(action.at)}  {plain(describe(action))}\n")
    return text


class DetailScreen(Screen[None]):
    """Everything known about one diff. Escape goes back to the list.

    ``fetch`` loads the status with ``diff_info``; until it answers the screen
    shows what the list already knew. ``history`` reads the diff's actions from the
    journal (oldest first), so the retry history outlives the session.

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
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "close", "Back", id="detail-back"),
        Binding("r", "reload", "Reload", id="detail-reload"),
    ]

    def __init__(
        self,
        view: JobView,
        *,
        fetch: Callable[[int], Awaitable[DiffJob]],
        now: Callable[[], float],
        history: Callable[[], list[JournalEvent]],
    ) -> None:
        super().__init__()
        self._view = view
        self._fetch = fetch
        self._now = now
        self._read_history = history
        self._history: list[JournalEvent] | None = None
        self._history_error: str | None = None
        self._job: DiffJob | None = view.job
        self._error: str | None = None

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
        yield Footer()

    def on_mount(self) -> None:
        self._paint()
        self.action_reload()

    def _paint(self) -> None:
        job = self._job
        self.query_one("#fields", Static).update(_fields_table(self._view, job, self._now()))
        info: Text | Table = _info_table(job)
        if self._error is not None:
            info = Text(f"Could not load diff_info: {plain(self._error)}")
        self.query_one("#info", Static).update(info)
        history = Text("\n")
        history.append("Retry history\n", style="bold")
        if self._history_error is not None:
            history.append(f"Could not read the journal: {plain(self._history_error)}")
        else:
            history.append_text(_history_text(self._history))
        self.query_one("#history", Static).update(history)
        if job is not None and job.info is not None:
            for name in ("added", "modified", "removed"):
                entries: tuple[FileEntry, ...] = getattr(job.info, name)
                option_list = self.query_one(f"#{name}", OptionList)
                option_list.clear_options()
                option_list.add_options(_file_options(entries))
                tab = self.query_one(TabbedContent).get_tab(f"tab-{name}")
                tab.label = f"{name.capitalize()} ({len(entries):,})"
        raw = job.raw_text if job is not None and job.raw_text else "No response yet."
        self.query_one("#raw", Static).update(Text(plain(raw, one_line=False, limit=200_000)))

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

    def action_close(self) -> None:
        self.dismiss(None)
