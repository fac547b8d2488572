"""The API simulator over real loopback HTTP, driven by a stdlib client (not the app's)."""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tui.simulator import (
    DEMO_DIFFS,
    ETA_ERROR_LIMIT,
    FAULT_KINDS,
    STATE_NAMES,
    Simulator,
    main_simulate,
)

ASID = 1234
T0 = 1_700_000_000.0
JOB_KEYS = {
    "diffid",
    "jobcreated",
    "jobfailed",
    "jobprogress",
    "jobstateid",
    "jobstatename",
    "jobupdated",
}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    sim: Simulator,
    path: str,
    *,
    auth: tuple[str, str] | None = None,
    send_auth: bool = True,
    method: str = "GET",
    timeout: float = 5.0,
) -> Reply:
    """One request on a fresh connection; lower-case header names."""
    parts = urlsplit(sim.url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    headers = {}
    if send_auth:
        access, secret = auth or (sim.access_key, sim.secret_key)
        token = base64.b64encode(f"{access}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        connection.close()


def status_path(diffid: int | str, extra: str = "") -> str:
    return f"/cfp/v1/imagediff/{diffid}/status?accountserviceid={ASID}{extra}"


def retry_path(diffid: int) -> str:
    return f"/cfp/v1/imagediff/{diffid}/retry?accountserviceid={ASID}"


def reject_path(diffid: int, reinstall: str = "0") -> str:
    return f"/cfp/v1/imagediff/{diffid}/reject?accountserviceid={ASID}&reinstall={reinstall}"


def create_path(query: str) -> str:
    return f"/cfp/v1/imagediff/create?accountserviceid={ASID}&{query}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim(clock: FakeClock) -> Iterator[Simulator]:
    with Simulator(seed_demo=False, clock=clock, asid=ASID) as simulator:
        yield simulator
    assert simulator.errors == [], "no handler raised"


# --- auth, routing, job object ------------------------------------------------------------


def test_auth_account_and_routing_errors(sim: Simulator) -> None:
    sim.add_diff(4101, state=5)
    cases = [
        (call(sim, status_path(4101), send_auth=False), 401, "Invalid credentials"),
        (call(sim, status_path(4101), auth=(sim.access_key, "nope")), 401, "Invalid credentials"),
        (call(sim, status_path(4101), auth=("other", sim.secret_key)), 401, "Invalid credentials"),
        (call(sim, "/cfp/v1/imagediff/4101/status?accountserviceid=99"), 403, "99"),
        (call(sim, "/cfp/v1/imagediff/4101/status"), 400, "accountserviceid"),
        (call(sim, "/cfp/v1/imagediff/4101/status?accountserviceid=x"), 400, "accountserviceid"),
        (call(sim, status_path("abc")), 400, "abc"),
        (call(sim, status_path(999)), 404, "Diff 999 not found"),
        (call(sim, "/cfp/v1/imagediff/4101/explode?accountserviceid=1234"), 404, "Not found"),
        (call(sim, "/"), 404, "Not found"),
        (call(sim, status_path(4101), method="POST"), 405, "GET"),
    ]
    for reply, expected_status, fragment in cases:
        assert reply.status == expected_status
        assert reply.headers["content-type"] == "application/json"
        assert fragment in reply.json()["error"]
    assert call(sim, status_path(4101)).status == 200


def test_job_objects_follow_the_documented_shape(sim: Simulator, clock: FakeClock) -> None:
    sim.add_diff(1, state=5)
    sim.add_diff(2, state=6, fail_with="Machine 7712 unreachable")
    sim.add_diff(3, state=4, progress=40, duration=100)
    sim.add_diff(4, state=1)
    completed, failed, running, created = (call(sim, status_path(d)) for d in (1, 2, 3, 4))
    for reply in (completed, failed, running, created):
        assert reply.status == 200
        assert reply.headers["content-type"] == "application/json"
        job = reply.json()
        assert JOB_KEYS <= set(job) <= JOB_KEYS | {"joberror", "jobeta", "jobstart"}
        assert job["jobstatename"] == STATE_NAMES[job["jobstateid"]]
        for key in JOB_KEYS - {"jobstatename"}:
            assert type(job[key]) is int, key

    job = completed.json()
    assert (job["jobstateid"], job["jobprogress"], job["jobfailed"]) == (5, 100, 0)
    assert "joberror" not in job and "jobeta" not in job
    assert isinstance(job["jobstart"], str) and job["jobstart"].isdigit()
    assert job["jobcreated"] <= int(job["jobstart"]) <= job["jobupdated"] <= clock.now

    job = failed.json()
    assert (job["jobstateid"], job["jobfailed"]) == (6, 1)
    assert job["joberror"] == "Machine 7712 unreachable"
    assert job["jobprogress"] < 100

    job = running.json()
    assert job["jobstateid"] == 4
    assert 39 <= job["jobprogress"] <= 41
    assert job["jobeta"] > clock.now
    assert "joberror" not in job

    job = created.json()
    assert job["jobstateid"] == 1
    assert "jobstart" not in job
    assert job["jobeta"] > clock.now


def test_failed_without_a_message_gets_a_realistic_error(sim: Simulator) -> None:
    sim.add_diff(7, state=6)
    assert call(sim, status_path(7)).json()["joberror"]


# --- lifecycle ----------------------------------------------------------------------------


def poll_until_terminal(
    sim: Simulator, clock: FakeClock, diffid: int, step: float
) -> list[dict[str, Any]]:
    jobs = []
    for _ in range(10_000):
        job = call(sim, status_path(diffid)).json()
        jobs.append({**job, "now": clock.now})
        if job["jobstateid"] >= 5:
            return jobs
        clock.advance(step)
    raise AssertionError("the job never finished")


def test_retry_runs_through_every_state_and_finishes_near_its_eta(
    sim: Simulator, clock: FakeClock
) -> None:
    sim.add_diff(4101, state=5, duration=100.0, eta_error=0.2)
    reply = call(sim, retry_path(4101))
    assert reply.status == 200
    assert reply.json()["jobstateid"] == 1
    assert sim.finished_at(4101) is None

    jobs = poll_until_terminal(sim, clock, 4101, step=0.25)
    states = [job["jobstateid"] for job in jobs]
    assert [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s] == [1, 2, 3, 4, 5]
    progress = [job["jobprogress"] for job in jobs]
    assert progress == sorted(progress), "progress never goes back"
    assert progress[-1] == 100
    assert all(p <= 99 for job, p in zip(jobs, progress, strict=True) if job["jobstateid"] == 4)
    in_flight = [job for job in jobs if job["jobstateid"] < 5]
    assert all("jobeta" in job and "joberror" not in job for job in in_flight)
    assert all("jobstart" not in job for job in in_flight if job["jobstateid"] < 4)
    running = [job for job in jobs if job["jobstateid"] == 4]
    eta = running[0]["jobeta"]
    assert {job["jobeta"] for job in running} == {eta}, "the announced ETA holds for the run"
    assert eta == pytest.approx(int(running[0]["jobstart"]) + 100, abs=1)
    # The queue waits are a few percent of the duration each.
    assert 0 < int(running[0]["jobstart"]) - jobs[0]["jobcreated"] < 20

    finished = sim.finished_at(4101)
    assert finished is not None
    assert jobs[-1]["now"] - 0.25 <= finished <= jobs[-1]["now"]
    assert abs(finished - eta) <= 0.25 * 100
    assert finished - eta == pytest.approx(20, abs=1.5), "eta_error=+0.2 finishes 20% late"


def test_progress_is_non_linear_and_deterministic(clock: FakeClock) -> None:
    def curve(seed: int) -> list[int]:
        sim = Simulator(seed_demo=False, clock=clock, seed=seed)
        clock.now = T0
        sim.add_diff(5, state=4, progress=0, duration=200.0)
        points = []
        for _ in range(200):
            points.append(sim.job(5)["jobprogress"])
            clock.advance(1.0)
        return points

    first = curve(0)
    assert first == curve(0)
    assert first != curve(1)
    linear = [round(i / 2) for i in range(200)]
    assert max(abs(a - b) for a, b in zip(first, linear, strict=True)) >= 5
    steps = {b - a for a, b in itertools.pairwise(first)}
    assert len(steps) >= 3, "moves in bursts, not at one steady rate"


def _finish_misses(sim: Simulator, clock: FakeClock, ids: list[int]) -> dict[int, float]:
    """Run every diff to its end; each one's miss as a signed fraction of its announced run."""
    announced = {}
    for diffid in ids:
        job = sim.job(diffid)
        assert job["jobstateid"] == 4
        announced[diffid] = (float(job["jobstart"]), float(job["jobeta"]))
    misses: dict[int, float] = {}
    for _ in range(10_000):
        for diffid in ids:
            finished = sim.finished_at(diffid)
            if diffid not in misses and finished is not None:
                start, eta = announced[diffid]
                misses[diffid] = (finished - eta) / (eta - start)
        if len(misses) == len(ids):
            return misses
        clock.advance(1.0)
    raise AssertionError("some diffs never finished")


def test_real_finish_is_within_25_percent_of_the_announced_eta(clock: FakeClock) -> None:
    """Like real ETAs: early or late by up to 25% of the announced run, spread, seeded."""

    def misses(seed: int) -> dict[int, float]:
        clock.now = T0
        sim = Simulator(seed_demo=False, clock=clock, seed=seed)
        ids = list(range(1, 201))
        for diffid in ids:
            sim.add_diff(diffid, state=4, progress=0, duration=60.0 + diffid)
        return _finish_misses(sim, clock, ids)

    first = misses(7)
    # jobeta and jobstart are whole seconds: allow their rounding on a ~100 s run.
    slack = 1.0 / 60
    assert all(abs(miss) <= ETA_ERROR_LIMIT + slack for miss in first.values())
    values = sorted(first.values())
    assert values[0] < -0.15 and values[-1] > 0.15, "some finish early, some late"
    assert sum(1 for v in values if abs(v) < 0.02) < 20, "an ETA is rarely right on"
    assert first == misses(7), "deterministic under a seed"
    assert first != misses(8)


def test_each_retry_misses_its_eta_differently(sim: Simulator, clock: FakeClock) -> None:
    sim.add_diff(21, state=5, duration=100.0)
    seen = []
    for _ in range(4):
        assert call(sim, retry_path(21)).status == 200
        jobs = poll_until_terminal(sim, clock, 21, step=0.5)
        running = [job for job in jobs if job["jobstateid"] == 4]
        start, eta = int(running[0]["jobstart"]), running[0]["jobeta"]
        finished = sim.finished_at(21)
        assert finished is not None
        seen.append(round((finished - eta) / (eta - start), 2))
        assert abs(finished - eta) <= ETA_ERROR_LIMIT * (eta - start) + 1.5
    assert len(set(seen)) == len(seen), seen


def test_speed_scales_the_run(clock: FakeClock) -> None:
    with Simulator(seed_demo=False, clock=clock, speed=20.0) as sim:
        sim.add_diff(9, state=5, duration=60.0, eta_error=0.0)
        assert call(sim, retry_path(9)).status == 200
        jobs = poll_until_terminal(sim, clock, 9, step=0.05)
    running = [job for job in jobs if job["jobstateid"] == 4]
    assert running[0]["jobeta"] - int(running[0]["jobstart"]) in (2, 3, 4)
    assert 3.0 <= jobs[-1]["now"] - T0 <= 3.0 + 3 * 0.05 * 60 / 20 + 0.1


def test_a_running_job_that_will_fail_ends_failed(sim: Simulator, clock: FakeClock) -> None:
    sim.add_diff(11, state=4, progress=10, duration=50.0, fail_with="Image locked by diffid 4107")
    jobs = poll_until_terminal(sim, clock, 11, step=0.5)
    last = jobs[-1]
    assert (last["jobstateid"], last["jobfailed"]) == (6, 1)
    assert last["joberror"] == "Image locked by diffid 4107"
    assert 10 <= last["jobprogress"] < 100
    assert sim.finished_at(11) is not None


def test_retry_and_reject_of_an_in_flight_diff_are_refused(sim: Simulator) -> None:
    sim.add_diff(12, state=4, progress=50)
    sim.add_diff(13, state=2)
    for diffid in (12, 13):
        for path in (retry_path(diffid), reject_path(diffid)):
            reply = call(sim, path)
            assert reply.status == 400
            assert reply.json() == {"error": f"Diff {diffid} is not in a completed or failed state"}
    assert call(sim, status_path(12)).json()["jobstateid"] == 4


def test_scripted_retry_errors_then_success(sim: Simulator, clock: FakeClock) -> None:
    sim.add_diff(
        14, state=6, duration=10.0, fail_with="Machine 7712 unreachable",
        retry_errors=["Checksum mismatch on /game/bin/server.pak"],
    )  # fmt: skip
    assert call(sim, retry_path(14)).status == 200
    assert poll_until_terminal(sim, clock, 14, 0.5)[-1]["joberror"] == (
        "Checksum mismatch on /game/bin/server.pak"
    )
    assert call(sim, retry_path(14)).status == 200
    last = poll_until_terminal(sim, clock, 14, 0.5)[-1]
    assert (last["jobstateid"], last["jobprogress"]) == (5, 100)
    assert "joberror" not in last


# --- diff_info ----------------------------------------------------------------------------


def test_diff_info_shape(sim: Simulator) -> None:
    sim.add_diff(20, state=5, files=60)
    sim.add_diff(21, state=4, progress=30)
    job = call(sim, status_path(20, "&diff_info=1")).json()
    assert set(job) >= JOB_KEYS
    assert set(job["game"]) == {"gameid", "name"}
    assert set(job["machine"]) == {"machineid", "name"}
    assert {"imageid", "name"} <= set(job["image"])
    for key in ("game", "machine", "image"):
        assert isinstance(job[key]["name"], str) and job[key]["name"]
    total = 0
    for which in ("added", "modified", "removed"):
        files = job[which]
        assert isinstance(files, dict)
        total += len(files)
        for path, entry in files.items():
            assert path.startswith("/game/")
            assert set(entry) == {"size", "checksum", "modified"}
            assert type(entry["size"]) is int and type(entry["modified"]) is int
            assert isinstance(entry["checksum"], str) and len(entry["checksum"]) == 32
    assert total == 60
    assert call(sim, status_path(20, "&diff_info=1")).json() == job, "stable between calls"
    assert "game" not in call(sim, status_path(20)).json()
    # Differences are known only once the analysis has completed.
    running = call(sim, status_path(21, "&diff_info=1")).json()
    assert running["game"] and running["added"] == running["modified"] == running["removed"] == {}


# --- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [
        ("429", 429, "application/json"),
        ("500", 500, "application/json"),
        ("502", 502, "application/json"),
        ("503", 503, "application/json"),
        ("400", 400, "application/json"),
        ("malformed", 200, "application/json"),
        ("html", 502, "text/html"),
        ("empty", 200, "application/json"),
        ("text", 200, "text/plain"),
    ],
)
def test_canned_faults_are_one_shot(
    sim: Simulator, kind: str, status: int, content_type: str
) -> None:
    sim.add_diff(30, state=5)
    sim.inject(kind, diffid=30)
    reply = call(sim, status_path(30))
    assert reply.status == status
    assert reply.headers["content-type"] == content_type
    if kind in ("429", "500", "502", "503", "400"):
        assert reply.json()["error"]
    elif kind == "malformed":
        with pytest.raises(json.JSONDecodeError):
            reply.json()
    elif kind == "html":
        assert reply.body.lstrip().startswith(b"<html>")
    elif kind == "empty":
        assert reply.body == b""
    else:
        assert reply.body and not reply.body.startswith(b"{")
    assert "retry-after" not in reply.headers
    assert call(sim, status_path(30)).json()["jobstateid"] == 5
    assert [r.status for r in sim.requests] == [status, 200]


@pytest.mark.parametrize("kind", ["429", "503"])
def test_slow_down_faults_carry_retry_after(sim: Simulator, kind: str) -> None:
    sim.add_diff(31, state=5)
    sim.inject(kind, retry_after=7)
    reply = call(sim, status_path(31))
    assert reply.status == int(kind)
    assert reply.headers["retry-after"] == "7"


def test_faults_match_endpoint_diff_and_count(sim: Simulator) -> None:
    sim.add_diff(32, state=5)
    sim.add_diff(33, state=5)
    sim.inject("500", diffid=33, count=2)
    sim.inject("502", endpoint="retry")
    assert call(sim, status_path(32)).status == 200
    assert call(sim, status_path(33)).status == 500
    assert call(sim, status_path(33)).status == 500
    assert call(sim, status_path(33)).status == 200
    assert call(sim, retry_path(32)).status == 502
    assert call(sim, status_path(32)).json()["jobstateid"] == 5, "a faulted retry did nothing"
    sim.inject("500", endpoint=None, count=5)
    assert call(sim, retry_path(32)).status == 500
    assert sim.pending_faults() == 4
    sim.clear_faults()
    assert sim.pending_faults() == 0
    assert call(sim, retry_path(32)).status == 200


def test_unknown_fault_kind_or_endpoint_is_refused(sim: Simulator) -> None:
    assert {"drop", "drop-after", "slow", "huge", "wrong-type", "hostile"} <= FAULT_KINDS
    with pytest.raises(ValueError, match="fault kind"):
        sim.inject("teapot")
    with pytest.raises(ValueError, match="endpoint"):
        sim.inject("500", endpoint="statuses")


def test_drop_closes_the_connection_without_an_answer(sim: Simulator) -> None:
    sim.add_diff(34, state=6)
    sim.inject("drop", endpoint="retry")
    with pytest.raises(http.client.RemoteDisconnected):
        call(sim, retry_path(34))
    assert call(sim, status_path(34)).json()["jobstateid"] == 6, "dropped before the action"
    assert sim.requests[0].status == 0


def test_drop_after_performs_the_action_then_drops(sim: Simulator) -> None:
    sim.add_diff(35, state=6)
    sim.inject("drop-after", endpoint="retry", diffid=35)
    with pytest.raises(http.client.RemoteDisconnected):
        call(sim, retry_path(35))
    assert call(sim, status_path(35)).json()["jobstateid"] == 1, "the retry happened"
    assert sim.count("retry", 35) == 1


def test_a_broken_diff_fails_every_time_and_the_others_answer(sim: Simulator) -> None:
    for diffid in (40, 41, 42, 43, 44):
        sim.add_diff(diffid, state=5)
    sim.break_diff(40, "429", retry_after=3)
    sim.break_diff(41, "503", retry_after=5)
    sim.break_diff(42, "500")
    sim.break_diff(43, "drop")
    for _ in range(3):
        throttled = call(sim, status_path(40))
        assert (throttled.status, throttled.headers["retry-after"]) == (429, "3")
        unavailable = call(sim, status_path(41))
        assert (unavailable.status, unavailable.headers["retry-after"]) == (503, "5")
        assert call(sim, status_path(42)).status == 500
        with pytest.raises(http.client.RemoteDisconnected):
            call(sim, status_path(43))
        assert call(sim, status_path(44)).status == 200
    assert sim.pending_faults() == 0, "lasting faults are not one-shot injections"
    sim.inject("502", diffid=42)
    assert call(sim, status_path(42)).status == 502, "one-shot faults come first"
    sim.mend_diff(40)
    assert call(sim, status_path(40)).status == 200
    sim.clear_faults()
    assert all(call(sim, status_path(d)).status == 200 for d in (41, 42, 43))
    with pytest.raises(ValueError, match="fault kind"):
        sim.break_diff(40, "teapot")


def test_an_outage_refuses_connections_then_serves_on_the_same_address(
    sim: Simulator,
) -> None:
    sim.add_diff(45, state=5)
    url = sim.url
    sim.start_outage("refused")
    assert sim.in_outage
    with pytest.raises(ConnectionRefusedError):
        connection = http.client.HTTPConnection(*urlsplit(url).netloc.split(":"), timeout=2)
        connection.request("GET", status_path(45))
    sim.end_outage()
    assert not sim.in_outage and sim.url == url
    assert call(sim, status_path(45)).status == 200


def test_a_resetting_outage_accepts_and_resets_without_an_answer(sim: Simulator) -> None:
    sim.add_diff(46, state=5)
    sim.start_outage("reset")
    with pytest.raises(ConnectionResetError):
        call(sim, status_path(46))
    sim.end_outage()
    assert call(sim, status_path(46)).status == 200
    with pytest.raises(ValueError, match="outage mode"):
        sim.start_outage("flood")


def test_slow_answers_late_but_normally(sim: Simulator) -> None:
    sim.add_diff(36, state=5)
    sim.inject("slow", delay=0.3)
    started = time.perf_counter()
    reply = call(sim, status_path(36))
    assert time.perf_counter() - started >= 0.3
    assert reply.json()["jobstateid"] == 5
    sim.inject("slow", endpoint="retry", delay=0.5)
    with pytest.raises(TimeoutError):
        call(sim, retry_path(36), timeout=0.1)
    # The timed-out retry is still performed: its outcome is unknown to the client only.
    assert sim.count("retry", 36) == 1
    assert call(sim, status_path(36)).json()["jobstateid"] == 1


def test_huge_is_a_12_mb_json_body(sim: Simulator) -> None:
    sim.add_diff(37, state=5)
    sim.inject("huge")
    reply = call(sim, status_path(37))
    assert reply.status == 200
    assert len(reply.body) >= 12_000_000
    assert reply.json()["diffid"] == 37


def test_wrong_type_and_hostile_jobs(sim: Simulator) -> None:
    sim.add_diff(38, state=6, fail_with="Machine 7712 unreachable")
    sim.inject("wrong-type")
    job = call(sim, status_path(38)).json()
    assert job["jobprogress"] == "lots"
    assert job["diffid"] == [1]

    sim.inject("hostile", count=2)
    for extra in ("", "&diff_info=1"):
        job = call(sim, status_path(38, extra)).json()
        for key in ("joberror", "jobstatename"):
            assert "\x1b[2J\x1b[31m" in job[key]
            assert "[bold red]x[/]" in job[key]
    assert "\x1b[" in job["game"]["name"]
    assert call(sim, status_path(38)).json()["joberror"] == "Machine 7712 unreachable"


# --- counters -----------------------------------------------------------------------------


def test_request_log_counts_and_windows(sim: Simulator, clock: FakeClock) -> None:
    sim.add_diff(40, state=5)
    for _ in range(3):
        call(sim, status_path(40))
    clock.advance(0.5)
    call(sim, status_path(41))
    clock.advance(2.0)
    call(sim, status_path(40))
    call(sim, retry_path(40))
    call(sim, "/nowhere")
    assert sim.count("status") == 5
    assert sim.count("status", 40) == 4
    assert sim.count("status", 41) == 1
    assert sim.count("retry", 40) == 1
    assert sim.count("other") == 1
    assert sim.requests[3].status == 404 and sim.requests[3].diffid == 41
    assert sim.requests[0].at == T0 and sim.requests[4].at == T0 + 2.5
    assert sim.max_requests_in_window("status", 1.0) == 4
    assert sim.max_requests_in_window("status", 0.5) == 3
    assert sim.max_requests_in_window("status", 10.0) == 5
    assert sim.max_requests_in_window("retry") == 1
    assert sim.max_requests_in_window("create") == 0
    sim.reset_counters()
    assert sim.requests == [] and sim.count("status") == 0


# --- create and reject --------------------------------------------------------------------


def test_create_starts_a_new_diff_or_retries_one(sim: Simulator, clock: FakeClock) -> None:
    sim.add_diff(4101, state=5)
    sim.add_diff(4102, state=4, progress=20)
    reply = call(sim, create_path("imageid=77&machineid=7712"))
    assert reply.status == 200
    job = reply.json()
    assert job["success"] is True
    assert job["diffid"] not in (4101, 4102)
    assert job["jobstateid"] == 1
    assert call(sim, status_path(job["diffid"])).json()["jobstateid"] == 1

    retried = call(sim, create_path("imageid=1&machineid=2&diffid=4101"))
    assert retried.status == 200
    assert retried.json()["success"] is True and retried.json()["jobstateid"] == 1
    assert call(sim, create_path("imageid=1&machineid=2&diffid=4102")).status == 400
    assert call(sim, create_path("imageid=1&machineid=2&diffid=9")).status == 404
    assert call(sim, create_path("imageid=1")).status == 400
    assert call(sim, create_path("imageid=x&machineid=2")).status == 400
    assert sim.count("create") == 6
    assert sim.count("create", 4101) == 1


def test_a_completed_diff_neither_accepted_nor_rejected_locks_its_image(
    sim: Simulator, clock: FakeClock
) -> None:
    first = call(sim, create_path("imageid=77&machineid=7712")).json()["diffid"]
    # In flight, it does not lock (API.md: a Completed diff does).
    second = call(sim, create_path("imageid=77&machineid=7713"))
    assert second.status == 200
    for diffid in (first, second.json()["diffid"]):
        poll_until_terminal(sim, clock, diffid, step=30.0)
        assert sim.job(diffid)["jobstateid"] == 5
    locked = call(sim, create_path("imageid=77&machineid=7714"))
    assert locked.status == 400
    assert locked.json() == {"error": f"Image locked by diffid {first}"}
    assert call(sim, reject_path(first)).status == 200
    still = call(sim, create_path("imageid=77&machineid=7714")).json()
    assert still == {"error": f"Image locked by diffid {second.json()['diffid']}"}
    assert call(sim, accept_path(second.json()["diffid"], "restart=0&force=1")).status == 200
    assert call(sim, create_path("imageid=77&machineid=7714")).status == 200


def test_reject_with_and_without_reinstall(sim: Simulator) -> None:
    sim.add_diff(50, state=5)
    sim.add_diff(51, state=6)
    reply = call(sim, reject_path(50))
    assert reply.status == 200
    assert reply.json() == {"success": True}
    again = call(sim, reject_path(50))
    assert again.status == 400
    assert "already been rejected" in again.json()["error"]
    assert call(sim, accept_path(50, "restart=0")).json() == {
        "error": "Diff 50 has already been rejected"
    }

    reply = call(sim, reject_path(51, "1"))
    assert reply.status == 200
    job = reply.json()
    assert type(job["uninstalljobid"]) is int
    assert set(job) >= JOB_KEYS
    assert job["jobstateid"] == 1 and job["diffid"] == 51
    assert call(sim, reject_path(50, "2")).status == 400
    assert sim.count("reject") == 4


# --- accept: image version create and status -----------------------------------------------


def accept_path(diffid: int | str, query: str) -> str:
    return f"/cfp/v1/imageversion/create?accountserviceid={ASID}&diffid={diffid}&{query}"


def version_path(imageversionid: int | str) -> str:
    return f"/cfp/v1/imageversion/{imageversionid}/status?accountserviceid={ASID}"


def poll_version(sim: Simulator, clock: FakeClock, vid: int) -> list[dict[str, Any]]:
    jobs = []
    for _ in range(1000):
        job = call(sim, version_path(vid)).json()
        jobs.append(job)
        if job["jobstateid"] in (5, 6):
            return jobs
        clock.now += 5.0
    raise AssertionError("the version job never ended")


def test_accept_creates_a_version_job_that_runs_to_completion(
    sim: Simulator, clock: FakeClock
) -> None:
    sim.add_diff(60, state=5)
    reply = call(sim, accept_path(60, "restart=1&game_build=1.4.2"))
    assert reply.status == 200
    job = reply.json()
    assert job["success"] is True and job["diffid"] == 60
    assert type(job["imageversionid"]) is int
    assert set(job) >= (JOB_KEYS - {"diffid"}) and job["jobstateid"] == 1
    jobs = poll_version(sim, clock, job["imageversionid"])
    states = [seen["jobstateid"] for seen in jobs]
    assert states == sorted(states) and 4 in states and states[-1] == 5
    assert jobs[-1]["jobprogress"] == 100 and "success" not in jobs[-1]
    assert sim.decision(60) == ("accepted", job["imageversionid"])
    again = call(sim, accept_path(60, "restart=1"))
    assert again.status == 400
    assert again.json()["error"] == (
        f"Diff 60 has already been accepted (image version {job['imageversionid']})"
    )
    assert call(sim, reject_path(60)).status == 400
    assert sim.count("accept", 60) == 2
    assert sim.count("version-status", job["imageversionid"]) == len(jobs)


def test_a_version_job_can_fail(sim: Simulator, clock: FakeClock) -> None:
    sim.add_diff(61, state=5, version_error="Timed out distributing the image version")
    vid = call(sim, accept_path(61, "restart=0")).json()["imageversionid"]
    last = poll_version(sim, clock, vid)[-1]
    assert (last["jobstateid"], last["jobfailed"]) == (6, 1)
    assert last["joberror"] == "Timed out distributing the image version"


def test_some_seeded_version_jobs_fail_and_some_images_have_allocations(clock: FakeClock) -> None:
    sim = Simulator(seed_demo=False, clock=clock)
    ids = sim.add_many(200)
    with sim._lock:
        diffs = [sim._account.diffs[diffid] for diffid in ids]
    failing = sum(diff.version_error is not None for diff in diffs)
    allocated = sum(diff.allocations for diff in diffs)
    assert 10 < failing < 80 and 20 < allocated < 90


@pytest.mark.parametrize(
    ("setup", "query", "message"),
    [
        ({"state": 6}, "restart=0", "diff 62 is not completed"),
        ({"state": 4, "progress": 30}, "restart=0", "diff 62 is not completed"),
        ({"allocations": True}, "restart=0", "image has active allocations; use force=1"),
        ({"files": 0}, "restart=1", "diff 62 found no changes; use full=1"),
        ({}, "", "restart is required and must be 0 or 1"),
        ({}, "restart=2", "restart is required and must be 0 or 1"),
        ({}, "restart=1&full=yes", "full is required and must be 0 or 1"),
    ],
)
def test_accept_refusals_say_why(
    sim: Simulator, setup: dict[str, Any], query: str, message: str
) -> None:
    sim.add_diff(62, **setup)
    reply = call(sim, accept_path(62, query))
    assert (reply.status, reply.json()) == (400, {"error": message})
    assert sim.decision(62) is None


def test_force_and_full_let_the_accept_through(sim: Simulator) -> None:
    sim.add_diff(63, allocations=True, files=0)
    assert call(sim, accept_path(63, "restart=0&force=1")).status == 400  # still no full
    assert call(sim, accept_path(63, "restart=0&full=1")).status == 400  # still allocated
    assert call(sim, accept_path(63, "restart=0&full=1&force=1")).status == 200


def test_accept_and_version_status_of_unknown_ids(sim: Simulator) -> None:
    assert call(sim, accept_path(9, "restart=0")).status == 404
    assert call(sim, accept_path("x", "restart=0")).status == 400
    assert call(sim, version_path(9)).json() == {"error": "Image version 9 not found"}
    assert call(sim, version_path("x")).status == 400


def test_a_retry_while_another_diff_locks_the_image_fails_with_the_lock(
    sim: Simulator, clock: FakeClock
) -> None:
    sim.add_diff(70, state=5, imageid=5)
    sim.add_diff(71, state=6, imageid=5, fail_with="Image locked by diffid 70")
    assert call(sim, retry_path(71)).status == 200
    assert poll_until_terminal(sim, clock, 71, step=5.0)[-1]["joberror"] == (
        "Image locked by diffid 70"
    )
    assert call(sim, accept_path(70, "restart=0")).status == 200
    assert call(sim, retry_path(71)).status == 200
    assert poll_until_terminal(sim, clock, 71, step=5.0)[-1]["jobstateid"] == 5


# --- demo set, bulk, server ---------------------------------------------------------------


def test_demo_set_covers_every_state(clock: FakeClock) -> None:
    with Simulator(clock=clock) as sim:
        assert [diffid for diffid, _ in DEMO_DIFFS] == list(range(4101, 4114))
        assert len({label for _, label in DEMO_DIFFS}) == len(DEMO_DIFFS)
        jobs = [call(sim, status_path(diffid)).json() for diffid, _ in DEMO_DIFFS]
        assert {job["jobstateid"] for job in jobs} == set(STATE_NAMES)
        errors = [job["joberror"] for job in jobs if job["jobstateid"] == 6]
        assert "Checksum mismatch on /game/bin/server.pak" in errors
        assert any("[red]disk[/red] full \x1b[31m" in error for error in errors)
        running = [job for job in jobs if job["jobstateid"] == 4]
        assert max(job["jobeta"] for job in running) - clock.now > 180, "one long job"
        big = call(sim, status_path(4112, "&diff_info=1")).json()
        assert sum(len(big[k]) for k in ("added", "modified", "removed")) >= 100
        # A specific demo diff fails again on retry.
        assert call(sim, retry_path(4102)).status == 200
        last = poll_until_terminal(sim, clock, 4102, step=2.0)[-1]
        assert last["joberror"] == "Checksum mismatch on /game/bin/server.pak"


def test_the_demo_lock_chain_can_be_resolved(clock: FakeClock) -> None:
    with Simulator(clock=clock) as sim:
        locked = call(sim, status_path(4108)).json()
        assert locked["joberror"] == "Image locked by diffid 4113"
        assert "locks 4108" in dict(DEMO_DIFFS)[4113]
        assert call(sim, status_path(4113)).json()["jobstateid"] == 5
        accepted = call(sim, accept_path(4113, "restart=1"))
        assert accepted.status == 200
        assert poll_version(sim, clock, accepted.json()["imageversionid"])[-1]["jobstateid"] == 5
        assert call(sim, retry_path(4108)).status == 200
        assert poll_until_terminal(sim, clock, 4108, step=5.0)[-1]["jobstateid"] == 5


def test_add_many_for_benchmarks(clock: FakeClock) -> None:
    sim = Simulator(seed_demo=False, clock=clock)
    ids = sim.add_many(1000, running=100, queued=50, failed=25)
    assert ids == list(range(100000, 101000))
    states = [sim.job(diffid)["jobstateid"] for diffid in ids]
    assert states.count(4) == 100 and states.count(3) == 50 and states.count(6) == 25
    assert states.count(5) == 825
    etas = {sim.job(diffid)["jobeta"] for diffid in ids[:100]}
    assert len(etas) > 50, "running jobs finish at different times"
    with pytest.raises(ValueError):
        sim.add_many(3, running=2, failed=2)


@pytest.mark.parametrize("host", ["10.0.0.1", "0.0.0.0", "example.com", "", "::"])
def test_only_loopback_unless_allowed(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        Simulator(host)
    Simulator(host, allow_remote=True, seed_demo=False)  # refused only by default


def test_loopback_names_are_accepted() -> None:
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        Simulator(host, seed_demo=False)
    with Simulator("localhost", seed_demo=False) as sim:
        assert urlsplit(sim.url).hostname in ("127.0.0.1", "::1")
    assert main_simulate("10.1.2.3", 0) == 2


def test_quiet_fast_and_stops_cleanly(capfd: pytest.CaptureFixture[str]) -> None:
    sim = Simulator(seed_demo=True)
    with pytest.raises(RuntimeError):
        _ = sim.url
    sim.start()
    parts = urlsplit(sim.url)
    assert parts.hostname is not None and parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    token = base64.b64encode(f"{sim.access_key}:{sim.secret_key}".encode()).decode()
    started = time.perf_counter()
    for index in range(300):
        connection.request(
            "GET", status_path(4101 + index % 12), headers={"Authorization": f"Basic {token}"}
        )
        assert connection.getresponse().read()
    elapsed = time.perf_counter() - started
    assert elapsed < 2.0, f"300 keep-alive requests took {elapsed:.2f}s"
    sim.stop()
    sim.stop()
    with pytest.raises(OSError):
        connection.request("GET", status_path(4101))
        connection.getresponse()
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    assert sim.errors == []


def test_concurrent_clients_are_all_answered_and_counted(sim: Simulator) -> None:
    sim.add_many(40, first_id=1000, running=20)
    replies: list[int] = []

    def client(offset: int) -> None:
        for index in range(40):
            replies.append(call(sim, status_path(1000 + (index + offset) % 40)).status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert replies == [200] * 320
    assert sim.count("status") == 320
    assert sum(sim.count("status", diffid) for diffid in range(1000, 1040)) == 320


STOP_LIMIT = 60.0
"""Seconds the foreground simulator gets to stop after Ctrl-C before the test fails."""


def test_main_simulate_prints_what_to_export_and_stops_on_ctrl_c() -> None:
    script = "from tui.simulator import main_simulate; raise SystemExit(main_simulate(port=0))"
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:
            lines.append(line)
            if line.startswith("export "):
                break
        process.send_signal(2)
        # Stopping takes a few tens of milliseconds of CPU; on a 2-core machine with a
        # score of busy processes the scheduler stretches that to seconds.
        _, stderr = process.communicate(timeout=STOP_LIMIT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    export = lines[-1]
    for name in ("CLANFORGE_API_URL=http://127.0.0.1:", "CLANFORGE_ASID=1234"):
        assert name in export
    assert "CLANFORGE_ACCESS_KEY=demo-access-key" in export
    assert "CLANFORGE_SECRET_KEY=demo-secret-key" in export


def test_a_server_wide_rate_limit_answers_429_with_retry_after(
    sim: Simulator, clock: FakeClock
) -> None:
    sim.add_diff(40, state=5)
    sim.rate_limit = 2
    sim.inject("500", endpoint="retry", diffid=40)
    assert call(sim, status_path(40)).status == 200
    clock.advance(0.5)
    assert call(sim, status_path(40)).status == 200
    refused = call(sim, retry_path(40))
    assert refused.status == 429
    assert refused.headers["retry-after"] == "1"
    assert sim.pending_faults() == 1, "a refused request does not consume a fault"
    clock.advance(0.5)
    assert call(sim, status_path(40)).status == 200, "the first request left the window"
    assert call(sim, retry_path(40)).status == 429
    clock.advance(1.0)
    assert call(sim, retry_path(40)).status == 500
    assert [r.status for r in sim.requests] == [200, 200, 429, 200, 429, 500]
    clock.advance(5.0)
    sim.rate_limit = 0
    assert call(sim, status_path(40)).headers["retry-after"] == "1", "0: every request refused"
