"""A :class:`~tui.polling.plan.Plan` as a confirmation dialog shows it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text

from tui.domain.jobs import JobState
from tui.domain.text import plain
from tui.polling.plan import RETRY, Plan
from tui.polling.tracker import JobView


def plan_text(plan: Plan, views: Mapping[int, JobView], hidden: Sequence[int] = ()) -> Text:
    """What will be sent (each diff with its state), then what is skipped and why, then
    the selected diffs that the filter hides (``hidden``: left out, never sent)."""
    text = Text()
    if plan.send:
        text.append(f"Will {plan.action.name} (each sent once):\n", style="bold")
        for diffid in plan.send:
            view = views[diffid]
            rerun = (
                "  (its analysis is re-run)"
                if plan.action is RETRY and view.state is JobState.COMPLETED
                else ""
            )
            text.append(f"  {_name(view)}  {plain(view.state_name)}{rerun}\n")
    if plan.skipped:
        text.append("Skipped:\n", style="bold")
        for skip in plan.skipped:
            text.append(f"  {_name(views[skip.diffid])}: {skip.reason}\n")
    if hidden:
        text.append(
            f"Left out: {len(hidden)} selected hidden by the filter (esc clears it):\n",
            style="bold",
        )
        text.append("  " + ", ".join(_name(views[d]) for d in hidden if d in views) + "\n")
    return text


def _name(view: JobView) -> str:
    return f"#{view.diffid}" + (f" {plain(view.label)}" if view.label else "")


def listed(ids: list[int]) -> str:
    """The first ten diffs of ``ids`` as a notice lists them: "#1, #2"."""
    return ", ".join(f"#{diffid}" for diffid in ids[:10])


@dataclass(frozen=True, slots=True)
class SendAgain:
    """The "send again anyway" choice a dialog offers for diffs whose same decision was
    sent with an unknown outcome: what may happen, and what choosing it does."""

    warning: str
    choose: Callable[[], None]
