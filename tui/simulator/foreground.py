"""``imagediff-tui simulate``: the demo simulator in the foreground until Ctrl-C."""

from __future__ import annotations

import sys
import time

from tui.simulator.core import Simulator
from tui.simulator.demo import DEMO_DIFFS


def main_simulate(
    host: str = "127.0.0.1", port: int = 8642, speed: float = 1.0, allow_remote: bool = False
) -> int:
    """Run the demo simulator in the foreground, print how to point a client at it,
    and serve until Ctrl-C. Returns the exit status."""
    try:
        simulator = Simulator(host, port, speed=speed, allow_remote=allow_remote)
        simulator.start()
    except (ValueError, OSError) as exc:
        print(f"imagediff-tui: error: {exc}", file=sys.stderr)
        return 2
    # Ctrl-C may come at any moment after start, even while the banner prints.
    try:
        url = simulator.url
        print(f"Clanforge API simulator on {url} (speed x{speed:g}); Ctrl-C to stop.")
        print(f"  ASID:       {simulator.asid}")
        print(f"  access key: {simulator.access_key}")
        print(f"  secret key: {simulator.secret_key}  (a demo key, not a real secret)")
        print(f"  diffs:      {', '.join(str(d) for d, _ in DEMO_DIFFS)}")
        print()
        print(
            f"export CLANFORGE_API_URL={url} CLANFORGE_ASID={simulator.asid} "
            f"CLANFORGE_ACCESS_KEY={simulator.access_key} "
            f"CLANFORGE_SECRET_KEY={simulator.secret_key}",
            flush=True,
        )
        # Serve in the foreground, one log line per request, until Ctrl-C.
        simulator.verbose = True
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0
