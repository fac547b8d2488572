"""One plan per action: each diff sent or skipped once, by the action's rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.api.errors import NotFound
from tui.domain.jobs import DiffJob, JobState
from tui.polling.plan import RETRY, Action, Candidate, make_plan


def job(diffid: int, state: JobState | None, *, failed: bool = False) -> DiffJob:
    return DiffJob(
        diffid=diffid,
        state=state,
        state_name=state.label if state is not None else "Archived",
        progress=0,
        created=0,
        updated=0,
        failed=failed,
    )


def test_each_reason_to_skip_in_words() -> None:
    plan = make_plan(
        RETRY,
        [
            Candidate(1, JobState.FAILED, busy=True),
            Candidate(2, JobState.COMPLETED, saved_only=True),
            Candidate(3, None),
            Candidate(4, JobState.QUEUED, "Queued"),
            Candidate.of_read(5, NotFound("no such diff", http_status=404)),
            Candidate.of_read(6, job(6, None)),
            Candidate.of_read(7, job(7, None, failed=True)),
            Candidate.of_read(8, job(8, JobState.COMPLETED)),
        ],
    )
    assert plan.send == (7, 8)
    assert set(plan.read) == {7, 8}
    assert [(s.diffid, s.reason) for s in plan.skipped] == [
        (1, "a retry is already being sent"),
        (2, "state not known yet (wait for the first poll)"),
        (3, "state not known yet (wait for the first poll)"),
        (4, "Queued: only Completed or Failed diffs can be retried"),
        (5, "status unknown: no such diff"),
        (6, "Archived: only Completed or Failed diffs can be retried"),
    ]
    assert plan.skipped[4].error is not None and plan.skipped[5].job is not None


def test_another_action_brings_its_own_rule() -> None:
    accept = Action("accept", lambda state: state is JobState.COMPLETED, "only Completed")
    plan = make_plan(accept, [Candidate(1, JobState.FAILED), Candidate(2, JobState.COMPLETED)])
    assert plan.send == (2,)
    assert plan.skipped[0].reason == "Failed: only Completed"


@given(
    st.lists(
        st.tuples(
            st.integers(1, 6), st.sampled_from([None, *JobState]), st.booleans(), st.booleans()
        ),
        max_size=20,
    )
)
def test_every_diff_is_sent_or_skipped_once_in_first_mention_order(
    cases: list[tuple[int, JobState | None, bool, bool]],
) -> None:
    candidates = [Candidate(d, s, saved_only=old, busy=busy) for d, s, old, busy in cases]
    plan = make_plan(RETRY, candidates)
    decided = [*plan.send, *(s.diffid for s in plan.skipped)]
    assert sorted(decided) == sorted(dict.fromkeys(d for d, *_ in cases))
    first = {}
    for candidate in candidates:
        first.setdefault(candidate.diffid, candidate)
    for diffid in plan.send:
        chosen = first[diffid]
        assert chosen.state is not None and chosen.state.can_retry
        assert not chosen.busy and not chosen.saved_only
    order = list(dict.fromkeys(d for d, *_ in cases))
    assert list(plan.send) == [d for d in order if d in plan.send]


def test_accept_and_reject_apply_once_and_say_why_they_skip() -> None:
    from dataclasses import replace

    from tui.domain.watch_entry import Accepted, Rejected, WatchEntry
    from tui.polling.plan import ACCEPT, REJECT, decision_words

    watched = WatchEntry(9, 1, "prod")
    accepted = decision_words(replace(watched, accepted=Accepted(700_001, restart=False)))
    rejected = decision_words(replace(watched, rejected=Rejected(reinstall=False)))
    assert (accepted, rejected) == ("accepted (image version 700001)", "rejected")
    assert decision_words(watched) == decision_words(None) == ""
    candidates = [
        Candidate.of_read(1, job(1, JobState.COMPLETED)),
        Candidate.of_read(2, job(2, JobState.FAILED)),
        Candidate.of_read(3, job(3, JobState.RUNNING)),
        Candidate.of_read(4, job(4, JobState.COMPLETED), decided=accepted),
        Candidate.of_read(5, job(5, JobState.FAILED), decided=rejected),
    ]
    accept = make_plan(ACCEPT, candidates)
    assert accept.send == (1,)
    assert [(s.diffid, s.reason) for s in accept.skipped] == [
        (2, "Failed: only Completed diffs can be accepted"),
        (3, "Running: only Completed diffs can be accepted"),
        (4, "already accepted (image version 700001): a diff is accepted or rejected once"),
        (5, "already rejected: a diff is accepted or rejected once"),
    ]
    reject = make_plan(REJECT, candidates)
    assert reject.send == (1, 2)
    assert reject.skipped[0].reason == ("Running: only Completed or Failed diffs can be rejected")
    # Retry skips decided diffs too: it would re-run the analysis of a settled diff.
    retry = make_plan(RETRY, candidates)
    assert retry.send == (1, 2)
    assert [(s.diffid, s.reason) for s in retry.skipped[1:]] == [
        (4, "already accepted (image version 700001): nothing to re-run"),
        (5, "already rejected: nothing to re-run"),
    ]
