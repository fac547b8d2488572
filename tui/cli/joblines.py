"""How ``status`` and ``watch`` show diffs to people: one aligned line per diff.

Columns: ID, the watchlist's label (cut to ``LABEL_MAX_CELLS`` terminal cells with
"…"), state, progress, ETA, then the job's error. The widths are fixed before the
first line, from the IDs and labels asked about, so lines printed as answers come
still line up. A terminal gets a header line over them; a pipe does not (scripts
read the lines), and without any label and header the label column is left out::

      ID  LABEL     STATE      PROGRESS  ETA
    4101  eu build  Completed      100%
    4102            Running         39%  ETA 3s

Example:
    >>> cols = JobColumns.of([4101, 12], {4101: "eu build"}, header=False)
    >>> cols.pending(12)
    '  12            …'
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from tui.domain.jobs import Job, JobState
from tui.domain.text import plain
from tui.domain.wording import eta_text
from tui.store.journal import clock_time

STATE_WIDTH: Final = max(len(state.label) for state in JobState)
LABEL_MAX_CELLS: Final = 16
"""A label's column is at most this wide (as ``events`` shows labels)."""
PROGRESS_WIDTH: Final = len("100%")
ETA_WIDTH: Final = 14
HEADINGS: Final = ("ID", "LABEL", "STATE", "PROGRESS", "ETA")
WATCH_HINT: Final = "Ctrl-C to stop; exits by itself when every diff has finished"
DIM, RESET = "\x1b[2m", "\x1b[0m"


def fit_cells(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells, with "…" where it was cut.

    Cells, not characters: a CJK or emoji character takes two.

    >>> fit_cells("build 東京 ok", 9)
    'build 東…'
    """
    # Imported here: only labels and a live block need Rich, and commands start faster.
    from rich.cells import cell_len, chop_cells

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    return chop_cells(text, width - 1)[0] + "…"


def pad_cells(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal cells (wide characters count two)."""
    from rich.cells import cell_len

    return text + " " * (width - cell_len(text))


def stamped(line: str, now: float) -> str:
    """``line`` after the local time ``now`` (``2026-12-01 19:02:03``), for a log of changes."""
    return f"{clock_time(now)}  {line}"


def dim(text: str) -> str:
    """``text`` dimmed, unless ``NO_COLOR`` asks for plain output."""
    return text if os.environ.get("NO_COLOR") else f"{DIM}{text}{RESET}"


@dataclass(frozen=True)
class JobColumns:
    """The widths of one command's lines, and each diff's label as shown."""

    id_width: int
    label_width: int = 0
    progress_width: int = PROGRESS_WIDTH
    labels: Mapping[int, str] = field(default_factory=dict)
    """Each labelled diff's label, made plain and cut to ``LABEL_MAX_CELLS``."""

    @classmethod
    def of(cls, ids: Sequence[int], labels: Mapping[int, str], *, header: bool) -> JobColumns:
        """Columns wide enough for ``ids``, their ``labels`` and, if shown, the header."""
        shown = {
            diffid: fit_cells(plain(labels[diffid]), LABEL_MAX_CELLS)
            for diffid in ids
            if labels.get(diffid)
        }
        label_width = 0
        if shown:
            from rich.cells import cell_len

            label_width = max(cell_len(text) for text in shown.values())
        id_width = max(len(str(diffid)) for diffid in ids)
        if not header:
            return cls(id_width, label_width, PROGRESS_WIDTH, shown)
        id_heading, label_heading, _, progress_heading, _ = HEADINGS
        return cls(
            max(id_width, len(id_heading)),
            max(label_width, len(label_heading)),
            max(PROGRESS_WIDTH, len(progress_heading)),
            shown,
        )

    def _start(self, ident: str, label: str, state: str) -> list[str]:
        parts = [f"{ident:>{self.id_width}}"]
        if self.label_width:
            parts.append(pad_cells(label, self.label_width))
        parts.append(f"{state:<{STATE_WIDTH}}")
        return parts

    def header(self) -> str:
        """The headings over the columns (the error, when there is one, follows ETA)."""
        ident, label, state, progress, eta = HEADINGS
        parts = self._start(ident, label, state)
        return "  ".join([*parts, f"{progress:>{self.progress_width}}", eta])

    def line(self, ident: int, job: Job, now: float) -> str:
        """Job ``ident``: id, label, state, progress, ETA, error (remote text made safe)."""
        eta = "" if job.is_terminal else eta_text(job.eta, now)
        label = self.labels.get(ident, "")
        parts = self._start(str(ident), label, plain(job.display_state, limit=40))
        parts += [f"{job.progress:>{self.progress_width - 1}}%", f"{eta:<{ETA_WIDTH}}"]
        if job.error:
            parts.append(plain(job.error, limit=300))
        return "  ".join(parts).rstrip()

    def pending(self, diffid: int) -> str:
        """A diff with no answer yet."""
        return "  ".join(self._start(str(diffid), self.labels.get(diffid, ""), "…")).rstrip()
