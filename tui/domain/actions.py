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
    """Sent, and no answer tells whether it happened: status polls settle it later."""
