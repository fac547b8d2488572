"""Start-up speed: what the first paint does differently from a plain Textual app.

Each piece here saves at least 10 ms of the first paint on the bench (``python -m
bench --only paint``; see bench/README.md), and is kept apart so that a Textual
upgrade that breaks one costs a deletion, not a hunt. Without this package and its
callers (``tui.cli.main`` pauses the collector, :class:`~tui.ui.app.ImageDiffApp`
holds a :class:`FirstFrame`, the monitor yields a :class:`~.footer.ReadyFooter`
where Textual's ``Footer`` would do) the app starts as Textual starts it: the same
screen, later. Of Textual's private names, the start-up reads some in
:mod:`tui.ui.startup.footer` and nowhere else.

- The cyclic garbage collector is paused from before the app's imports until its
  first frame (:func:`collector_paused`): start-up allocates much and frees little,
  so the collector's passes over every module's and diff's objects find nothing to
  free. After the frame, what start-up built lives as long as the app, so it is
  frozen out of later passes, which would otherwise walk it all and could land on a
  keystroke.
- Work that can wait for the first frame waits for it (:class:`FirstFrame`): polling,
  whose first request imports httpx and builds the client in a thread that shares
  the interpreter with the screen.
- The footer lists its keys in the first frame (:mod:`tui.ui.startup.footer`).

Nothing here imports Textual when it is imported: the command line pauses the
collector before the app's modules load.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class _Refreshes(Protocol):
    def call_after_refresh(self, callback: Callable[[], None]) -> bool: ...


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off while the app starts; the first frame turns it back on
    (:class:`FirstFrame`), and so does the end of this block however the start ends."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _resume_collector() -> None:
    # Only when collector_paused turned it off: an app embedded with the collector on
    # (the tests) leaves it as it found it.
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


class FirstFrame:
    """Work that waits for the app's first frame, run in the order asked once it is drawn.

    Example:
        >>> frame = FirstFrame(); frame.after(lambda: print("polling"))
        >>> frame.drawn()
        polling
        >>> frame.after(lambda: print("at once"))
        at once
    """

    def __init__(self) -> None:
        self._waiting: list[Callable[[], None]] | None = []

    def watch(self, app: _Refreshes) -> None:
        """Have ``app`` (mounted, not yet drawn) report its first frame."""
        app.call_after_refresh(self.drawn)

    def after(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the first frame is drawn (now, if it is)."""
        if self._waiting is None:
            callback()
        else:
            self._waiting.append(callback)

    def drawn(self) -> None:
        """The first frame is drawn: the collector resumes, the waiting work runs."""
        if self._waiting is None:
            return
        waiting, self._waiting = self._waiting, None
        _resume_collector()
        for callback in waiting:
            callback()
