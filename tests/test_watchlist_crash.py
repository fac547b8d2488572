"""The watchlist survives writers killed mid-write and concurrent writers."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tui.store.watchlist.file import WatchlistStore, parse_watchlist

ROOT = Path(__file__).resolve().parents[1]

# Adds 1, 2, 3, ... one write at a time, then drops the oldest once the list is
# long, so every state on disk is a contiguous range of IDs.
WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tui.domain.watch_entry import WatchEntry
    from tui.store.watchlist.file import WatchlistStore

    store = WatchlistStore(Path(sys.argv[1]))
    entries = store.load().entries
    ids = [e.diffid for e in entries]
    next_id = max(ids, default=0) + 1
    print("ready", flush=True)
    while True:
        store.add([WatchEntry(next_id, 1, "prod", label=f"label {next_id} \\"x\\"\\n")])
        if next_id - min(ids or [next_id]) > 30:
            store.remove([("prod", 1, min(ids))])
            ids.remove(min(ids))
        ids.append(next_id)
        next_id += 1
    """
)

ADDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tui.domain.watch_entry import WatchEntry
    from tui.store.watchlist.file import WatchlistStore

    store = WatchlistStore(Path(sys.argv[1]))
    start = int(sys.argv[2])
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for diffid in range(start, start + 40):
        store.add([WatchEntry(diffid, 1, "prod")])
    """
)


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def _ids_on_disk(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [e.diffid for e in parse_watchlist(path.read_text(encoding="utf-8"))]


def test_sigkill_mid_write_leaves_old_or_new_list(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    rng = random.Random(1234)
    highest = 0
    deadline = time.monotonic() + 12
    kills = 0
    while kills < 20 and time.monotonic() < deadline:
        writer = _spawn(WRITER, str(path))
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.06))
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=5)
        kills += 1
        # The file always parses (parse_watchlist raises otherwise) and holds a
        # contiguous run of IDs: one complete write, never a mix of two.
        ids = _ids_on_disk(path)
        if ids:
            assert ids == list(range(ids[0], ids[-1] + 1)), ids
            assert ids[-1] >= highest  # never an older list than one already seen
            highest = ids[-1]
        assert not list(tmp_path.glob("*.corrupt-*"))
    assert kills >= 10
    assert highest > 0, "the writer never got to write"
    # The next normal use is unaffected by leftovers of killed writers.
    store = WatchlistStore(path)
    assert store.load().notice is None
    store.remove([("prod", 1, 0)])  # a no-op change still sweeps dead writers' temp files
    assert sorted(p.name for p in tmp_path.iterdir()) == ["watchlist.toml", "watchlist.toml.lock"]


def test_two_processes_adding_at_once_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "watchlist.toml"
    procs = [_spawn(ADDER, str(path), str(start)) for start in (1, 1001)]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        proc.communicate(timeout=20)
        assert proc.returncode == 0
    ids = sorted(_ids_on_disk(path))
    assert ids == [*range(1, 41), *range(1001, 1041)]
