"""First paint of two builds of the app, interleaved in one run: wall time and CPU.

On a shared machine the wall time of one run says little; two builds measured turn
about, and the CPU time each process used until its first paint (user + system, every
thread, from ``/proc``), say what a change did. Each build is named by its
``imagediff-tui`` console script (a worktree's venv)::

    .venv/bin/python -m bench.compare /tmp/old/.venv/bin/imagediff-tui \\
        .venv/bin/imagediff-tui --runs 5

Prints, per watchlist size, the median wall time and CPU time to the first paint of
each build and of the minimal Textual app (the bench's baseline).
"""

from __future__ import annotations

import argparse
import random
import time
from contextlib import ExitStack

from bench.fixtures import (
    BYTECODE_NOTE,
    byte_compile,
    entries_from,
    fleet,
    minimal_command,
    sandbox,
)
from bench.measures import COLUMNS, LINES, main_screen_painted, minimal_painted
from bench.stats import median
from bench.term import PtyProcess
from tui.simulator import Simulator

Sample = tuple[float, float]
"""(wall seconds, CPU seconds) from spawn to the first paint."""


def _paint(command: list[str], env: dict[str, str], ids: set[int]) -> Sample:
    condition = main_screen_painted(ids, min(len(ids), 12)) if ids else minimal_painted(0)
    with PtyProcess(command, env, columns=COLUMNS, lines=LINES) as proc:
        waiter = proc.watch(condition)
        started = proc.start()
        at = proc.wait_for(waiter, 60, "first paint")
        cpu = proc.cpu_seconds()
        time.sleep(0.3)
        proc.quit()
    return at - started, cpu


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("before", help="the first build's imagediff-tui")
    parser.add_argument("after", help="the second build's imagediff-tui")
    parser.add_argument("--runs", type=int, default=5, help="runs of each (after a warm-up)")
    parser.add_argument("--sizes", default="10,1000,10000", help="watchlist sizes")
    args = parser.parse_args()
    builds = {"before": [args.before], "after": [args.after]}
    samples: dict[str, list[Sample]] = {}
    for command in builds.values():
        byte_compile(command)
    with ExitStack() as stack:
        sim = stack.enter_context(Simulator(seed=1, seed_demo=False))
        minimal = stack.enter_context(sandbox(None, "compare-minimal"))
        fleets = []
        for size in (int(text) for text in args.sizes.split(",")):
            ids, labels = fleet(sim, size, 4_000_000 + size * 10, 1)
            box = stack.enter_context(sandbox(sim, f"compare{size}"))
            fleets.append((size, box, ids, entries_from(sim, ids, labels, random.Random(1))))
        for run in range(args.runs + 1):
            # Turn about, so neither build always runs on the warmer machine.
            order = ("before", "after") if run % 2 else ("after", "before")
            measured = {"minimal": _paint(minimal_command(), minimal.env, set())}
            for size, box, ids, entries in fleets:
                for name in order:
                    box.write_watchlist(entries)
                    measured[f"{name} {size}"] = _paint(builds[name], box.env, set(ids))
            if run:  # the first run warms the caches
                for key, sample in measured.items():
                    samples.setdefault(key, []).append(sample)
    print(BYTECODE_NOTE)
    for key, values in samples.items():
        wall = median([v[0] for v in values]) * 1000
        cpu = median([v[1] for v in values]) * 1000
        print(f"{key:14} wall {wall:6.0f} ms  CPU {cpu:6.0f} ms  (median of {len(values)})")


if __name__ == "__main__":
    main()
