"""ViewBoard's state counts: kept up to date from the changes it is told of."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.api.errors import NetworkError
from tui.domain.clock import FakeClock
from tui.domain.jobs import DiffJob, JobState
from tui.domain.poll_settings import PollSettings
from tui.domain.watch_entry import LastStatus, WatchEntry
from tui.polling.job_view import JobView, PollFailure
from tui.polling.scheduler import PollScheduler
from tui.polling.view_board import ViewBoard, count_states

STATES = st.sampled_from([None, *JobState])


def board() -> ViewBoard:
    clock = FakeClock()
    return ViewBoard(clock, PollScheduler(clock, PollSettings()), None, None)


def watch(diffid: int, saved: JobState | None) -> WatchEntry:
    last = None if saved is None else LastStatus(int(saved), saved.label, 0, None, None, 0.0)
    return WatchEntry(diffid=diffid, asid=1, api_url="https://api.example", label="", last=last)


def answer(diffid: int, state: JobState) -> DiffJob:
    return DiffJob(
        diffid=diffid,
        state=state,
        state_name=state.label,
        progress=0,
        created=1,
        updated=1,
        failed=state is JobState.FAILED,
    )


# Each step: (diff ID, what happens to it): added with a saved state, answered with a
# state, a poll failed, a poll succeeded again, removed.
STEPS = st.lists(
    st.tuples(
        st.integers(1, 3),
        st.one_of(
            st.tuples(st.just("add"), STATES),
            st.tuples(st.just("answer"), st.sampled_from(list(JobState))),
            st.tuples(st.just("fail"), st.none()),
            st.tuples(st.just("recover"), st.none()),
            st.tuples(st.just("remove"), st.none()),
        ),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(STEPS, st.lists(st.booleans(), min_size=40, max_size=40))
def test_counts_equal_a_full_recount_after_any_changes(
    steps: list[tuple[int, tuple[str, JobState | None]]], ask: list[bool]
) -> None:
    the_board = board()
    views = the_board.views
    for (diffid, (what, state)), ask_now in zip(steps, ask, strict=False):
        view = views.get(diffid)
        if what == "add" and view is None:
            views[diffid] = JobView(entry=watch(diffid, state))
            the_board.notify({diffid})
        elif what == "remove" and view is not None:
            del views[diffid]
            the_board.notify({diffid})
        elif view is not None and what in ("answer", "fail", "recover"):
            if what == "answer" and state is not None:
                view.job = answer(diffid, state)
            elif what == "fail":
                view.poll_failure = PollFailure.of(NetworkError("refused"), 1.0, None)
            else:
                view.poll_failure = None
            the_board.changed(view)
        if ask_now:
            assert the_board.counts() == count_states(views.values())
    assert the_board.counts() == count_states(views.values())


def test_a_view_added_without_a_notice_is_counted_too() -> None:
    the_board = board()
    the_board.views[1] = JobView(entry=watch(1, JobState.RUNNING))
    assert the_board.counts()["running"] == 1
