"""Run the benchmark suite: ``.venv/bin/python -m bench`` (``--quick`` for a short run).

Starts the embedded simulator, runs the real ``imagediff-tui`` in a 120x40
pseudo-terminal for each figure, and prints one table: each figure beside its
baseline measured in the same run, the ratio, the target and PASS/MISS. Progress goes
to stderr; the table to stdout. Exit status 0 even with a MISS (it is a measurement,
not a test); 2 if a measurement could not be taken.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.fixtures import BYTECODE_NOTE, Lifecycle, app_command, byte_compile
from bench.measures import (
    Results,
    completions_output,
    cpu_and_output,
    finish_detection,
    key_latency,
    log,
    startup,
)
from bench.report import machine, table


@dataclass(frozen=True)
class Plan:
    """How much of everything to measure."""

    paint_runs: int
    downs: int
    filter_rounds: int
    floor_presses: int
    idle_count: int
    running_count: int
    window: float
    lifecycle: Lifecycle
    completions: Lifecycle
    """The diffs that run through to completion while the output is counted."""


FULL = Plan(
    paint_runs=5,
    downs=60,
    filter_rounds=4,
    floor_presses=30,
    idle_count=100,
    running_count=20,
    window=30.0,
    lifecycle=Lifecycle(count=100),
    completions=Lifecycle(
        count=20, shortest=120.0, longest=240.0, horizon=150.0, waiting_share=0.0
    ),
)
QUICK = Plan(
    paint_runs=2,
    downs=20,
    filter_rounds=1,
    floor_presses=10,
    idle_count=40,
    running_count=20,
    window=10.0,
    lifecycle=Lifecycle(count=40, shortest=60.0, longest=150.0, horizon=100.0),
    completions=Lifecycle(count=20, shortest=60.0, longest=120.0, horizon=80.0, waiting_share=0.0),
)

STEPS = ("paint", "keys", "cpu", "completions", "lifecycle")


def _catching(
    errors: list[BaseException], step: Callable[..., None], *args: object
) -> Callable[[], None]:
    def run() -> None:
        try:
            step(*args)
        except BaseException as exc:
            errors.append(exc)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples, shorter windows")
    parser.add_argument("--seed", type=int, default=1, help="seed of every scenario")
    parser.add_argument(
        "--only", choices=STEPS, action="append", help="run only this step (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    steps = args.only or list(STEPS)
    results = Results()
    results.values["idle_count"] = plan.idle_count
    results.values["running_count"] = plan.running_count
    began = time.monotonic()
    loads: list[float] = []
    done = threading.Event()

    def sample_load() -> None:
        while not done.is_set():
            loads.append(os.getloadavg()[0])
            done.wait(5.0)

    threading.Thread(target=sample_load, name="load", daemon=True).start()
    byte_compile(app_command())
    try:
        if "paint" in steps:
            log(f"first paint and peak RSS: {plan.paint_runs} runs each (+1 warm-up)")
            startup(results, plan.paint_runs, args.seed)
        if "keys" in steps:
            log("key-to-screen latency with 1,000 diffs")
            key_latency(results, args.seed, plan.downs, plan.filter_rounds, plan.floor_presses)
        # The lifecycle takes minutes of wall time but little CPU: the CPU and output
        # windows run beside it (each figure there is one process's own CPU time or bytes).
        errors: list[BaseException] = []
        lifecycle = threading.Thread(
            target=_catching(errors, finish_detection, results, args.seed, plan.lifecycle),
            name="lifecycle",
        )
        if "lifecycle" in steps:
            lifecycle.start()
        if "cpu" in steps:
            cpu_and_output(results, args.seed, plan.idle_count, plan.running_count, plan.window)
        if "completions" in steps:
            completions_output(results, args.seed, plan.completions)
        if lifecycle.is_alive():
            log("waiting for the lifecycle to end")
            lifecycle.join()
        if errors:
            raise errors[0]
    except Exception as exc:
        log(f"a measurement failed: {type(exc).__name__}: {exc}")
        if results.values:
            print(table(results))
        return 2
    finally:
        done.set()
        if args.json is not None:
            raw = {"values": results.values, "busiest_1s": results.max_requests_per_second()}
            args.json.write_text(json.dumps(raw, indent=1, default=str))
    elapsed = time.monotonic() - began
    print("\n".join(machine(loads)))
    print(BYTECODE_NOTE)
    print(f"run: {'--quick' if args.quick else 'full'}, seed {args.seed}, {elapsed:.0f}s")
    print()
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
