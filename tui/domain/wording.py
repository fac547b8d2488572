"""Human wording for times, durations and counts, shared by the CLI and the TUI."""

from __future__ import annotations


def duration(seconds: float) -> str:
    """A compact duration: ``45s``, ``3m 12s``, ``2h 05m``, ``3d 4h``.

    >>> duration(192)
    '3m 12s'
    """
    total = max(0, int(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def eta_text(eta: float | None, now: float) -> str:
    """``ETA 14m`` before the ETA, ``overdue 3m`` after it, ``""`` without one.

    As precise as an ETA is (the API's miss by up to a quarter of the run): the steps
    of :func:`age`, whole minutes from a minute out and 10-second steps within it, and
    ``due now`` within ten seconds either side. A list of running diffs then redraws a
    few cells a minute per diff, not every second (see README, Performance).

    >>> eta_text(1000, 0), eta_text(115, 0), eta_text(4, 0), eta_text(0, 45)
    ('ETA 16m', 'ETA 1m', 'due now', 'overdue 40s')
    """
    if eta is None:
        return ""
    left = eta - now
    if abs(left) < 10:
        return "due now"
    if left > 0:
        return f"ETA {age(left)}"
    return f"overdue {age(-left)}"


def age(seconds: float) -> str:
    """A coarse age (or elapsed time, or time to go) that changes at most once a minute
    after the first minute.

    Coarse on purpose: a monitor left open all day should not repaint every
    panel's age every second.

    Under a minute it moves in 10-second steps after the first ten seconds.

    >>> age(4), age(37), age(192), age(7300)
    ('4s', '30s', '3m', '2h 01m')
    """
    total = max(0, int(seconds))
    if total < 10:
        return f"{total}s"
    if total < 60:
        return f"{total // 10 * 10}s"
    if total < 3600:
        return f"{total // 60}m"
    return duration(total)


def ago_text(when: float | None, now: float) -> str:
    """``20s ago`` style age; ``just now`` under ten seconds; ``never`` without a time.

    Each panel's age is on screen all day: it changes every ten seconds at most, not
    every second, so a quiet fleet costs no redraws (see README, Performance).
    """
    if when is None:
        return "never"
    if now - when < 10:
        return "just now"
    return f"{age(now - when)} ago"


def count_noun(count: int, noun: str) -> str:
    """``count`` and ``noun``, plural unless one: ``count_noun(3, "diff")`` is "3 diffs"."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
