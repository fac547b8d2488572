"""Errors the core raises that say what kind of trouble they are.

The core never knows exit codes or screens: the command line maps these to its
documented exit codes in one place (``tui.cli.common.exit_code_for``).
"""

from __future__ import annotations


class UsageError(ValueError):
    """What was typed (a flag's value, a name) is unusable; nothing was done."""
