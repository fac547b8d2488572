"""The measurements. Each one starts what it measures, measures it and stops it.

Every screen figure is taken from the real ``imagediff-tui`` process in a 120x40
pseudo-terminal (what an SSH user sees), through the screen model of ``bench.vt``.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

from bench.fixtures import (
    REPO,
    Lifecycle,
    Sandbox,
    all_running,
    all_terminal,
    app_command,
    entries_from,
    fleet,
    lifecycle,
    minimal_command,
    sandbox,
)
from bench.naive import shape_json
from bench.term import Condition, PtyProcess
from bench.vt import Screen
from tui.simulator import Simulator, max_in_window

COLUMNS, LINES = 120, 40
TOAST_SECONDS = 8.0
"""The longest a completion or failure toast stays up."""

# A panel's first line (or a compact row): the diff ID, its label, then the state glyph
# and word. Group 1 is the state word, group 2 the ID.
PANEL = re.compile(r"(?=#\d+\s.*?[○◔◑▶✓✗?] (\S+))#(\d+)")
CURSOR_MARK = "▌"
DOWN = b"\x1b[B"
BACKSPACE = b"\x7f"
ESCAPE = b"\x1b"
FILTER_PLACEHOLDER = "filter by ID"
MINIMAL_LINE = "minimal textual app: {count} keys"


def log(message: str) -> None:
    """Progress on stderr (the table goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- reading the screen ---------------------------------------------------------------------


def panel_ids(screen: Screen) -> list[int]:
    """The diff IDs of the panels on screen, top to bottom."""
    found = []
    for y in range(screen.lines):
        match = PANEL.search(screen.line(y))
        if match is not None:
            found.append(int(match.group(2)))
    return found


def cursor_ids(screen: Screen) -> list[int]:
    """The IDs of the panels drawn with the cursor mark (one, once a frame is complete)."""
    found = []
    for y in range(screen.lines):
        row = screen.rows[y]
        if row[0] == CURSOR_MARK:
            match = PANEL.search(screen.line(y))
            if match is not None:
                found.append(int(match.group(2)))
    return found


def main_screen_painted(ids: set[int], need: int) -> Condition:
    """Header, footer and the first ``need`` panels of ``ids`` all on screen."""

    def condition(screen: Screen) -> bool:
        if "imagediff-tui" not in screen.line(0):
            return False
        if "Quit" not in screen.line(screen.lines - 1):
            return False
        return len(set(panel_ids(screen)) & ids) >= need

    return condition


def minimal_painted(count: int) -> Condition:
    """The minimal app's line, showing ``count`` key presses."""
    text = MINIMAL_LINE.format(count=count)
    return lambda screen: any(text in screen.line(y) for y in range(screen.lines))


def cursor_moved_from(before: int) -> Condition:
    """Exactly one panel has the cursor, and it is not ``before``."""

    def condition(screen: Screen) -> bool:
        marked = cursor_ids(screen)
        return len(marked) == 1 and marked[0] != before

    return condition


def filtered(text: str, matches: set[int], capacity: int) -> Condition:
    """The header echoes the filter ``text`` and the list shows only (and enough of) its
    ``matches``."""

    def condition(screen: Screen) -> bool:
        header = screen.line(1)
        if text and not header.endswith(f"filter: {text}"):
            return False
        if not text and "filter:" in header:
            return False
        shown = panel_ids(screen)
        if not set(shown) <= matches:
            return False
        return len(shown) >= min(len(matches), capacity)

    return condition


# --- running things -------------------------------------------------------------------------


@dataclass
class Window:
    """Requests to the simulator for one app run: the diffs it watches and its time span."""

    sim: Simulator
    ids: set[int]
    start: float
    end: float = 0.0

    def request_times(self) -> list[float]:
        """When each request of this run reached the simulator (any endpoint)."""
        with self.sim._lock:
            records = list(self.sim.requests)
        return [
            r.at
            for r in records
            if self.start <= r.at <= self.end and (r.diffid in self.ids or r.diffid is None)
        ]


@dataclass
class Results:
    """Everything measured, by name; filled in as the run goes."""

    values: dict[str, object] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)

    def max_requests_per_second(self) -> int:
        """The busiest 1-second window of any one app run, as the simulator counted."""
        return max((max_in_window(w.request_times(), 1.0) for w in self.windows), default=0)


@contextmanager
def running_app(
    box: Sandbox, results: Results, sim: Simulator, ids: list[int], *, lines: int = LINES
) -> Iterator[PtyProcess]:
    """The app in a pty, its requests recorded as a window; quit (or killed) at the end."""
    proc = PtyProcess(app_command(), box.env, columns=COLUMNS, lines=lines, cwd=REPO)
    window = Window(sim, set(ids), time.time())
    results.windows.append(window)
    try:
        yield proc
        if proc.alive():
            code = proc.quit()
            if code != 0:
                log(f"the app exited {code}")
    finally:
        proc.close()
        window.end = time.time()


def wait_polled(sim: Simulator, ids: list[int], since: float, timeout: float) -> None:
    """Wait until the simulator has answered a status request for every one of ``ids``."""
    wanted = set(ids)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sim._lock:
            seen = {r.diffid for r in sim.requests if r.endpoint == "status" and r.at >= since}
        if wanted <= seen:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{len(wanted - seen)} diffs were never polled within {timeout:g}s")


# --- 1. first paint and memory --------------------------------------------------------------


PAINT_FLEETS = ((10, 110_000), (1000, 200_000), (10_000, 1_000_000))
"""Watchlist sizes of the first-paint runs, and the first diff ID of each."""
KEY_FLEETS = ((1000, 100_000), (10_000, 2_000_000))
"""Watchlist sizes of the key-to-screen runs, and the first diff ID of each."""


def startup(results: Results, runs: int, seed: int, settle: float = 1.0) -> None:
    """Process start to first complete paint, and peak RSS, for the minimal app and the
    app with 10, 1,000 and 10,000 watched diffs (interleaved runs, one warm-up each)."""
    with ExitStack() as stack:
        sim = stack.enter_context(Simulator(seed=seed, seed_demo=False))
        setups = {}
        for count, first_id in PAINT_FLEETS:
            rng = random.Random(f"startup:{seed}:{count}")
            ids, labels = fleet(sim, count, first_id, seed)
            box = stack.enter_context(sandbox(sim, f"paint{count}"))
            setups[count] = (box, ids, entries_from(sim, ids, labels, rng))
        minimal_box = stack.enter_context(sandbox(None, "minimal"))
        names = ["minimal", *(f"app{count}" for count, _ in PAINT_FLEETS)]
        paint: dict[str, list[float]] = {name: [] for name in names}
        peak: dict[str, list[float]] = {name: [] for name in names}
        for run in range(runs + 1):
            warm_up = run == 0
            with PtyProcess(minimal_command(), minimal_box.env, cwd=REPO) as proc:
                waiter = proc.watch(minimal_painted(0))
                started = proc.start()
                at = proc.wait_for(waiter, 60, "minimal app first paint")
                time.sleep(settle)
                _rss, hwm = proc.memory_kib()
                proc.quit()
            if not warm_up:
                paint["minimal"].append(at - started)
                peak["minimal"].append(hwm / 1024)
            for count, _ in PAINT_FLEETS:
                box, ids, entries = setups[count]
                box.write_watchlist(entries)
                with running_app(box, results, sim, ids) as proc:
                    waiter = proc.watch(main_screen_painted(set(ids), min(count, 12)))
                    started = proc.start()
                    at = proc.wait_for(waiter, 60, f"first paint with {count} diffs")
                    time.sleep(settle)
                    _rss, hwm = proc.memory_kib()
                if not warm_up:
                    paint[f"app{count}"].append(at - started)
                    peak[f"app{count}"].append(hwm / 1024)
            if not warm_up:
                log(
                    f"paint run {run}: "
                    + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in paint.items())
                )
        results.values["paint"] = paint
        results.values["peak_rss_mib"] = peak


# --- 2. key-to-screen latency ---------------------------------------------------------------


def key_latency(
    results: Results, seed: int, downs: int, filter_rounds: int, floor_presses: int
) -> None:
    """Cursor down and filter keystrokes with 1,000 and 10,000 diffs; the minimal app's
    key as floor. Latencies by name: ``down``/``filter`` (1,000), ``down10000``/... ."""
    rng = random.Random(f"keys:{seed}")
    latency: dict[str, list[float]] = {"minimal": []}
    for count, first_id in KEY_FLEETS:
        suffix = "" if count == 1000 else str(count)
        down, typed = _keys_with(results, rng, seed, count, first_id, downs, filter_rounds)
        latency["down" + suffix], latency["filter" + suffix] = down, typed
    with sandbox(None, "minimal-keys") as box, PtyProcess(minimal_command(), box.env) as proc:
        waiter = proc.watch(minimal_painted(0))
        proc.start()
        proc.wait_for(waiter, 60, "minimal app")
        time.sleep(1.0)
        for count in range(1, floor_presses + 1):
            waiter = proc.watch(minimal_painted(count))
            sent = proc.send(b"j")
            latency["minimal"].append(proc.wait_for(waiter, 10, "minimal key") - sent)
            _pause(proc, rng)
        proc.quit()
    results.values["latency"] = latency


def _keys_with(
    results: Results,
    rng: random.Random,
    seed: int,
    count: int,
    first_id: int,
    downs: int,
    filter_rounds: int,
) -> tuple[list[float], list[float]]:
    """Cursor-down and filter-keystroke latencies with ``count`` watched diffs; the
    peak RSS after them goes in ``peak_rss_keys_mib`` (1,000) or ``..._{count}``."""
    down: list[float] = []
    typed: list[float] = []
    with ExitStack() as stack:
        sim = stack.enter_context(Simulator(seed=seed, seed_demo=False))
        ids, labels = fleet(sim, count, first_id, seed)
        box = stack.enter_context(sandbox(sim, f"keys{count}"))
        box.write_watchlist(entries_from(sim, ids, labels, rng))
        proc = stack.enter_context(running_app(box, results, sim, ids))
        waiter = proc.watch(main_screen_painted(set(ids), 12))
        proc.start()
        proc.wait_for(waiter, 60, f"first paint with {count} diffs")
        time.sleep(2.0)
        for _ in range(downs):
            with proc._lock:
                marked = cursor_ids(proc.screen)
            before = marked[0] if marked else -1
            waiter = proc.watch(cursor_moved_from(before))
            sent = proc.send(DOWN)
            down.append(proc.wait_for(waiter, 10, "cursor down") - sent)
            _pause(proc, rng)
        for target in rng.sample(ids, filter_rounds):
            proc.send(b"/")
            proc.wait_until(
                lambda s: any(FILTER_PLACEHOLDER in s.line(y) for y in range(s.lines)),
                10,
                "filter box",
            )
            _pause(proc, rng)
            text = str(target)
            typed_text = [text[:k] for k in range(1, len(text) + 1)]
            erased = [text[:k] for k in range(len(text) - 1, -1, -1)]
            keys = [(t, t[-1].encode()) for t in typed_text] + [(t, BACKSPACE) for t in erased]
            for shown, key in keys:
                matches = {diffid for diffid in ids if shown in str(diffid)}
                waiter = proc.watch(filtered(shown, matches, 10))
                sent = proc.send(key)
                typed.append(proc.wait_for(waiter, 10, f"filter {shown!r}") - sent)
                _pause(proc, rng)
            proc.send(ESCAPE)
            proc.wait_until(
                lambda s: not any(FILTER_PLACEHOLDER in s.line(y) for y in range(s.lines)),
                10,
                "filter box closed",
            )
            _pause(proc, rng)
        _rss, hwm = proc.memory_kib()
        name = "peak_rss_keys_mib" if count == 1000 else f"peak_rss_keys_{count}_mib"
        results.values[name] = hwm / 1024
    return down, typed


def _pause(proc: PtyProcess, rng: random.Random) -> None:
    """Let the screen settle, then wait a human-ish moment before the next key."""
    proc.wait_quiet(0.03)
    time.sleep(rng.uniform(0.05, 0.2))


# --- 3. CPU when idle, CPU and bytes with 20 running, and `watch -n 2` ---------------------


def cpu_and_output(
    results: Results, seed: int, idle_count: int, running_count: int, window: float
) -> None:
    """CPU over ``window`` s with every diff terminal (beside the minimal app idling and
    ``watch -n 2`` of a status listing), then CPU and bytes/s with ``running_count`` running."""
    rng = random.Random(f"cpu:{seed}")
    with ExitStack() as stack:
        sim = stack.enter_context(Simulator(seed=seed, seed_demo=False))
        idle_ids, idle_labels = all_terminal(sim, idle_count, 400_000, seed)
        run_ids, run_labels = all_running(sim, running_count, 300_000, seed)
        idle_box = stack.enter_context(sandbox(sim, "idle"))
        idle_box.write_watchlist(entries_from(sim, idle_ids, idle_labels, rng))
        run_box = stack.enter_context(sandbox(sim, "running"))
        run_box.write_watchlist(entries_from(sim, run_ids, run_labels, rng))
        watch_box = stack.enter_context(sandbox(sim, "watch"))
        minimal_box = stack.enter_context(sandbox(None, "minimal-idle"))

        # Every diff terminal, the minimal app and `watch` side by side.
        since = time.time()
        app = stack.enter_context(running_app(idle_box, results, sim, idle_ids))
        waiter = app.watch(main_screen_painted(set(idle_ids), min(idle_count, 12)))
        app.start()
        app.wait_for(waiter, 60, "idle app first paint")
        minimal = stack.enter_context(PtyProcess(minimal_command(), minimal_box.env))
        waiter = minimal.watch(minimal_painted(0))
        minimal.start()
        minimal.wait_for(waiter, 60, "minimal app")
        procs = {"idle": app, "minimal": minimal}
        if shutil.which("watch") is not None:
            listing = [*app_command(), "status", *map(str, run_ids)]
            watcher = stack.enter_context(
                PtyProcess(["watch", "-n", "2", " ".join(listing)], watch_box.env)
            )
            last_id = str(run_ids[-1])
            waiter = watcher.watch(lambda s: any(last_id in s.line(y) for y in range(s.lines)))
            watcher.start()
            watcher.wait_for(waiter, 30, "watch -n 2 listing")
            procs["watch"] = watcher
        else:
            log("no `watch` here (procps): the output baseline is left out")
        log(f"waiting for the app to confirm {idle_count} terminal diffs")
        wait_polled(sim, idle_ids, since, timeout=idle_count / 2 + 60)
        time.sleep(2.0)
        log(f"measuring {window:g}s: every diff terminal; watch -n 2 beside it")
        cpu0 = {name: p.cpu_seconds() for name, p in procs.items() if name != "watch"}
        bytes0 = {name: p.bytes_read for name, p in procs.items()}
        time.sleep(window)
        cpu = {name: (p.cpu_seconds() - cpu0[name]) / window for name, p in procs.items()
               if name != "watch"}  # fmt: skip
        out = {name: (p.bytes_read - bytes0[name]) / window for name, p in procs.items()}
        for name, proc in procs.items():
            proc.quit(b"\x03" if name == "watch" else b"q")
            proc.close()

        # 20 diffs running.
        since = time.time()
        app = stack.enter_context(running_app(run_box, results, sim, run_ids))
        waiter = app.watch(main_screen_painted(set(run_ids), min(running_count, 12)))
        app.start()
        app.wait_for(waiter, 60, "running app first paint")
        wait_polled(sim, run_ids, since, timeout=running_count / 2 + 30)
        time.sleep(3.0)
        log(f"measuring {window:g}s: {running_count} diffs running")
        cpu_before, bytes_before = app.cpu_seconds(), app.bytes_read
        time.sleep(window)
        cpu["running"] = (app.cpu_seconds() - cpu_before) / window
        out["running"] = (app.bytes_read - bytes_before) / window
        app.quit()
    results.values["cpu"] = cpu
    results.values["bytes_per_s"] = out


# --- 4. requests and detection delay over a lifecycle ---------------------------------------


def finish_detection(results: Results, seed: int, shape: Lifecycle) -> None:
    """The lifecycle of ``shape.count`` diffs: status requests and detection delay (from the
    simulator's finish to the panel showing it), beside fixed 2 s polling of the same
    scenario on its own simulator (a separate process, run at the same time)."""
    first_id = 500_000
    lines = shape.count + 6
    naive = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.naive",
            "--seed",
            str(seed),
            "--first-id",
            str(first_id),
            "--shape",
            shape_json(shape),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    shown: dict[int, float] = {}
    lock = threading.Lock()

    def on_display(proc: PtyProcess, _at: float, wall: float) -> None:
        for y in range(proc.screen.lines):
            match = PANEL.search(proc.screen.line(y))
            if match is not None and match.group(1) in ("COMPLETED", "FAILED"):
                diffid = int(match.group(2))
                with lock:
                    shown.setdefault(diffid, wall)

    try:
        with ExitStack() as stack:
            sim = stack.enter_context(Simulator(seed=seed, seed_demo=False))
            ids, labels = lifecycle(sim, shape, first_id, seed)
            box = stack.enter_context(sandbox(sim, "lifecycle"))
            box.write_config("[ui]\ncompact = true\n")
            box.write_watchlist(entries_from(sim, ids, labels, random.Random(seed)))
            started = time.time()
            proc = stack.enter_context(running_app(box, results, sim, ids, lines=lines))
            proc.extra_on_display = on_display
            waiter = proc.watch(main_screen_painted(set(ids), shape.count))
            proc.start()
            proc.wait_for(waiter, 60, "lifecycle first paint")
            deadline = started + shape.last_finish + 30
            log(f"lifecycle of {shape.count} diffs: up to {deadline - time.time():.0f}s")
            while time.time() < deadline:
                with lock:
                    done = set(shown) >= set(ids)
                if done:
                    break
                time.sleep(0.25)
            time.sleep(1.0)
            with lock:
                seen = dict(shown)
            delays = {}
            for diffid in ids:
                finished = sim.finished_at(diffid)
                if finished is not None and diffid in seen:
                    delays[diffid] = seen[diffid] - finished
            with sim._lock:
                app_requests = sum(
                    1 for r in sim.requests if r.endpoint == "status" and r.at >= started
                )
            proc.quit()
        out, _err = naive.communicate(timeout=shape.last_finish + 120)
    finally:
        if naive.poll() is None:
            naive.kill()
            naive.wait()
    baseline = json.loads(out)
    results.values["lifecycle"] = {
        "count": shape.count,
        "app_requests": app_requests,
        "app_delays": list(delays.values()),
        "app_missed": sorted(set(ids) - set(delays)),
        "naive_requests": baseline["requests"],
        "naive_delays": list(baseline["delays"].values()),
        "naive_missed": baseline["missed"],
        "naive_max_in_1s": baseline["max_in_1s"],
    }


# --- 5. bytes while diffs run through to their completions ----------------------------------


def completions_output(results: Results, seed: int, shape: Lifecycle) -> None:
    """Bytes/s to the terminal while ``shape.count`` running diffs tick down to their
    completions (toasts included): from the moment all were polled to the moment the last
    completion is on screen and its toast has gone."""
    first_id = 600_000
    rng = random.Random(f"completions:{seed}")
    with ExitStack() as stack:
        sim = stack.enter_context(Simulator(seed=seed, seed_demo=False))
        ids, labels = lifecycle(sim, shape, first_id, seed)
        box = stack.enter_context(sandbox(sim, "completions"))
        box.write_watchlist(entries_from(sim, ids, labels, rng))
        since = time.time()
        app = stack.enter_context(running_app(box, results, sim, ids))
        waiter = app.watch(main_screen_painted(set(ids), min(shape.count, 12)))
        app.start()
        app.wait_for(waiter, 60, "completions app first paint")
        wait_polled(sim, ids, since, timeout=shape.count / 2 + 30)
        log(f"measuring {shape.count} diffs running through to completion")
        began, bytes_before = time.monotonic(), app.bytes_read
        while any(sim.finished_at(d) is None for d in ids):
            if time.monotonic() - began > shape.last_finish + 60:
                raise TimeoutError("the diffs did not all finish")
            time.sleep(0.5)
        # The last finish is seen within a few seconds; its toast lasts up to 8 s.
        time.sleep(TOAST_SECONDS + 5.0)
        span = time.monotonic() - began
        results.values["completions"] = {
            "count": shape.count,
            "seconds": span,
            "bytes_per_s": (app.bytes_read - bytes_before) / span,
        }
        app.quit()
