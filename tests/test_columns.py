"""The list's columns: fitted to the width, the same in every row and in the header."""

from __future__ import annotations

from dataclasses import replace

from rich.cells import cell_len
from rich.style import Style

from tests.test_job_list import _view
from tui.ui.widgets.panel import (
    GLYPHS,
    LABEL_MIN,
    LABEL_WIDTH,
    MARK_WIDTH,
    Columns,
    PanelStyles,
    panel_strips,
)


def _styles() -> PanelStyles:
    plain = Style()
    names = ("waiting", "running", "completed", "failed", "unknown")
    return PanelStyles(
        *([plain] * 10),
        bar_empty_glyph="─",
        badge={name: plain for name in names},
        fg={name: plain for name in names},
    )


def _cells(text: str) -> list[str]:
    """One entry per terminal cell ("" for the second cell of a wide character)."""
    cells: list[str] = []
    for char in text:
        cells += [char] + [""] * (cell_len(char) - 1)
    return cells


def test_narrowing_shrinks_the_label_first_then_drops_the_bar_then_the_time() -> None:
    widths = range(200, 39, -1)
    fitted = [Columns.fit(width, compact=True, id_digits=4) for width in widths]
    for columns in fitted:
        assert columns.error_start + columns.error == columns.width
    labels = [columns.label for columns in fitted]
    assert labels[0] == LABEL_WIDTH
    first_without_bar = next(i for i, c in enumerate(fitted) if c.bar == 0)
    first_without_time = next(i for i, c in enumerate(fitted) if c.time == 0)
    assert first_without_bar < first_without_time
    # Until the bar goes, the label has shrunk to its least, not below.
    assert fitted[first_without_bar - 1].label == LABEL_MIN


def test_every_row_and_the_header_put_each_column_in_the_same_cells() -> None:
    columns = Columns.fit(78, compact=True, id_digits=4)
    views = [_view(4101, 4, 40), _view(4102, 6, 100), _view(4103, 5, 100)]
    views[0].entry = replace(views[0].entry, label="東京ビルド 1.4 🚀 大阪 名古屋 福岡 長い")
    views[1].entry = replace(views[1].entry, label="short")
    heading = columns.heading("state", "↑")
    assert cell_len(heading) == columns.width
    badge = MARK_WIDTH + columns.id + columns.label
    assert _cells(heading)[badge + 1 : badge + 8] == list("state ↑")
    for view in views:
        (strip,) = panel_strips(
            view, now=0.0, columns=columns, selected=False, cursor=False, styles=_styles()
        )
        cells = _cells(strip.text)
        assert len(cells) == columns.width
        # The badge's space, then its glyph under "state", in every row.
        assert cells[badge] == " " and cells[badge + 1] in GLYPHS.values()
    assert (
        "…"
        in panel_strips(
            views[0], now=0.0, columns=columns, selected=False, cursor=False, styles=_styles()
        )[0].text
    )
