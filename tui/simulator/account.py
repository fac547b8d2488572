"""The simulated account's diffs, and what status, retry, create and reject do to them."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

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


class Account:
    """Every diff of the account, by ID. Not locked: the simulator calls it under its lock."""

    def __init__(self, *, seed: int, speed: float) -> None:
        self.seed = seed
        self.speed = speed
        self.diffs: dict[int, Diff] = {}
        self._rng = random.Random(f"simulator:{seed}")
        self._next_uninstall = 900_000

    def perform(
        self, endpoint: str, token: str | None, query: dict[str, str], now: float
    ) -> tuple[Reply, int | None]:
        """One authenticated request to ``endpoint``, and the diff it was about."""
        if endpoint == "create":
            return self.create(query, now)
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
            imageid=50_000 + diffid % 10_000,
            machineid=7_000 + diffid % 1_000,
            files=files,
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
        return ids

    def job(self, diff: Diff, now: float, diff_info: bool = False) -> dict[str, Any]:
        run = diff.run
        state = run.state_at(now)
        job: dict[str, Any] = {
            "diffid": diff.diffid,
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
        if diff_info:
            job.update(self._diff_info(diff, state))
        return job

    def _diff_info(self, diff: Diff, state: int) -> dict[str, Any]:
        if diff.info is None:
            diff.info = make_info(diff, random.Random(f"info:{self.seed}:{diff.diffid}"))
        info = diff.info
        if state != 5:
            # The differences are only known once the analysis has completed.
            return {**info, "added": {}, "modified": {}, "removed": {}}
        return dict(info)

    def start_run(self, diff: Diff, now: float) -> None:
        """Retry: a new run from Created, ending with the next scripted error, if any."""
        diff.runs += 1
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
        diff.rejected = False
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
            for other in self.diffs.values():
                if other.imageid == imageid and not other.rejected:
                    return error_reply(400, f"Image locked by diffid {other.diffid}"), None
            diffid = max(self.diffs, default=4100) + 1
            duration = self._rng.uniform(60, 240)
            eta_error = self._rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT)
            run = place_run(
                self.seed, self.speed, diffid, 1, now, 1, None, duration, eta_error, None, 0.0
            )
            diff = Diff(diffid, duration, eta_error, run, imageid=imageid, machineid=machineid)
            self.diffs[diffid] = diff
            response = Reply(200, json_body(self.job(diff, now)))
        if response.status == 200:
            response.body = json_body({**json.loads(response.body), "success": True})
        return response, diffid

    def reject(self, diff: Diff, query: dict[str, str], now: float) -> Reply:
        reinstall = query.get("reinstall", "0")
        if reinstall not in ("0", "1"):
            return error_reply(400, f"reinstall must be 0 or 1, not {reinstall!r}")
        if diff.run.state_at(now) < 5:
            return error_reply(400, f"Diff {diff.diffid} is not in a completed or failed state")
        if diff.rejected:
            return error_reply(400, f"Diff {diff.diffid} has already been rejected")
        diff.rejected = True
        if reinstall == "0":
            return Reply(200, json_body({**self.job(diff, now), "success": True}))
        self._next_uninstall += 1
        return Reply(
            200,
            json_body(
                {
                    "success": True,
                    "diffid": diff.diffid,
                    "uninstalljobid": self._next_uninstall,
                    "jobcreated": int(now),
                    "jobfailed": 0,
                    "jobprogress": 0,
                    "jobstateid": 1,
                    "jobstatename": STATE_NAMES[1],
                    "jobupdated": int(now),
                }
            ),
        )
