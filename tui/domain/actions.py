"""What became of an action (retry, accept, reject, create) this app sent.

One word per outcome, the same on a panel, in a notice, in the journal's file and in
the command line's output. "Refused" is the server's no to a request; "rejected" is
only ever the decision on a diff (the reject action).
"""

from __future__ import annotations

from enum import StrEnum


class ActionOutcome(StrEnum):
    """An action's outcome; its value is the journal's ``outcome`` word.

    >>> f"retry {ActionOutcome.NOT_DONE}"
    'retry not done'
    """

    SENT = "sent"
    """On its way: no answer yet."""
    ACCEPTED = "accepted"
    """The server did it."""
    REFUSED = "refused"
    """The server answered no, with its reason."""
    NOT_DONE = "not done"
    """It did not happen: it never reached the server, was answered (429, 503, the
    keys) before acting, or an unknown outcome that status polls settled as not taken."""
    UNKNOWN = "unknown"
    """Sent, and no answer tells whether it happened: see :func:`how_unknown_settles`."""


def how_unknown_settles(action: str) -> str:
    """How an unknown outcome of ``action`` is settled, in words.

    A status read shows a retry (the diff runs again, or its last update moved), but
    not whether a diff was accepted or rejected: its state stays Completed either way.

    >>> how_unknown_settles("retry")
    'a status read settles it'
    """
    if action == "retry":
        return "a status read settles it"
    if action == "accept":
        return (
            "a status read cannot tell whether it was accepted: look for a new image "
            "version in the Clanforge dashboard (or read the version job's status when "
            "its ID is known)"
        )
    if action == "reject":
        return (
            "a status read cannot tell whether it was rejected: check the diff in the "
            "Clanforge dashboard"
        )
    if action == "create":
        return "look for the new diff in the Clanforge dashboard before creating it again"
    return "check it in the Clanforge dashboard"
