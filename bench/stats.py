"""Small statistics helpers (standard library only)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` (0..1) percentile, interpolated between the nearest ranks.

    >>> percentile([1, 2, 3, 4, 5], 0.95)
    4.8
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def max_in_window(times: Iterable[float], window: float) -> int:
    """The most events within any ``window`` seconds (a half-open sliding window).

    >>> max_in_window([0.0, 0.5, 0.99, 1.0, 1.5], 1.0)
    3
    """
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best
