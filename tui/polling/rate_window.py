"""The requests-per-second cap the app and the command line share: a sliding log.

At most ``N = max(1, floor(rate))`` requests in any window of ``W = max(1, N / rate)``
seconds (plus a small safety margin), so no 1-second window ever holds more than
``rate`` requests as the server counts them. A request reaches the server some time
between being started and being answered (a busy event loop or a new connection can
hold it back), so a request opened with :meth:`RateWindow.start` counts as "now" while
it is in flight and from its answer once :meth:`RateWindow.close` is called.

Pure: time comes only from a :class:`~tui.domain.clock.Clock`, so it is testable with a
:class:`~tui.domain.clock.FakeClock`.

Example:
    >>> from tui.domain.clock import FakeClock
    >>> window = RateWindow(FakeClock(), rate=2.0)
    >>> window.take_slot(), window.take_slot(), window.take_slot()
    (True, True, False)
    >>> round(window.seconds_until_slot(), 2)
    1.05
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Final

from tui.domain.clock import Clock

RATE_WINDOW_MARGIN: Final = 0.05
"""Extra seconds on the cap's window: a request leaves a few ms after it is started,
so the server may see two requests closer together than we started them."""

MIN_RATE_FACTOR: Final = 0.125
"""The lowest share of the configured rate a slow-down may go down to."""


@dataclass(slots=True)
class Send:
    """One request in the cap's log."""

    at: float
    """When it may have reached the server, at the latest (once answered)."""
    open: bool = False
    """In flight: it may reach the server at any moment until answered."""


class RateWindow:
    """A sliding log of recent requests that says when the next one may start.

    ``factor`` (``MIN_RATE_FACTOR`` to 1) scales the configured ``rate`` down while the
    server asks to slow down; the caller's policy decides when to change it.
    """

    def __init__(self, clock: Clock, rate: float) -> None:
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError(f"rate must be a positive number, not {rate!r}")
        self._clock = clock
        self._base_rate = rate
        self._sends: deque[Send] = deque()
        self.factor = 1.0

    @property
    def rate(self) -> float:
        """Requests per second allowed now (the configured rate times ``factor``)."""
        return self._base_rate * self.factor

    def window(self) -> tuple[int, float]:
        """(at most this many requests, in any window of this many seconds)."""
        rate = self.rate
        burst = max(1, math.floor(rate))
        return burst, max(1.0, burst / rate) + RATE_WINDOW_MARGIN

    def seconds_until_slot(self) -> float:
        """Seconds until the cap allows another request."""
        burst, window = self.window()
        now = self._clock.monotonic()
        recent = [now if s.open else s.at for s in self._sends if s.open or s.at + window > now]
        if len(recent) < burst:
            return 0.0
        recent.sort(reverse=True)
        return max(0.0, recent[burst - 1] + window - now)

    def take_slot(self) -> bool:
        """True and counted (from now) when the cap allows a request now, else False
        (ask again after :meth:`seconds_until_slot`)."""
        send = self.acquire()
        if send is None:
            return False
        self.close(send)
        return True

    def acquire(self) -> Send | None:
        """An in-flight request, counted, when the cap allows one now; else None.

        Pass it to :meth:`close` when the answer comes (or the request is given up).
        """
        if self.seconds_until_slot() > 0:
            return None
        return self.start()

    def start(self) -> Send:
        """Count a request sent now, whatever the cap says (the caller checked it)."""
        send = Send(self._clock.monotonic(), open=True)
        self._sends.append(send)
        # Forget answered requests that no window can hold any more.
        _, window = self.window()
        horizon = send.at - 2 * window / MIN_RATE_FACTOR
        while self._sends and not self._sends[0].open and self._sends[0].at < horizon:
            self._sends.popleft()
        return send

    def close(self, send: Send) -> None:
        """The request was answered (or given up): it counts from now."""
        send.at = max(send.at, self._clock.monotonic())
        send.open = False
