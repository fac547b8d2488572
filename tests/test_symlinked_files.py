"""Dotfile setups: watchlist.toml and config.toml symlinked into a managed folder. A write
goes to the link's target and keeps the link (the command line, in a subprocess)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tests.test_cli_jobs import run_cli

APP = "imagediff-tui"


@pytest.fixture
def env(isolated_dirs: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CLANFORGE_")}
    return dict(clean, **isolated_dirs, CLANFORGE_ASID="1234", CF_SECRET="s3cret")


def _managed(path: Path, tmp_path: Path) -> Path:
    """Move ``path`` into a managed folder and leave a symlink in its place."""
    managed = tmp_path / "dotfiles" / path.name
    managed.parent.mkdir(exist_ok=True)
    path.rename(managed)
    path.symlink_to(managed)
    return managed


def _ok(env: dict[str, str], *args: str) -> None:
    result = run_cli(env, *args)
    assert result.returncode == 0, result.stderr.decode()


def test_watchlist_add_writes_through_a_symlinked_watchlist(
    env: dict[str, str], tmp_path: Path
) -> None:
    _ok(env, "watchlist", "add", "4101")
    link = Path(env["XDG_DATA_HOME"]) / APP / "watchlist.toml"
    managed = _managed(link, tmp_path)

    _ok(env, "watchlist", "add", "4102", "--label", "managed")
    _ok(env, "watchlist", "remove", "4101")

    assert link.is_symlink() and link.resolve() == managed.resolve()
    (account,) = tomllib.loads(managed.read_text(encoding="utf-8"))["account"]
    assert account["diffs"] == [4102] and account["labels"] == {"managed": [4102]}


def test_profile_add_writes_through_a_symlinked_config(env: dict[str, str], tmp_path: Path) -> None:
    keys = ("--asid", "11", "--access-key", "k", "--secret-env", "CF_SECRET", "--no-check")
    add = ("profile", "add", *keys)
    _ok(env, *add[:2], "prod", *add[2:])
    link = Path(env["XDG_CONFIG_HOME"]) / APP / "config.toml"
    managed = _managed(link, tmp_path)

    _ok(env, *add[:2], "eu", *add[2:])

    assert link.is_symlink() and link.resolve() == managed.resolve()
    profiles = tomllib.loads(managed.read_text(encoding="utf-8"))["profiles"]
    assert set(profiles) == {"prod", "eu"}


def test_a_broken_symlinked_watchlist_is_moved_aside_beside_its_target(
    env: dict[str, str], tmp_path: Path
) -> None:
    _ok(env, "watchlist", "add", "4101")
    link = Path(env["XDG_DATA_HOME"]) / APP / "watchlist.toml"
    managed = _managed(link, tmp_path)
    managed.write_text("schema = 3\n[[account]\nbroken\n", encoding="utf-8")

    result = run_cli(env, "watchlist", "add", "4102")
    assert result.returncode == 0, result.stderr.decode()

    assert link.is_symlink() and link.resolve() == managed.resolve()
    (copy,) = managed.parent.glob("watchlist.toml.corrupt-*")
    assert "broken" in copy.read_text(encoding="utf-8")
    assert str(copy) in result.stderr.decode()
    (account,) = tomllib.loads(managed.read_text(encoding="utf-8"))["account"]
    assert account["diffs"] == [4102]
