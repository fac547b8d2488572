"""The package's layers: imports point down only (see README, Development)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.app_support import run_python_in

TUI = Path(__file__).resolve().parent.parent / "tui"
ENTRY_POINT = TUI / "__main__.py"
"""``python -m tui``: above the command line, it only calls it."""


def _imported(tree: ast.Module) -> set[str]:
    """Every module an import statement names, with ``from tui import x`` as ``tui.x``."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _imports_of_modules_outside(package: Path) -> dict[str, set[str]]:
    return {
        str(path.relative_to(TUI.parent)): _imported(ast.parse(path.read_text(encoding="utf-8")))
        for path in sorted(TUI.rglob("*.py"))
        if package not in path.parents and path != ENTRY_POINT
    }


def test_nothing_below_the_command_line_imports_it() -> None:
    offenders = {
        module: sorted(n for n in names if n == "tui.cli" or n.startswith("tui.cli."))
        for module, names in _imports_of_modules_outside(TUI / "cli").items()
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_walk_sees_imports_in_functions_and_from_the_package() -> None:
    tree = ast.parse("def f():\n    from tui import cli\n    import tui.cli.common\n")
    assert {"tui.cli", "tui.cli.common"} <= _imported(tree)


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
    assert "EXIT 2 LOADED ['tui.cli.common']" in result.stderr, result.stderr


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
        "tui.ui.screens.profile_switching",
        "tui.ui.screens.detail",
        "tui.ui.screens.edit_label",
        "tui.ui.screens.events",
        "tui.ui.screens.help",
        "tui.ui.screens.theme_picker",
    }
    assert "tui.ui.screens.monitor" in loaded
    assert not loaded & later, sorted(loaded & later)
