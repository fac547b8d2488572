"""Themes in the running app, started the way ``imagediff-tui`` starts it.

The app is built by :func:`tui.ui.launch.build_app` from the settings and theme catalog
of a temporary ``XDG_CONFIG_HOME``: user themes override built-ins, a broken theme
file is a toast and a log line (the app starts with the others), a theme picked
with `t` (or the command palette) is saved to ``config.toml`` and used on the next
start, ``--theme NAME`` is for one run only, and an unknown name is a usage error
that lists the available ones. The CLI parts run as subprocesses.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from textual.color import Color
from textual.filter import ANSIToTruecolor
from textual.pilot import Pilot
from textual.widgets import OptionList

from tests.app_support import screen_text, theme_files_read
from tui.store.paths import app_paths
from tui.store.settings import resolve_settings
from tui.store.watchlist.file import WatchlistStore
from tui.ui.app import ImageDiffApp
from tui.ui.launch import LaunchOptions, build_app
from tui.ui.screens.theme_picker import ThemePicker
from tui.ui.themes import DEFAULT_THEME, load_catalog

SIZE = (120, 40)

ENV = {
    # Nothing is watched, so nothing is polled: this address is never called.
    "CLANFORGE_API_URL": "http://127.0.0.1:9",
    "CLANFORGE_ASID": "1234",
    "CLANFORGE_ACCESS_KEY": "test-access-key",
    "CLANFORGE_SECRET_KEY": "test-secret-key",
}

OVERRIDE = """\
# A user's take on the default theme: same name, their own primary.
name = "imagediff-dark"
dark = true
[colors]
primary = "#FF00AA"
"""

GOOD = 'name = "mine"\ndark = false\n[colors]\nprimary = "#0044AA"\n'

BROKEN = {
    "bad TOML": ('name = "x"\ndark = true\n[colors\nprimary = "#123456"\n', None, "invalid TOML"),
    "unknown key": (
        'name = "x"\ndark = true\n[colors]\nprimary = "#123456"\nprimray = "#654321"\n',
        "colors.primray",
        "unknown key (did you mean 'primary'?",
    ),
    "colour that does not parse": (
        'name = "x"\ndark = true\n[colors]\nprimary = "bluish"\n',
        "colors.primary",
        "'bluish' is not a colour",
    ),
}


@pytest.fixture(autouse=True)
def _colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def themes_dir(isolated_dirs: dict[str, str]) -> Path:
    folder = app_paths().themes_dir
    folder.mkdir(parents=True)
    return folder


def start(theme: str | None = None) -> ImageDiffApp:
    """The app as ``imagediff-tui [--theme NAME]`` builds it from the current XDG folders."""
    paths = app_paths()
    settings = resolve_settings(env=ENV)
    catalog = load_catalog(paths.themes_dir)
    return build_app(
        settings,
        LaunchOptions(theme=theme),
        WatchlistStore(paths.watchlist_file),
        catalog,
        persist_theme=True,
        extra_notices=[],
    )


def saved_theme() -> str | None:
    path = app_paths().config_file
    if not path.exists():
        return None
    ui = tomllib.loads(path.read_text(encoding="utf-8")).get("ui", {})
    theme = ui.get("theme")
    assert theme is None or isinstance(theme, str)
    return theme


def squeeze(text: str) -> str:
    """Screen text without the line breaks and padding a toast wraps its words with."""
    return re.sub(r"[\s▌▐▎▊]+", "", text)


async def pick(pilot: Pilot[None], app: ImageDiffApp, name: str) -> None:
    """Move the open picker's highlight to ``name`` with the arrow keys, then Enter."""
    assert isinstance(app.screen, ThemePicker)
    assert app.theme_catalog is not None
    names = app.theme_catalog.names()
    steps = names.index(name) - names.index(app.theme)
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps))
    assert app.theme == name, "the picker previews the highlighted theme"
    await pilot.press("enter")
    await pilot.pause()
    assert not isinstance(app.screen, ThemePicker)


# -- user themes ----------------------------------------------------------------------------


async def test_a_user_theme_overrides_the_built_in_one(themes_dir: Path) -> None:
    (themes_dir / "imagediff-dark.toml").write_text(OVERRIDE, encoding="utf-8")
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert app.theme_catalog.themes[DEFAULT_THEME].origin == "user"
        assert app.current_theme.primary == "#FF00AA"
        assert app.get_css_variables()["primary"].upper() == "#FF00AA"
        # The app's own state colours follow it (derived: the file has no [states]).
        assert app.get_css_variables()["state-running"].upper() == "#FF00AA"


@pytest.mark.parametrize("name", ["imagediff-light", "ansi-16", DEFAULT_THEME])
async def test_the_theme_is_shown_from_the_start(isolated_dirs: object, name: str) -> None:
    app = start(theme=name)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        theme = app.current_theme
        assert theme.name == name
        assert app.has_class(f"-theme-{name}")
        assert app.has_class("-dark-mode") == theme.dark != app.has_class("-light-mode")
        assert app.screen.styles.background == Color.parse(theme.background or "")
        # Textual's ANSI-to-truecolor filter follows the theme: off for an ANSI theme.
        truecolor = [f for f in app.get_line_filters() if isinstance(f, ANSIToTruecolor)]
        assert bool(truecolor) == (not theme.ansi)
        # A theme picked later is applied as Textual applies it.
        await pilot.press("t")
        await pick(pilot, app, "high-contrast")
        assert app.has_class("-theme-high-contrast") and not app.has_class(f"-theme-{name}")
        assert app.screen.styles.background == Color.parse(app.current_theme.background or "")


@pytest.mark.parametrize("case", sorted(BROKEN))
async def test_a_broken_theme_file_is_a_toast_and_a_log_line_and_the_others_load(
    themes_dir: Path, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    text, key, problem = BROKEN[case]
    broken = themes_dir / "broken.toml"
    broken.write_text(text, encoding="utf-8")
    (themes_dir / "mine.toml").write_text(GOOD, encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="tui.ui.launch")

    app = start()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert {"mine", *load_catalog(None).names()} <= set(app.theme_catalog.names())
        assert "mine" in app.available_themes
        shown = squeeze(screen_text(app))
        for part in ("broken.toml", problem, key or "line 3"):
            assert squeeze(part) in shown, (part, screen_text(app))
        # The toast names the whole path (it may be wrapped on screen).
        assert squeeze(str(broken)) in shown

    logged = [r.getMessage() for r in caplog.records if r.name == "tui.ui.launch"]
    assert any(str(broken) in line and problem in line for line in logged), logged
    if key is not None:
        assert any(key in line for line in logged)


async def test_a_configured_theme_that_is_gone_falls_back_with_a_toast(
    themes_dir: Path,
) -> None:
    (themes_dir / "mine.toml").write_text(GOOD, encoding="utf-8")
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pick(pilot, app, "mine")
    assert saved_theme() == "mine"

    (themes_dir / "mine.toml").unlink()
    again = start()
    async with again.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert again.theme == DEFAULT_THEME
        assert "'mine'fromtheconfigfileisnotavailable" in squeeze(screen_text(again))


# -- picking and persisting -------------------------------------------------------------------


async def test_picking_with_t_is_saved_and_used_on_the_next_start(isolated_dirs: object) -> None:
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        await pilot.press("t")
        await pick(pilot, app, "high-contrast")
        assert app.theme == "high-contrast"
    assert saved_theme() == "high-contrast"

    again = start()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "high-contrast"


async def test_escape_in_the_picker_saves_nothing(isolated_dirs: object) -> None:
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t", "down", "down", "escape")
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
    assert saved_theme() is None


async def palette(pilot: Pilot[None], app: ImageDiffApp, query: str) -> None:
    """Open the command palette, type ``query``, wait for its hits, run the first."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    for _ in range(100):  # the palette searches in a worker
        await pilot.pause(0.02)
        if "Change the current theme" in screen_text(app) or ("Choose a theme" in screen_text(app)):
            break
    await pilot.press("enter")
    for _ in range(100):
        await pilot.pause(0.02)
        if isinstance(app.screen, ThemePicker):
            break


async def test_picking_from_the_command_palette_is_saved(isolated_dirs: object) -> None:
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await palette(pilot, app, "pick theme")
        await pick(pilot, app, "imagediff-light")
    assert saved_theme() == "imagediff-light"


async def test_the_palettes_theme_command_opens_the_saving_picker(isolated_dirs: object) -> None:
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await palette(pilot, app, "theme")
        assert isinstance(app.screen, ThemePicker), type(app.screen).__name__


async def test_every_theme_the_picker_offers_is_one_the_next_start_accepts(
    isolated_dirs: object,
) -> None:
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ThemePicker)
        offered = [str(option.id) for option in picker.query_one(OptionList).options]
        await pilot.press("escape")
    assert "textual-dark" not in offered
    assert set(offered) <= set(load_catalog(app_paths().themes_dir).names())


async def test_the_start_reads_the_theme_it_shows_and_the_picker_offers_them_all(
    themes_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (themes_dir / "mine.toml").write_text(GOOD, encoding="utf-8")
    read = theme_files_read(monkeypatch)
    app = start(theme="imagediff-light")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # User files are read at start (their errors are shown then); built-ins when needed.
        assert sorted(read) == ["imagediff-light", "mine"]
        await pilot.press("t")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, ThemePicker)
        offered = [str(option.id) for option in picker.query_one(OptionList).options]
        assert offered == app.theme_catalog.names()
        await pick(pilot, app, "imagediff-nord")
        assert app.current_theme.name == "imagediff-nord"


async def test_theme_flag_is_for_one_run_only(isolated_dirs: object) -> None:
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("t")
        await pick(pilot, app, "imagediff-nord")
    assert saved_theme() == "imagediff-nord"

    once = start(theme="ansi-16")
    async with once.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert once.theme == "ansi-16"
        # Even a theme picked during a --theme run is not saved: the flag is for one run.
        await pilot.press("t")
        await pick(pilot, once, "high-contrast")
    assert saved_theme() == "imagediff-nord"

    after = start()
    async with after.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert after.theme == "imagediff-nord"


# -- the command line -------------------------------------------------------------------------


def _cli(
    isolated_dirs: dict[str, str], *argv: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLANFORGE_", "IMAGEDIFF", "XDG_"))
    }
    env.update(isolated_dirs, PYTHONUTF8="1", **extra)
    script = Path(sys.executable).with_name("imagediff-tui")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "tui"]
    return subprocess.run(
        [*command, *argv],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("demo", [True, False], ids=["demo", "profile"])
def test_an_unknown_theme_flag_is_a_usage_error_listing_the_names(
    isolated_dirs: dict[str, str], themes_dir: Path, demo: bool
) -> None:
    (themes_dir / "mine.toml").write_text(GOOD, encoding="utf-8")
    started = time.monotonic()
    # No credentials: the theme is checked first, before settings (or the demo) start.
    result = _cli(isolated_dirs, "--theme", "nope", *(["--demo"] if demo else []))
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    message = result.stderr.strip()
    assert message.startswith("imagediff-tui: error: unknown theme 'nope'; available themes: ")
    names = message.split("available themes: ", 1)[1].split(", ")
    # The demo reads the user's themes too (never writes them), so it offers "mine".
    assert names == load_catalog(themes_dir).names()
    assert "mine" in names
    assert "\n" not in message and "Traceback" not in result.stderr
    assert time.monotonic() - started < 20


def test_an_unknown_theme_flag_wins_over_missing_credentials(
    isolated_dirs: dict[str, str],
) -> None:
    result = _cli(isolated_dirs, "--theme", "nope")
    assert result.returncode == 2
    assert "unknown theme 'nope'" in result.stderr
    assert "missing" not in result.stderr


def test_themes_list_and_path_name_the_user_folder(
    isolated_dirs: dict[str, str], themes_dir: Path
) -> None:
    (themes_dir / "imagediff-dark.toml").write_text(OVERRIDE, encoding="utf-8")
    (themes_dir / "broken.toml").write_text(BROKEN["bad TOML"][0], encoding="utf-8")
    path = _cli(isolated_dirs, "themes", "path")
    assert path.returncode == 0
    assert path.stdout == f"{themes_dir}\n"
    listing = _cli(isolated_dirs, "themes", "list")
    assert listing.returncode == 0
    rows = {line[2:].split()[0]: line.split() for line in listing.stdout.splitlines()}
    assert rows[DEFAULT_THEME][-2:] == ["user", str(themes_dir / "imagediff-dark.toml")]
    assert rows["imagediff-light"][-2] == "built-in"
    assert "broken.toml" in listing.stderr and "invalid TOML" in listing.stderr


@pytest.mark.parametrize(
    "argv", [["themes", "path"], ["status", "--help"], ["watchlist", "--help"], ["--version"]]
)
def test_commands_other_than_the_tui_do_not_import_textual(
    isolated_dirs: dict[str, str], argv: list[str]
) -> None:
    """Textual takes ~0.2 s to import: only the TUI and `themes list` may pay for it."""
    code = (
        "import sys\n"
        "from tui.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLANFORGE_", "XDG_"))}
    env.update(isolated_dirs)
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "LOADED []" in result.stderr, result.stderr
