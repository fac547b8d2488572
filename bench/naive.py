"""The baseline for polling: every diff asked about every 2 s until it is terminal.

What a script written in five minutes does (``while true; do curl ...; sleep 2``), with
the diffs' phases spread evenly over the interval so that it never bursts. Run as
``python -m bench.naive`` it builds the lifecycle scenario on its own simulator (same
seed, same timeline from its own set-up) in this process, polls it, and prints one
JSON object: requests made, the busiest 1-second window and each diff's detection
delay (from the simulator's finish to the answer that said so, no screen involved).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
from typing import Any

import httpx

from bench.fixtures import Lifecycle, lifecycle
from tui.simulator import Simulator, max_in_window


async def poll_fixed(
    sim: Simulator, ids: list[int], interval: float, deadline: float
) -> dict[int, float]:
    """Poll each diff every ``interval`` s until terminal; Unix time each was seen so."""
    seen: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    limits = httpx.Limits(max_connections=len(ids), max_keepalive_connections=len(ids))
    async with httpx.AsyncClient(
        base_url=sim.url, auth=(sim.access_key, sim.secret_key), timeout=10.0, limits=limits
    ) as client:

        async def one(index: int, diffid: int) -> None:
            next_at = loop.time() + index * interval / len(ids)
            while time.time() < deadline:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                next_at += interval
                try:
                    response = await client.get(
                        f"/cfp/v1/imagediff/{diffid}/status",
                        params={"accountserviceid": sim.asid},
                    )
                    state = response.json().get("jobstateid")
                except (httpx.HTTPError, ValueError):
                    continue
                if state in (5, 6):
                    seen[diffid] = time.time()
                    return

        await asyncio.gather(*(one(index, diffid) for index, diffid in enumerate(ids)))
    return seen


def run(seed: int, shape: Lifecycle, first_id: int, interval: float) -> dict[str, Any]:
    """Set up the scenario, poll it to the end; the figures as a JSON-able dict."""
    with Simulator(seed=seed, seed_demo=False) as sim:
        ids, _labels = lifecycle(sim, shape, first_id, seed)
        started = time.time()
        deadline = started + shape.last_finish + 30
        seen = asyncio.run(poll_fixed(sim, ids, interval, deadline))
        delays = {}
        for diffid in ids:
            finished = sim.finished_at(diffid)
            if finished is not None and diffid in seen:
                delays[diffid] = seen[diffid] - finished
        times = [r.at for r in sim.requests if r.endpoint == "status"]
        return {
            "requests": len(times),
            "max_in_1s": max_in_window(times, 1.0),
            "delays": delays,
            "missed": sorted(set(ids) - set(delays)),
            "seconds": time.time() - started,
        }


def shape_json(shape: Lifecycle) -> str:
    """``--shape`` for :func:`main`."""
    return json.dumps(dataclasses.asdict(shape))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--first-id", type=int, required=True)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--shape", default="{}", help="Lifecycle fields as JSON")
    args = parser.parse_args()
    shape = Lifecycle(**json.loads(args.shape))
    print(json.dumps(run(args.seed, shape, args.first_id, args.interval)), flush=True)


if __name__ == "__main__":
    main()
