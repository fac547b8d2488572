"""The monitor's watchlist edits: add, remove, relabel, and watching one diff (for the
lock jump and a new diff). Each is saved to the file first, off the event loop, then
shown; a save that fails leaves the screen as it was and says why.

The monitor screen owns the keys; this module owns what they do to the watchlist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from rich.text import Text
from textual.app import App

from tui.domain.text import plain
from tui.domain.watch_entry import WatchEntry
from tui.domain.wording import count_noun
from tui.polling.tracker import JobView, Tracker
from tui.ui.app_options import AppOptions, WatchlistPort
from tui.ui.screens.plan_text import listed
from tui.ui.watchlist_writes import WatchlistWrites
from tui.ui.widgets.job_list import JobList
from tui.ui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from tui.ui.screens.add_diffs import AddRequest

log = logging.getLogger("tui.ui.app")


class WatchlistFiles(Protocol):
    """The watchlist file and its writer (the app, :class:`tui.ui.app.ImageDiffApp`)."""

    watchlist: WatchlistPort
    writes: WatchlistWrites

    @property
    def quitting(self) -> bool:
        """True once the app is on its way out: results that arrive late are dropped."""
        ...


class EditsScreen(Protocol):
    """What the edits need from the monitor screen."""

    tracker: Tracker
    options: AppOptions

    @property
    def app(self) -> App[object]:
        """The running app (dialogs, notifications)."""
        ...

    @property
    def job_list(self) -> JobList:
        """The list of panels."""
        ...

    @property
    def header(self) -> StatusHeader:
        """The two-line header."""
        ...

    def run_worker(self, work: Coroutine[Any, Any, None], *, group: str = ...) -> object:
        """Run ``work`` as the screen's worker."""
        ...


class WatchlistEdits:
    """Add, remove and relabel watched diffs, for one monitor screen."""

    def __init__(self, screen: EditsScreen, files: WatchlistFiles) -> None:
        self._screen = screen
        self._files = files

    def _notify(self, message: str) -> None:
        self._screen.app.notify(message, markup=False)

    def _not_saved(self, thing: str, exc: Exception) -> None:
        # The list on screen is unchanged, so nothing is lost; say why and carry on.
        log.exception("saving the %s failed", thing)
        self._screen.app.notify(
            f"Could not save the {thing}: {plain(str(exc))}",
            severity="error",
            markup=False,
        )

    async def watch(self, diffid: int, label: str) -> bool:
        """Add ``diffid`` to the watchlist (and the list) with ``label``; False when it
        could not be saved."""
        screen, files = self._screen, self._files
        try:
            entries, _ = await files.writes.run(lambda: files.watchlist.add([diffid], label))
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return False
        if files.quitting:
            return False
        options = screen.options
        shown = entries or [WatchEntry(diffid=diffid, asid=options.asid, api_url=options.api_url)]
        screen.tracker.add(shown)
        screen.job_list.rebuild(keep=diffid)
        screen.header.set_counts(screen.tracker.summary())
        return True

    def add(self, new_diff: Callable[[], None] | None) -> None:
        """The add dialog (offering ``new_diff`` instead, when given); added once asked."""

        def added(request: AddRequest | None) -> None:
            if request is not None:
                self._screen.run_worker(self._add(request), group="watchlist")

        # Imported when first shown: the first paint does not wait for it.
        from tui.ui.screens.add_diffs import AddDiffsScreen

        self._screen.app.push_screen(AddDiffsScreen(new_diff), added)

    async def _add(self, request: AddRequest) -> None:
        screen, files = self._screen, self._files
        try:
            entries, already = await files.writes.run(
                lambda: files.watchlist.add(request.ids, request.label)
            )
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return
        if files.quitting:
            return
        tracker, options = screen.tracker, screen.options
        # Another instance may have put an ID in the file after this one started:
        # "already watched", but not on this screen. Show it (its label is in the file).
        elsewhere = [diffid for diffid in already if diffid not in tracker.views]
        shown = [
            WatchEntry(diffid=diffid, asid=options.asid, api_url=options.api_url)
            for diffid in elsewhere
        ]
        tracker.add([*entries, *shown])
        keep = next((i for i in request.ids if i in tracker.views), None)
        screen.job_list.rebuild(keep=keep)
        screen.header.set_counts(tracker.summary())
        watched = [diffid for diffid in already if diffid not in elsewhere]
        self._notify(_added_note(len(entries), elsewhere, watched))

    def remove(self, ids: list[int], hidden: list[int] | None = None) -> None:
        """Ask, then stop watching ``ids``; ``hidden``: selected diffs the filter hides,
        left out (the dialog says so)."""
        if not ids:
            if hidden:
                self._notify(
                    f"Nothing removed: the {count_noun(len(hidden), 'selected diff')} "
                    "hidden by the filter are left out (esc clears the filter)."
                )
            return
        body = _removal_body([self._screen.tracker.views[diffid] for diffid in ids])
        if hidden:
            body.append(
                f"\nLeft out: {count_noun(len(hidden), 'selected diff')} hidden by the filter "
                f"({listed(hidden)}).",
                style="bold",
            )

        def confirmed(ok: bool | None) -> None:
            if ok:
                self._screen.run_worker(self._remove(ids), group="watchlist")

        title = f"Stop watching {count_noun(len(ids), 'diff')}?"
        from tui.ui.screens.confirm import ConfirmScreen  # when first shown, not at start

        self._screen.app.push_screen(ConfirmScreen(title, body, confirm="Remove"), confirmed)

    async def _remove(self, ids: list[int]) -> None:
        screen, files = self._screen, self._files
        try:
            await files.writes.run(lambda: files.watchlist.remove(ids))
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return
        if files.quitting:
            return
        screen.tracker.remove(ids)
        job_list = screen.job_list
        job_list.selected -= set(ids)
        job_list.rebuild()
        screen.header.selected = len(job_list.selected)
        screen.header.set_counts(screen.tracker.summary())
        self._notify(f"Removed {len(ids)} from the watchlist")

    def edit_label(self, diffid: int | None) -> None:
        """The label dialog for ``diffid`` (None: nothing to do); saved once changed."""
        if diffid is None:
            return
        view = self._screen.tracker.views[diffid]

        def edited(label: str | None) -> None:
            if label is not None:
                self._screen.run_worker(self._relabel(diffid, label), group="watchlist")

        from tui.ui.screens.edit_label import EditLabelScreen

        self._screen.app.push_screen(EditLabelScreen(diffid, view.label), edited)

    async def _relabel(self, diffid: int, label: str) -> None:
        screen, files = self._screen, self._files
        try:
            await files.writes.run(lambda: files.watchlist.relabel(diffid, label))
        except Exception as exc:
            self._not_saved("label", exc)
            return
        if not files.quitting:
            screen.tracker.relabel(diffid, label)
            screen.job_list.rows_changed([diffid])


def _added_note(added: int, elsewhere: list[int], watched: list[int]) -> str:
    """What an add did: how many added, shown from another instance, already watched."""
    note = f"Added {count_noun(added, 'diff')}"
    if elsewhere:
        note += f"; now shown, added by another instance: {listed(elsewhere)}"
    if watched:
        note += f"; already watched: {listed(watched)}"
    return note


def _removal_body(views: list[JobView]) -> Text:
    """The remove dialog's list of diffs (the first 50) and what removing does not do."""
    body = Text()
    for view in views[:50]:
        body.append(f"  #{view.diffid} {plain(view.label)}  {view.state_name}\n")
    if len(views) > 50:
        body.append(f"  … and {len(views) - 50} more\n")
    body.append("\nThe diffs themselves are not touched on the server.", style="italic")
    return body
