"""Sandboxes, watchlists and simulator scenarios for the benchmark.

Every scenario is built from a seeded RNG, so two simulators set up with the same
seed (the app's and the naive baseline's) hold the same diffs on the same timeline
relative to the moment they were set up.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tui.domain.jobs import parse_job
from tui.domain.watch_entry import LastStatus, WatchEntry
from tui.simulator import ETA_ERROR_LIMIT, REALISTIC_ERRORS, Simulator
from tui.store.watchlist.file import WatchlistStore

PROFILE = "bench"
REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent

# Digit-free, so that typing a diff ID into the filter matches IDs only.
_REGIONS = ("eu-west", "us-east", "ap-south", "eu-central", "us-west", "sa-east", "oce")
_WHAT = ("build", "hotfix", "map pack", "anticheat update", "config tweak", "rollback", "staging")


def label_for(rng: random.Random) -> str:
    """An operator-like label without digits."""
    return f"{rng.choice(_REGIONS)} {rng.choice(_WHAT)}"


def app_command() -> list[str]:
    """How an operator starts the app: the venv's ``imagediff-tui`` console script."""
    script = Path(sys.executable).parent / "imagediff-tui"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tui"]


_COMPILE_PACKAGE = (
    "import compileall, os, tui; compileall.compile_dir(os.path.dirname(tui.__file__), quiet=2)"
)

BYTECODE_NOTE = (
    "bytecode: the package was byte-compiled before the run, as installing it does "
    "(an editable install under PYTHONDONTWRITEBYTECODE=1 would compile it on every start)"
)


def byte_compile(command: list[str]) -> None:
    """Compile the package of the build ``command`` runs (its console script's venv) to
    bytecode, as installing it from a wheel does: start-up is then measured as a user
    has it, not with every module of an editable install compiled at each start (about
    150 ms on a 2-core machine when ``PYTHONDONTWRITEBYTECODE`` keeps Python from caching)."""
    script = Path(command[0])
    python = script if script.name.startswith("python") else script.parent / "python"
    subprocess.run([str(python), "-c", _COMPILE_PACKAGE], check=True, cwd=REPO)


def minimal_command() -> list[str]:
    """The floor: a one-line Textual app, run as a plain file."""
    return [sys.executable, str(BENCH_DIR / "minimal_app.py")]


@dataclass
class Sandbox:
    """A throwaway home for one run of the app: XDG folders and the environment."""

    root: Path
    env: dict[str, str]

    @property
    def watchlist_path(self) -> Path:
        """Where the app reads its watchlist."""
        return Path(self.env["XDG_DATA_HOME"]) / "imagediff-tui" / "watchlist.toml"

    @property
    def status_cache_path(self) -> Path:
        """Where the app reads the statuses it last saw (a cache beside the watchlist)."""
        return Path(self.env["XDG_CACHE_HOME"]) / "imagediff-tui" / "watchlist-status.json"

    @property
    def config_path(self) -> Path:
        """Where the app reads its config file."""
        return Path(self.env["XDG_CONFIG_HOME"]) / "imagediff-tui" / "config.toml"

    def write_config(self, text: str) -> None:
        """Write the config file (no secrets in it: keys come from the environment)."""
        self.config_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config_path.write_text(text, encoding="utf-8")
        self.config_path.chmod(0o600)

    def write_watchlist(self, entries: list[WatchEntry]) -> None:
        """Replace the watchlist with ``entries``, their last statuses in the status cache."""
        self.watchlist_path.unlink(missing_ok=True)
        self.status_cache_path.unlink(missing_ok=True)
        WatchlistStore(self.watchlist_path, self.status_cache_path).add(entries)


def base_env() -> dict[str, str]:
    """This environment without anything that would change how the app runs or draws."""
    dropped = ("CLANFORGE_", "XDG_", "TEXTUAL", "COLORTERM", "NO_COLOR", "FORCE_COLOR", "TERM")
    return {k: v for k, v in os.environ.items() if not k.startswith(dropped)}


@contextmanager
def sandbox(sim: Simulator | None, name: str) -> Iterator[Sandbox]:
    """A temporary home pointed at ``sim`` (credentials via the environment)."""
    root = Path(tempfile.mkdtemp(prefix=f"imagediff-bench-{name}-"))
    try:
        env = base_env()
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            folder = root / var.lower()
            folder.mkdir(mode=0o700)
            env[var] = str(folder)
        env["HOME"] = str(root)
        if sim is not None:
            env.update(
                CLANFORGE_API_URL=sim.url,
                CLANFORGE_ASID=str(sim.asid),
                CLANFORGE_ACCESS_KEY=sim.access_key,
                CLANFORGE_SECRET_KEY=sim.secret_key,
                CLANFORGE_PROFILE=PROFILE,
            )
        yield Sandbox(root, env)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def entries_from(
    sim: Simulator, ids: list[int], labels: dict[int, str], rng: random.Random
) -> list[WatchEntry]:
    """Watchlist entries with each diff's status as the simulator says now, saved a
    few minutes ago (so the app paints them at once, as after a restart)."""
    now = time.time()
    entries = []
    for diffid in ids:
        job = parse_job(sim.job(diffid))
        seen = now - rng.uniform(60, 900)
        entries.append(
            WatchEntry(
                diffid=diffid,
                asid=sim.asid,
                api_url=sim.url,
                label=labels.get(diffid, ""),
                added_at=seen - 3600,
                last=LastStatus.from_job(job, seen),
            )
        )
    return entries


# --- scenarios ------------------------------------------------------------------------------


def fleet(sim: Simulator, count: int, first_id: int, seed: int) -> tuple[list[int], dict[int, str]]:
    """A watchlist as an operator keeps one: mostly finished diffs, some failed, a few in
    flight (long jobs, so they stay in flight for the whole measurement)."""
    rng = random.Random(f"fleet:{seed}:{first_id}:{count}")
    ids = list(range(first_id, first_id + count))
    labels = {}
    states = (5, 6, 4, 3, 2, 1)
    weights = (70, 10, 12, 4, 2, 2)
    for diffid in ids:
        state = rng.choices(states, weights)[0]
        labels[diffid] = label_for(rng)
        if state in (5, 6):
            sim.add_diff(
                diffid,
                state=state,
                duration=rng.uniform(120, 900),
                fail_with=rng.choice(REALISTIC_ERRORS) if state == 6 else None,
                started_ago=rng.uniform(600, 48 * 3600),
            )
        elif state == 4:
            sim.add_diff(
                diffid, state=4, progress=rng.randint(1, 95), duration=rng.uniform(1800, 7200)
            )
        else:
            sim.add_diff(diffid, state=state, duration=rng.uniform(1800, 7200))
    return ids, labels


def all_terminal(
    sim: Simulator, count: int, first_id: int, seed: int
) -> tuple[list[int], dict[int, str]]:
    """``count`` diffs that have all finished: Completed, some Failed."""
    rng = random.Random(f"terminal:{seed}:{first_id}:{count}")
    ids = list(range(first_id, first_id + count))
    labels = {}
    for diffid in ids:
        failed = rng.random() < 0.15
        labels[diffid] = label_for(rng)
        sim.add_diff(
            diffid,
            state=6 if failed else 5,
            duration=rng.uniform(120, 900),
            fail_with=rng.choice(REALISTIC_ERRORS) if failed else None,
            started_ago=rng.uniform(600, 48 * 3600),
        )
    return ids, labels


def all_running(
    sim: Simulator, count: int, first_id: int, seed: int
) -> tuple[list[int], dict[int, str]]:
    """``count`` diffs running for the next half hour or more, progress moving."""
    rng = random.Random(f"running:{seed}:{first_id}:{count}")
    ids = list(range(first_id, first_id + count))
    labels = {}
    for diffid in ids:
        labels[diffid] = label_for(rng)
        sim.add_diff(diffid, state=4, progress=rng.randint(5, 60), duration=rng.uniform(900, 3600))
    return ids, labels


@dataclass(frozen=True)
class Lifecycle:
    """The shape of the lifecycle scenario."""

    count: int = 100
    shortest: float = 240.0
    longest: float = 600.0
    """Announced run times of the diffs Running at set-up (seconds)."""
    horizon: float = 300.0
    """Every diff finishes within this many seconds of set-up, however late its run."""
    finish_from: float = 10.0
    """... and no sooner than this, however early."""
    waiting_share: float = 0.2
    """Share of diffs still waiting (Created / Pending / Queued) at set-up: shorter runs,
    just queued."""

    @property
    def last_finish(self) -> float:
        """The latest any diff can finish, seen from set-up."""
        return self.horizon


def lifecycle(
    sim: Simulator, shape: Lifecycle, first_id: int, seed: int
) -> tuple[list[int], dict[int, str]]:
    """``shape.count`` diffs in flight at set-up, every one of which completes.

    Most are Running, part-way through runs announced at ``shortest`` to ``longest``
    seconds; the rest were just queued. The simulator misses every announced ETA by up
    to 25% of the run (early or late) and moves progress at an uneven pace, as real jobs
    do; nothing here knows by how much.
    """
    rng = random.Random(f"lifecycle:{seed}:{first_id}:{shape.count}")
    ids = list(range(first_id, first_id + shape.count))
    labels = {}
    for diffid in ids:
        labels[diffid] = label_for(rng)
        if rng.random() < shape.waiting_share:
            # Queue waits are up to 5% of the run each, three of them; then up to 25% late.
            longest = shape.horizon / 1.4
            duration = rng.uniform(0.5 * longest, longest)
            sim.add_diff(diffid, state=rng.choice((1, 2, 3)), duration=duration)
        else:
            duration = rng.uniform(shape.shortest, shape.longest)
            # Seconds to the announced ETA: a run 25% early still finishes after
            # ``finish_from``, one 25% late before ``horizon``.
            slack = ETA_ERROR_LIMIT * duration
            eta_in = rng.uniform(slack + shape.finish_from, shape.horizon - slack)
            sim.add_diff(diffid, state=4, started_ago=duration - eta_in, duration=duration)
    return ids, labels
