"""The monitor's watchlist edits: add, remove, relabel, and watching one diff (for the
lock jump and a new diff). Each is saved to the file first, off the event loop, then
shown; a save that fails leaves the screen as it was and says why.

The monitor screen owns the keys; this module owns what they do to the watchlist.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.screen import Screen

from tui.domain.text import plain
from tui.domain.watch_entry import WatchEntry
from tui.domain.wording import count_noun
from tui.polling.tracker import JobView
from tui.ui.screens.monitor_parts import MonitorParts
from tui.ui.screens.plan_text import listed
from tui.ui.widgets.job_list import JobList
from tui.ui.widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from tui.ui.screens.add_diffs import AddRequest

log = logging.getLogger("tui.ui.app")


class WatchlistEdits:
    """Add, remove and relabel watched diffs, for one monitor screen."""

    def __init__(
        self, screen: Screen[Any], parts: MonitorParts, job_list: JobList, header: StatusHeader
    ) -> None:
        """The edits of ``screen``'s ``job_list`` (and counts on its ``header``) in the
        watchlist of ``parts``."""
        self._screen = screen
        self._parts = parts
        self._list = job_list
        self._header = header
        self._removed: list[WatchEntry] = []
        """What the last removal took (labels, decisions, last statuses): `u` brings it back."""
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
        parts = self._parts
        try:
            entries, _ = await parts.writes.run(lambda: parts.watchlist.add([diffid], label))
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return False
        if parts.quitting():
            return False
        options = parts.options
        shown = entries or [WatchEntry(diffid=diffid, asid=options.asid, api_url=options.api_url)]
        parts.tracker.add(shown)
        self._list.rebuild(keep=diffid)
        self._header.set_counts(parts.tracker.summary())
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
        parts = self._parts
        try:
            entries, already = await parts.writes.run(
                lambda: parts.watchlist.add(request.ids, request.label)
            )
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return
        if parts.quitting():
            return
        tracker, options = parts.tracker, parts.options
        # Another instance may have put an ID in the file after this one started:
        # "already watched", but not on this screen. Show it (its label is in the file).
        elsewhere = [diffid for diffid in already if diffid not in tracker.views]
        shown = [
            WatchEntry(diffid=diffid, asid=options.asid, api_url=options.api_url)
            for diffid in elsewhere
        ]
        tracker.add([*entries, *shown])
        keep = next((i for i in request.ids if i in tracker.views), None)
        self._list.rebuild(keep=keep)
        self._header.set_counts(tracker.summary())
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
        body = _removal_body([self._parts.tracker.views[diffid] for diffid in ids])
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
        parts = self._parts
        try:
            await parts.writes.run(lambda: parts.watchlist.remove(ids))
        except Exception as exc:
            self._not_saved("watchlist", exc)
            return
        if parts.quitting():
            return
        views = parts.tracker.views
        self._removed = [views[diffid].entry for diffid in ids if diffid in views]
        parts.tracker.remove(ids)
        job_list = self._list
        job_list.selected -= set(ids)
        job_list.rebuild()
        self._header.selected = len(job_list.selected)
        self._header.set_counts(parts.tracker.summary())
        self._notify(f"Removed {len(ids)} from the watchlist · u: undo")

    def undo_remove(self) -> None:
        """Bring back what the last removal took, labels and decisions with it."""
        removed, self._removed = self._removed, []
        if not removed:
            self._notify("Nothing to undo: no diff was removed.")
            return
        self._screen.run_worker(self._restore(removed), group="watchlist")

    async def _restore(self, removed: list[WatchEntry]) -> None:
        parts = self._parts
        watchlist = parts.watchlist

        def restore() -> None:
            by_label: dict[str, list[int]] = {}
            for entry in removed:
                by_label.setdefault(entry.label, []).append(entry.diffid)
            for label, ids in by_label.items():
                watchlist.add(ids, label)
            for entry in removed:
                if entry.decided:
                    watchlist.record_decision(
                        entry.diffid, accepted=entry.accepted, rejected=entry.rejected
                    )

        try:
            await parts.writes.run(restore)
        except Exception as exc:
            self._removed = removed  # still there to undo once the file can be written
            self._not_saved("watchlist", exc)
            return
        if parts.quitting():
            return
        parts.tracker.add(removed)
        self._list.rebuild(keep=removed[0].diffid)
        self._header.set_counts(parts.tracker.summary())
        self._notify(f"Brought back {len(removed)} (labels and decisions kept)")

    def edit_label(self, diffid: int | None) -> None:
        """The label dialog for ``diffid`` (None: nothing to do); saved once changed."""
        if diffid is None:
            return
        view = self._parts.tracker.views[diffid]

        def edited(label: str | None) -> None:
            if label is not None:
                self._screen.run_worker(self._relabel(diffid, label), group="watchlist")

        from tui.ui.screens.edit_label import EditLabelScreen

        self._screen.app.push_screen(EditLabelScreen(diffid, view.label), edited)

    async def _relabel(self, diffid: int, label: str) -> None:
        parts = self._parts
        try:
            saved = await parts.writes.run(lambda: parts.watchlist.relabel(diffid, label))
        except Exception as exc:
            self._not_saved("label", exc)
            return
        if parts.quitting():
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
        parts.tracker.relabel(diffid, label)
        self._list.rows_changed([diffid])

    def check_file(self) -> None:
        """Show what another writer did to the file (a stat when nothing changed); one
        check at a time, on the file thread."""
        if not self._checking:
            self._checking = True
            self._screen.run_worker(self._check_file(), group="watchlist-check")

    async def _check_file(self) -> None:
        parts = self._parts
        try:
            change = await parts.writes.run(parts.watchlist.check_file)
        except Exception:
            log.exception("checking the watchlist file failed")
            return
        finally:
            self._checking = False
        if not change or parts.quitting():
            return
        tracker = parts.tracker
        removed = [diffid for diffid in change.removed if diffid in tracker.views]
        if removed:
            tracker.remove(removed)
            self._list.selected -= set(removed)
        tracker.add([entry for entry in change.added if entry.diffid not in tracker.views])
        for diffid, label in change.relabeled.items():
            if diffid in tracker.views:
                tracker.relabel(diffid, label)
        self._list.rebuild()
        self._header.selected = len(self._list.selected)
        self._header.set_counts(tracker.summary())
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
