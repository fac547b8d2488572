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
from tui.store.watchlist.port import WatchlistPort
from tui.store.watchlist.writes import WatchlistWrites
from tui.ui.app_options import AppOptions
from tui.ui.screens.plan_text import listed
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
        self._checking = False

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

    def remove(self, ids: list[int]) -> None:
        """Ask, then stop watching ``ids``."""
        if not ids:
            return
        body = _removal_body([self._screen.tracker.views[diffid] for diffid in ids])

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
            saved = await files.writes.run(lambda: files.watchlist.relabel(diffid, label))
        except Exception as exc:
            self._not_saved("label", exc)
            return
        if files.quitting:
            return
        if not saved:
            self._screen.app.notify(
                f"#{diffid} is no longer on the watchlist (removed by another writer): "
                "the label was not saved.",
                severity="warning",
                markup=False,
            )
            await self._check_file()
            return
        screen.tracker.relabel(diffid, label)
        screen.job_list.rows_changed([diffid])

    def check_file(self) -> None:
        """Show what another writer did to the file (a stat when nothing changed); one
        check at a time, on the file thread."""
        if not self._checking:
            self._checking = True
            self._screen.run_worker(self._check_file(), group="watchlist-check")

    async def _check_file(self) -> None:
        screen, files = self._screen, self._files
        try:
            change = await files.writes.run(files.watchlist.check_file)
        except Exception:
            log.exception("checking the watchlist file failed")
            return
        finally:
            self._checking = False
        if not change or files.quitting:
            return
        tracker = screen.tracker
        removed = [diffid for diffid in change.removed if diffid in tracker.views]
        if removed:
            tracker.remove(removed)
            screen.job_list.selected -= set(removed)
        tracker.add([entry for entry in change.added if entry.diffid not in tracker.views])
        for diffid, label in change.relabeled.items():
            if diffid in tracker.views:
                tracker.relabel(diffid, label)
        screen.job_list.rebuild()
        screen.header.selected = len(screen.job_list.selected)
        screen.header.set_counts(tracker.summary())
        self._notify(change.words())


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
