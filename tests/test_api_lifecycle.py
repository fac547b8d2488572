"""Accept, reject, create and version status against the simulator over loopback.

They change state on the server: each call sends exactly one request, whatever happens,
and an answer that never came is an unknown outcome, not a failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import pytest

from tui.api.client import ClanforgeClient
from tui.api.errors import (
    ActionOutcomeUnknown,
    ApiError,
    BadRequest,
    NotFound,
    RateLimited,
    ServerError,
)
from tui.domain.jobs import JobState, UninstallJob, VersionJob

if TYPE_CHECKING:
    from tui.simulator import Simulator

DIFF = 4101


@pytest.fixture
async def client(
    simulator: Simulator, connect: Callable[..., ClanforgeClient]
) -> AsyncIterator[ClanforgeClient]:
    simulator.add_diff(DIFF, state=5, imageid=77, machineid=7712)
    async with connect(connect_timeout=2.0, read_timeout=0.5) as api:
        yield api


async def test_accept_answers_the_version_job_and_status_follows_it(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    job = await client.accept(DIFF, restart=True, game_build="1.4.2")
    assert isinstance(job, VersionJob)
    assert (job.diffid, job.success, job.state) == (DIFF, True, JobState.CREATED)
    assert simulator.decision(DIFF) == ("accepted", job.imageversionid)
    assert simulator.count("accept", DIFF) == 1
    seen = await client.version_status(job.imageversionid)
    assert seen.imageversionid == job.imageversionid and seen.success is None
    assert simulator.count("version-status", job.imageversionid) == 1


async def test_accept_sends_the_options_it_was_given(client: ClanforgeClient) -> None:
    with pytest.raises(ValueError, match="game build"):
        await client.accept(DIFF, restart=False, game_build=" \n ")
    with pytest.raises(ValueError, match="restart"):
        await client.accept(DIFF, restart=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"state": 6}, f"diff {DIFF} is not completed"),
        ({"allocations": True}, "image has active allocations; use force=1"),
        ({"files": 0}, f"diff {DIFF} found no changes; use full=1"),
    ],
)
async def test_refused_accepts_keep_the_servers_message(
    client: ClanforgeClient, simulator: Simulator, setup: dict[str, object], message: str
) -> None:
    simulator.add_diff(DIFF, **setup)  # type: ignore[arg-type]
    with pytest.raises(BadRequest) as caught:
        await client.accept(DIFF, restart=False)
    assert caught.value.message == message
    assert simulator.count("accept", DIFF) == 1


async def test_forced_full_accept_goes_through(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    simulator.add_diff(DIFF, allocations=True, files=0)
    job = await client.accept(DIFF, restart=False, full=True, force=True)
    assert job.success is True


async def test_reject_without_reinstall_answers_nothing_to_follow(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    assert await client.reject(DIFF, reinstall=False) is None
    assert simulator.decision(DIFF) == ("rejected", None)
    with pytest.raises(BadRequest) as caught:
        await client.reject(DIFF, reinstall=False)
    assert caught.value.message == f"Diff {DIFF} has already been rejected"
    assert simulator.count("reject", DIFF) == 2


async def test_reject_with_reinstall_answers_the_uninstall_job(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    job = await client.reject(DIFF, reinstall=True)
    assert isinstance(job, UninstallJob)
    assert job.diffid == DIFF and job.uninstalljobid > 0 and job.state is JobState.CREATED


async def test_create_of_a_locked_image_names_the_lock(
    client: ClanforgeClient, simulator: Simulator
) -> None:
    with pytest.raises(BadRequest) as caught:
        await client.create(77, 7713)
    assert caught.value.message == f"Image locked by diffid {DIFF}"
    await client.accept(DIFF, restart=False)
    job = await client.create(77, 7713)
    assert job.diffid != DIFF and job.state is JobState.CREATED
    assert simulator.count("create") == 2


async def test_unknown_version_is_not_found(client: ClanforgeClient) -> None:
    with pytest.raises(NotFound, match="Image version 9 not found"):
        await client.version_status(9)


ACTIONS: dict[str, tuple[str, Callable[[ClanforgeClient], Awaitable[object]]]] = {
    "accept": ("accept", lambda api: api.accept(DIFF, restart=True)),
    "reject": ("reject", lambda api: api.reject(DIFF, reinstall=True)),
    "create": ("create", lambda api: api.create(78, 7712)),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize(
    ("kind", "error_class"),
    [
        ("500", ServerError),
        ("503", ServerError),
        ("429", RateLimited),
        ("drop-after", ActionOutcomeUnknown),
        ("slow", ActionOutcomeUnknown),
    ],
)
async def test_state_changing_calls_are_sent_exactly_once_whatever_happens(
    client: ClanforgeClient,
    simulator: Simulator,
    action: str,
    kind: str,
    error_class: type[ApiError],
) -> None:
    endpoint, call = ACTIONS[action]
    simulator.inject(kind, endpoint=endpoint, delay=2.0 if kind == "slow" else 0.0)
    with pytest.raises(error_class) as caught:
        await call(client)
    assert simulator.count(endpoint) == 1
    if kind in ("429", "503"):
        assert caught.value.asks_to_wait, "the server did nothing: not done"
    if isinstance(caught.value, ActionOutcomeUnknown):
        assert "outcome is unknown" in caught.value.message
        assert "not repeated" in caught.value.message


def test_which_errors_may_have_left_the_change_done() -> None:
    from tui.api.errors import ApiTimeout, InvalidResponseError, NetworkError

    maybe = [
        ActionOutcomeUnknown("lost"),
        ServerError("500", http_status=500),
        InvalidResponseError("not JSON", http_status=200),
    ]
    not_done = [
        BadRequest("no", http_status=400),
        NotFound("gone", http_status=404),
        RateLimited("slow down"),
        ServerError("503", http_status=503),
        NetworkError("refused"),
        ApiTimeout("connect timed out"),
        InvalidResponseError("redirect", http_status=302),
    ]
    assert [error.may_have_acted for error in maybe] == [True] * len(maybe)
    assert [error.may_have_acted for error in not_done] == [False] * len(not_done)
