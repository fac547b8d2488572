"""What the layers cost at run time: the TUI starts without the commands, and dialogs load
when first opened. Which layer may import which is import-linter's contracts in
``pyproject.toml`` (``lint-imports``, run by CI)."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.app_support import run_python_in


def test_the_terminal_ui_starts_without_importing_the_commands(
    isolated_dirs: dict[str, str],
) -> None:
    """The commands' modules (and what they import) cost the TUI's first paint nothing."""
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        "code = main(['--theme', 'no-such-theme'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('tui.cli.'))\n"
        "print('EXIT', code, 'LOADED', loaded, file=sys.stderr)\n"
    )
    result = run_python_in(isolated_dirs, code)
    # The unknown theme stops the run before any screen (exit 2), after the TUI's start.
    # std_streams (the standard library only) holds closed standard streams first.
    loaded = "['tui.cli.common', 'tui.cli.std_streams']"
    assert f"EXIT 2 LOADED {loaded}" in result.stderr, result.stderr


def test_the_terminal_ui_starts_without_importing_the_screens_it_does_not_show() -> None:
    """Dialogs and other screens are imported when first shown (README, Performance)."""
    code = (
        "import sys\n"
        "import tui.ui.launch\n"
        "print(sorted(m for m in sys.modules if m.startswith('tui.ui.screens.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(ast.literal_eval(result.stdout.strip()))
    later = {
        "tui.ui.screens.accept_reject",
        "tui.ui.screens.add_diffs",
        "tui.ui.screens.confirm",
        "tui.ui.screens.dialog",
        "tui.ui.screens.list_picker",
        "tui.ui.screens.new_diff",
        "tui.ui.screens.profile_picker",
        "tui.ui.screens.detail",
        "tui.ui.screens.edit_label",
        "tui.ui.screens.events",
        "tui.ui.screens.help",
        "tui.ui.screens.theme_picker",
    }
    assert "tui.ui.screens.monitor" in loaded
    assert not loaded & later, sorted(loaded & later)
