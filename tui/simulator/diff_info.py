"""The ``diff_info`` part of a job: a game, machine, image and made-up file lists."""

from __future__ import annotations

import random
from typing import Any, Final

_GAMES: Final = ((1187, "Starfall Arena"), (2044, "Ironclad Tactics"), (3310, "Driftline"))
_DIRS: Final = (
    ("/game/bin", (".pak", ".so", ".dll")),
    ("/game/maps", (".bsp", ".nav")),
    ("/game/config", (".cfg", ".json")),
    ("/game/scripts/lua", (".lua",)),
    ("/game/data/audio", (".bank",)),
    ("/game/data/textures", (".dds",)),
)
_WORDS: Final = [
    "harbor",
    "dust",
    "core",
    "server",
    "lobby",
    "weapons",
    "vehicles",
    "ui",
    "anticheat",
    "matchmaking",
    "loot",
    "spawn",
    "arena",
    "night",
    "ambient",
]


def make_info(
    diffid: int, machineid: int, imageid: int, files: int | None, rng: random.Random
) -> dict[str, Any]:
    """The ``diff_info`` of a diff of ``machineid`` against ``imageid`` that changed
    ``files`` files (None: a few drawn from ``rng``)."""
    gameid, game_name = _GAMES[diffid % len(_GAMES)]
    total = files if files is not None else rng.randint(3, 80)
    base_time = 1_760_000_000 + rng.randint(0, 5_000_000)
    maps: dict[str, dict[str, dict[str, Any]]] = {"added": {}, "modified": {}, "removed": {}}
    while sum(len(m) for m in maps.values()) < total:
        folder, extensions = rng.choice(_DIRS)
        name = f"{rng.choice(_WORDS)}_{rng.choice(_WORDS)}{rng.randint(0, 99):02d}"
        path = f"{folder}/{name}{rng.choice(extensions)}"
        which = rng.choices(("added", "modified", "removed"), weights=(3, 6, 1))[0]
        if any(path in m for m in maps.values()):
            continue
        maps[which][path] = {
            "size": rng.randint(120, 400_000_000),
            "checksum": f"{rng.getrandbits(128):032x}",
            "modified": base_time + rng.randint(0, 86_400),
        }
    return {
        "game": {"gameid": gameid, "name": game_name},
        "machine": {
            "machineid": machineid,
            "name": f"build-{rng.choice(('eu', 'us', 'ap'))}-{machineid % 100:02d}",
        },
        "image": {
            "imageid": imageid,
            "name": f"{game_name.lower().replace(' ', '-')}-live",
            "imageversionid": imageid * 10 + rng.randint(1, 9),
        },
        **maps,
    }
