"""A `[keymap]` binding on a key another binding keeps is an error naming both (issue
22 §6): ``retry = "space"`` made retry unreachable (the list's space selects first),
``retry = "q"`` took over quit."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_cli_jobs import run_cli
from tui.ui.screens.actions import keymap_problem


@pytest.mark.parametrize(
    ("keymap", "words"),
    [
        ({"retry": "space"}, ["retry", "space", "toggle-select"]),
        ({"retry": "enter"}, ["retry", "enter", "details"]),
        ({"retry": "q"}, ["retry", "q", "quit"]),
        ({"sort": "R"}, ["sort", "R", "retry"]),
        ({"pause": "ctrl+p"}, ["pause", "ctrl+p", "command palette"]),
        ({"help": "tab"}, ["help", "tab"]),
        ({"retry": "x", "reject": "x"}, ["retry", "reject", "x"]),
    ],
)
def test_a_key_another_binding_keeps_is_refused_naming_both(
    keymap: dict[str, str], words: list[str]
) -> None:
    problem = keymap_problem(keymap)
    assert problem is not None
    for word in words:
        assert word in problem


@pytest.mark.parametrize(
    "keymap",
    [
        {},
        {"retry": "x"},
        {"retry": "space", "toggle-select": "x"},  # a swap: space is free for retry
        {"quit": "Q", "retry": "q"},
        {"attention": "f"},  # its own key
        {"retry": "?", "help": "h"},  # "?" is question_mark
        {"no-such": "q"},  # unknown ids are warned of, not checked
    ],
)
def test_a_keymap_that_moves_keys_apart_is_fine(keymap: dict[str, str]) -> None:
    assert keymap_problem(keymap) is None


def test_the_app_refuses_to_start_with_a_clashing_keymap(cli_env: dict[str, str]) -> None:
    config = Path(cli_env["XDG_CONFIG_HOME"]) / "imagediff-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[keymap]\nretry = "space"\n', encoding="utf-8")
    config.chmod(0o600)
    result = run_cli(cli_env)
    assert result.returncode == 3, result.stderr
    message = result.stderr.decode()
    assert message.count("\n") == 1
    assert "retry" in message and "toggle-select" in message and "space" in message
