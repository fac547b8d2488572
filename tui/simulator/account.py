"""The simulated account's diffs, and what status, retry, create, reject and accept
(image version create) do to them, with the lock rule of API.md: a Completed diff that
is neither accepted nor rejected locks its image."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final, TypedDict

from tui.simulator.diff_info import make_info
from tui.simulator.replies import Reply, error_reply, json_body
from tui.simulator.requests import int_or_none
from tui.simulator.runs import (
    ETA_ERROR_LIMIT,
    REALISTIC_ERRORS,
    STATE_NAMES,
    Run,
    place_run,
    run_rng,
)


@dataclass
class Diff:
    """One diff: its current run, and what its next retries will end with."""

    diffid: int
    duration: float
    eta_error: float | None
    """None: each run draws its own error within +-ETA_ERROR_LIMIT."""
    run: Run
    runs: int = 1
    retry_errors: list[str] = field(default_factory=list)
    imageid: int = 0
    machineid: int = 0
    rejected: bool = False
    files: int | None = None
    info: dict[str, Any] | None = None
    accepted: int | None = None
    """The image version created from it (it was accepted), if any."""
    allocations: bool = False
    """Servers of its image are allocated: an accept needs force=1."""
    version_error: str | None = None
    """The joberror the image version created from it ends with (None: it completes)."""

    @property
    def decided(self) -> bool:
        """Accepted or rejected: a diff can be either, once."""
        return self.rejected or self.accepted is not None

    @property
    def no_changes(self) -> bool:
        """The analysis found no differences (an accept then needs full=1)."""
        return self.files == 0


@dataclass
class Version:
    """An image version being created from a diff: its job."""

    imageversionid: int
    diffid: int
    run: Run


VERSION_ERRORS: Final[tuple[str, ...]] = (
    "Image version install failed on machine 7712: disk full",
    "Timed out distributing the image version to the fleet",
)
VERSION_FAILURE_RATE: Final = 0.2
ALLOCATED_RATE: Final = 0.25


def seeded_traits(seed: int, diffid: int, imageid: int) -> tuple[bool, str | None]:
    """Whether the image has allocated servers (some images do), and how the version
    made from the diff ends (some fail), drawn from the seed."""
    allocations = random.Random(f"allocations:{seed}:{imageid}").random() < ALLOCATED_RATE
    rng = random.Random(f"version-outcome:{seed}:{diffid}")
    failing = rng.random() < VERSION_FAILURE_RATE
    return allocations, rng.choice(VERSION_ERRORS) if failing else None


def image_of(diffid: int) -> int:
    """The image of a diff added without one: its own, derived from its ID."""
    return 50_000 + diffid % 10_000


class DiffOptions(TypedDict, total=False):
    """How a diff is added, besides its ID: the keywords of :meth:`Account.add` (their
    defaults and meaning are there and in :meth:`Simulator.add_diff`)."""

    state: int
    progress: int | None
    duration: float
    fail_with: str | None
    eta_error: float | None
    started_ago: float
    retry_errors: Iterable[str]
    files: int | None
    imageid: int | None
    machineid: int | None
    allocations: bool
    version_error: str | None


class Account:
    """Every diff of the account, by ID. Not locked: the simulator calls it under its lock."""

    def __init__(self, *, seed: int, speed: float) -> None:
        self.seed = seed
        self.speed = speed
        self.diffs: dict[int, Diff] = {}
        self._rng = random.Random(f"simulator:{seed}")
        self._next_uninstall = 900_000
        self._next_version = 700_000
        self.versions: dict[int, Version] = {}

    def perform(
        self, endpoint: str, token: str | None, query: dict[str, str], now: float
    ) -> tuple[Reply, int | None]:
        """One authenticated request to ``endpoint``, and the diff it was about."""
        if endpoint == "create":
            return self.create(query, now)
        if endpoint == "accept":
            return self.accept(query, now)
        if endpoint == "version-status":
            return self.version_status(token, now)
        diffid = int_or_none(token) if token is not None else None
        if diffid is None:
            return error_reply(400, f"Invalid diffid {token!r}: must be an integer"), None
        diff = self.diffs.get(diffid)
        if diff is None:
            return error_reply(404, f"Diff {diffid} not found"), diffid
        if endpoint == "status":
            info = query.get("diff_info", "0") not in ("", "0")
            return Reply(200, json_body(self.job(diff, now, info))), diffid
        if endpoint == "retry":
            return self.retry(diff, now), diffid
        return self.reject(diff, query, now), diffid

    def add(
        self,
        diffid: int,
        now: float,
        *,
        state: int = 5,
        progress: int | None = None,
        duration: float = 60.0,
        fail_with: str | None = None,
        eta_error: float | None = None,
        started_ago: float = 0.0,
        retry_errors: Iterable[str] = (),
        files: int | None = None,
        imageid: int | None = None,
        machineid: int | None = None,
        allocations: bool = False,
        version_error: str | None = None,
    ) -> None:
        """Add (or replace) a diff in ``state`` as of ``now``: see :meth:`Simulator.add_diff`."""
        if state not in STATE_NAMES:
            raise ValueError(f"state must be 1..6, not {state!r}")
        if not duration > 0:
            raise ValueError(f"duration must be positive, not {duration!r}")
        if eta_error is not None and not eta_error > -1:
            raise ValueError(f"eta_error must be above -1, not {eta_error!r}")
        if state == 6 and fail_with is None:
            fail_with = run_rng(self.seed, diffid, 0).choice(REALISTIC_ERRORS)
        if state == 5:
            fail_with = None
        run = place_run(
            self.seed,
            self.speed,
            diffid,
            1,
            now,
            state,
            progress,
            duration,
            eta_error,
            fail_with,
            started_ago,
        )
        self.diffs[diffid] = Diff(
            diffid,
            duration,
            eta_error,
            run,
            retry_errors=list(retry_errors),
            imageid=imageid if imageid is not None else image_of(diffid),
            machineid=machineid if machineid is not None else 7_000 + diffid % 1_000,
            files=files,
            allocations=allocations,
            version_error=version_error,
        )

    def add_many(
        self,
        now: float,
        count: int,
        *,
        first_id: int,
        running: int,
        queued: int,
        failed: int,
        duration: float,
    ) -> list[int]:
        """Add ``count`` diffs as of ``now``: see :meth:`Simulator.add_many`."""
        if running + queued + failed > count:
            raise ValueError("running + queued + failed is more than count")
        rng = random.Random(f"many:{self.seed}:{first_id}:{count}")
        ids = list(range(first_id, first_id + count))
        for index, diffid in enumerate(ids):
            eta_error = rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT)
            if index < running:
                self.add(
                    diffid,
                    now,
                    state=4,
                    progress=rng.randint(0, 95),
                    duration=duration,
                    eta_error=eta_error,
                )
            elif index < running + queued:
                self.add(diffid, now, state=3, duration=duration, eta_error=eta_error)
            elif index < running + queued + failed:
                self.add(
                    diffid,
                    now,
                    state=6,
                    duration=duration,
                    eta_error=eta_error,
                    fail_with=rng.choice(REALISTIC_ERRORS),
                )
            else:
                self.add(diffid, now, state=5, duration=duration, eta_error=eta_error)
            self.seed_traits(self.diffs[diffid])
        return ids

    def seed_traits(self, diff: Diff) -> None:
        """Give ``diff`` seeded allocations and version outcome (some versions fail)."""
        diff.allocations, diff.version_error = seeded_traits(self.seed, diff.diffid, diff.imageid)

    def job(self, diff: Diff, now: float, diff_info: bool = False) -> dict[str, Any]:
        job = {"diffid": diff.diffid, **run_fields(diff.run, now)}
        if diff_info:
            job.update(self._diff_info(diff, diff.run.state_at(now)))
        return job

    def _diff_info(self, diff: Diff, state: int) -> dict[str, Any]:
        if diff.info is None:
            rng = random.Random(f"info:{self.seed}:{diff.diffid}")
            diff.info = make_info(diff.diffid, diff.machineid, diff.imageid, diff.files, rng)
        info = diff.info
        if state != 5:
            # The differences are only known once the analysis has completed.
            return {**info, "added": {}, "modified": {}, "removed": {}}
        return dict(info)

    def start_run(self, diff: Diff, now: float) -> None:
        """Retry: a new run from Created, ending with the next scripted error, if any;
        while another diff locks the image, the run fails with that lock."""
        diff.runs += 1
        holder = self.lock_holder(diff.imageid, now, besides=diff.diffid)
        if holder is not None:
            error: str | None = lock_message(holder)
        else:
            error = diff.retry_errors.pop(0) if diff.retry_errors else None
        diff.run = place_run(
            self.seed,
            self.speed,
            diff.diffid,
            diff.runs,
            now,
            1,
            None,
            diff.duration,
            diff.eta_error,
            error,
            0.0,
        )
        diff.info = None

    def retry(self, diff: Diff, now: float) -> Reply:
        if diff.run.state_at(now) < 5:
            return error_reply(400, f"Diff {diff.diffid} is not in a completed or failed state")
        self.start_run(diff, now)
        return Reply(200, json_body(self.job(diff, now)))

    def create(self, query: dict[str, str], now: float) -> tuple[Reply, int | None]:
        imageid = int_or_none(query.get("imageid"))
        machineid = int_or_none(query.get("machineid"))
        if imageid is None or machineid is None:
            return error_reply(400, "imageid and machineid are required and must be integers"), None
        if "diffid" in query:
            diffid = int_or_none(query["diffid"])
            if diffid is None:
                return error_reply(
                    400, f"Invalid diffid {query['diffid']!r}: must be an integer"
                ), None
            diff = self.diffs.get(diffid)
            if diff is None:
                return error_reply(404, f"Diff {diffid} not found"), diffid
            response = self.retry(diff, now)
        else:
            holder = self.lock_holder(imageid, now)
            if holder is not None:
                return error_reply(400, lock_message(holder)), None
            diffid = max(self.diffs, default=4100) + 1
            duration = self._rng.uniform(60, 240)
            eta_error = self._rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT)
            run = place_run(
                self.seed, self.speed, diffid, 1, now, 1, None, duration, eta_error, None, 0.0
            )
            diff = Diff(diffid, duration, eta_error, run, imageid=imageid, machineid=machineid)
            self.seed_traits(diff)
            self.diffs[diffid] = diff
            response = Reply(200, json_body(self.job(diff, now)))
        if response.status == 200:
            response.body = json_body({**json.loads(response.body), "success": True})
        return response, diffid

    def lock_holder(self, imageid: int, now: float, besides: int | None = None) -> Diff | None:
        """The diff that locks ``imageid`` (Completed, neither accepted nor rejected)."""
        for other in self.diffs.values():
            if (
                other.imageid == imageid
                and other.diffid != besides
                and not other.decided
                and other.run.state_at(now) == 5
            ):
                return other
        return None

    def reject(self, diff: Diff, query: dict[str, str], now: float) -> Reply:
        reinstall = query.get("reinstall", "0")
        if reinstall not in ("0", "1"):
            return error_reply(400, f"reinstall must be 0 or 1, not {reinstall!r}")
        if diff.run.state_at(now) < 5:
            return error_reply(400, f"Diff {diff.diffid} is not in a completed or failed state")
        refused = already_decided(diff)
        if refused is not None:
            return refused
        diff.rejected = True
        if reinstall == "0":
            return Reply(200, json_body({"success": True}))
        self._next_uninstall += 1
        uninstall = place_run(
            self.seed, self.speed, self._next_uninstall, 1, now, 1, None, 90.0, None, None, 0.0
        )
        return Reply(
            200,
            json_body(
                {
                    "success": True,
                    "diffid": diff.diffid,
                    "uninstalljobid": self._next_uninstall,
                    **run_fields(uninstall, now),
                }
            ),
        )

    def accept(self, query: dict[str, str], now: float) -> tuple[Reply, int | None]:
        """Image version create: a Completed diff, once, becomes a version job."""
        diffid = int_or_none(query.get("diffid"))
        if diffid is None:
            return error_reply(400, "diffid is required and must be an integer"), None
        diff = self.diffs.get(diffid)
        if diff is None:
            return error_reply(404, f"Diff {diffid} not found"), diffid
        for name in ("restart", "full", "force"):
            value = query.get(name)
            if (value is None and name == "restart") or value not in (None, "0", "1"):
                return error_reply(400, f"{name} is required and must be 0 or 1"), diffid
        if diff.run.state_at(now) != 5:
            return error_reply(400, f"diff {diffid} is not completed"), diffid
        refused = already_decided(diff)
        if refused is not None:
            return refused, diffid
        if diff.no_changes and query.get("full") != "1":
            return error_reply(400, f"diff {diffid} found no changes; use full=1"), diffid
        if diff.allocations and query.get("force") != "1":
            return error_reply(400, "image has active allocations; use force=1"), diffid
        self._next_version += 1
        vid = self._next_version
        rng = random.Random(f"version:{self.seed}:{vid}")
        run = place_run(
            self.seed,
            self.speed,
            vid,
            1,
            now,
            1,
            None,
            rng.uniform(40, 120),
            None,
            diff.version_error,
            0.0,
        )
        self.versions[vid] = Version(vid, diffid, run)
        diff.accepted = vid
        return Reply(
            200, json_body({**self.version_job(self.versions[vid], now), "success": True})
        ), diffid

    def version_job(self, version: Version, now: float) -> dict[str, Any]:
        return {
            "imageversionid": version.imageversionid,
            "diffid": version.diffid,
            **run_fields(version.run, now),
        }

    def version_status(self, token: str | None, now: float) -> tuple[Reply, int | None]:
        vid = int_or_none(token)
        if vid is None:
            return error_reply(400, f"Invalid imageversionid {token!r}: must be an integer"), None
        version = self.versions.get(vid)
        if version is None:
            return error_reply(404, f"Image version {vid} not found"), vid
        return Reply(200, json_body(self.version_job(version, now))), vid


def lock_message(holder: Diff) -> str:
    return f"Image locked by diffid {holder.diffid}"


def already_decided(diff: Diff) -> Reply | None:
    """The 400 for a second accept or reject of ``diff``; None when it is undecided."""
    if diff.accepted is not None:
        return error_reply(
            400, f"Diff {diff.diffid} has already been accepted (image version {diff.accepted})"
        )
    if diff.rejected:
        return error_reply(400, f"Diff {diff.diffid} has already been rejected")
    return None


def run_fields(run: Run, now: float) -> dict[str, Any]:
    """The job fields of API.md for a run (of a diff, an image version or an uninstall)."""
    state = run.state_at(now)
    job: dict[str, Any] = {
        "jobcreated": int(run.created),
        "jobfailed": 1 if state == 6 else 0,
        "jobprogress": run.progress_at(now),
        "jobstateid": state,
        "jobstatename": STATE_NAMES[state],
        "jobupdated": int(run.updated_at(now)),
    }
    if state == 6 and run.error is not None:
        job["joberror"] = run.error
    if state < 5:
        job["jobeta"] = round(run.announced_end)
    if state >= 4:
        job["jobstart"] = str(int(run.running_at))
    return job
