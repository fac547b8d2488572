"""The demo set: a dozen diffs in every state, with operator-like labels and errors.

It holds a lock chain (API.md, Locks): 4108 failed with "Image locked by diffid 4113",
and 4113, Completed on the same image, neither accepted nor rejected, holds the lock.
Accepting (or rejecting) 4113 releases the image; a retry of 4108 then runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from tui.simulator.account import DiffOptions, image_of, seeded_traits
from tui.simulator.runs import ETA_ERROR_LIMIT


@dataclass(frozen=True)
class DemoSpec:
    diffid: int
    label: str
    state: int
    duration: float
    progress: int | None = None
    fail_with: str | None = None
    retry_errors: tuple[str, ...] = ()
    files: int = 40
    imageid: int | None = None
    """Shared by the lock chain; None: the diff's own image."""
    seeded: bool = True
    """Allocations and the version's outcome drawn from the seed; False: none, it completes."""


LOCKED_IMAGE: Final = 58_108
LOCK_HOLDER: Final = 4113


DEMO_SPECS: Final[tuple[DemoSpec, ...]] = (
    DemoSpec(4101, "eu-west build 1.4.2", 5, 180.0, files=120),
    DemoSpec(
        4102,
        "us-east hotfix 1.4.1a",
        6,
        150.0,
        fail_with="Checksum mismatch on /game/bin/server.pak",
        retry_errors=("Checksum mismatch on /game/bin/server.pak",),
    ),
    DemoSpec(4103, "ap-south map pack", 4, 480.0, progress=12, files=300),
    DemoSpec(4104, "eu-central anticheat update", 4, 200.0, progress=55, files=8),
    DemoSpec(4105, "us-west build 1.4.2", 3, 240.0),
    DemoSpec(
        4106,
        "sa-east build 1.4.2",
        6,
        240.0,
        fail_with="Machine 7712 unreachable",
        retry_errors=("Machine 7712 unreachable",),
    ),
    DemoSpec(4107, "eu-west config tweak", 2, 60.0, files=3),
    DemoSpec(
        4108,
        "ap-northeast rollback 1.4.0",
        6,
        120.0,
        fail_with=f"Image locked by diffid {LOCK_HOLDER}",
        imageid=LOCKED_IMAGE,
        seeded=False,
    ),
    DemoSpec(4109, "us-east staging 1.5.0-rc1", 1, 300.0, files=200),
    DemoSpec(
        4110,
        "oce build 1.4.2",
        6,
        180.0,
        fail_with="Write failed: [red]disk[/red] full \x1b[31m on /dev/sdb1",
    ),
    DemoSpec(
        4111,
        "eu-west build 1.4.3-beta",
        4,
        360.0,
        progress=4,
        fail_with="Checksum mismatch on /game/maps/harbor.bsp",
    ),
    DemoSpec(4112, "me-central build 1.4.2", 5, 240.0, files=260),
    DemoSpec(
        LOCK_HOLDER,
        "ap-northeast build 1.3.9: locks 4108's image, accept or reject it",
        5,
        90.0,
        files=12,
        imageid=LOCKED_IMAGE,
        seeded=False,
    ),
)

DEMO_DIFFS: Final[list[tuple[int, str]]] = [(spec.diffid, spec.label) for spec in DEMO_SPECS]
"""The seeded demo set as (diffid, operator-like label), to seed the ``--demo`` watchlist."""


def demo_diffs(seed: int) -> list[tuple[int, DiffOptions]]:
    """The diffs of ``DEMO_DIFFS``, covering every state, and the lock chain, as the
    simulator of ``seed`` adds them (``Simulator.add_diff(diffid, **options)``)."""
    rng = random.Random(f"demo:{seed}")
    diffs: list[tuple[int, DiffOptions]] = []
    for spec in DEMO_SPECS:
        imageid = spec.imageid if spec.imageid is not None else image_of(spec.diffid)
        allocations, version_error = (
            seeded_traits(seed, spec.diffid, imageid) if spec.seeded else (False, None)
        )
        options = DiffOptions(
            state=spec.state,
            progress=spec.progress,
            duration=spec.duration,
            fail_with=spec.fail_with,
            eta_error=rng.uniform(-ETA_ERROR_LIMIT, ETA_ERROR_LIMIT),
            started_ago=rng.uniform(60, 7200) if spec.state in (5, 6) else 0.0,
            retry_errors=spec.retry_errors,
            files=spec.files,
            imageid=imageid,
            allocations=allocations,
            version_error=version_error,
        )
        diffs.append((spec.diffid, options))
    return diffs
