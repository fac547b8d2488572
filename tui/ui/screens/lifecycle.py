"""The monitor's lifecycle flows: retry, accept, reject, go to the diff that locks an
image, start a new diff. Each opens its dialog, sends through the tracker (which follows the
plan the dialog showed) and reports the outcome in words.

The monitor screen owns the keys; this module owns what they do, so the screen stays
a table of actions.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar

from rich.text import Text
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen

from tui.api.errors import ApiError
from tui.domain.actions import ActionOutcome
from tui.domain.jobs import DiffJob
from tui.domain.text import plain
from tui.domain.wording import count_noun
from tui.polling.plan import ACCEPT, REJECT, RETRY, Action
from tui.polling.tracker import (
    AcceptOptions,
    ActionRecord,
    FollowedJob,
    JobView,
    Tracker,
    locked_by,
)
from tui.ui.screens.plan_text import SendAgain, listed, plan_text
from tui.ui.widgets.job_list import JobList

if TYPE_CHECKING:
    from tui.ui.screens.accept_reject import AcceptScreen, RejectChoice, RejectScreen
    from tui.ui.screens.new_diff import NewDiffRequest, Offer

log = logging.getLogger("tui.ui.app")

Sent: TypeAlias = Awaitable[dict[int, ActionRecord]]
"""An accept's or reject's sending: each diff's record when done."""
_C = TypeVar("_C")


def lock_label(imageid: int | None, locked: int | None) -> str:
    """The label of a diff added because it locks an image (``locked``'s, when known)."""
    if imageid is not None:
        return f"locks image {imageid}"
    return f"locks the image of #{locked}" if locked is not None else "locks an image"


class Lifecycle:
    """Accept, reject, lock jump and new diff, for one monitor screen."""

    def __init__(
        self,
        screen: Screen[Any],
        tracker: Tracker,
        job_list: JobList,
        *,
        watch: Callable[[int, str], Awaitable[bool]],
        show: Callable[[int], None],
    ) -> None:
        """The flows of ``screen``'s ``job_list``: ``watch(diffid, label)`` adds a diff to
        the watchlist (False when it could not be saved), ``show(diffid)`` puts the
        cursor on a watched diff."""
        self._screen = screen
        self._tracker = tracker
        self._list = job_list
        self._watch = watch
        self._show = show

    def _notify(self, message: str, severity: SeverityLevel = "information") -> None:
        self._screen.app.notify(message, severity=severity, markup=False)

    # -- retry ------------------------------------------------------------------------

    def _chosen(self, ids: list[int] | None) -> tuple[list[int], list[int], bool]:
        """The diffs an action takes (``ids``, else the list's targets: the selected
        diffs it shows, or the focused one), the selected diffs the filter hides (left
        out, and listed apart), and whether they came from the selection."""
        if ids is not None:
            return ids, [], False
        return self._list.targets(), self._list.hidden_selection(), bool(self._list.selected)

    def retry(self, ids: list[int] | None = None) -> None:
        """Show what a retry of ``ids`` (None: the list's targets) would send and skip;
        send it if confirmed."""
        ids, hidden, from_selection = self._chosen(ids)
        if not ids and not hidden:
            self._notify("Nothing to retry: the list is empty.", "warning")
            return
        plan = self._tracker.plan(RETRY, ids)
        send = list(plan.send)
        text = plan_text(plan, self._tracker.views, hidden)
        title = f"Retry {count_noun(len(send), 'diff')}?" if send else "Nothing can be retried"

        def confirmed(ok: bool | None) -> None:
            if ok and send:
                if from_selection:
                    # Confirmed: the selection is spent (k9s and lazygit do the same).
                    self._list.select_none()
                self._screen.app.run_worker(self._send_retries(send), group="retry")

        # Imported when first shown: the first paint does not wait for it.
        from tui.ui.screens.confirm import ConfirmScreen

        self._screen.app.push_screen(
            ConfirmScreen(title, text, confirm="Retry", can_confirm=bool(send)), confirmed
        )

    async def _send_retries(self, ids: list[int]) -> None:
        try:
            results = await self._tracker.retry(ids)
        except Exception as exc:
            log.exception("retry failed")
            self._notify(f"Retry failed: {plain(str(exc))}", "error")
            return
        summary, severity = _retry_summary(ids, results)
        self._notify(f"Retry: {summary}", severity)
        self._list.rows_changed(results)

    # -- accept / reject ------------------------------------------------------------

    def accept(self, ids: list[int] | None = None) -> None:
        """The accept dialog for ``ids`` (None: the selected, or focused, diffs); sent
        once confirmed."""

        def dialog(title: str, text: Text, can_send: bool, again: SendAgain | None) -> AcceptScreen:
            # Imported when first shown: the first paint does not wait for it.
            from tui.ui.screens.accept_reject import AcceptScreen

            return AcceptScreen(title, text, can_send=can_send, send_again=again)

        def send(ids: list[int], options: AcceptOptions, again: bool) -> Sent:
            return self._tracker.accept(ids, options, again=again)

        self._decide(ACCEPT, "create image versions", dialog, send, ids)

    def reject(self, ids: list[int] | None = None) -> None:
        """The reject dialog for ``ids`` (None: the selected, or focused, diffs); sent
        once confirmed."""

        def dialog(title: str, text: Text, can_send: bool, again: SendAgain | None) -> RejectScreen:
            from tui.ui.screens.accept_reject import RejectScreen

            return RejectScreen(title, text, can_send=can_send, send_again=again)

        def send(ids: list[int], choice: RejectChoice, again: bool) -> Sent:
            return self._tracker.reject(ids, choice.reinstall, again=again)

        self._decide(REJECT, "unlock their images", dialog, send, ids)

    def _decide(
        self,
        action: Action,
        what: str,
        dialog: Callable[[str, Text, bool, SendAgain | None], ModalScreen[_C | None]],
        send: Callable[[list[int], _C, bool], Sent],
        ids: list[int] | None,
        *,
        again: bool = False,
    ) -> None:
        """The plan of ``action`` on ``ids`` (or the targets) in its dialog; sent once
        confirmed. Diffs whose same decision was sent with an unknown outcome are
        skipped, and the dialog offers to send them again anyway (``again``)."""
        ids, hidden, from_selection = self._chosen(ids)
        if not ids and not hidden:
            self._notify(f"Nothing to {action.name}: the list is empty.", "warning")
            return
        plan = self._tracker.plan(action, ids, again=again)
        chosen_ids = list(plan.send)
        unknown = [skip.diffid for skip in plan.skipped if skip.unknown]
        offer: SendAgain | None = None
        if unknown:
            chosen_ids_then = ids

            def choose() -> None:
                self._decide(action, what, dialog, send, chosen_ids_then, again=True)

            offer = SendAgain(_send_again_warning(action, unknown), choose)

        def chosen(choice: _C | None) -> None:
            if choice is not None and chosen_ids:
                if from_selection:
                    self._list.select_none()
                self._send(action, lambda: send(chosen_ids, choice, again), chosen_ids)

        title = _title(action, len(chosen_ids), what)
        if again and chosen_ids:
            harm = _harm(action)
            title += f" Sent again anyway: this may make {harm}."
        text = plan_text(plan, self._tracker.views, hidden)
        self._screen.app.push_screen(dialog(title, text, bool(chosen_ids), offer), chosen)

    def _send(self, action: Action, call: Callable[[], Sent], ids: list[int]) -> None:
        async def run() -> None:
            try:
                records = await call()
            except Exception as exc:
                log.exception("%s failed", action.name)
                self._notify(f"{action.name.capitalize()} failed: {plain(str(exc))}", "error")
                return
            message, severity = outcome_summary(action, ids, records)
            self._notify(message, severity)
            self._list.rows_changed(records)

        self._screen.app.run_worker(run(), group=action.name)

    # -- locks ----------------------------------------------------------------------

    def go_to_lock(self) -> None:
        """Go to the diff that locks the focused diff's image, watching it if needed."""
        diffid = self._list.highlighted
        view = self._tracker.views.get(diffid) if diffid is not None else None
        holder = view.locked_by if view is not None else None
        if view is None or holder is None:
            self._notify("The focused diff is not locked by another diff.", "warning")
            return
        self.go_to(holder, lambda: self._image_of(view), view.diffid)

    def go_to(
        self, holder: int, image: Callable[[], Awaitable[int | None]], locked: int | None
    ) -> None:
        """Show ``holder``; add it (labelled "locks image I", ``image()`` telling I) when
        it is not watched. ``locked``: the diff it locks, when one is known."""
        if holder in self._tracker.views:
            self._show(holder)
            return

        async def add() -> None:
            label = lock_label(await image(), locked)
            if await self._watch(holder, label):
                self._show(holder)
                self._notify(f"#{holder} {label}: now watched. Accept (V) or reject (X) it.")

        self._screen.app.run_worker(add(), group="lock")

    async def _image_of(self, view: JobView) -> int | None:
        """The image of ``view``'s diff, from its diff_info (read now if not known)."""
        job = view.job
        if job is None or job.info is None:
            try:
                job = await self._tracker.fetch_details(view.diffid)
            except ApiError:
                return None
        # Imported when first needed (also below): the first paint does not wait for it.
        from tui.ui.screens.new_diff import Offer

        offer = Offer.of(view.diffid, job.info)
        return offer.imageid if offer is not None else None

    # -- new diff -------------------------------------------------------------------

    def new_diff(self) -> None:
        """The new-diff dialog, offered the focused diff's image and machine."""

        from tui.ui.screens.new_diff import NewDiffScreen

        async def run() -> None:
            offer, note = await self._offer()
            request = await self._screen.app.push_screen_wait(NewDiffScreen(offer, note))
            if request is not None:
                await self._create(request)

        self._screen.app.run_worker(run(), group="create")

    async def _offer(self) -> tuple[Offer | None, str]:
        from tui.ui.screens.new_diff import Offer

        diffid = self._list.highlighted
        if diffid is None:
            return None, ""
        view = self._tracker.views[diffid]
        job: DiffJob | None = view.job
        if job is None or job.info is None:
            try:
                job = await self._tracker.fetch_details(diffid)
            except ApiError as exc:
                return None, f"#{diffid}'s image and machine are unknown: {plain(str(exc))}"
        offer = Offer.of(diffid, job.info)
        if offer is None:
            return None, f"#{diffid}'s diff_info names no image and machine."
        return offer, ""

    async def _create(self, request: NewDiffRequest) -> None:
        asked = f"image {request.imageid} on machine {request.machineid}"
        try:
            job = await self._tracker.create(request.imageid, request.machineid)
        except ApiError as exc:
            if exc.may_have_acted:
                self._notify(
                    f"New diff of {asked}: outcome unknown ({plain(str(exc))}); not sent "
                    "again. Check the dashboard before creating it again.",
                    "warning",
                )
                return
            holder = locked_by(str(exc))
            then = f"; going to #{holder}, which holds the lock" if holder is not None else ""
            self._notify(f"New diff of {asked} refused: {plain(str(exc))}{then}", "error")
            if holder is not None:
                self.go_to(holder, lambda: _known(request.imageid), None)
            return
        label = request.label or asked
        if await self._watch(job.diffid, label):
            self._show(job.diffid)
            self._notify(f"New diff #{job.diffid} of {asked}: {job.display_state}, now watched.")


async def _known(imageid: int) -> int | None:
    return imageid


def followed_notice(
    view: JobView, followed: FollowedJob
) -> tuple[str, Literal["information", "error"]]:
    """The notice for a followed job that ended (completed or failed)."""
    label = f" ({plain(view.label)})" if view.label else ""
    job = followed.job
    if job.failed:
        error = f": {plain(job.error)}" if job.error else ""
        return f"✗ #{view.diffid}{label}: {followed.title} failed{error}", "error"
    return f"✓ #{view.diffid}{label}: {followed.title} completed", "information"


def _harm(action: Action) -> str:
    """What a second ``action`` on a diff may do."""
    return "a second image version" if action.name == "accept" else f"a second {action.name}"


def _send_again_warning(action: Action, ids: list[int]) -> str:
    """What "send again anyway" may do, for the diffs whose ``action`` is unknown."""
    harm = _harm(action)
    listed_ids = ", ".join(f"#{diffid}" for diffid in ids[:10])
    more = f" and {len(ids) - 10} more" if len(ids) > 10 else ""
    return (
        f"The {action.name} of {listed_ids}{more} was sent and its outcome is unknown: the "
        f"server may have done it. Sending it again may make {harm}. Check the Clanforge "
        f"dashboard first; A: send again anyway."
    )


def _title(action: Action, count: int, what: str) -> str:
    if not count:
        return f"Nothing can be {action.name}ed"
    return f"{action.name.capitalize()} {count_noun(count, 'diff')} ({what})?"


def outcome_summary(
    action: Action, ids: list[int], records: Mapping[int, ActionRecord]
) -> tuple[str, SeverityLevel]:
    """An accept's or reject's outcome in words, counted, and how loud to say it."""
    parts = [_counted(records)] if records else []
    not_done = [r for r in records.values() if r.outcome is not ActionOutcome.ACCEPTED]
    if len(not_done) == 1:
        parts.append(plain(not_done[0].message))
    unsent = [diffid for diffid in ids if diffid not in records]
    if unsent:
        parts.append("not sent (changed meanwhile): " + ", ".join(f"#{d}" for d in unsent[:10]))
    severity: SeverityLevel = "warning" if not_done or unsent else "information"
    return f"{action.name.capitalize()}: " + "; ".join(parts), severity


def _retry_summary(
    asked: list[int], results: Mapping[int, ActionRecord]
) -> tuple[str, SeverityLevel]:
    """The retry's outcome in words, counted by outcome, and how loud to say it."""
    summary = _counted(results)
    severity: SeverityLevel = "information"
    if any(record.outcome is not ActionOutcome.ACCEPTED for record in results.values()):
        severity = "warning"
    # The tracker checks again: a diff that changed while the dialog was open is not sent.
    unsent = [diffid for diffid in asked if diffid not in results]
    if unsent:
        summary = (summary + "; " if summary else "") + (
            f"not sent (no longer Completed or Failed): {listed(unsent)}"
        )
        severity = "warning"
    return summary, severity


def _counted(records: Mapping[int, ActionRecord]) -> str:
    """``1 accepted, 2 refused``: the records counted by outcome, in the outcomes' order."""
    counts = Counter(record.outcome for record in records.values())
    return ", ".join(
        f"{counts[outcome]} {outcome}" for outcome in ActionOutcome if outcome in counts
    )
