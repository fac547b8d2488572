"""Small statistics helpers (standard library only)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


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
