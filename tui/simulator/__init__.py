"""A simulator of the Clanforge image-diff API (see API.md), served over HTTP on loopback.

Standard library only, so that ``--demo``, the tests and the benchmarks run it without
anything else. Job state is computed lazily from an injectable clock at request time, so a
test can fast-forward a job by moving its fake clock; nothing ticks in the background.

One job per module: ``runs`` (a run's phases and progress curve), ``account`` (the
diffs, their image versions, what each endpoint does to them and the lock rule),
``diff_info`` (made-up file lists), ``faults`` (injected failures), ``requests`` and
``replies`` (what is asked and answered), ``server`` (HTTP on loopback), ``core`` (the
:class:`Simulator` tying them together), ``demo`` (the seeded demo set, with a lock
chain) and ``foreground`` (``imagediff-tui simulate``).
"""

from __future__ import annotations

from tui.simulator.core import Simulator
from tui.simulator.demo import DEMO_DIFFS
from tui.simulator.faults import FAULT_KINDS, HOSTILE_TEXT
from tui.simulator.foreground import main_simulate
from tui.simulator.replies import DROPPED, Reply
from tui.simulator.requests import ENDPOINTS, RequestRecord, max_in_window
from tui.simulator.runs import ETA_ERROR_LIMIT, PROGRESS_PACE, REALISTIC_ERRORS, STATE_NAMES

__all__ = [
    "DEMO_DIFFS",
    "DROPPED",
    "ENDPOINTS",
    "ETA_ERROR_LIMIT",
    "FAULT_KINDS",
    "HOSTILE_TEXT",
    "PROGRESS_PACE",
    "REALISTIC_ERRORS",
    "STATE_NAMES",
    "Reply",
    "RequestRecord",
    "Simulator",
    "main_simulate",
    "max_in_window",
]
